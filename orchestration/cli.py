"""`observatory`: build the warehouse for one snapshot, query it, report on it, export it.

    observatory build [--source S] [--file PATH] [--snapshot-date D] [--replace] [--full-refresh]
    observatory query "SQL"
    observatory report [--snapshot-date D]
    observatory export [--format parquet|csv] [--out DIR] [--snapshot-date D]
    observatory status
"""

import argparse
import datetime as dt
import hashlib
import json
import os
import sys
from pathlib import Path

from orchestration.lib.sql import literal
from orchestration.settings import DEFAULT_SAMPLE_DATE, SOURCES, Settings

MARTS = (
    "dim_models", "dim_organizations", "dim_snapshots", "fct_model_lineage", "fct_base_model_derivatives",
    "fct_org_release_growth", "fct_weekly_new_model_rankings", "fct_release_heatmap",
    "fct_country_download_share", "fct_top_liked_country_share", "fct_derivative_share_by_base_country",
    "fct_ingest_quarantine",
)


def mart_slice(mart: str, snapshot_date: str) -> str:
    """SQL for the rows of a mart that describe one snapshot (dim_organizations describes the newest)."""
    if mart == "dim_organizations":
        return f"select * from marts.{mart}"
    return f"select * from marts.{mart} where snapshot_date = date {literal(snapshot_date)}"


