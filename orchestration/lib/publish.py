"""Publishing a snapshot: dbt builds one snapshot into a scratch warehouse; its marts become one
folder of open Parquet in the lake, swapped in by one rename, and the catalog users open is a
small DuckDB file of views over the lake.

Layout (beside the catalog, data/warehouse/ by default):

    observatory.duckdb                       the catalog: schema marts, one view per mart
    lake/snapshot_date=YYYY-MM-DD            a symlink to the published version of that date
    lake/.versions/YYYY-MM-DD-<run>/         one version: <mart>.parquet per mart (no
                                             snapshot_date column: it is the folder's name)
    lake/.versions/YYYY-MM-DD-<run>.partial/ a version being written (never read)
    .building/<run>/observatory.duckdb       a run's scratch warehouse (dbt writes it)

Publishing a snapshot: COPY each mart of the scratch to a .partial folder, check every file's row
count against the scratch, rename the folder to its version, then replace the date's symlink in
one rename (a new date, or --replace of a stored one, alike). Every other date's folder is never
touched. The version a replace retires is kept for RETIRED_GRACE_S, so a reader in the middle of
a query keeps its files, then removed. The catalog's views read `snapshot_date=*`, so a snapshot
is visible to readers whole (all its marts) from the rename on; the catalog itself is rewritten
(new file, then one rename) only so that it follows the marts' columns.

A build killed at any point leaves every published snapshot as it was: before the symlink's
rename nothing users read has changed; after it the snapshot is published whole.
"""

import os
import shutil
import time
from pathlib import Path

from orchestration.lib.child import process_start
from orchestration.lib.sql import literal

STALE_SCRATCH_S = 24 * 3600
RETIRED_GRACE_S = 3600
PARTITION = "snapshot_date"
# Column types of the marts that a Parquet reader other than DuckDB reads as they are. HUGEINT
# would become a double and MAP/STRUCT/UNION are nested DuckDB types: publishing refuses them.
NOT_PLAIN_TYPES = ("HUGEINT", "UHUGEINT", "MAP", "STRUCT", "UNION", "BIT", "VARINT", "BIGNUM")


class UnsafeToPublish(RuntimeError):
    """The built snapshot is not whole (a write-ahead log left, the snapshot missing, rows lost on copy)."""


class LegacyWarehouse(RuntimeError):
    """The catalog is a warehouse of the previous layout (marts as tables holding every snapshot)."""


def wal_path(database: Path) -> Path:
    return database.with_name(database.name + ".wal")


def lake_path(published: Path) -> Path:
    return published.parent / "lake"


def scratch_path(published: Path, run_id: str) -> Path:
    # Same file name in a folder of its own: DuckDB names the catalog after the file, and the
    # views dbt writes refer to it.
    return published.parent / ".building" / run_id / published.name


def scratch_link_path(published: Path) -> Path:
    """The fixed path dbt opens: a symlink to the running dbt's scratch folder.

    dbt re-parses the whole project when its profile (the DuckDB path) changes: a path per run
    costs a full parse (~8 s instead of ~4-5 s here). dbt runs hold settings.dbt_lock while they
    use this path; checks and publishing read the run's own scratch path and run concurrently.
    """
    return published.parent / ".building" / "active" / published.name


def snapshot_folder(published: Path, snapshot_date: str) -> Path:
    return lake_path(published) / f"{PARTITION}={snapshot_date}"


def _owner() -> str:
    pid = os.getpid()
    return f"{pid} {process_start(pid)}"


def _owner_alive(folder: Path) -> bool:
    """Whether the process that wrote `folder`'s owner file still runs (unknown owner: by age)."""
    try:
        pid, started = (folder / ".owner").read_text().split()
    except (OSError, ValueError):
        try:
            return folder.lstat().st_mtime > time.time() - STALE_SCRATCH_S
        except OSError:
            return False
    return process_start(int(pid)) == started


def start_scratch(published: Path, run_id: str) -> Path:
    """A fresh scratch folder for this run; returns the fixed path dbt opens, pointed at it.

    The caller holds the dbt lock (settings.dbt_lock) until dbt has ended.
    """
    published.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(published)
    scratch = scratch_path(published, run_id)
    scratch.parent.mkdir(parents=True, exist_ok=True)
    (scratch.parent / ".owner").write_text(_owner())
    scratch.unlink(missing_ok=True)
    wal_path(scratch).unlink(missing_ok=True)
    link = scratch_link_path(published).parent
    staged = link.with_name(f"active-{run_id}")
    staged.unlink(missing_ok=True)
    os.symlink(run_id, staged)
    os.replace(staged, link)
    return scratch_link_path(published)


def readable_path(published: Path, run_id: str | None) -> Path:
    """What a check of this run should read: its scratch while it exists, else the published catalog."""
    if run_id:
        scratch = scratch_path(published, run_id)
        if scratch.exists():
            return scratch
    return published


