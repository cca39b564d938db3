"""The Hugging Face Hub client: the hub-stats dataset file and the models listing API.

Every request goes through huggingface_hub's HTTP session, which honours HF_ENDPOINT (tests point
it at a local server) and sends HF_TOKEN from the environment; the token is never passed around here.

Every request is bounded (HUB_TIMEOUT_S per request, default 30 s) and every call is retried by
`with_retries`: the commit listing and each page of the models listing are fetched here, page by
page, instead of through HfApi, whose listings have no timeout at all. No error leaves this module
carrying the token: a server that echoes the Authorization header in its error body would otherwise
put it into exceptions, log lines and the Dagster run history.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx2
import pyarrow as pa
from huggingface_hub import constants, hf_hub_download
from huggingface_hub.errors import HfHubHTTPError
from huggingface_hub.hf_api import ModelInfo
from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

log = logging.getLogger(__name__)
RETRYABLE_STATUS = {408, 429, 500, 502, 503, 504}
RETRY_BASE_DELAY_S = 1.0
HUB_TIMEOUT_S = 30.0  # per request, overridden by the HUB_TIMEOUT_S environment variable
REDACTED = "***"
_TOKEN_RE = re.compile(r"hf_[A-Za-z0-9]{8,}")

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


def request_timeout_s() -> float:
    """Seconds one Hub request may take (connect, each read, write)."""
    return float(os.environ.get("HUB_TIMEOUT_S") or HUB_TIMEOUT_S)


def list_revisions(repo_id: str, revision: str | None = None) -> list[Revision]:
    """The dataset's commits reachable from `revision` (default main), newest first."""
    url = f"{constants.ENDPOINT}/api/datasets/{repo_id}/commits/{quote(revision or 'main', safe='')}"
    return [
        Revision(item["id"], dt.datetime.fromisoformat(item["date"].replace("Z", "+00:00")))
        for page in _json_pages(url, {}, f"listing the commits of {repo_id}")
        for item in page
    ]


def list_tree(repo_id: str, path: str, revision: str = "main") -> list[dict]:
    """The entries (files and folders, not recursive) under `path` of a dataset repo, as the Hub's
    tree API lists them: {type, path, oid, size, lfs?}. Each page bounded in time and retried."""
    url = (f"{constants.ENDPOINT}/api/datasets/{repo_id}/tree/{quote(revision, safe='')}/"
           f"{quote(path.strip('/'))}")
    return [item for page in _json_pages(url, {}, f"listing {path} of {repo_id}") for item in page]


def resolve_revision(repo_id: str, snapshot_date: str | None = None, revision: str | None = None) -> Revision:
    """The dataset commit to ingest: `revision` itself, the last commit of `snapshot_date`,
    or the newest commit."""
    commits = list_revisions(repo_id, revision)
    if not commits:
        raise LookupError(f"dataset {repo_id} has no commits")
    if revision or snapshot_date is None:
        return commits[0]
    same_day = [c for c in commits if c.snapshot_date == snapshot_date]
    if not same_day:
        newest = commits[0].committed_at.date().isoformat()
        raise LookupError(
            f"dataset {repo_id} has no revision dated {snapshot_date} (newest is {newest}); "
            "pick a date that has one or pass an explicit revision"
        )
    return max(same_day, key=lambda c: c.committed_at)


def _json_pages(url: str, params: dict, what: str, attempts: int = 4) -> Iterator:
    """GET a Hub listing page by page (Link: rel=next), each page bounded in time and retried."""
    headers = build_hf_headers()
    page = 0
    while url:
        page += 1

        def get(url=url, params=params):
            response = get_session().get(url, params=params, headers=headers, timeout=request_timeout_s())
            hf_raise_for_status(response)
            return response

        response = with_retries(get, f"{what} (page {page})" if page > 1 else what, attempts)
        yield response.json()
        next_url = response.links.get("next", {}).get("url")
        if next_url and urlsplit(next_url).netloc != urlsplit(url).netloc:  # the token goes with every page
            raise HubError(f"{what}: the next page is on another host ({urlsplit(next_url).netloc}); not followed")
        url, params = next_url, None


class HubError(RuntimeError):
    """A Hub request failed; the message never holds the token. `status_code` is the HTTP status, if any."""

    def __init__(self, message: str, status_code: int | None = None):
        super().__init__(message)
        self.status_code = status_code


class HubUnavailable(HubError):
    """The Hub kept failing after every retry."""