class UserError(Exception):
    """A mistake in what the user asked for: printed as one line, without a traceback."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="observatory", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    build = commands.add_parser("build", help="ingest one snapshot and build every model, test and check on it")
    build.add_argument("--source", choices=SOURCES, help="where the snapshot comes from (default: HUB_SOURCE or sample)")
    build.add_argument("--file", type=Path, help="hub-stats Parquet file for --source file (default: HUB_FILE)")
    build.add_argument("--snapshot-date", help="YYYY-MM-DD the snapshot describes (default: SNAPSHOT_DATE, else per source)")
    build.add_argument("--revision", help="hub_stats: dataset commit to ingest")
    build.add_argument("--sample-rows", type=int, help="sample: number of models to generate")
    build.add_argument("--replace", action="store_true", help="overwrite a different snapshot already stored for the date")
    build.add_argument("--full-refresh", action="store_true",
                       help="then rebuild every other stored snapshot too, one date at a time (each its own build, "
                       "checks and publication); also converts a warehouse built by an older version")
    build.add_argument("--force", action="store_true", help="rebuild even when the snapshot is already built")

    query = commands.add_parser("query", help="run one read-only SELECT on the warehouse and print the result")
    query.add_argument("sql")
    query.add_argument("--max-rows", type=int, default=50, help="rows to print at most, 1 to 100000 (default 50)")
    query.add_argument("--timeout", type=float, default=60.0,
                       help="seconds before the query is stopped, above 0 and at most 3600 (default 60)")
    query.add_argument("--memory-limit", default="2GB", help="memory the query may use, e.g. 512MB (default 2GB)")
    query.add_argument("--threads", type=int, default=2, help="threads the query may use (default 2)")

    report = commands.add_parser("report", help="write the HTML report (charts A1-A6) of a built snapshot")
    report.add_argument("--snapshot-date", help="YYYY-MM-DD (default: the newest built snapshot)")
    report.add_argument("--out", type=Path, help="HTML file to write (default: DATA_DIR/reports/report-<date>.html)")

    export = commands.add_parser("export", help="write every mart of a snapshot as Parquet or CSV files")
    export.add_argument("--format", choices=("parquet", "csv"), default="parquet", help="file format (default parquet)")
    export.add_argument("--out", type=Path, help="folder to write into (default: DATA_DIR/exports/<date>)")
    export.add_argument("--snapshot-date", help="YYYY-MM-DD (default: the newest built snapshot)")

    commands.add_parser("status", help="stored snapshots, the last refresh and its failing checks")

    args = parser.parse_args(argv)
    handlers = {"build": build_command, "query": query_command, "report": report_command,
                "export": export_command, "status": status_command}
    try:
        return handlers[args.command](args)
    except UserError as exc:
        message, _, hint = str(exc).partition("\n")
        print(f"observatory: {message}", file=sys.stderr)
        if hint:
            print(f"hint: {hint}", file=sys.stderr)
        return 2


def build_command(args) -> int:

    from orchestration.defs.ingest.sources import SnapshotRequest, check_request, identity
    from orchestration.lib.snapshot_store import parse_snapshot_date

    settings = Settings.from_env()
    source = args.source or settings.hub_source
    if source not in SOURCES:
        raise UserError(f"unknown source {source!r}; choose one of {', '.join(SOURCES)}")
    snapshot_date = args.snapshot_date or settings.snapshot_date or _default_snapshot_date(source, settings)
    try:
        parse_snapshot_date(snapshot_date)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    request = SnapshotRequest(
        source=source,
        snapshot_date=snapshot_date,
        file=_input_file(args.file) if args.file else settings.hub_file,
        revision=args.revision,
        sample_rows=args.sample_rows or settings.sample_rows,
        repo_id=settings.hub_stats_repo,
    )
    try:
        check_request(request)
    except (ValueError, FileNotFoundError) as exc:
        raise UserError(str(exc)) from None

    _prepare_environment(settings)
    instance = _instance(settings)
    # Known inputs (sample parameters, file checksum) plus the dbt code: same digest, same result.
    wanted = identity(request) if source in ("sample", "file") else None
    digest = _build_digest(wanted) if wanted else None
    if digest and not (args.force or args.replace or args.full_refresh) and _already_built(
        instance, snapshot_date, digest, settings
    ):
        print(f"Snapshot {snapshot_date} is already built from the same input and code; nothing to do "
              "(--force rebuilds).")
        print_summary(settings, snapshot_date)
        return 0

    from orchestration.lib.publish import is_legacy

    if not args.full_refresh and is_legacy(settings.duckdb_path):
        raise UserError(f"the warehouse {settings.duckdb_path} was built by an older version of the observatory\n"
                        "rebuild every stored snapshot into the new layout once: observatory build --full-refresh")

    from orchestration.defs import build_definitions

    job = build_definitions().resolve_job_def("refresh_snapshot")
    run_config = {
        "ops": {
            "ingest_snapshot": {
                "config": {
                    "source": source,
                    "file": str(request.file) if request.file else None,
                    "revision": args.revision,
                    "sample_rows": request.sample_rows,
                    "replace": args.replace,
                }
            },
            "observatory_dbt": {"config": {"full_refresh": args.full_refresh}},
        },
        "loggers": {"console": {"config": {"log_level": "INFO"}}},
    }
    # The process running the build, so `status` can tell a build that was killed from one still running.
    tags = {PID_TAG: str(os.getpid()), PROCESS_START_TAG: _process_start(os.getpid()) or ""}
    if digest:
        tags["observatory/input"] = digest
    result = _run_job(job, run_config, instance, snapshot_date, tags, settings)
    if result is None:
        return 1
    if args.full_refresh:
        # Every other stored snapshot, one date at a time, from its stored raw file (no ingest).
        from orchestration.lib.snapshot_store import SnapshotStore

        others = [s.manifest["snapshot_date"] for s in SnapshotStore(settings.raw_models_dir).list()]
        selection = [key for key in job.asset_layer.executable_asset_keys if key.path[0] != "huggingface"]
        config = {key: value for key, value in run_config.items() if key != "ops"}
        config["ops"] = {"observatory_dbt": run_config["ops"]["observatory_dbt"]}
        base_tags = {k: v for k, v in tags.items() if k != "observatory/input"}
        for other in sorted(d for d in others if d != snapshot_date):
            print(f"Rebuilding snapshot {other} (full refresh)", file=sys.stderr)
            if _run_job(job, config, instance, other, base_tags, settings, asset_selection=selection) is None:
                return 1
    print_summary(settings, snapshot_date)
    print_checks(result.get_asset_check_evaluations())
    print(f"Report:    {settings.report_path(snapshot_date)}")
    return 0


def _run_job(job, run_config, instance, snapshot_date: str, tags: dict, settings: Settings, asset_selection=None):
    """Run the refresh job for one date in this process; its result, or None after saying why it failed."""
    from orchestration.lib.locks import release_all

    try:
        result = job.with_logger_defs({"console": _one_line_console_logger()}).execute_in_process(
            run_config=run_config, instance=instance, partition_key=snapshot_date, tags=tags,
            raise_on_error=False, asset_selection=asset_selection,
        )
    except Exception as exc:  # Dagster itself could not go on (e.g. its run history cannot be written)
        print(f"observatory: the build of {snapshot_date} could not finish: {_innermost(exc)}", file=sys.stderr)
        _print_disk_hint(settings)
        return None
    finally:
        release_all()  # the snapshot lock of a run whose publish step did not run (a blocking check failed)
    if not result.success:
        for event in result.all_events:
            if event.is_step_failure:
                error = event.step_failure_data.error
                while error.cause is not None and "Error occurred while executing" in error.message:
                    error = error.cause  # the user's error, not Dagster's wrapper
                print(f"observatory: step {event.step_key} failed: {error.message.strip()}", file=sys.stderr)
        print(f"observatory: the build of {snapshot_date} failed (run {result.run_id}; details in the "
              "Dagster UI: make dev)", file=sys.stderr)
        _print_disk_hint(settings)
        return None
    return result


PID_TAG = "observatory/pid"
PROCESS_START_TAG = "observatory/process_start"


LOW_DISK_BYTES = 64 * 2**20


def _print_disk_hint(settings: Settings) -> None:
    """After a failure: say so when the data folder or the run history is out of disk space."""
    import shutil

    for name, folder in (("DATA_DIR", settings.data_dir), ("DAGSTER_HOME", settings.dagster_home)):
        try:
            free = shutil.disk_usage(folder).free
        except OSError:
            continue
        if free < LOW_DISK_BYTES:
            print(f"hint: the disk of {name} ({folder}) is full ({free // 1024} kB free); free some space "
                  "and build again", file=sys.stderr)
            return


def _innermost(exc: BaseException) -> str:
    """The first line of the error at the bottom of a chain of wrapped errors."""
    while (exc.__cause__ or exc.__context__) is not None:
        exc = exc.__cause__ or exc.__context__
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def _input_file(path: Path) -> Path:
    """The --file argument as an absolute path, or a one-line error for what cannot be a snapshot file."""
    try:
        resolved = path.resolve()
        if resolved.is_dir():
            raise UserError(f"--file {path} is a directory, not a Parquet file")
        resolved.stat()
    except UserError:
        raise
    except FileNotFoundError:
        raise UserError(f"source file {path} does not exist") from None
    except (OSError, RuntimeError) as exc:  # a symlink loop, a path that cannot be read
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UserError(f"cannot read --file {path}: {reason}") from None
    return resolved


def _one_line_console_logger():
    """Dagster's console logger, one line per event: a step's traceback stays in the Dagster UI."""
    import logging

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


def _process_start(pid: int) -> str | None:
    """When process `pid` started (clock ticks since boot), or None if there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _run_process_gone(run) -> bool:
    """True when the run was started by an `observatory build` process that no longer exists."""
    pid = run.tags.get(PID_TAG)
    if not pid:
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, ValueError):
        return False
    started = run.tags.get(PROCESS_START_TAG)
    return bool(started) and _process_start(int(pid)) != started  # the pid now belongs to another process


