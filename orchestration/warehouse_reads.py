"""What the command line reads from the published warehouse (read-only): which snapshots are built,
the rows of each mart for one snapshot, exports and their licence notice.

The marts are whatever the catalog holds (one view per mart), so a new mart is exported and counted
without being listed here.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.errors import UserError
from orchestration.lib.sql import literal
from orchestration.settings import Settings

# Marts that describe the newest snapshot rather than one snapshot per row.
LATEST_ONLY = ("dim_organizations",)
REBUILD_HINT = "rebuild it: move it away and run observatory build --full-refresh"


def open_warehouse(settings: Settings) -> duckdb.DuckDBPyConnection:
    """The published catalog, read-only, or a UserError that says how to get one."""
    if not settings.duckdb_path.exists():
        raise UserError(f"no warehouse at {settings.duckdb_path}\nbuild it first: observatory build")
    try:
        con = duckdb.connect(str(settings.duckdb_path), read_only=True)
        con.execute("select count(*) from marts.dim_snapshots").fetchone()
        return con
    except duckdb.Error as exc:
        raise UserError(f"the warehouse {settings.duckdb_path} cannot be read: {str(exc).splitlines()[0]}\n"
                        f"{REBUILD_HINT}") from None


def mart_names(con) -> list[str]:
    """Every mart of the catalog, by name."""
    return [name for (name,) in con.execute(
        "select table_name from information_schema.tables where table_schema = 'marts'"
        " and table_catalog = current_database() order by table_name").fetchall()]


def mart_slice(mart: str, snapshot_date: str) -> str:
    """SQL for the rows of a mart that describe one snapshot (dim_organizations describes the newest)."""
    if mart in LATEST_ONLY:
        return f"select * from marts.{mart}"
    return f"select * from marts.{mart} where snapshot_date = date {literal(snapshot_date)}"


def built_dates(con) -> list[str]:
    try:
        return [d.isoformat() for (d,) in con.execute("select snapshot_date from marts.dim_snapshots order by 1").fetchall()]
    except duckdb.Error as exc:  # a damaged block the opening probe did not touch
        raise UserError(f"the warehouse cannot be read: {str(exc).splitlines()[0]}\n{REBUILD_HINT}") from None


def built_engines(con) -> dict[str, str | None]:
    """The engine that built each published snapshot (dim_snapshots.engine; None when not recorded)."""
    columns = {name for (name,) in con.execute(
        "select column_name from information_schema.columns where table_schema = 'marts'"
        " and table_name = 'dim_snapshots' and table_catalog = current_database()").fetchall()}
    if "engine" not in columns:  # every snapshot was built before the engine was recorded
        return {}
    return {d.isoformat(): engine for d, engine in con.execute("select snapshot_date, engine from marts.dim_snapshots").fetchall()}


def built_snapshot(con, requested: str | None) -> str:
    """The requested snapshot if it is built, else the newest built one."""
    from orchestration.lib.snapshot_store import parse_snapshot_date

    built = built_dates(con)
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


@dataclass
class SnapshotSummary:
    source: str
    revision: str | None
    synthetic: bool
    rows: int
    mart_rows: dict[str, int]


def snapshot_summary(settings: Settings, snapshot_date: str) -> SnapshotSummary:
    """Where the snapshot came from and the rows each mart holds for it."""
    con = duckdb.connect(str(settings.duckdb_path), read_only=True)
    try:
        source, revision, synthetic, rows = con.execute(
            "select snapshot_source, revision, is_synthetic, n_rows from marts.dim_snapshots"
            " where snapshot_date = ?", [snapshot_date]
        ).fetchone()
        counts = {mart: con.execute(f"select count(*) from ({mart_slice(mart, snapshot_date)})").fetchone()[0]
                  for mart in mart_names(con)}
    finally:
        con.close()
    return SnapshotSummary(source, revision, bool(synthetic), rows, counts)


@dataclass
class Export:
    folder: Path
    files: list[tuple[str, int]]  # (file name, rows)
    licences: list[tuple]  # (source, repo_id, licence, n snapshots)


def export_snapshot(settings: Settings, con, snapshot_date: str, out: Path, file_format: str) -> Export:
    """Every mart of the snapshot as files in `out`, with NOTICE.txt. Files are written into a scratch
    folder beside `out`, which then takes its place whole: a failed export leaves no partial folder
    (and an earlier export stays as it was)."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        scratch = out.with_name(f".{out.name}.partial-{os.getpid()}")
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir()
    except OSError as exc:
        raise UserError(f"cannot write the export to {out}: {exc.strerror or exc}") from None
    options = "format parquet, compression zstd" if file_format == "parquet" else "format csv, header true"
    files = []
    try:
        for mart in mart_names(con):
            target = scratch / f"{mart}.{file_format}"
            con.execute(f"copy ({mart_slice(mart, snapshot_date)}) to {literal(target)} ({options})")
            files.append((target.name, con.execute(f"select count(*) from ({mart_slice(mart, snapshot_date)})").fetchone()[0]))
        licences = source_licences(con, snapshot_date)
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
    return Export(out, files, licences)


ODBL_NOTICE = (
    "Data derived from the dataset {repo} (hub_weekly source) is made available under the Open Database "
    "License (ODbL-1.0): https://opendatacommons.org/licenses/odbl/1-0/ . Any public use of these files, "
    "or of a database derived from them, must keep this notice and share alike under ODbL-1.0."
)


def source_licences(con, snapshot_date: str) -> list[tuple]:
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
