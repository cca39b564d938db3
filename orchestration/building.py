"""Build one snapshot date: ingest it and run every model, test and check on it (the refresh job).

`observatory build` and `observatory backfill` both come through `run_build`, in process.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass, field

from orchestration.lib.child import process_start
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


class BuildRefused(RuntimeError):
    """The build cannot start here (a data folder that cannot be written, run history busy): one line."""


def prepare_environment(settings: Settings) -> None:
    """Absolute paths for dbt and a Dagster home (DAGSTER_HOME, else in the data folder) the UI shares."""
    os.environ.update(settings.dbt_env())
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    home = settings.dagster_home
    try:
        for folder in (home, settings.duckdb_path.parent, settings.raw_models_dir, settings.instance_lock.parent):
            folder.mkdir(parents=True, exist_ok=True)
        if not (home / "dagster.yaml").exists():
            staged = home / f".dagster.yaml.{os.getpid()}"
            staged.write_text("telemetry:\n  enabled: false\n")
            os.replace(staged, home / "dagster.yaml")
        probe = settings.data_dir / f".write-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        raise BuildRefused(f"cannot write in the data folder {settings.data_dir}: {exc.strerror or exc}{where}\n"
                           "set DATA_DIR to a folder you can write") from None


def open_instance(settings: Settings):
    """The Dagster instance, opened (and on first use created) by one process at a time."""
    import dagster as dg

    from orchestration.lib.locks import Busy, exclusive

    try:
        with exclusive(settings.instance_lock, "Dagster run history", 300):
            instance = dg.DagsterInstance.get()
            # Creating the SQLite storages is not safe for two processes at once: do it here.
            instance.get_runs(limit=1)
            instance.event_log_storage  # noqa: B018
            instance.schedule_storage  # noqa: B018
    except Busy as exc:
        raise BuildRefused(str(exc)) from None
    except OSError as exc:
        raise BuildRefused(f"cannot open the Dagster run history in {settings.dagster_home}: {exc.strerror or exc}") from None
    return instance


# The code location's name, as `make dev` loads it (pyproject.toml [tool.dagster] code_location_name).
LOCATION_NAME = "observatory"


def remote_job_origin(job_name: str):
    """The origin a run launched from the UI carries: the job in the code location `observatory`.

    The job page lists runs tagged `.dagster/repository` = `__repository__@observatory` (the tag
    Dagster derives from this origin) and the Overview timeline groups runs by it: without it, a
    run of the command line shows on the Runs page only."""
    from dagster._core.definitions.repository_definition.valid_definitions import SINGLETON_REPOSITORY_NAME
    from dagster._core.remote_origin import RemoteRepositoryOrigin
    from dagster._core.workspace.load_target import ModuleTarget

    [location] = ModuleTarget("orchestration.definitions", None, os.getcwd(), LOCATION_NAME).create_origins()
    return RemoteRepositoryOrigin(location, SINGLETON_REPOSITORY_NAME).get_job_origin(job_name)


def stored_dates(settings: Settings) -> list[str]:
    """The snapshot dates of the raw store (the folder names: no manifest is read)."""
    import re

    if not settings.raw_models_dir.is_dir():
        return []
    names = (re.fullmatch(r"snapshot_date=(\d{4}-\d{2}-\d{2})", p.name) for p in settings.raw_models_dir.iterdir())
    return sorted(name.group(1) for name in names if name)


def register_partitions(instance, settings: Settings, *dates: str) -> list[str]:
    """Make the stored dates and `dates` partitions of the code location (idempotent; one read when
    nothing is new). Returns the dates added."""
    from orchestration.defs.partitions import register_dates

    return register_dates(instance, [*stored_dates(settings), *dates])


# The process running a build, so `status` can tell a build that was killed from one still running.
PID_TAG = "observatory/pid"
PROCESS_START_TAG = "observatory/process_start"


def innermost(exc: BaseException) -> str:
    """The first line of the error at the bottom of a chain of wrapped errors."""
    while (exc.__cause__ or exc.__context__) is not None:
        exc = exc.__cause__ or exc.__context__
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def one_line_console_logger():
    """Dagster's console logger, one line per event: a step's traceback stays in the Dagster UI."""
    import logging
    import sys

    import dagster as dg

    class FirstLine(logging.Formatter):
        def format(self, record):
            return super().format(record).splitlines()[0]

    @dg.logger(
        {"log_level": dg.Field(str, is_required=False, default_value="INFO")},
        description="One line per event on stderr; the full event, traceback included, is in the run's log.",
    )
    def console(init_context):
        logger = logging.Logger("dagster", level=init_context.logger_config["log_level"].upper())
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(FirstLine("%(asctime)s - %(message)s"))
        logger.addHandler(handler)
        return logger

    return console


def run_build(settings: Settings, request: SnapshotRequest, replace: bool = False, full_refresh: bool = False,
              force: bool = False, log_level: str = "INFO") -> BuildResult:
    """Ingest `request` and build the warehouse for its date with the refresh job, in this process, on
    the engine settings.engine. The request has been checked (check_request)."""
    from orchestration.lib.engines import engine_problem

    problem = engine_problem(settings.engine)
    if problem:
        raise BuildRefused(problem)
    prepare_environment(settings)
    instance = open_instance(settings)
    # The date is a partition before its run exists (and so is every stored date), as the UI sees them.
    register_partitions(instance, settings, request.snapshot_date)
    source = get_source(request.source)
    # Known inputs (sample parameters, file checksum) plus the dbt code: same digest, same result.
    wanted = source.identity(request) if source.local else None
    if wanted is not None and settings.engine != "duckdb":
        wanted = {**wanted, "engine": settings.engine}  # the same input on another engine is another build
    digest = build_digest(wanted) if wanted else None
    if digest and not (force or replace or full_refresh) and already_built(instance, request.snapshot_date, digest, settings):
        return BuildResult(request.snapshot_date, True, skipped=True)

    from orchestration.lib.publish import is_legacy

    if not full_refresh and is_legacy(settings.duckdb_path):
        raise BuildRefused(f"the warehouse {settings.duckdb_path} was built by an older version of the observatory\n"
                           "rebuild every stored snapshot into the new layout once: observatory build --full-refresh")

    from orchestration.defs import build_definitions

    job = build_definitions(settings).resolve_job_def("refresh_snapshot")
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
                    **{f"{kind}_file": str(path) for kind, path in request.repo_files.items()},
                }
            },
            "observatory_dbt": {"config": {"full_refresh": full_refresh, "engine": settings.engine}},
        },
        "loggers": {"console": {"config": {"log_level": log_level}}},
    }
    tags = {PID_TAG: str(os.getpid()), PROCESS_START_TAG: process_start(os.getpid()) or ""}
    if digest:
        tags["observatory/input"] = digest
    if not full_refresh:
        result, errors = _run_job(job, run_config, instance, request.snapshot_date, tags)
    else:
        # Every stored snapshot, one date at a time and oldest first, so that each reads the earlier
        # ones (trend marts) as rebuilt; the requested date in its turn with its ingest, the others
        # from their stored raw files.
        from orchestration.lib.snapshot_store import SnapshotStore

        stored = {s.manifest["snapshot_date"] for s in SnapshotStore(settings.raw_models_dir).list()}
        selection = [key for key in job.asset_layer.executable_asset_keys if key.path[0] != "huggingface"]
        config = {key: value for key, value in run_config.items() if key != "ops"}
        config["ops"] = {"observatory_dbt": run_config["ops"]["observatory_dbt"]}
        base_tags = {k: v for k, v in tags.items() if k != "observatory/input"}
        requested_result = None
        for date in sorted(stored | {request.snapshot_date}):
            if date == request.snapshot_date:
                result, errors = _run_job(job, run_config, instance, date, tags)
                requested_result = result
            else:
                print(f"Rebuilding snapshot {date} (full refresh)", file=sys.stderr)
                result, errors = _run_job(job, config, instance, date, base_tags, asset_selection=selection)
            if result is None or not result.success:
                break
        else:
            result = requested_result
    if result is None:
        return BuildResult(request.snapshot_date, False, errors=errors)
    if not result.success:
        from orchestration.defs.refusal import REFUSED_TAG

        refused = instance.get_run_by_id(result.run_id).tags.get(REFUSED_TAG)
        if refused:  # nothing was written: one line, no Dagster wrapper
            return BuildResult(request.snapshot_date, False, run_id=result.run_id, errors=[f"refused: {refused}"])
        errors = []
        for event in result.all_events:
            if event.is_step_failure:
                error = event.step_failure_data.error
                while error.cause is not None and "Error occurred while executing" in error.message:
                    error = error.cause  # the user's error, not Dagster's wrapper
                errors.append(f"step {event.step_key} failed: {error.message.strip()}")
        return BuildResult(request.snapshot_date, False, run_id=result.run_id, errors=errors)
    from orchestration.defs.transform.assets import PUBLISHED_KEY

    if PUBLISHED_KEY not in {event.asset_key for event in result.get_asset_materialization_events()}:
        # A run whose publish step was skipped ends "successfully" with nothing published.
        skipped = sorted({event.step_key for event in result.all_events if event.is_step_skipped})
        return BuildResult(request.snapshot_date, False, run_id=result.run_id, errors=[
            f"the run published nothing: steps skipped ({', '.join(skipped) or 'none'})"])
    return BuildResult(request.snapshot_date, True, run_id=result.run_id,
                       check_evaluations=result.get_asset_check_evaluations())


def _run_job(job, run_config, instance, snapshot_date: str, tags: dict, asset_selection=None):
    """Run the refresh job for one date in this process: (its result, []), or (None, [why it could not finish])."""
    import functools

    from orchestration.lib.locks import release_all
    from orchestration.lib.history_commits import quick_commits

    # execute_in_process records its run without the code location's origin; the UI's job page and
    # timeline need it (remote_job_origin): the run is created with it, and executed here as before.
    create_run = instance.create_run_for_job
    instance.create_run_for_job = functools.partial(create_run, remote_job_origin=remote_job_origin(job.name))
    try:
        with quick_commits():  # run history written at ~0.15 ms an event instead of ~6 ms (lib/history_commits.py)
            result = job.with_logger_defs({"console": one_line_console_logger()}).execute_in_process(
                run_config=run_config, instance=instance, partition_key=snapshot_date, tags=tags,
                raise_on_error=False, asset_selection=asset_selection,
            )
    except Exception as exc:  # Dagster itself could not go on (e.g. its run history cannot be written)
        return None, [f"the build of {snapshot_date} could not finish: {innermost(exc)}"]
    finally:
        del instance.create_run_for_job
        release_all()  # the snapshot lock of a run whose publish step did not run (a blocking check failed)
    return result, []


def build_digest(wanted: dict) -> str:
    from orchestration.defs.transform.dbt_workarounds import dbt_source_digest

    return hashlib.sha256(json.dumps([wanted, dbt_source_digest()], sort_keys=True).encode()).hexdigest()


def already_built(instance, snapshot_date: str, digest: str, settings: Settings) -> bool:
    """A successful run built this date from the same input and code, and the lake still holds the date."""
    import dagster as dg

    from orchestration.lib.publish import snapshot_folder

    if not snapshot_folder(settings.duckdb_path, snapshot_date).exists():
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