def _instance(settings: Settings):
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
        raise UserError(str(exc)) from None
    except OSError as exc:
        raise UserError(f"cannot open the Dagster run history in {settings.dagster_home}: {exc.strerror or exc}") from None
    return instance


def print_checks(evaluations) -> None:
    """One line for the checks, and one per check that did not pass."""
    failed = [e for e in evaluations if not e.passed]
    print(f"Checks: {len(evaluations) - len(failed)} of {len(evaluations)} passed (dbt tests and metric checks)")
    for evaluation in failed:
        level = "warning" if evaluation.severity.value == "WARN" else "FAILED"
        print(f"  {level}: {evaluation.asset_key.to_user_string()} {evaluation.check_name}: "
              f"{evaluation.description or ''}")


def _default_snapshot_date(source: str, settings: Settings) -> str:
    if source == "sample":
        return DEFAULT_SAMPLE_DATE
    if source == "api":
        return dt.datetime.now(dt.timezone.utc).date().isoformat()
    if source == "hub_stats":
        from orchestration.defs.ingest.hub import resolve_revision

        try:
            return resolve_revision(settings.hub_stats_repo).snapshot_date
        except Exception as exc:  # network, auth or a missing repo: one readable line
            raise UserError(f"could not read the revisions of {settings.hub_stats_repo}: {exc}") from None
    raise UserError("source 'file' needs the date the file describes: --snapshot-date YYYY-MM-DD")


