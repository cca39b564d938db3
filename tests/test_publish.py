"""Publishing refuses a built warehouse that is not whole."""

import json

import duckdb
import pytest

from orchestration.lib.publish import (
    UnsafeToPublish, _base_path, _fingerprint, candidate_path, checkpoint, publish, wal_path,
)


def _candidate(tmp_path, snapshot_date="2026-06-05", models=3):
    published = tmp_path / "warehouse" / "observatory.duckdb"
    candidate = candidate_path(published, "run1")
    candidate.parent.mkdir(parents=True)
    with duckdb.connect(str(candidate)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.dim_snapshots as select date '2026-06-05' as snapshot_date")
        con.execute(f"create table marts.dim_models as select date '{snapshot_date}' as snapshot_date, i"
                    f" from range({models}) t(i)")
    _base_path(candidate).write_text(json.dumps(_fingerprint(published)))
    return published, candidate


def test_a_warehouse_with_rows_left_in_its_write_ahead_log_is_not_published(tmp_path):
    published, candidate = _candidate(tmp_path)
    con = duckdb.connect(str(candidate))
    con.execute("pragma disable_checkpoint_on_shutdown")
    con.execute("insert into marts.dim_models values (date '2026-06-05', 99)")
    con.close()
    assert wal_path(candidate).exists()
    with pytest.raises(UnsafeToPublish, match="write-ahead log that publishing would drop"):
        publish(published, "run1", "2026-06-05")
    assert not published.exists()

    checkpoint(candidate)  # what the dbt step does once dbt ended
    assert not wal_path(candidate).exists()
    publish(published, "run1", "2026-06-05")
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute("select count(*) from marts.dim_models").fetchone() == (4,)


def test_a_warehouse_without_the_snapshot_is_not_published(tmp_path):
    published, _ = _candidate(tmp_path, snapshot_date="2026-06-04")
    with pytest.raises(UnsafeToPublish, match="lacks snapshot 2026-06-05 \\(1 rows in marts.dim_snapshots, 0 in"):
        publish(published, "run1", "2026-06-05")
    assert not published.exists()
