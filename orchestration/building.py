"""Build one snapshot date: ingest it and run every model, test and check on it (the refresh job).

`observatory build` and `observatory backfill` both come through `run_build`, in process.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from orchestration.lib.sources import SnapshotRequest, get_source
from orchestration.settings import Settings


@dataclass
class BuildResult:
    snapshot_date: str
    success: bool
    skipped: bool = False  # already built from the same input and code
    run_id: str | None = None
    errors: list[str] = field(default_factory=list)  # one line per failed step
    check_evaluations: list = field(default_factory=list)


def prepare_environment(settings: Settings) -> None:
    """Absolute paths for dbt and a Dagster home inside the data folder, so the UI sees CLI runs."""
    os.environ.update(settings.dbt_env())
    os.environ.setdefault("DAGSTER_HOME", str(settings.dagster_home))
    home = Path(os.environ["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)


def run_build(settings: Settings, request: SnapshotRequest, replace: bool = False, full_refresh: bool = False,
              force: bool = False, log_level: str = "INFO") -> BuildResult:
    """Ingest `request` and build the warehouse for its date with the refresh job, in this process.
    The request has been checked (check_request)."""
    import dagster as dg

    prepare_environment(settings)
    instance = dg.DagsterInstance.get()
    source = get_source(request.source)
    # Known inputs (sample parameters, file checksum) plus the dbt code: same digest, same result.
    wanted = source.identity(request) if source.local else None
    digest = build_digest(wanted) if wanted else None
    if digest and not (force or replace or full_refresh) and already_built(instance, request.snapshot_date, digest, settings):
        return BuildResult(request.snapshot_date, True, skipped=True)

    from orchestration.defs import build_definitions

    job = build_definitions().resolve_job_def("refresh_snapshot")
    run_config = {
        "ops": {
            "ingest_snapshot": {
                "config": {
                    "source": request.source,
                    "file": str(request.file) if request.file else None,
                    "dir": str(request.dir) if request.dir else None,
                    "revision": request.revision,
                    "sample_rows": request.sample_rows,
                    "replace": replace,
                }
            },
            "observatory_dbt": {"config": {"full_refresh": full_refresh}},
        },
        "loggers": {"console": {"config": {"log_level": log_level}}},
    }
    tags = {"observatory/input": digest} if digest else {}
    result = job.execute_in_process(
        run_config=run_config, instance=instance, partition_key=request.snapshot_date, tags=tags,
        raise_on_error=False,
    )
    if not result.success:
        errors = []
        for event in result.all_events:
            if event.is_step_failure:
                error = event.step_failure_data.error
                while error.cause is not None and "Error occurred while executing" in error.message:
                    error = error.cause  # the user's error, not Dagster's wrapper
                errors.append(f"step {event.step_key} failed: {error.message.strip()}")
        return BuildResult(request.snapshot_date, False, run_id=result.run_id, errors=errors)
    return BuildResult(request.snapshot_date, True, run_id=result.run_id,
                       check_evaluations=result.get_asset_check_evaluations())


def build_digest(wanted: dict) -> str:
    from orchestration.defs.transform.project import dbt_source_digest

    return hashlib.sha256(json.dumps([wanted, dbt_source_digest()], sort_keys=True).encode()).hexdigest()


def already_built(instance, snapshot_date: str, digest: str, settings: Settings) -> bool:
    import dagster as dg

    if not settings.duckdb_path.exists():
        return False
    runs = instance.get_runs(
        filters=dg.RunsFilter(
            job_name="refresh_snapshot",
            tags={"dagster/partition": snapshot_date, "observatory/input": digest},
            statuses=[dg.DagsterRunStatus.SUCCESS],
        ),
        limit=1,
    )
    return bool(runs)


def built_dates(settings: Settings) -> set[str]:
    """Snapshot dates the published warehouse holds (marts.dim_snapshots)."""
    import duckdb

    if not settings.duckdb_path.exists():
        return set()
    con = duckdb.connect(str(settings.duckdb_path), read_only=True)
    try:
        return {d.isoformat() for (d,) in con.execute("select snapshot_date from marts.dim_snapshots").fetchall()}
    except duckdb.CatalogException:
        return set()
    finally:
        con.close()
