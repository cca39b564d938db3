"""`observatory`: build the warehouse for one snapshot, query it, report on it, export it.

    observatory build [--source S] [--file PATH] [--dir DIR] [--snapshot-date D] [--replace] [--full-refresh]
    observatory backfill --source hub_weekly|hub_stats|dir|sample [--dir DIR] --from D1 --to D2 [--every day|week]
    observatory query "SQL"
    observatory report [--snapshot-date D]
    observatory export [--format parquet|csv] [--out DIR] [--snapshot-date D]
    observatory status
"""

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

from orchestration.lib.sources import HISTORY_SOURCES, SOURCE_NAMES
from orchestration.lib.sql import literal
from orchestration.settings import Settings

MARTS = (
    "dim_models", "dim_organizations", "dim_snapshots", "fct_model_lineage", "fct_base_model_derivatives",
    "fct_org_release_growth", "fct_weekly_new_model_rankings", "fct_release_heatmap",
    "fct_country_download_share", "fct_top_liked_country_share", "fct_derivative_share_by_base_country",
    "fct_ingest_quarantine",
    "fct_adoption_points", "fct_relative_adoption",
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
    build.add_argument("--source", choices=SOURCE_NAMES, help="where the snapshot comes from (default: HUB_SOURCE or sample)")
    build.add_argument("--file", type=Path, help="hub-stats Parquet file for --source file (default: HUB_FILE)")
    build.add_argument("--dir", type=Path, help="folder of models-YYYY-MM-DD.parquet files for --source dir (default: HUB_DIR)")
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

    backfill = commands.add_parser("backfill", help="ingest and build every date a history source offers in a range")
    backfill.add_argument("--source", choices=HISTORY_SOURCES, required=True, help="where the history comes from")
    backfill.add_argument("--dir", type=Path, help="folder of models-YYYY-MM-DD.parquet files for --source dir (default: HUB_DIR)")
    backfill.add_argument("--from", dest="start", required=True, help="first date, YYYY-MM-DD")
    backfill.add_argument("--to", dest="end", required=True, help="last date, YYYY-MM-DD (inclusive)")
    backfill.add_argument("--every", choices=("day", "week"), default="day",
                          help="every date offered, or the last one of each ISO week (default day)")
    backfill.add_argument("--sample-rows", type=int, help="sample: number of models in the series' universe")

    args = parser.parse_args(argv)
    handlers = {"build": build_command, "query": query_command, "report": report_command,
                "export": export_command, "status": status_command, "backfill": backfill_command}
    try:
        return handlers[args.command](args)
    except UserError as exc:
        message, _, hint = str(exc).partition("\n")
        print(f"observatory: {message}", file=sys.stderr)
        if hint:
            print(f"hint: {hint}", file=sys.stderr)
        return 2


def _request(args, settings: Settings, source: str, snapshot_date: str | None):
    from orchestration.lib.sources import SnapshotRequest

    file = getattr(args, "file", None)
    folder = getattr(args, "dir", None)
    return SnapshotRequest(
        source=source,
        snapshot_date=snapshot_date or "",
        file=Path(os.path.abspath(file)) if file else settings.hub_file,  # checked once the date is known
        revision=getattr(args, "revision", None),
        sample_rows=getattr(args, "sample_rows", None) or settings.sample_rows,
        repo_id=settings.hub_stats_repo,
        weekly_repo=settings.hub_weekly_repo,
        dir=folder.resolve() if folder else settings.hub_dir,
    )


def build_command(args) -> int:
    from orchestration.building import BuildRefused, run_build
    from orchestration.lib.sources import check_request, get_source

    settings = Settings.from_env()
    source = args.source or settings.hub_source
    if source not in SOURCE_NAMES:
        raise UserError(f"unknown source {source!r}; choose one of {', '.join(SOURCE_NAMES)}")
    request = _request(args, settings, source, args.snapshot_date or settings.snapshot_date)
    if not request.snapshot_date:
        try:
            request.snapshot_date = get_source(source).default_date(request)
        except (ValueError, FileNotFoundError) as exc:
            raise UserError(str(exc)) from None
        except Exception as exc:  # network, auth or a missing repo: one readable line
            raise UserError(f"could not list the snapshots source {source!r} offers: {exc}") from None
    if args.file:
        request.file = _input_file(args.file)
    try:
        check_request(request)
    except (ValueError, FileNotFoundError) as exc:
        raise UserError(str(exc)) from None

    try:
        result = run_build(settings, request, replace=args.replace, full_refresh=args.full_refresh, force=args.force)
    except BuildRefused as exc:
        raise UserError(str(exc)) from None
    snapshot_date = request.snapshot_date
    if result.skipped:
        print(f"Snapshot {snapshot_date} is already built from the same input and code; nothing to do "
              "(--force rebuilds).")
        print_summary(settings, snapshot_date)
        return 0

    if not result.success:
        for line in result.errors:
            print(f"observatory: {line}", file=sys.stderr)
        print(f"observatory: the build of {snapshot_date} failed (run {result.run_id}; details in the "
              "Dagster UI: make dev)", file=sys.stderr)
        _print_disk_hint(settings)
        return 1
    print_summary(settings, snapshot_date)
    print_checks(result.check_evaluations)
    print(f"Report:    {settings.report_path(snapshot_date)}")
    return 0


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


def _run_process_gone(run) -> bool:
    """True when the run was started by an `observatory build` process that no longer exists."""
    from orchestration.building import PID_TAG, PROCESS_START_TAG
    from orchestration.lib.child import process_start

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
    return bool(started) and process_start(int(pid)) != started  # the pid now belongs to another process


def _instance(settings: Settings):
    from orchestration.building import BuildRefused, open_instance

    try:
        return open_instance(settings)
    except BuildRefused as exc:
        raise UserError(str(exc)) from None


def backfill_command(args) -> int:
    from orchestration.backfill import backfill
    from orchestration.lib.snapshot_store import parse_snapshot_date

    settings = Settings.from_env()
    try:
        if parse_snapshot_date(args.start) > parse_snapshot_date(args.end):
            raise ValueError(f"--from {args.start} is after --to {args.end}")
    except ValueError as exc:
        raise UserError(str(exc)) from None
    template = _request(args, settings, args.source, None)
    try:
        failed = backfill(settings, template, args.start, args.end, args.every,
                          out=lambda line: print(line, flush=True))
    except (ValueError, LookupError, FileNotFoundError) as exc:
        raise UserError(str(exc)) from None
    if failed:
        print(f"observatory: {len(failed)} dates failed: {', '.join(failed)} (run the same command again "
              "to retry them)", file=sys.stderr)
        return 1
    return 0


def print_checks(evaluations) -> None:
    """One line for the checks, and one per check that did not pass."""
    failed = [e for e in evaluations if not e.passed]
    print(f"Checks: {len(evaluations) - len(failed)} of {len(evaluations)} passed (dbt tests and metric checks)")
    for evaluation in failed:
        level = "warning" if evaluation.severity.value == "WARN" else "FAILED"
        print(f"  {level}: {evaluation.asset_key.to_user_string()} {evaluation.check_name}: "
              f"{evaluation.description or ''}")



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

    import duckdb

    try:
        built = [d.isoformat() for (d,) in con.execute("select snapshot_date from marts.dim_snapshots order by 1").fetchall()]
    except duckdb.Error as exc:  # a damaged block the opening probe did not touch
        raise UserError(f"the warehouse cannot be read: {str(exc).splitlines()[0]}\n"
                        "rebuild it: move it away and run observatory build --full-refresh") from None
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
            licences = _source_licences(con, snapshot_date)
            (scratch / "NOTICE.txt").write_text(notice_text(snapshot_date, licences))
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
    notice = out / "NOTICE.txt"
    print(f"Exported {len(MARTS)} marts of snapshot {snapshot_date} to {out}")
    for source, repo_id, licence, dates in licences:
        print(f"Source licence: {licence or 'not recorded'} ({source}{' ' + repo_id if repo_id else ''}, "
              f"{dates} snapshots)")
    print(f"Licence notice: {notice}")
    return 0


ODBL_NOTICE = (
    "Data derived from the dataset {repo} (hub_weekly source) is made available under the Open Database "
    "License (ODbL-1.0): https://opendatacommons.org/licenses/odbl/1-0/ . Any public use of these files, "
    "or of a database derived from them, must keep this notice and share alike under ODbL-1.0."
)


def _source_licences(con, snapshot_date: str) -> list[tuple]:
    """(source, repo_id, licence, n snapshots) of the snapshots the export may derive from: the exported
    one and every earlier one (trend tables compare a snapshot with those before it)."""
    return con.execute(
        "select snapshot_source, repo_id, source_license, count(*) from marts.dim_snapshots"
        " where snapshot_date <= cast(? as date) group by all order by 1, 2, 3", [snapshot_date]
    ).fetchall()


def notice_text(snapshot_date: str, licences: list[tuple]) -> str:
    """NOTICE.txt beside exported files: where the data came from and under which licence."""
    lines = [f"Open Model Observatory export of snapshot {snapshot_date}.", "",
             "Source data of this export (the snapshot and the earlier ones its trend tables compare with):"]
    for source, repo_id, licence, dates in licences:
        lines.append(f"- {source}{' ' + repo_id if repo_id else ''}: {dates} snapshots, "
                     f"licence: {licence or 'not recorded (ingested before licences were recorded)'}")
    weekly = sorted({repo_id or "hfmlsoc/hub_weekly_snapshots" for source, repo_id, _, _ in licences
                     if source == "hub_weekly"})
    if weekly:
        lines += ["", ODBL_NOTICE.format(repo=", ".join(weekly))]
    return "\n".join(lines) + "\n"


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

    from orchestration.building import PID_TAG
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