def _prepare_environment(settings: Settings) -> None:
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
        raise UserError(f"cannot write in the data folder {settings.data_dir}: {exc.strerror or exc}{where}\n"
                        "set DATA_DIR to a folder you can write") from None


def _build_digest(wanted: dict) -> str:
    from orchestration.defs.transform.project import dbt_source_digest

    return hashlib.sha256(json.dumps([wanted, dbt_source_digest()], sort_keys=True).encode()).hexdigest()


def _already_built(instance, snapshot_date: str, digest: str, settings: Settings) -> bool:
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


def print_summary(settings: Settings, snapshot_date: str) -> None:
    import duckdb

    con = duckdb.connect(str(settings.duckdb_path), read_only=True)
    try:
        snapshot = con.execute(
            "select snapshot_source, revision, is_synthetic, n_rows from marts.dim_snapshots"
            " where snapshot_date = ?", [snapshot_date]
        ).fetchone()
        counts = {}
        for mart in MARTS:
            counts[mart] = con.execute(f"select count(*) from ({mart_slice(mart, snapshot_date)})").fetchone()[0]
    finally:
        con.close()
    source, revision, synthetic, rows = snapshot
    label = "  ** SYNTHETIC SAMPLE: not real Hub data **" if synthetic else ""
    print(f"\nSnapshot {snapshot_date}: source {source}{' @ ' + revision if revision else ''}, {rows} models{label}")
    for mart, n in counts.items():
        note = "  (as of the newest snapshot)" if mart == "dim_organizations" else ""
        print(f"  marts.{mart:<38} {n:>10} rows{note}")
    print(f"Warehouse: {settings.duckdb_path}")
    command = os.path.relpath(Path(sys.executable).parent / "observatory")
    print(f'Query it:  {command} query "select * from marts.dim_models limit 5"')
    print("Open the UI: make dev  (then http://localhost:3000)")


def query_command(args) -> int:
    import duckdb
    import pandas as pd

    from orchestration.lib.safe_query import QueryRefused, check_limits, connect_read_only, run_query
    from orchestration.lib.sandbox import deny_file_writes

    try:
        check_limits(args.max_rows, args.timeout, args.memory_limit, args.threads)
    except QueryRefused as exc:
        raise UserError(str(exc)) from None
    settings = Settings.from_env()
    if not settings.duckdb_path.exists():
        raise UserError(f"no warehouse at {settings.duckdb_path}; build it first: observatory build")
    # DuckDB may write where it may read (the raw folder): the kernel refuses every file write from
    # here on, where it can (Landlock); the statement checks in run_query hold either way.
    deny_file_writes()
    try:
        con = connect_read_only(settings.duckdb_path, [settings.data_dir / "raw", settings.lake_dir],
                                args.memory_limit, args.threads)
    except duckdb.IOException as exc:
        raise UserError(f"cannot open the warehouse (is a build writing it right now?): {exc}") from None
    try:
        result = run_query(con, args.sql, max_rows=args.max_rows, timeout_s=args.timeout,
                           memory_limit=args.memory_limit)
    except QueryRefused as exc:
        raise UserError(str(exc)) from None
    except duckdb.PermissionException:
        raise UserError("the query reads files outside the warehouse; query its tables and views instead") from None
    except duckdb.Error as exc:
        raise UserError(f"query failed: {str(exc).splitlines()[0]}") from None
    finally:
        con.close()
    frame = pd.DataFrame(result.rows, columns=result.columns)
    print(frame.to_string(index=False, max_colwidth=80) if len(frame) else f"(no rows) columns: {', '.join(result.columns)}")
    if result.truncated:
        print(f"... showing the first {args.max_rows} rows; raise --max-rows to see more")
    return 0


