"""`observatory`: build the warehouse for one snapshot, query it, report on it, export it.

    observatory build [--source S] [--file PATH] [--dir DIR] [--snapshot-date D] [--replace] [--full-refresh]
                      [--datasets-file D] [--spaces-file S] [--papers-file P] [--engine duckdb|spark]
    observatory backfill --source hub_weekly|hub_stats|dir|sample [--dir DIR] --from D1 --to D2 [--every day|week]
                         [--engine duckdb|spark]
    observatory query "SQL"
    observatory report [--snapshot-date D]
    observatory export [--format parquet|csv] [--out DIR] [--snapshot-date D]
    observatory push --repo ORG/NAME [--snapshot-date D | --all]
    observatory status
"""

import argparse
import os
import sys
from pathlib import Path

from orchestration import run_history, warehouse_reads
from orchestration.errors import UserError
from orchestration.lib.engines import ENGINES
from orchestration.lib.sources import HISTORY_SOURCES, SOURCE_NAMES
from orchestration.settings import Settings

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="observatory", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    build = commands.add_parser("build", help="ingest one snapshot and build every model, test and check on it")
    build.add_argument("--source", choices=SOURCE_NAMES,
                       help="where the snapshot comes from (default: HUB_SOURCE; the synthetic sample only when named)")
    build.add_argument("--file", type=Path, help="hub-stats Parquet file for --source file (default: HUB_FILE)")
    build.add_argument("--dir", type=Path, help="folder of models-YYYY-MM-DD.parquet files for --source dir (default: HUB_DIR)")
    for kind, what in (("datasets", "datasets.parquet"), ("spaces", "spaces.parquet"), ("papers", "daily papers")):
        build.add_argument(f"--{kind}-file", type=Path,
                           help=f"--source file: the hub-stats {what} file of the same date (optional)")
    build.add_argument("--snapshot-date", help="YYYY-MM-DD the snapshot describes (default: SNAPSHOT_DATE, else per source)")
    build.add_argument("--revision", help="hub_stats: dataset commit to ingest")
    build.add_argument("--sample-rows", type=int, help="sample: number of models to generate")
    build.add_argument("--replace", action="store_true", help="overwrite a different snapshot already stored for the date")
    build.add_argument("--full-refresh", action="store_true",
                       help="then rebuild every other stored snapshot too, one date at a time (each its own build, "
                       "checks and publication); also converts a warehouse built by an older version")
    build.add_argument("--force", action="store_true", help="rebuild even when the snapshot is already built")
    build.add_argument("--engine", choices=ENGINES,
                       help="what dbt builds on (default: ENGINE, else duckdb); spark needs make install-spark and Java 17")

    query = commands.add_parser("query", help="run one read-only SELECT on the warehouse and print the result")
    query.add_argument("sql")
    query.add_argument("--max-rows", type=int, default=50, help="rows to print at most, 1 to 100000 (default 50)")
    query.add_argument("--timeout", type=float, default=60.0,
                       help="seconds before the query is stopped, above 0 and at most 3600 (default 60)")
    query.add_argument("--memory-limit", default="2GB", help="memory the query may use, e.g. 512MB (default 2GB)")
    query.add_argument("--threads", type=int, default=2, help="threads the query may use (default 2)")

    report = commands.add_parser("report", help="write the HTML report (A1-A6, trends, breadth) of a built snapshot")
    report.add_argument("--snapshot-date", help="YYYY-MM-DD (default: the newest built snapshot)")
    report.add_argument("--out", type=Path, help="HTML file to write (default: DATA_DIR/reports/report-<date>.html)")

    export = commands.add_parser("export", help="write every mart of a snapshot as Parquet or CSV files")
    export.add_argument("--format", choices=("parquet", "csv"), default="parquet", help="file format (default parquet)")
    export.add_argument("--out", type=Path, help="folder to write into (default: DATA_DIR/exports/<date>)")
    export.add_argument("--snapshot-date", help="YYYY-MM-DD (default: the newest built snapshot)")

    push = commands.add_parser("push", help="share the published marts as a Hugging Face dataset repo (one commit; "
                               "only snapshots not there yet or changed)")
    push.add_argument("--repo", required=True, help="dataset repo id, ORG/NAME (created if missing); token: HF_TOKEN")
    pushed = push.add_mutually_exclusive_group()
    pushed.add_argument("--snapshot-date", help="YYYY-MM-DD (default: the newest published snapshot)")
    pushed.add_argument("--all", action="store_true", help="every published snapshot")

    commands.add_parser("status", help="stored snapshots, the last refresh and its failing checks")

    backfill = commands.add_parser("backfill", help="ingest and build every date a history source offers in a range")
    backfill.add_argument("--source", choices=HISTORY_SOURCES, required=True, help="where the history comes from")
    backfill.add_argument("--dir", type=Path, help="folder of models-YYYY-MM-DD.parquet files for --source dir (default: HUB_DIR)")
    backfill.add_argument("--from", dest="start", required=True, help="first date, YYYY-MM-DD")
    backfill.add_argument("--to", dest="end", required=True, help="last date, YYYY-MM-DD (inclusive)")
    backfill.add_argument("--every", choices=("day", "week"), default="day",
                          help="every date offered, or the last one of each ISO week (default day)")
    backfill.add_argument("--sample-rows", type=int, help="sample: number of models in the series' universe")
    backfill.add_argument("--engine", choices=ENGINES,
                          help="what dbt builds each date on (default: ENGINE, else duckdb); spark needs make install-spark")

    args = parser.parse_args(argv)
    handlers = {"build": build_command, "query": query_command, "report": report_command,
                "export": export_command, "status": status_command, "backfill": backfill_command,
                "push": push_command}
    try:
        return handlers[args.command](args)
    except UserError as exc:
        message, _, hint = str(exc).partition("\n")
        print(f"observatory: {message}", file=sys.stderr)
        if hint:
            print(f"hint: {hint}", file=sys.stderr)
        return 2


