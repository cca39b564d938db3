"""Blue/green builds of the warehouse: dbt writes a private copy, which replaces the published
file in one rename only after every blocking check passed.

Readers of the published file are never disturbed: while a build runs they keep reading the
previous warehouse, and a build that fails or is killed at any point leaves it unchanged.
"""

import json
import os
import shutil
import time
from pathlib import Path

STALE_CANDIDATE_S = 24 * 3600


class PublishConflict(RuntimeError):
    """Another build published since this one started: publishing would drop its work."""


class UnsafeToPublish(RuntimeError):
    """The built warehouse is not whole (a write-ahead log left, or the snapshot is missing from it)."""


def wal_path(database: Path) -> Path:
    return database.with_name(database.name + ".wal")


def candidate_path(published: Path, run_id: str) -> Path:
    # Same file name in a folder of its own: DuckDB names the catalog after the file, and the
    # views dbt writes refer to it.
    return published.parent / ".building" / run_id / published.name


def active_candidate_path(published: Path) -> Path:
    """A fixed path to the candidate dbt is building (a symlink to its run's folder).

    dbt re-parses the whole project when its profile changes; a path per run would change it
    on every build. The warehouse lock is held while dbt runs, so one build uses it at a time.
    """
    return published.parent / ".building" / "active" / published.name


def _point_active_candidate(published: Path, run_id: str) -> Path:
    """Point the fixed candidate path at this run's candidate; return the fixed path."""
    link = active_candidate_path(published).parent
    staged = link.with_name(f"active-{run_id}")
    staged.unlink(missing_ok=True)
    os.symlink(run_id, staged)
    os.replace(staged, link)
    return active_candidate_path(published)


def _base_path(candidate: Path) -> Path:
    return candidate.parent / "published_before.json"


def _fingerprint(path: Path) -> dict | None:
    if not path.exists():
        return None
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "inode": stat.st_ino}


def start_candidate(published: Path, run_id: str) -> Path:
    """Copy the published warehouse (if any) to this run's candidate, remembering what it was.

    Returns the path dbt should open: the fixed active path, pointed at this run's candidate.
    """
    published.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_candidates(published)
    candidate = candidate_path(published, run_id)
    candidate.parent.mkdir(parents=True, exist_ok=True)
    if published.exists():
        shutil.copyfile(published, candidate)
    else:
        candidate.unlink(missing_ok=True)
    _base_path(candidate).write_text(json.dumps(_fingerprint(published)))
    return _point_active_candidate(published, run_id)


def readable_path(published: Path, run_id: str | None) -> Path:
    """What a check of this run should read: its candidate while it exists, else the published file."""
    if run_id:
        candidate = candidate_path(published, run_id)
        if candidate.exists():
            return candidate
    return published


def checkpoint(database: Path) -> None:
    """Write everything DuckDB still holds in the file's write-ahead log into the file itself.

    Only the database file is published: rows left in its log would be lost. Fails if a log remains.
    """
    import duckdb

    con = duckdb.connect(str(database))
    try:
        con.execute("checkpoint")
    finally:
        con.close()
    if wal_path(database).exists():
        raise UnsafeToPublish(f"{database} still has a write-ahead log after a checkpoint; not publishing it")


def verify_snapshot(database: Path, snapshot_date: str) -> tuple[int, int]:
    """The rows of the snapshot in dim_snapshots and dim_models of `database`; fails unless both are there."""
    import duckdb

    if wal_path(database).exists():
        raise UnsafeToPublish(
            f"the built warehouse {database} has a write-ahead log that publishing would drop; not publishing it"
        )
    con = duckdb.connect(str(database), read_only=True)
    try:
        snapshots = con.execute(
            "select count(*) from marts.dim_snapshots where snapshot_date = ?::date", [snapshot_date]
        ).fetchone()[0]
        models = con.execute(
            "select count(*) from marts.dim_models where snapshot_date = ?::date", [snapshot_date]
        ).fetchone()[0]
    except duckdb.Error as exc:
        raise UnsafeToPublish(f"the built warehouse {database} cannot be read: {str(exc).splitlines()[0]}") from None
    finally:
        con.close()
    if snapshots != 1 or models == 0:
        raise UnsafeToPublish(
            f"the built warehouse lacks snapshot {snapshot_date} ({snapshots} rows in marts.dim_snapshots, "
            f"{models} in marts.dim_models); not publishing it"
        )
    return snapshots, models


def publish(published: Path, run_id: str, snapshot_date: str) -> Path:
    """Replace the published warehouse by this run's candidate, atomically, once it is known whole.

    The caller holds the warehouse lock for the run, from the candidate's copy to here.
    """
    candidate = candidate_path(published, run_id)
    if not candidate.exists():
        raise FileNotFoundError(f"run {run_id} has no built warehouse to publish ({candidate} is missing)")
    verify_snapshot(candidate, snapshot_date)
    base = _base_path(candidate)
    if json.loads(base.read_text()) != _fingerprint(published):
        # Builds hold the warehouse lock from copy to publish, so only a writer that ignores the
        # lock (a DuckDB client opening the published file read-write) gets here.
        raise PublishConflict(
            "the published warehouse was changed while this build ran (by something outside the build); "
            "run this build again to include both"
        )
    os.replace(candidate, published)
    wal_path(published).unlink(missing_ok=True)  # a log of the replaced file would be replayed into the new one
    shutil.rmtree(candidate.parent, ignore_errors=True)
    return published


def remove_stale_candidates(published: Path, max_age_s: float = STALE_CANDIDATE_S) -> None:
    """Candidates of failed or killed runs are never published; drop them after a day."""
    cutoff = time.time() - max_age_s
    for folder in (published.parent / ".building").glob("*"):
        if folder.is_symlink() or not folder.is_dir():
            continue
        if folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