def _open_warehouse(settings: Settings):
    import duckdb

    if not settings.duckdb_path.exists():
        raise UserError(f"no warehouse at {settings.duckdb_path}\nbuild it first: observatory build")
    try:
        con = duckdb.connect(str(settings.duckdb_path), read_only=True)
        con.execute("select count(*) from marts.dim_snapshots").fetchone()
        return con
    except duckdb.Error as exc:
        raise UserError(f"the warehouse {settings.duckdb_path} cannot be read: {str(exc).splitlines()[0]}\n"
                        "rebuild it: move it away and run observatory build --full-refresh") from None


def _built_snapshot(con, requested: str | None) -> str:
    """The requested snapshot if it is built, else the newest built one."""
    from orchestration.lib.snapshot_store import parse_snapshot_date

    built = [d.isoformat() for (d,) in con.execute("select snapshot_date from marts.dim_snapshots order by 1").fetchall()]
    if not built:
        raise UserError("the warehouse holds no snapshot yet\nbuild one: observatory build")
    if requested is None:
        return built[-1]
    try:
        parse_snapshot_date(requested)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if requested not in built:
        raise UserError(f"snapshot {requested} is not built (built: {', '.join(built[-5:])})\n"
                        f"build it: observatory build --snapshot-date {requested}")
    return requested


def report_command(args) -> int:
    from orchestration.lib.report import render

    settings = Settings.from_env()
    con = _open_warehouse(settings)
    try:
        snapshot_date = _built_snapshot(con, args.snapshot_date)
    finally:
        con.close()
    out = (args.out or settings.report_path(snapshot_date)).resolve()
    checks = _last_check_status(settings, snapshot_date)
    summary = render(settings.duckdb_path, snapshot_date, out, checks)
    print(f"Report of snapshot {snapshot_date} ({summary['charts']} charts): {out}")
    return 0


def _run_history(settings: Settings):
    """The Dagster instance the builds record their runs in, or None before the first build."""
    if not (settings.dagster_home / "dagster.yaml").exists():
        return None
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    return _instance(settings)


def _last_check_status(settings: Settings, snapshot_date: str):
    """The checks of the last successful build of the snapshot, or None when none is recorded."""
    import dagster as dg

    from orchestration.defs.report.status import check_status

    instance = _run_history(settings)
    if instance is None:
        return None
    runs = instance.get_runs(filters=dg.RunsFilter(job_name="refresh_snapshot", statuses=[dg.DagsterRunStatus.SUCCESS],
                                                   tags={"dagster/partition": snapshot_date}), limit=1)
    return check_status(instance, runs[0].run_id) if runs else None


def export_command(args) -> int:
    import shutil

    import duckdb

    settings = Settings.from_env()
    con = _open_warehouse(settings)
    try:
        snapshot_date = _built_snapshot(con, args.snapshot_date)
        out = (args.out or settings.data_dir / "exports" / snapshot_date).resolve()
        # Every file is written into a scratch folder beside the target, which then takes its place
        # whole: a failed export leaves no partial folder (and an earlier export stays as it was).
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            scratch = out.with_name(f".{out.name}.partial-{os.getpid()}")
            shutil.rmtree(scratch, ignore_errors=True)
            scratch.mkdir()
        except OSError as exc:
            raise UserError(f"cannot write the export to {out}: {exc.strerror or exc}") from None
        options = "format parquet, compression zstd" if args.format == "parquet" else "format csv, header true"
        lines = []
        try:
            for mart in MARTS:
                target = scratch / f"{mart}.{args.format}"
                con.execute(f"copy ({mart_slice(mart, snapshot_date)}) to {literal(target)} ({options})")
                rows = con.execute(f"select count(*) from ({mart_slice(mart, snapshot_date)})").fetchone()[0]
                lines.append(f"  {target.name:<48} {rows:>10} rows")
            if out.exists():
                retired = out.with_name(f".{out.name}.old-{os.getpid()}")
                os.rename(out, retired)
                os.rename(scratch, out)
                shutil.rmtree(retired, ignore_errors=True)
            else:
                os.rename(scratch, out)
        except duckdb.Error as exc:
            raise UserError(f"the warehouse {settings.duckdb_path} cannot be read: {str(exc).splitlines()[0]}; "
                            "nothing was exported") from None
        except OSError as exc:
            raise UserError(f"cannot write the export to {out}: {exc.strerror or exc}; nothing was exported") from None
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    finally:
        con.close()
    print("\n".join(lines))
    print(f"Exported {len(MARTS)} marts of snapshot {snapshot_date} to {out}")
    return 0