def download_models_file(repo_id: str, revision: Revision, dest_dir: Path, attempts: int = 4) -> Path:
    """Download models.parquet at exactly this revision into dest_dir, retrying transient failures.

    huggingface_hub resumes a cut download, and bounds its requests with HF_HUB_ETAG_TIMEOUT
    (metadata) and HF_HUB_DOWNLOAD_TIMEOUT (each read of the file); this outer loop also covers
    a dropped connection on the metadata request. Not into the shared cache: the snapshot store
    keeps the normalized copy, and a daily file of up to 1 GB would otherwise pile up."""

    def download() -> Path:
        return Path(hf_hub_download(repo_id, MODELS_FILE, repo_type="dataset", revision=revision.sha,
                                    local_dir=dest_dir, etag_timeout=min(request_timeout_s(),
                                                                         constants.HF_HUB_ETAG_TIMEOUT)))

    return with_retries(download, f"download of {MODELS_FILE} at {revision.sha[:12]}", attempts)


def download_repo_file(repo_id: str, path_in_repo: str, dest_dir: Path, revision: str = "main",
                       attempts: int = 4) -> Path:
    """Download one file of a dataset repo into dest_dir, bounded and retried like download_models_file."""

    def download() -> Path:
        return Path(hf_hub_download(repo_id, path_in_repo, repo_type="dataset", revision=revision,
                                    local_dir=dest_dir, etag_timeout=min(request_timeout_s(),
                                                                         constants.HF_HUB_ETAG_TIMEOUT)))

    return with_retries(download, f"download of {path_in_repo} of {repo_id}", attempts)


def with_retries(operation: Callable, what: str, attempts: int = 4, max_delay: float = 60.0):
    """Run `operation`, retrying 429, 5xx, timeouts and dropped connections with exponential
    backoff and jitter (Retry-After wins when the server sends it); other errors pass through.

    Hub errors leave as HubError (HubUnavailable once retries are spent) with the token redacted
    and without the original exception attached, whose message may hold the token."""
    base_delay = RETRY_BASE_DELAY_S
    for attempt in range(1, attempts + 1):
        try:
            return operation()
        except (HfHubHTTPError, httpx2.TransportError) as exc:
            failure, delay = exc, _retry_delay(exc, attempt, base_delay, max_delay)
        except Exception as exc:
            if not _holds_token(exc):
                raise
            failure, delay = exc, None
        # Raised outside the except block, so the original (token-bearing) exception is not its context.
        message = redact(f"{what} failed: {_describe(failure)}")
        status = getattr(getattr(failure, "response", None), "status_code", None)
        if delay is None:
            raise HubError(message, status)
        if attempt == attempts:
            raise HubUnavailable(redact(f"{what} failed after {attempts} attempts: {_describe(failure)}"), status)
        log.warning("%s; retry %d/%d in %.1f s", message, attempt, attempts - 1, delay)
        time.sleep(delay)


def _describe(exc: BaseException) -> str:
    """One line: the HTTP status and the server's message, or the exception's type and text."""
    response = getattr(exc, "response", None)
    if isinstance(exc, HfHubHTTPError) and response is not None:
        detail = " ".join((exc.server_message or "").split())
        return f"{response.status_code} {response.reason_phrase}" + (f": {detail}" if detail else "")
    return f"{type(exc).__name__}: {' '.join(str(exc).split()) or 'no detail'}"


def redact(text: str) -> str:
    """`text` without the Hub token: the token in use, and anything shaped like a Hub token."""
    for token in _tokens():
        text = text.replace(token, REDACTED)
    return _TOKEN_RE.sub("hf_" + REDACTED, text)


def _install_log_redaction() -> None:
    """Redact the token from every log record of the process, whichever library writes it (httpcore
    logs response headers at DEBUG level, and a server may echo the token in one)."""
    make_record = logging.getLogRecordFactory()
    if getattr(make_record, "redacts_hub_token", False):
        return

    def redacting_factory(*args, **kwargs):
        record = make_record(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's to report
            return record
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return record

    redacting_factory.redacts_hub_token = True
    logging.setLogRecordFactory(redacting_factory)


_install_log_redaction()


def _tokens() -> set[str]:
    tokens = {os.environ.get(name) for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")}
    try:
        from huggingface_hub import get_token

        tokens.add(get_token())
    except Exception:  # no token store, unreadable file: only the environment then
        pass
    return {t for t in tokens if t and len(t) >= 4}


def _holds_token(exc: BaseException) -> bool:
    """Whether the exception or anything it was raised from mentions the token."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if redact(str(exc)) != str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


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
    rows = []
    for author in authors or (None,):
        params = {"expand": API_EXPAND, **({"author": author} if author else {}),
                  **({"limit": limit} if limit is not None else {})}
        taken = 0
        for page in _json_pages(f"{constants.ENDPOINT}/api/models", params, f"listing the models of {author or 'the Hub'}"):
            for item in page[: None if limit is None else limit - taken]:
                rows.append(_model_row(ModelInfo(**{"siblings": None, **item})))
                taken += 1
            if limit is not None and taken >= limit:
                break
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
