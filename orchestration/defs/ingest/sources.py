"""The four ways a snapshot arrives, each ending as one hub-stats Parquet file plus provenance.

`identity` is what makes two ingests of the same date the same snapshot (sample parameters,
file checksum, dataset revision): an identical re-ingest is a no-op, anything else needs
an explicit replace.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from orchestration.defs.ingest import hub
from orchestration.lib import sample
from orchestration.lib.snapshot_store import file_sha256
from orchestration.settings import DEFAULT_SAMPLE_ROWS, HUB_STATS_REPO, SOURCES


@dataclass
class SnapshotRequest:
    source: str
    snapshot_date: str
    file: Path | None = None
    revision: str | None = None
    sample_rows: int = DEFAULT_SAMPLE_ROWS
    repo_id: str = HUB_STATS_REPO
    api_authors: tuple[str, ...] = ()
    api_limit: int | None = None


@dataclass
class Fetched:
    path: Path
    provenance: dict = field(default_factory=dict)


def check_request(request: SnapshotRequest) -> None:
    if request.source not in SOURCES:
        raise ValueError(f"unknown source {request.source!r}; choose one of {', '.join(SOURCES)}")
    if request.source == "file":
        if request.file is None:
            raise ValueError("source 'file' needs a file path (HUB_FILE or --file)")
        if not Path(request.file).exists():
            raise FileNotFoundError(f"source file {request.file} does not exist")
    if request.source == "api":
        today = dt.datetime.now(dt.timezone.utc).date().isoformat()
        if request.snapshot_date != today:
            raise ValueError(
                f"source 'api' describes the Hub as it is now: its snapshot date must be today ({today}), "
                f"not {request.snapshot_date}"
            )


def identity(request: SnapshotRequest, revision: hub.Revision | None = None) -> dict | None:
    """What identifies the snapshot before fetching it; None when it cannot be known (api)."""
    if request.source == "sample":
        return {"source": "sample", "rows": request.sample_rows, "generator_version": sample.GENERATOR_VERSION}
    if request.source == "file":
        return {"source": "file", "source_sha256": _input_sha256(Path(request.file))}
    if request.source == "hub_stats":
        return {"source": "hub_stats", "repo_id": request.repo_id, "revision": revision.sha}
    return None


def _input_sha256(path: Path) -> str:
    # The CLI asks before the run (is it already built?) and the ingest step asks again in the
    # same process: hash a multi-GB input once. The key changes whenever the file does.
    stat = path.stat()
    return _sha256_of(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _sha256_of(path: str, size: int, mtime_ns: int) -> str:
    return file_sha256(Path(path))


def fetch(request: SnapshotRequest, workdir: Path, revision: hub.Revision | None = None) -> Fetched:
    """Produce the snapshot as a local hub-stats Parquet file."""
    if request.source == "sample":
        path = sample.write_parquet(workdir / "sample.parquet", request.sample_rows, request.snapshot_date)
        return Fetched(path, {"source": "sample", "synthetic": True, "rows_requested": request.sample_rows})
    if request.source == "file":
        return Fetched(Path(request.file), {"source": "file", "file_name": Path(request.file).name})
    if request.source == "hub_stats":
        path = hub.download_models_file(request.repo_id, revision, workdir)
        return Fetched(
            path,
            {"source": "hub_stats", "repo_id": request.repo_id, "revision": revision.sha,
             "revision_committed_at": revision.committed_at.isoformat()},
        )
    table = hub.list_models_table(request.api_authors, request.api_limit)
    path = workdir / "api.parquet"
    pq.write_table(table, path)
    return Fetched(path, {"source": "api", "authors": list(request.api_authors)})
