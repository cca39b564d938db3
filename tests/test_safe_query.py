"""`observatory query` runs one read-only SELECT, bounded in time and rows, and refuses the rest."""

import pytest

from orchestration.lib.safe_query import QueryRefused, connect_read_only, run_query
from tests.conftest import run_observatory


@pytest.fixture
def con(built):
    _, data_dir, _ = built
    connection = connect_read_only(data_dir / "warehouse" / "observatory.duckdb",
                                   [data_dir / "raw", data_dir / "warehouse" / "lake"])
    yield connection
    connection.close()


def test_marts_and_staging_views_can_be_read(con):
    # Mart views read the lake's Parquet folders.
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


RAW_FILE = "raw/models/snapshot_date=2026-06-05/models.parquet"


def _sha256(path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def _raw_state(data_dir) -> dict:
    return {p.relative_to(data_dir): _sha256(p) for p in sorted((data_dir / "raw").rglob("*")) if p.is_file()}


def test_explain_analyze_copy_cannot_rewrite_a_raw_snapshot(built):
    _, data_dir, _ = built
    raw = data_dir / RAW_FILE
    before = _raw_state(data_dir)
    tamper = (f"explain analyze copy (select * replace (likes * 1000 as likes) from read_parquet('{raw}'))"
              f" to '{raw}' (format parquet)")
    result = run_observatory(data_dir, "query", tamper)
    assert result.returncode == 2
    assert result.stderr.strip() == ("observatory: EXPLAIN ANALYZE runs its statement and is not allowed; "
                                     "use EXPLAIN without ANALYZE")
    assert _raw_state(data_dir) == before
    assert _sha256(raw) == before[raw.relative_to(data_dir)]


@pytest.mark.parametrize(
    "sql, refusal",
    [
        ("explain analyze copy (select 1) to '{raw}/x.csv'", "EXPLAIN ANALYZE runs its statement"),
        ("/* plan */ ExPlAiN -- only\n AnAlYsE select 1", "EXPLAIN ANALYZE runs its statement"),
        ("explain (format json, analyze) select 1", "EXPLAIN ANALYZE runs its statement"),
        ("explain (analyze false) select 1", "EXPLAIN ANALYZE runs its statement"),
        ("explain copy (select 1) to '{raw}/x.csv'", "only EXPLAIN of a SELECT is allowed, got EXPLAIN of a COPY"),
        ("with x as (copy (select 1) to '{raw}/x.csv') select * from x", "COPY is not allowed anywhere"),
        ("WITH x AS (/* hidden */ CoPy (select 1) TO '{raw}/x.csv') FROM x", "COPY is not allowed anywhere"),
        ("from (select 1); copy (select 1) to '{raw}/x.csv'", "exactly one statement, got 2"),
        ("select * from query('copy (select 1) to ''{raw}/x.csv''')", r"query\(\) is not allowed"),
        ("select * from json_execute_serialized_sql(json_serialize_sql("
         "'with x as (copy (select 1) to ''{raw}/x.csv'') select * from x'))",
         r"json_execute_serialized_sql\(\) is not allowed"),
        ('select * from "JSON_Execute_Serialized_SQL" (json_serialize_sql(\'select 1\'))',
         r"json_execute_serialized_sql\(\) is not allowed"),
        ("select * from query_table('marts.dim_models')", r"query_table\(\) is not allowed"),
        ("export database '{raw}/exported'", "got a EXPORT statement"),
        ("pragma version", "got a PRAGMA statement"),
        ("call pragma_version()", "got a CALL statement"),
        ("prepare p as copy (select 1) to '{raw}/x.csv'", "got a PREPARE statement"),
        ("select * from checkpoint()", "CHECKPOINT is not allowed anywhere"),
    ],
)
def test_writing_statements_in_disguise_are_refused(built, con, sql, refusal):
    _, data_dir, _ = built
    before = _raw_state(data_dir)
    with pytest.raises(QueryRefused, match=refusal):
        run_query(con, sql.format(raw=data_dir / "raw"))
    assert _raw_state(data_dir) == before


def test_read_only_queries_still_work(con):
    assert run_query(con, "from marts.dim_snapshots select count(*) where snapshot_date = '2026-06-05'").rows == [(1,)]
    assert run_query(con, "select 'copy; drop' as s, 1 as \"load\" -- copy").rows == [("copy; drop", 1)]
    plan = run_query(con, "/* why slow? */ explain select count(*) from marts.dim_models")
    assert plan.columns == ["explain_key", "explain_value"] and plan.rows
    assert run_query(con, "describe marts.dim_snapshots").rows


def test_the_plan_of_a_writing_select_is_caught_without_running_it(built, con):
    from orchestration.lib.safe_query import plan_writes

    _, data_dir, _ = built
    target = data_dir / "raw" / "plan.csv"
    assert plan_writes(con, f"with x as (copy (select 1) to '{target}') select * from x") == ["COPY_TO_FILE"]
    assert not target.exists()
    assert plan_writes(con, "select * from marts.dim_models") == []


def test_the_connection_caps_memory_and_threads_and_never_spills(con):
    settings = run_query(con, "select current_setting('memory_limit'), current_setting('threads'),"
                              " current_setting('temp_directory')").rows
    assert settings == [("1.8 GiB", 2, "")]


def test_a_query_over_its_memory_limit_is_stopped_naming_the_limit(built):
    _, data_dir, _ = built
    result = run_observatory(data_dir, "query", "--memory-limit", "64MB",
                             "select count(*) from (select distinct range from range(50000000))")
    assert result.returncode == 2
    assert result.stderr.strip() == ("observatory: the query needed more memory than the limit of 64MB and was "
                                     "stopped (--memory-limit raises it)")


@pytest.mark.parametrize(
    "args, error",
    [
        (["--timeout", "0"], "timeout must be a number of seconds above 0 and at most 3600, got 0.0"),
        (["--timeout", "-5"], "timeout must be a number of seconds above 0 and at most 3600, got -5.0"),
        (["--timeout", "nan"], "timeout must be a number of seconds above 0 and at most 3600, got nan"),
        (["--timeout", "inf"], "timeout must be a number of seconds above 0 and at most 3600, got inf"),
        (["--max-rows", "-1"], "max rows must be between 1 and 100000, got -1"),
        (["--max-rows", "0"], "max rows must be between 1 and 100000, got 0"),
        (["--memory-limit", "lots"], "memory limit 'lots' is not a size such as 512MB or 2GB"),
        (["--memory-limit", "0MB"], "memory limit '0MB' is below the minimum of 16MiB"),
        (["--threads", "0"], "threads must be between 1 and 64, got 0"),
    ],
)
def test_query_bounds_must_be_real_bounds(built, args, error):
    _, data_dir, _ = built
    result = run_observatory(data_dir, "query", "select * from range(3)", *args)
    assert (result.returncode, result.stderr, result.stdout) == (2, f"observatory: {error}\n", "")


@pytest.mark.parametrize("kwargs", [{"timeout_s": 0}, {"timeout_s": -5}, {"timeout_s": float("nan")},
                                    {"max_rows": -1}, {"max_rows": 0}])
def test_run_query_refuses_unbounded_limits(con, kwargs):
    with pytest.raises(QueryRefused):
        run_query(con, "select 1", **kwargs)


# Run in a separate process: the statement checks are switched off there, so only the kernel stands
# between the query and the raw folder, which DuckDB's allowed_directories leaves writable.
_WITHOUT_STATEMENT_CHECKS = """
import sys
from orchestration import cli
from orchestration.lib import safe_query
safe_query.check_read_only = lambda sql: sql
safe_query.plan_writes = lambda con, sql: []
sys.exit(cli.main(["query", sys.argv[1]]))
"""


def test_the_query_process_cannot_write_files_even_as_root(built):
    import os
    import subprocess
    import sys

    from orchestration.lib.sandbox import landlock_abi
    from tests.conftest import PROJECT_ROOT

    if landlock_abi() < 1:
        pytest.skip("this kernel has no Landlock; the statement checks are the only protection")
    _, data_dir, _ = built
    raw = data_dir / RAW_FILE
    before = _raw_state(data_dir)
    tamper = (f"explain analyze copy (select * replace (likes * 1000 as likes) from read_parquet('{raw}'))"
              f" to '{raw}' (format parquet)")
    env = {**os.environ, "DATA_DIR": str(data_dir)}
    env.pop("DUCKDB_PATH", None)
    result = subprocess.run([sys.executable, "-c", _WITHOUT_STATEMENT_CHECKS, tamper], cwd=PROJECT_ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("observatory: query failed: IO Error: Cannot open file")
    assert result.stderr.strip().endswith("Permission denied")
    assert _raw_state(data_dir) == before
