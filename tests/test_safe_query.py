"""`observatory query` runs one read-only SELECT, bounded in time and rows, and refuses the rest."""

import pytest

from orchestration.lib.safe_query import QueryRefused, connect_read_only, run_query
from tests.conftest import run_observatory


@pytest.fixture
def con(built):
    _, data_dir, _ = built
    connection = connect_read_only(data_dir / "warehouse" / "observatory.duckdb", data_dir / "raw")
    yield connection
    connection.close()


def test_marts_and_staging_views_can_be_read(con):
    assert run_query(con, "select count(*) from marts.dim_models where snapshot_date = '2026-06-05'").rows == [(10,)]
    # Staging views read the raw Parquet files, which stay readable.
    assert run_query(con, "select count(*) from staging.stg_huggingface__models").rows[0][0] >= 10


@pytest.mark.parametrize(
    "sql, refusal",
    [
        ("insert into marts.dim_snapshots select * from marts.dim_snapshots", "got a INSERT statement"),
        ("update marts.dim_models set likes = 0", "got a UPDATE statement"),
        ("delete from marts.dim_models", "got a DELETE statement"),
        ("create table marts.x as select 1", "got a CREATE statement"),
        ("drop table marts.dim_models", "got a DROP statement"),
        ("attach '/tmp/other.duckdb' as other", "got a ATTACH statement"),
        ("copy (select 1) to '/tmp/out.csv'", "got a COPY statement"),
        ("copy marts.dim_models to '/tmp/out.parquet'", "got a COPY statement"),
        ("install httpfs", "got a LOAD statement"),
        ("load json", "got a LOAD statement"),
        ("set threads = 1", "got a SET statement"),
        ("reset threads", "got a SET statement"),
        ("pragma enable_profiling", "got a PRAGMA statement"),
        ("select 1; select 2", "exactly one statement, got 2"),
    ],
)
def test_anything_but_one_select_is_refused_by_name(con, sql, refusal):
    with pytest.raises(QueryRefused, match=refusal):
        run_query(con, sql)


@pytest.mark.parametrize(
    "sql",
    [
        "select * from read_csv('/etc/passwd')",
        "select * from read_text('/etc/hostname')",
        "select * from read_parquet('/tmp/*.parquet')",
    ],
)
def test_files_outside_the_warehouse_cannot_be_read(con, sql):
    import duckdb

    with pytest.raises(duckdb.PermissionException):
        run_query(con, sql)


def test_path_traversal_out_of_the_raw_folder_is_refused(built, con):
    import duckdb

    _, data_dir, _ = built
    (data_dir / "secret.txt").write_text("not for queries")
    with pytest.raises(duckdb.PermissionException):
        run_query(con, f"select * from read_text('{data_dir}/raw/../secret.txt')")
    with pytest.raises(duckdb.Error):  # a path without a reader is no way around it either
        run_query(con, "select * from '/etc/passwd'")


def test_settings_cannot_be_changed_from_inside_a_select(con):
    import duckdb

    with pytest.raises(QueryRefused, match=r"query\(\) is not allowed"):
        run_query(con, "select * from query('set enable_external_access = true')")
    with pytest.raises(duckdb.Error):  # and DuckDB itself refuses it: the configuration is locked
        con.execute("set enable_external_access = true")
    assert run_query(con, "select current_setting('enable_external_access')").rows == [(False,)]


def test_row_limit_and_timeout(con):
    result = run_query(con, "select * from range(100)", max_rows=7)
    assert len(result.rows) == 7 and result.truncated
    assert not run_query(con, "select * from range(7)", max_rows=7).truncated
    with pytest.raises(QueryRefused, match="longer than 0.5 s"):
        run_query(con, "select count(*) from range(1000000000) a, range(100000) b", timeout_s=0.5)


def test_cli_messages(built):
    _, data_dir, _ = built
    refused = run_observatory(data_dir, "query", "copy (select 1) to '/tmp/x.csv'")
    assert refused.returncode == 2
    assert refused.stderr.strip() == "observatory: only read-only queries (SELECT) are allowed, got a COPY statement"
    outside = run_observatory(data_dir, "query", "select * from read_csv('/etc/passwd')")
    assert outside.returncode == 2 and "outside the warehouse" in outside.stderr
    limited = run_observatory(data_dir, "query", "select * from range(10)", "--max-rows", "3")
    assert limited.returncode == 0 and "showing the first 3 rows" in limited.stdout