def _with_engine(settings: Settings, engine: str | None) -> Settings:
    """The settings with the engine a build asked for (else ENGINE's), refused in one line if it cannot
    run here: before anything is fetched, stored or built."""
    import dataclasses

    from orchestration.lib.engines import engine_problem

    settings = dataclasses.replace(settings, engine=engine or settings.engine)
    problem = engine_problem(settings.engine)
    if problem:
        raise UserError(problem)
    return settings


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

    settings = _with_engine(Settings.from_env(), args.engine)
    # The synthetic sample only when asked for: --source sample, HUB_SOURCE=sample or --sample-rows.
    source = args.source or settings.hub_source or ("sample" if args.sample_rows else None)
    if source is None:
        raise UserError("say where the snapshot comes from: --source hub_stats, hub_weekly, dir, file or api "
                        "(or set HUB_SOURCE)\nfor synthetic data to try the warehouse: --source sample (make run does)")
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
    for kind in ("datasets", "spaces", "papers"):
        if getattr(args, f"{kind}_file", None):
            request.repo_files[kind] = _input_file(getattr(args, f"{kind}_file"), f"--{kind}-file")
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
        outcome = "was refused, nothing changed" if result.errors[:1] and result.errors[0].startswith("refused: ") \
            else "failed"
        print(f"observatory: the build of {snapshot_date} {outcome} (run {result.run_id}; details in the "
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


def _input_file(path: Path, flag: str = "--file") -> Path:
    """The --file argument as an absolute path, or a one-line error for what cannot be a snapshot file."""
    try:
        resolved = path.resolve()
        if resolved.is_dir():
            raise UserError(f"{flag} {path} is a directory, not a Parquet file")
        resolved.stat()
    except UserError:
        raise
    except FileNotFoundError:
        raise UserError(f"source file {path} does not exist" if flag == "--file" else f"{flag} {path} does not exist") from None
    except (OSError, RuntimeError) as exc:  # a symlink loop, a path that cannot be read
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UserError(f"cannot read {flag} {path}: {reason}") from None
    return resolved


def backfill_command(args) -> int:
    from orchestration.backfill import backfill
    from orchestration.lib.snapshot_store import parse_snapshot_date

    settings = _with_engine(Settings.from_env(), args.engine)
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
    summary = warehouse_reads.snapshot_summary(settings, snapshot_date)
    label = "  ** SYNTHETIC SAMPLE: not real Hub data **" if summary.synthetic else ""
    revision = f" @ {summary.revision}" if summary.revision else ""
    print(f"\nSnapshot {snapshot_date}: source {summary.source}{revision}, {summary.rows} models{label}")
    for mart, n in summary.mart_rows.items():
        note = "  (as of the newest snapshot)" if mart in warehouse_reads.LATEST_ONLY else ""
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


def report_command(args) -> int:
    from orchestration.lib.report import render

    settings = Settings.from_env()
    con = warehouse_reads.open_warehouse(settings)
    try:
        snapshot_date = warehouse_reads.built_snapshot(con, args.snapshot_date)
    finally:
        con.close()
    out = (args.out or settings.report_path(snapshot_date)).resolve()
    checks = run_history.last_check_status(settings, snapshot_date)
    summary = render(settings.duckdb_path, snapshot_date, out, checks)
    print(f"Report of snapshot {snapshot_date} ({summary['charts']} charts): {out}")
    return 0


def export_command(args) -> int:
    settings = Settings.from_env()
    con = warehouse_reads.open_warehouse(settings)
    try:
        snapshot_date = warehouse_reads.built_snapshot(con, args.snapshot_date)
        out = (args.out or settings.data_dir / "exports" / snapshot_date).resolve()
        export = warehouse_reads.export_snapshot(settings, con, snapshot_date, out, args.format)
    finally:
        con.close()
    for name, rows in export.files:
        print(f"  {name:<48} {rows:>10} rows")
    print(f"Exported {len(export.files)} marts of snapshot {snapshot_date} to {out}")
    for source, repo_id, licence, dates in export.licences:
        print(f"Source licence: {licence or 'not recorded'} ({source}{' ' + repo_id if repo_id else ''}, "
              f"{dates} snapshots)")
    print(f"Licence notice: {out / 'NOTICE.txt'}")
    return 0


def push_command(args) -> int:
    from orchestration.defs.transform.project import dbt_project
    from orchestration.lib import push
    from orchestration.lib.dataset_card import mart_docs

    settings = Settings.from_env()
    try:
        push.check_repo_id(args.repo)
        if not settings.duckdb_path.exists():
            raise push.PushRefused(f"no warehouse at {settings.duckdb_path}\nbuild it first: observatory build")
        dates = push.choose_dates(settings.lake_dir, args.snapshot_date, args.all)
        result = push.push(settings.lake_dir, args.repo, dates, mart_docs(dbt_project().manifest_path))
    except push.PushRefused as exc:
        raise UserError(str(exc)) from None
    if result.commit is None:
        print(f"Nothing new to push: {args.repo} already holds snapshot{'s' if len(dates) > 1 else ''} "
              f"{', '.join(result.unchanged)} as published here; no commit.")
        return 0
    for name in result.deleted:
        print(f"  removed {name} (the rebuilt snapshot no longer has it)")
    if result.unchanged:
        print(f"Already there, unchanged: {', '.join(result.unchanged)}")
    print(f"Pushed snapshot{'s' if len(result.pushed) > 1 else ''} {', '.join(result.pushed)} "
          f"({len(result.files)} files) to {result.url} in commit {result.commit[:12]}")
    return 0


def status_command(args) -> int:
    from orchestration.lib.snapshot_store import SnapshotStore

    settings = Settings.from_env()
    store = SnapshotStore(settings.raw_models_dir)
    _recover_snapshots(settings, store)
    stored = store.list()
    run_history.register_stored_dates(settings)
    if not stored:
        print(f"No snapshot stored under {settings.raw_models_dir}. Build one: observatory build")
        return 0
    built = set()
    engines = {}
    unreadable = None
    if settings.duckdb_path.exists():
        try:
            con = warehouse_reads.open_warehouse(settings)
            try:
                built = set(warehouse_reads.built_dates(con))
                engines = warehouse_reads.built_engines(con)
            finally:
                con.close()
        except UserError as exc:
            unreadable = str(exc).partition("\n")[0]
    print(f"{'snapshot':<12} {'source':<10} {'revision':<14} {'rows':>10}  built  engine  ingested at")
    for snapshot in stored:
        m = snapshot.manifest
        synthetic = " (synthetic)" if m.get("synthetic") else ""
        is_built = "?" if unreadable else "yes" if m["snapshot_date"] in built else "no"
        # The engine of the published build (dbt's adapter); '-' when not built or not recorded.
        engine = (engines.get(m["snapshot_date"]) or "-") if is_built == "yes" else "-"
        print(f"{m['snapshot_date']:<12} {m.get('source') or '':<10} {(m.get('revision') or '')[:12]:<14} "
              f"{m['rows']:>10}  {is_built:<5}  {engine:<6}  {m['ingested_at']}{synthetic}")
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
    refresh = run_history.last_refresh(settings)
    if refresh is None:
        return
    print(f"\nLast refresh: snapshot {refresh.snapshot_date}, {refresh.state}")
    checks = refresh.checks
    print(f"Checks: {checks.passed} of {checks.total} passed{'' if refresh.finished else ' so far'}")
    for name in checks.failed:
        print(f"  FAILED: {name}")
    for name in checks.warned:
        print(f"  warning: {name}")


if __name__ == "__main__":
    sys.exit(main())
