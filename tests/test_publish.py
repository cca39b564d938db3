"""Publishing a snapshot into the lake: only a whole snapshot is published, one date's folder at a
time, in open Parquet any reader takes, with the catalog's views over it.

These tests write scratch warehouses by hand (no dbt), so they run in a second.
"""

import hashlib
import os
import time

import duckdb
import pyarrow.parquet as pq
import pytest

from orchestration.lib.publish import (
    RETIRED_GRACE_S, UnsafeToPublish, checkpoint, is_legacy, lake_path, publish, published_dates, remove_leftovers,
    scratch_path, snapshot_folder, start_scratch, wal_path, write_catalog,
)


def _scratch(published, run_id, snapshot_date="2026-06-05", models=3, extra_sql=()):
    """A scratch warehouse as dbt leaves it: marts of one snapshot."""
    scratch = scratch_path(published, run_id)
    scratch.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(scratch)) as con:
        con.execute("create schema marts")
        con.execute(f"create table marts.dim_snapshots as select date '{snapshot_date}' as snapshot_date, "
                    "'sample' as snapshot_source, true as is_synthetic")
        con.execute(f"create table marts.dim_models as select date '{snapshot_date}' as snapshot_date, "
                    f"'m/' || i as model_id, i::bigint as likes, timestamp '2026-01-01' + to_days(i::int) as created_at"
                    f" from range({models}) t(i)")
        con.execute(f"create table marts.dim_organizations as select 'org{models}' as org, {models} as n_models")
        for statement in extra_sql:
            con.execute(statement)
    return scratch


def _published(tmp_path):
    return tmp_path / "warehouse" / "observatory.duckdb"


def _sha256_tree(folder) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.parquet"))}


def test_a_warehouse_with_rows_left_in_its_write_ahead_log_is_not_published(tmp_path):
    published = _published(tmp_path)
    scratch = _scratch(published, "run1")
    con = duckdb.connect(str(scratch))
    con.execute("pragma disable_checkpoint_on_shutdown")
    con.execute("insert into marts.dim_models values (date '2026-06-05', 'm/99', 99, timestamp '2026-01-01')")
    con.close()
    assert wal_path(scratch).exists()
    with pytest.raises(UnsafeToPublish, match="write-ahead log that publishing would drop"):
        publish(published, "run1", "2026-06-05")
    assert not published.exists() and published_dates(published) == []

    checkpoint(scratch)  # what the dbt step does once dbt ended
    assert not wal_path(scratch).exists()
    rows = publish(published, "run1", "2026-06-05")
    assert rows["dim_models"] == 4
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute("select count(*) from marts.dim_models").fetchone() == (4,)


def test_a_warehouse_without_the_snapshot_is_not_published(tmp_path):
    published = _published(tmp_path)
    _scratch(published, "run1", snapshot_date="2026-06-04")
    with pytest.raises(UnsafeToPublish, match="lacks snapshot 2026-06-05 \\(0 rows in marts.dim_snapshots, 0 in"):
        publish(published, "run1", "2026-06-05")
    assert not published.exists() and published_dates(published) == []


def test_published_parquet_has_plain_types_any_reader_takes_and_equals_the_catalog_views(tmp_path):
    published = _published(tmp_path)
    _scratch(published, "run1", "2026-06-04", models=2)
    publish(published, "run1", "2026-06-04")
    _scratch(published, "run2", "2026-06-05", models=3)
    publish(published, "run2", "2026-06-05")

    # Hive layout: one folder per date; snapshot_date is the folder's name, not a column of the file.
    assert published_dates(published) == ["2026-06-04", "2026-06-05"]
    table = pq.read_table(snapshot_folder(published, "2026-06-05") / "dim_models.parquet")
    assert table.schema.names == ["model_id", "likes", "created_at"]
    assert [str(t) for t in table.schema.types] == ["string", "int64", "timestamp[us]"]
    # plain pyarrow reads every date's file; the folder name gives its snapshot_date
    rows_arrow = []
    for date in published_dates(published):
        for r in pq.read_table(snapshot_folder(published, date) / "dim_models.parquet").to_pylist():
            rows_arrow.append((date, r["model_id"], r["likes"], r["created_at"]))
    with duckdb.connect(str(published), read_only=True) as con:
        rows_view = [(d.isoformat(), m, n_likes, c) for d, m, n_likes, c in con.execute(
            "select snapshot_date, model_id, likes, created_at from marts.dim_models").fetchall()]
        columns = [r[0] for r in con.execute("describe marts.dim_models").fetchall()]
        orgs = con.execute("select * from marts.dim_organizations").fetchall()
    assert sorted(rows_arrow) == sorted(rows_view) and len(rows_view) == 5
    assert columns == ["snapshot_date", "model_id", "likes", "created_at"]  # the order the model documents
    assert orgs == [("org3", 3)]  # dim_organizations: the newest snapshot's rows only


