"""The Hugging Face Hub client: the hub-stats dataset file and the models listing API.

Both go through huggingface_hub, which honours HF_ENDPOINT (tests point it at a local
server) and reads HF_TOKEN from the environment; the token is never passed around here.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pyarrow as pa
from huggingface_hub import HfApi, hf_hub_download
from huggingface_hub.errors import HfHubHTTPError

log = logging.getLogger(__name__)
RETRYABLE_STATUS = {408, 429, 500, 502, 503, 504}
RETRY_BASE_DELAY_S = 1.0

MODELS_FILE = "models.parquet"
API_EXPAND = [
    "author", "baseModels", "cardData", "createdAt", "downloads", "downloadsAllTime", "gguf",
    "lastModified", "library_name", "likes", "pipeline_tag", "safetensors", "tags", "trendingScore",
]


@dataclass(frozen=True)
class Revision:
    sha: str
    committed_at: dt.datetime

    @property
    def snapshot_date(self) -> str:
        return self.committed_at.astimezone(dt.timezone.utc).date().isoformat()


def resolve_revision(repo_id: str, snapshot_date: str | None = None, revision: str | None = None) -> Revision:
    """The dataset commit to ingest: `revision` itself, the last commit of `snapshot_date`,
    or the newest commit."""
    api = HfApi()
    commits = api.list_repo_commits(repo_id, repo_type="dataset", revision=revision)
    if not commits:
        raise LookupError(f"dataset {repo_id} has no commits")
    if revision or snapshot_date is None:
        chosen = commits[0]
    else:
        same_day = [c for c in commits if c.created_at.astimezone(dt.timezone.utc).date().isoformat() == snapshot_date]
        if not same_day:
            newest = commits[0].created_at.date().isoformat()
            raise LookupError(
                f"dataset {repo_id} has no revision dated {snapshot_date} (newest is {newest}); "
                "pick a date that has one or pass an explicit revision"
            )
        chosen = max(same_day, key=lambda c: c.created_at)
    return Revision(chosen.commit_id, chosen.created_at)


class HubUnavailable(RuntimeError):
    """The Hub kept failing after every retry."""


def download_models_file(repo_id: str, revision: Revision, dest_dir: Path, attempts: int = 4) -> Path:
    """Download models.parquet at exactly this revision into dest_dir, retrying transient failures.

    huggingface_hub already retries listings and resumes a cut download; this outer loop also
    covers a dropped connection on the metadata request. Not into the shared cache: the snapshot
    store keeps the normalized copy, and a daily file of up to 1 GB would otherwise pile up."""

    def download() -> Path:
        return Path(hf_hub_download(repo_id, MODELS_FILE, repo_type="dataset", revision=revision.sha,
                                    local_dir=dest_dir))

    return with_retries(download, f"download of {MODELS_FILE} at {revision.sha[:12]}", attempts)


def with_retries(operation: Callable, what: str, attempts: int = 4, max_delay: float = 60.0):
    """Run `operation`, retrying 429, 5xx, timeouts and dropped connections with exponential
    backoff and jitter (Retry-After wins when the server sends it); other errors pass through."""
    base_delay = RETRY_BASE_DELAY_S
    for attempt in range(1, attempts + 1):
        try:
            return operation()
        except (HfHubHTTPError, httpx2.TransportError) as exc:
            delay = _retry_delay(exc, attempt, base_delay, max_delay)
            if delay is None:
                raise
            if attempt == attempts:
                raise HubUnavailable(f"{what} failed after {attempts} attempts: {exc}") from exc
            log.warning("%s failed (%s); retry %d/%d in %.1f s", what, exc, attempt, attempts - 1, delay)
            time.sleep(delay)


def _retry_delay(exc: Exception, attempt: int, base_delay: float, max_delay: float) -> float | None:
    """Seconds to wait before the next attempt, or None when the error is not transient."""
    if isinstance(exc, HfHubHTTPError):
        response = exc.response
        if response is None or response.status_code not in RETRYABLE_STATUS:
            return None
        retry_after = response.headers.get("Retry-After", "")
        if retry_after.isdigit():
            return min(float(retry_after), max_delay)
    backoff = min(max_delay, base_delay * 2 ** (attempt - 1))
    return backoff + random.uniform(0, backoff / 4)


def list_models_table(authors: tuple[str, ...] = (), limit: int | None = None) -> pa.Table:
    """Models from the listing API, mapped to the hub-stats models schema."""
    api = HfApi()
    rows = []
    for author in authors or (None,):
        for info in api.list_models(author=author, expand=API_EXPAND, limit=limit):
            rows.append(_model_row(info))
    return pa.Table.from_pylist(rows, schema=API_SCHEMA)


API_SCHEMA = pa.schema([
    ("id", pa.string()), ("author", pa.string()),
    ("createdAt", pa.timestamp("us")), ("lastModified", pa.timestamp("us")),
    ("downloads", pa.int64()), ("downloadsAllTime", pa.int64()), ("likes", pa.int64()),
    ("trendingScore", pa.float64()), ("tags", pa.list_(pa.string())), ("cardData", pa.string()),
    ("safetensors", pa.struct([("parameters", pa.map_(pa.string(), pa.int64())), ("total", pa.int64())])),
    ("gguf", pa.string()),
    ("baseModels", pa.struct([
        ("relation", pa.string()),
        ("models", pa.list_(pa.struct([("_id", pa.string()), ("id", pa.string())]))),
    ])),
    ("pipeline_tag", pa.string()), ("library_name", pa.string()),
])


def _model_row(info) -> dict:
    card = info.card_data
    if card is not None and hasattr(card, "to_dict"):
        card = card.to_dict()
    safetensors = info.safetensors
    base = info.base_models
    return {
        "id": info.id,
        "author": info.author,
        "createdAt": _utc_naive(info.created_at),
        "lastModified": _utc_naive(info.last_modified),
        "downloads": info.downloads,
        "downloadsAllTime": info.downloads_all_time,
        "likes": info.likes,
        "trendingScore": info.trending_score,
        "tags": info.tags,
        "cardData": json.dumps(card) if card is not None else None,
        "safetensors": (
            {"parameters": list(safetensors.parameters.items()), "total": safetensors.total}
            if safetensors else None
        ),
        "gguf": json.dumps(info.gguf) if info.gguf is not None else None,
        "baseModels": (
            {
                "relation": base.get("relation"),
                "models": [{"_id": m.get("_id"), "id": m.get("id")} for m in base.get("models") or []],
            }
            if isinstance(base, dict) else None
        ),
        "pipeline_tag": info.pipeline_tag,
        "library_name": info.library_name,
    }


def _utc_naive(value: dt.datetime | None) -> dt.datetime | None:
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