def checkpoint(database: Path) -> None:
    """Write everything DuckDB still holds in the file's write-ahead log into the file itself.

    Publishing reads the file; fails if a log remains.
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


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _marts(con) -> dict[str, list[tuple[str, str]]]:
    columns: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in con.execute(
        "select table_name, column_name, data_type from duckdb_columns()"
        " where schema_name = 'marts' and database_name = current_database() order by table_name, column_index"
    ).fetchall():
        columns.setdefault(table, []).append((column, data_type))
    return columns


def write_snapshot(scratch: Path, staged: Path, snapshot_date: str) -> dict[str, int]:
    """Every mart's rows of `snapshot_date` from the scratch as `staged/<mart>.parquet`; returns the
    rows per mart, each checked against the file written."""
    import duckdb

    staged.mkdir(parents=True)
    (staged / ".owner").write_text(_owner())
    rows = {}
    con = duckdb.connect(str(scratch), read_only=True)
    try:
        con.execute("set preserve_insertion_order = true")
        for mart, columns in _marts(con).items():
            odd = [f"{c} {t}" for c, t in columns if any(t.upper().startswith(n) for n in NOT_PLAIN_TYPES)]
            if odd:
                raise UnsafeToPublish(f"marts.{mart} has columns of types other readers cannot read as they "
                                      f"are ({', '.join(odd)}); cast them in its model")
            names = [c for c, _ in columns]
            dated = PARTITION in names
            keep = ", ".join(_quote(c) for c in names if c != PARTITION)
            where = f" where {PARTITION} = cast({literal(snapshot_date)} as date)" if dated else ""
            source = f"select {keep} from marts.{_quote(mart)}{where}"
            target = staged / f"{mart}.parquet"
            con.execute(f"copy ({source}) to {literal(target)} (format parquet, compression zstd)")
            expected = con.execute(f"select count(*) from ({source})").fetchone()[0]
            written = con.execute(f"select count(*) from read_parquet({literal(target)})").fetchone()[0]
            if written != expected:
                raise UnsafeToPublish(f"marts.{mart}: {written} rows written for {expected} built; not publishing")
            rows[mart] = expected
    finally:
        con.close()
    (staged / ".owner").unlink()
    return rows


def publish(published: Path, run_id: str, snapshot_date: str, raw_dir: Path | None = None) -> dict[str, int]:
    """Publish this run's snapshot: its lake folder in one rename, then the catalog. Returns rows per mart.

    The caller holds the lock of the snapshot date; builds of other dates publish concurrently.
    """
    scratch = scratch_path(published, run_id)
    if not scratch.exists():
        raise FileNotFoundError(f"run {run_id} has no built warehouse to publish ({scratch} is missing)")
    verify_snapshot(scratch, snapshot_date)
    lake = lake_path(published)
    versions = lake / ".versions"
    versions.mkdir(parents=True, exist_ok=True)
    version = versions / f"{snapshot_date}-{run_id}"
    staged = version.with_name(version.name + ".partial")
    shutil.rmtree(staged, ignore_errors=True)
    rows = write_snapshot(scratch, staged, snapshot_date)
    _fsync_folder(staged)
    os.rename(staged, version)
    folder = snapshot_folder(published, snapshot_date)
    retired = _version_of(folder)
    link = lake / f".{folder.name}.{run_id}.link"
    link.unlink(missing_ok=True)
    os.symlink(f".versions/{version.name}", link)
    os.replace(link, folder)  # the one rename that publishes the snapshot
    _fsync_folder(lake)
    if retired is not None and retired != version:
        _touch(retired)  # retired now: removed once no reader can still be in it
    write_catalog(published, scratch, raw_dir)
    shutil.rmtree(scratch.parent, ignore_errors=True)
    remove_leftovers(published)
    return rows


def _version_of(folder: Path) -> Path | None:
    if not folder.is_symlink():
        return None
    return (folder.parent / os.readlink(folder)).resolve()


def _touch(path: Path) -> None:
    try:
        os.utime(path)
    except OSError:
        pass


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def published_dates(published: Path) -> list[str]:
    return lake_dates(lake_path(published))


def lake_dates(lake: Path) -> list[str]:
    """The snapshot dates a lake folder holds (its snapshot_date=D folders, each a link to a version)."""
    if not lake.is_dir():
        return []
    return sorted(p.name.split("=", 1)[1] for p in lake.glob(f"{PARTITION}=*") if p.is_dir())


def catalog_sql(lake: Path, marts: dict[str, list[str]], raw_dates: list[str] | None = None) -> list[str]:
    """The statements that make a catalog: one view per mart over every snapshot folder of the lake.

    With `raw_dates` (the snapshots whose raw folder is stored now), dim_snapshots.is_raw_stored
    is as of this rewrite for every snapshot, not as of each snapshot's build.
    """
    statements = ["create schema if not exists marts"]
    for mart, file_columns in sorted(marts.items()):
        files = literal(f"{lake}/{PARTITION}=*/{mart}.parquet")
        read = (f"read_parquet({files}, hive_partitioning = true, hive_types = {{'{PARTITION}': 'date'}}, "
                "union_by_name = true)")
        expressions = []
        for column in file_columns:
            if mart == "dim_snapshots" and column == "is_raw_stored" and raw_dates is not None:
                stored = ", ".join(f"date {literal(d)}" for d in raw_dates)
                expressions.append(f"({PARTITION} in ({stored})) as is_raw_stored" if stored else "false as is_raw_stored")
            else:
                expressions.append(_quote(column))
        columns = ", ".join(expressions)
        if mart == "dim_organizations":
            # Describes the newest snapshot: the rows of the newest folder.
            body = (f"select {columns} from {read} where {PARTITION} = "
                    f"(select max({PARTITION}) from {read})")
        else:
            body = f"select {PARTITION}, {columns} from {read}"
        statements.append(f"create or replace view marts.{_quote(mart)} as {body}")
    return statements


# Besides the marts, the catalog keeps what users could always query: the staging views over the
# raw snapshots and the reference seeds (small tables), taken from the newest build.
CARRIED_VIEWS = ("staging",)
CARRIED_TABLES = ("reference",)


def write_catalog(published: Path, scratch: Path | None = None, raw_dir: Path | None = None) -> Path | None:
    """Rewrite the catalog from the lake: a new file, then one rename. None when the lake is empty.

    Staging views and reference tables come from `scratch` (the build being published), else
    from the current catalog. Two rewrites at once each write their own file and the last rename
    wins; both describe the same lake.
    """
    import duckdb
    import pyarrow.parquet as pq

    dates = published_dates(published)
    if not dates:
        return None
    lake = lake_path(published)
    newest = snapshot_folder(published, dates[-1])
    marts = {p.stem: pq.read_schema(p).names for p in sorted(newest.glob("*.parquet"))}
    carried_from = scratch if scratch is not None else published if published.exists() and not is_legacy(published) else None
    folder = published.parent / ".building" / f"catalog-{os.getpid()}-{time.monotonic_ns()}"
    folder.mkdir(parents=True)
    (folder / ".owner").write_text(_owner())
    staged = folder / published.name
    try:
        con = duckdb.connect(str(staged))
        try:
            if carried_from is not None:
                _carry(con, carried_from)
            raw_dates = None
            if raw_dir is not None:
                raw_dates = sorted(p.name.split("=", 1)[1] for p in raw_dir.glob(f"{PARTITION}=*")
                                   if (p / "_manifest.json").exists())
            for statement in catalog_sql(lake, marts, raw_dates):
                con.execute(statement)
            con.execute("checkpoint")
        finally:
            con.close()
        if wal_path(staged).exists():
            raise UnsafeToPublish(f"the new catalog {staged} kept a write-ahead log; not publishing it")
        wal_path(published).unlink(missing_ok=True)  # a log of the replaced file would be replayed into the new one
        os.replace(staged, published)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return published


def _carry(con, source: Path) -> None:
    con.execute(f"attach {literal(source)} as carried (read_only)")
    try:
        schemas = CARRIED_VIEWS + CARRIED_TABLES
        for (schema,) in con.execute(
            "select schema_name from duckdb_schemas() where database_name = 'carried' and schema_name in "
            f"({', '.join(literal(s) for s in schemas)})"
        ).fetchall():
            con.execute(f"create schema if not exists {_quote(schema)}")
        views = con.execute(
            "select sql from duckdb_views() where database_name = 'carried' and not internal and schema_name in "
            f"({', '.join(literal(s) for s in CARRIED_VIEWS)})"
        ).fetchall()
        for (sql,) in views:
            con.execute(sql.replace('"carried".', ""))
        for schema, table in con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = 'carried' and schema_name in "
            f"({', '.join(literal(s) for s in CARRIED_TABLES)})"
        ).fetchall():
            name = f"{_quote(schema)}.{_quote(table)}"
            con.execute(f"create table {name} as select * from carried.{name}")
    finally:
        con.execute("detach carried")


def is_legacy(published: Path) -> bool:
    """True when `published` is a warehouse of the previous layout: marts as tables in the file."""
    import duckdb

    if not published.exists():
        return False
    try:
        con = duckdb.connect(str(published), read_only=True)
    except duckdb.Error:
        return False
    try:
        return con.execute("select count(*) from duckdb_tables() where schema_name = 'marts'").fetchone()[0] > 0
    finally:
        con.close()


def remove_leftovers(published: Path, grace_s: float = RETIRED_GRACE_S) -> None:
    """Scratch folders and partial versions of runs whose process is gone; versions retired by a
    replace more than `grace_s` ago; symlinks staged by a killed publish."""
    building = published.parent / ".building"
    if building.is_dir():
        for folder in building.iterdir():
            if folder.is_symlink() or not folder.is_dir():
                continue
            if not _owner_alive(folder):
                shutil.rmtree(folder, ignore_errors=True)
    lake = lake_path(published)
    versions = lake / ".versions"
    if not versions.is_dir():
        return
    live = {_version_of(p) for p in lake.glob(f"{PARTITION}=*")}
    cutoff = time.time() - grace_s
    for link in lake.glob(f".{PARTITION}=*.link"):
        if link.lstat().st_mtime < cutoff:
            link.unlink(missing_ok=True)
    for folder in versions.iterdir():
        if folder.name.endswith(".partial"):
            if not _owner_alive(folder):
                shutil.rmtree(folder, ignore_errors=True)
        elif folder.resolve() not in live and folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