@pytest.mark.parametrize("column", ["1::hugeint", "map([1], [2])", "{'a': 1}"])
def test_duckdb_only_types_are_refused(tmp_path, column):
    published = _published(tmp_path)
    _scratch(published, "run1", extra_sql=[f"create table marts.fct_odd as select date '2026-06-05' as snapshot_date,"
                                           f" {column} as odd"])
    with pytest.raises(UnsafeToPublish, match="marts.fct_odd has columns of types other readers cannot read"):
        publish(published, "run1", "2026-06-05")
    assert published_dates(published) == []


def test_replacing_a_date_swaps_only_that_dates_folder_and_keeps_the_old_version_for_a_grace_period(tmp_path):
    published = _published(tmp_path)
    for run, date in (("r1", "2026-06-03"), ("r2", "2026-06-04"), ("r3", "2026-06-05")):
        _scratch(published, run, date, models=3)
        publish(published, run, date)
    before = {d: _sha256_tree(snapshot_folder(published, d)) for d in published_dates(published)}
    old_version = snapshot_folder(published, "2026-06-04").resolve()

    _scratch(published, "r4", "2026-06-04", models=7)
    publish(published, "r4", "2026-06-04")
    after = {d: _sha256_tree(snapshot_folder(published, d)) for d in published_dates(published)}
    assert after["2026-06-03"] == before["2026-06-03"] and after["2026-06-05"] == before["2026-06-05"]
    assert after["2026-06-04"] != before["2026-06-04"]
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute("select snapshot_date::varchar, count(*) from marts.dim_models group by 1 order by 1"
                           ).fetchall() == [("2026-06-03", 3), ("2026-06-04", 7), ("2026-06-05", 3)]
    # a reader that listed the old version's files before the swap can still read them
    assert old_version.exists()
    remove_leftovers(published)
    assert old_version.exists()
    past = time.time() - RETIRED_GRACE_S - 1
    os.utime(old_version, (past, past))
    remove_leftovers(published)
    assert not old_version.exists()
    assert published_dates(published) == ["2026-06-03", "2026-06-04", "2026-06-05"]


def test_scratch_folders_of_dead_runs_are_removed_and_live_ones_kept(tmp_path):
    published = _published(tmp_path)
    start_scratch(published, "live")
    dead = scratch_path(published, "dead").parent
    dead.mkdir(parents=True)
    (dead / ".owner").write_text("999999999 1")  # a process that does not exist
    partial = lake_path(published) / ".versions" / "2026-06-05-dead.partial"
    partial.mkdir(parents=True)
    (partial / ".owner").write_text("999999999 1")
    remove_leftovers(published)
    assert scratch_path(published, "live").parent.exists()
    assert not dead.exists() and not partial.exists()


def test_the_catalog_is_rewritten_whole_and_an_old_layout_warehouse_is_recognised(tmp_path):
    published = _published(tmp_path)
    published.parent.mkdir(parents=True)
    with duckdb.connect(str(published)) as con:  # the previous layout: marts as tables
        con.execute("create schema marts")
        con.execute("create table marts.dim_models as select 1 as i")
    assert is_legacy(published)
    assert write_catalog(published) is None  # an empty lake: the old file stays until something is published
    _scratch(published, "run1")
    publish(published, "run1", "2026-06-05")
    assert not is_legacy(published)
    assert not wal_path(published).exists()
    assert [p.name for p in published.parent.iterdir() if p.name.startswith("observatory")] == ["observatory.duckdb"]


def test_a_copy_that_loses_rows_is_not_published(tmp_path, monkeypatch):
    published = _published(tmp_path)
    _scratch(published, "run1", models=5)
    real_connect = duckdb.connect

    class LossyCopies:
        """A connection whose COPY of a mart writes only its first row (a disk or driver fault)."""

        def __init__(self, con):
            self.con = con

        def execute(self, sql, *args):
            if sql.startswith("copy (select") and "dim_models" in sql:
                sql = sql.replace(") to ", " limit 1) to ", 1)
            return self.con.execute(sql, *args)

        def __getattr__(self, name):
            return getattr(self.con, name)

    monkeypatch.setattr(duckdb, "connect", lambda *a, **k: LossyCopies(real_connect(*a, **k)))
    with pytest.raises(UnsafeToPublish, match="marts.dim_models: 1 rows written for 5 built; not publishing"):
        publish(published, "run1", "2026-06-05")
    monkeypatch.undo()
    assert published_dates(published) == [] and not published.exists()