def status_command(args) -> int:
    from orchestration.lib.snapshot_store import SnapshotStore

    settings = Settings.from_env()
    store = SnapshotStore(settings.raw_models_dir)
    _recover_snapshots(settings, store)
    stored = store.list()
    if not stored:
        print(f"No snapshot stored under {settings.raw_models_dir}. Build one: observatory build")
        return 0
    built = set()
    unreadable = None
    if settings.duckdb_path.exists():
        try:
            con = _open_warehouse(settings)
        except UserError as exc:
            unreadable = str(exc).partition("\n")[0]
        else:
            try:
                built = {d.isoformat() for (d,) in con.execute("select snapshot_date from marts.dim_snapshots").fetchall()}
            finally:
                con.close()
    print(f"{'snapshot':<12} {'source':<10} {'revision':<14} {'rows':>10}  built  ingested at")
    for snapshot in stored:
        m = snapshot.manifest
        synthetic = " (synthetic)" if m.get("synthetic") else ""
        is_built = "?" if unreadable else "yes" if m["snapshot_date"] in built else "no"
        print(f"{m['snapshot_date']:<12} {m.get('source') or '':<10} {(m.get('revision') or '')[:12]:<14} "
              f"{m['rows']:>10}  {is_built:<5}  {m['ingested_at']}{synthetic}")
    if unreadable:
        print(f"\nWarning: {unreadable}; which snapshots are built is unknown (?)")
    _print_last_refresh(settings)
    return 0


def _recover_snapshots(settings: Settings, store) -> None:
    """Put back a snapshot whose replacement was interrupted, unless an ingest is running right now."""
    from filelock import FileLock, Timeout

    try:
        settings.raw_lock.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(settings.raw_lock))
        lock.acquire(timeout=0)
    except (OSError, Timeout):
        return  # an ingest holds the store (it recovers too), or the folder is read-only
    try:
        store.recover()
    finally:
        lock.release()


def _print_last_refresh(settings: Settings) -> None:
    import dagster as dg

    from orchestration.defs.report.status import check_status

    instance = _run_history(settings)
    if instance is None:
        return
    runs = instance.get_runs(filters=dg.RunsFilter(job_name="refresh_snapshot"), limit=1)
    if not runs:
        return
    run = runs[0]
    interrupted = not run.is_finished and _run_process_gone(run)
    if interrupted:
        # Nobody else will: record in the run history that the run will never finish.
        instance.report_run_failed(run, f"interrupted: the build process (pid {run.tags[PID_TAG]}) ended "
                                        "without finishing the run (killed?)")
    record = instance.get_run_record_by_id(run.run_id)
    ended = dt.datetime.fromtimestamp(record.end_time, dt.timezone.utc).isoformat(timespec="seconds") if record.end_time else "running"
    checks = check_status(instance, run.run_id)
    if interrupted:
        state = f"interrupted (its process {run.tags[PID_TAG]} is gone)"
    elif run.is_finished:
        state = f"{record.dagster_run.status.value.lower()}, ended {ended}"
    else:
        state = "running"
    print(f"\nLast refresh: snapshot {run.tags.get('dagster/partition')}, {state}")
    so_far = "" if run.is_finished and not interrupted else " so far"
    print(f"Checks: {checks.passed} of {checks.total} passed{so_far}")
    for name in checks.failed:
        print(f"  FAILED: {name}")
    for name in checks.warned:
        print(f"  warning: {name}")


if __name__ == "__main__":
    sys.exit(main())
