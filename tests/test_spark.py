"""The dbt project on Apache Spark: `observatory build --engine spark` of the real slice publishes the
same marts as the DuckDB build, mart by mart (sorted rows, floats within 1e-9 relative, same columns
and types), its checks passing; a later snapshot built with the `spark` target reads the lake; the dbt
unit tests pass on Spark.

Needs the optional extra (`make install-spark`: pyspark, dbt-spark) and Java; skipped otherwise, failed
under CI=true (.ci/run installs both).
Spark writes its tables as Parquet (<schema>.db/<table>/); DuckDB reads both sides, so the comparison
uses none of the code under test.
"""

import datetime as dt
import decimal
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT, REAL_MODELS, REAL_SNAPSHOT, dbt_marts, run_observatory
# The three daily snapshots test_trends_build builds with DuckDB (its session fixture, reused here).
from tests.test_trends_build import DATES as TREND_DATES, trends_build  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.spark]


@pytest.fixture(autouse=True, scope="session")
def spark_available():
    """Skipped without the spark extra or Java; failed instead under CI=true, which must run them
    (.ci/run installs both), as the real-slice tests fail there without ../shared/realdata. Session
    scoped, so it runs before the session builds the tests use."""
    from orchestration.lib.engines import engine_problem

    problem = engine_problem("spark")
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Spark tests cannot run: {problem}; CI=true requires them (.ci/run installs the extra and Java)")
        pytest.skip(f"Spark tests need the spark extra and Java: {problem}")


REL_TOL = 1e-9

# Spark set for the tests' small data (a few rows to a few thousand, each query's fixed cost dominating):
# two cores, two dbt threads on the one session, one shuffle partition, no adaptive re-planning, no
# whole-stage code generation (compiling Java per query costs more than it saves on a few rows), and the
# JVM's quick compiler only. The dbt unit tests took 116 s with local[2] alone, 86 s so.
SMALL_DATA_SPARK = {
    "SPARK_MASTER": "local[2]",
    "SPARK_THREADS": "2",
    "SPARK_SHUFFLE_PARTITIONS": "1",
    "PYSPARK_SUBMIT_ARGS": "--conf spark.sql.adaptive.enabled=false --conf spark.sql.codegen.wholeStage=false "
                           "--driver-java-options -XX:TieredStopAtLevel=1 pyspark-shell",
}


def _spark_dbt_build(data_dir: Path, snapshot_date: str, root: Path, *exclude: str) -> tuple[Path, float]:
    """dbt build with the spark target of one snapshot of `data_dir` (raw snapshots and lake, as a
    DuckDB build left them), without the dbt unit tests and `exclude`; returns (Spark warehouse
    folder, seconds the build took)."""
    warehouse_dir = root / "spark-warehouse"
    env = {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "LAKE_DIR": str(data_dir / "warehouse" / "lake"),
        "OBSERVATORY_SNAPSHOT_DATE": snapshot_date,
        "SPARK_WAREHOUSE_DIR": str(warehouse_dir),
        **SMALL_DATA_SPARK,
    }
    dbt = Path(sys.executable).parent / "dbt"
    project = PROJECT_ROOT / "dbt_project"
    started = time.monotonic()
    result = subprocess.run(
        [str(dbt), "build", "--target", "spark", "--exclude", "test_type:unit", *exclude,
         "--project-dir", str(project), "--profiles-dir", str(project),
         "--target-path", str(root / "target"), "--log-path", str(root / "logs")],
        cwd=root, env=env, capture_output=True, text=True, timeout=1800,
    )
    seconds = time.monotonic() - started
    assert result.returncode == 0, result.stdout[-5000:]
    return warehouse_dir, seconds


def _rows(relation_sql: str) -> tuple[list[str], list[tuple]]:
    import duckdb

    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    cursor = con.execute(f"select * from {relation_sql}")
    columns = [description[0] for description in cursor.description]
    return columns, cursor.fetchall()


def _plain(value):
    """One representation per value whichever engine wrote it: naive UTC timestamps, floats for decimals."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _sort_key(row: tuple):
    # Floats rounded to 9 significant digits, so rows that differ within the tolerance sort alike.
    return tuple(
        (value is None, f"{value:.9g}" if isinstance(value, float) else repr(value)) for value in row
    )


def _same(left, right) -> bool:
    if isinstance(left, float) or isinstance(right, float):
        if left is None or right is None:
            return left is right
        return math.isclose(left, right, rel_tol=REL_TOL, abs_tol=0.0) or (math.isnan(left) and math.isnan(right))
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(_same(a, b) for a, b in zip(left, right))
    return left == right


def test_observatory_build_with_engine_spark_publishes_the_duckdb_builds_marts(real_build, tmp_path_factory, capsys):
    """`observatory build --engine spark` of the real slice (with the same datasets, Spaces and papers
    files as real_build, its own data folder): every dbt data test and metric check runs on Spark's
    result and passes, and the published lake holds every mart of the DuckDB build, same files and
    columns, equal mart by mart; dim_snapshots records the engine and `observatory status` shows it.
    One Spark build, so a parallel run builds it once; the failures name every differing mart."""
    from tests.repo_fixture import repo_file_args, write_repo_files

    root = tmp_path_factory.mktemp("spark-build")
    data_dir = root / "data"
    files = write_repo_files(root, REAL_SNAPSHOT)
    started = time.monotonic()
    result = run_observatory(data_dir, "build", "--engine", "spark", "--source", "file", "--file", str(REAL_MODELS),
                             "--snapshot-date", REAL_SNAPSHOT, *repo_file_args(files), env=SMALL_DATA_SPARK)
    seconds = time.monotonic() - started
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    with capsys.disabled():
        print(f"\nobservatory build --engine spark of the real slice: {seconds:.0f} s")

    # The checks: the same ones as the DuckDB build's (dbt data tests and metric checks), with the same
    # outcomes; every metric check ran and passed.
    spark_checks, duckdb_checks = _check_evaluations(data_dir), _check_evaluations(real_build)
    assert spark_checks == duckdb_checks
    assert {name for _, name in spark_checks} >= METRIC_CHECKS
    assert all(passed for (_, name), passed in spark_checks.items() if name in METRIC_CHECKS)
    passed = sum(spark_checks.values())
    assert f"Checks: {passed} of {len(spark_checks)} passed" in result.stdout

    lake = data_dir / "warehouse" / "lake" / f"snapshot_date={REAL_SNAPSHOT}"
    duckdb_lake = real_build / "warehouse" / "lake" / f"snapshot_date={REAL_SNAPSHOT}"
    assert sorted(p.name for p in lake.iterdir()) == sorted(p.name for p in duckdb_lake.iterdir())
    # The adoption universe holds rows on DuckDB's side, so its comparison below is not of two empty
    # tables. (fct_relative_adoption is empty in this build and in the later-snapshot test's: Spark's
    # relative adoption is checked by the dbt unit tests on Spark.)
    assert _row_counts(duckdb_lake, ["fct_adoption_points"])["fct_adoption_points"] > 0
    failures = {}
    for mart in sorted(dbt_marts()):
        # Ingested and built at another time, on another engine: dim_snapshots' other columns are compared.
        skip = ("ingested_at", "engine", "built_at", "history_fingerprint") if mart == "dim_snapshots" else ()
        try:
            _assert_same_rows(mart, f"read_parquet('{duckdb_lake}/{mart}.parquet')",
                              f"read_parquet('{lake}/{mart}.parquet')", skip, same_types=True)
        except AssertionError as error:
            failures[mart] = str(error)[:500]
    assert not failures, failures
    engines = [_rows(f"(select engine from read_parquet('{d}/dim_snapshots.parquet'))")[1] for d in (lake, duckdb_lake)]
    assert engines == [[("spark",)], [("duckdb",)]]

    status = run_observatory(data_dir, "status")
    assert status.returncode == 0, status.stderr
    [row] = [line.split() for line in status.stdout.splitlines() if line.startswith(REAL_SNAPSHOT)]
    assert row[-3:-1] == ["yes", "spark"], status.stdout  # built, engine (before ingested at)


# The metric checks (orchestration/defs/checks), by name: each must have run on Spark's result.
METRIC_CHECKS = {
    "ranks_dense_within_week", "ranks_follow_metric", "ranked_weeks_present", "cohorts_present",
    "top_n_groups_present", "shares_sum_to_one", "releases_reconcile_with_staging", "heatmap_matches_releases",
    "derivative_counts_match_lineage", "monthly_derivatives_reconcile", "lineage_acyclic_and_bounded",
    "adoption_baselines_non_decreasing", "period_downloads_reconcile", "no_period_rows_without_a_period",
    "concentration_in_bounds",
}


def _check_evaluations(data_dir: Path) -> dict[tuple[str, str], bool]:
    """(asset, check) -> passed, of the newest refresh run in the data folder's run history."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(data_dir / "dagster_home")) as instance:
        [run] = instance.get_runs(filters=dg.RunsFilter(job_name="refresh_snapshot"), limit=1)
        records = instance.get_records_for_run(
            run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION, limit=10_000).records
        evaluations = [r.event_log_entry.dagster_event.event_specific_data for r in records]
    return {(e.asset_key.to_user_string(), e.check_name): e.passed for e in evaluations}


def test_a_later_snapshot_builds_on_spark_from_the_lake(trends_build, tmp_path_factory, capsys):  # noqa: F811
    """The third of three snapshots DuckDB built one after the other, built again with Spark: it reads
    the two earlier snapshots from the lake (period downloads, stalls, adoption series) and writes only
    its own snapshot's rows, equal to DuckDB's, mart by mart. Models only: the data tests ran above."""
    snapshot_date = TREND_DATES[-1]
    lake_folder = trends_build / "warehouse" / "lake" / f"snapshot_date={snapshot_date}"
    # The comparison means something only where DuckDB's side holds rows: the marts built from the
    # earlier snapshots in the lake. (The adoption marts are empty here: no model of these snapshots
    # has a parameter count; the real-slice test above compares fct_adoption_points with rows.)
    assert all(_row_counts(lake_folder, PERIOD_MARTS).values()), _row_counts(lake_folder, PERIOD_MARTS)
    warehouse_dir, seconds = _spark_dbt_build(
        trends_build, snapshot_date, tmp_path_factory.mktemp("spark-trends"), "test_type:data"
    )
    with capsys.disabled():
        print(f"\ndbt build on Spark of a later snapshot (models only): {seconds:.0f} s")
    _assert_same_marts(lake_folder, warehouse_dir, snapshot_date)


# Marts that read the earlier snapshots from the lake and hold rows in the three-snapshot build.
PERIOD_MARTS = ("fct_model_period_downloads", "fct_concentration", "fct_family_downloads")


def _row_counts(lake_folder: Path, marts) -> dict[str, int]:
    """Rows of each of `marts` in a lake folder, by a plain DuckDB count."""
    return {mart: _rows(f"(select count(*) from read_parquet('{lake_folder}/{mart}.parquet'))")[1][0][0]
            for mart in marts}


def _assert_same_marts(lake_folder: Path, warehouse_dir: Path, snapshot_date: str) -> None:
    """Every mart Spark built equals the DuckDB build's published one and holds only the run's snapshot."""
    failures = {}
    for mart in sorted(dbt_marts()):
        try:
            _assert_same_mart(mart, lake_folder, warehouse_dir)
            spark_files = f"{warehouse_dir}/marts.db/{mart}/*.parquet"
            _, dates = _rows(f"(select distinct cast(snapshot_date as varchar) from read_parquet('{spark_files}'))")
            assert set(dates) <= {(snapshot_date,)}, f"{mart} holds other snapshots: {dates}"
        except AssertionError as error:
            failures[mart] = str(error)[:500]
    assert not failures, failures


def _assert_same_mart(mart: str, lake_folder: Path, warehouse_dir: Path) -> None:
    duckdb_file = lake_folder / f"{mart}.parquet"
    spark_folder = warehouse_dir / "marts.db" / mart
    assert duckdb_file.exists(), f"the DuckDB build published no {mart}"
    assert spark_folder.is_dir(), f"Spark built no {mart}"
    # dim_snapshots records the engine and the time of the build (and the fingerprint of the history
    # it saw, made of those times): the columns expected to differ.
    skip = ("engine", "built_at", "history_fingerprint") if mart == "dim_snapshots" else ()
    _assert_same_rows(mart, f"read_parquet('{duckdb_file}')", f"read_parquet('{spark_folder}/*.parquet')", skip)


def _assert_same_rows(mart: str, duckdb_sql: str, spark_sql: str, skip: tuple[str, ...] = (),
                      same_types: bool = False) -> None:
    """The same rows (sorted; floats within REL_TOL) in both relations, but for the columns `skip`.

    A lake file holds no snapshot_date (the folder names it) while Spark's table does: the columns are
    compared as a set, the values in one order; as a list with their types when both are lake files."""
    duck_columns, duck_rows = _rows(duckdb_sql)
    spark_columns, _ = _rows(f"{spark_sql} limit 0")
    if same_types:
        spark_types, duck_types = _types(spark_sql), _types(duckdb_sql)
        assert spark_types == duck_types, f"{mart}: columns or types differ: " + str(
            [(s, d) for s, d in zip(spark_types, duck_types) if s != d] or (spark_types, duck_types))
    assert sorted(spark_columns) == sorted(duck_columns)
    kept = [column for column in duck_columns if column not in skip]
    _, duck_rows = _rows("(select " + ", ".join(f'"{column}"' for column in kept) + f" from {duckdb_sql})")
    _, spark_rows = _rows("(select " + ", ".join(f'"{column}"' for column in kept) + f" from {spark_sql})")

    duck_rows = sorted((tuple(_plain(v) for v in row) for row in duck_rows), key=_sort_key)
    spark_rows = sorted((tuple(_plain(v) for v in row) for row in spark_rows), key=_sort_key)
    assert len(spark_rows) == len(duck_rows), f"{mart}: {len(spark_rows)} rows on Spark, {len(duck_rows)} on DuckDB"
    for duck_row, spark_row in zip(duck_rows, spark_rows):
        differing = [
            (column, duck_value, spark_value)
            for column, duck_value, spark_value in zip(kept, duck_row, spark_row)
            if not _same(duck_value, spark_value)
        ]
        assert not differing, f"{mart}: first differing row: {differing} (DuckDB row {duck_row})"


def _types(relation_sql: str) -> list[tuple[str, str]]:
    """(column, type) of a relation, as DuckDB reads it."""
    import duckdb

    con = duckdb.connect()
    try:
        return [(row[0], row[1]) for row in con.execute(f"describe select * from {relation_sql}").fetchall()]
    finally:
        con.close()


def test_the_dbt_unit_tests_pass_on_spark(tmp_path, capsys):
    """Every dbt unit test with the spark target, as tests/test_dbt_unit.py runs them on DuckDB: the
    ancestors of each tested model built `--empty` over a three-model raw snapshot (dbt reads the
    parents' columns), each unit test run before its model; the fixtures are the same YAML."""
    from orchestration.lib.snapshot_store import SnapshotStore
    from tests.snapshot_fixture import FIXTURE, write_fixture

    data_dir = tmp_path / "data"
    source = write_fixture(tmp_path / "models.parquet", FIXTURE[:3])
    SnapshotStore(data_dir / "raw" / "models").write(source, "2026-06-05", {"source": "file"})
    target = tmp_path / "target"
    env = {**os.environ, "DATA_DIR": str(data_dir), "LAKE_DIR": str(data_dir / "warehouse" / "lake"),
           "SPARK_WAREHOUSE_DIR": str(tmp_path / "spark-warehouse"), **SMALL_DATA_SPARK}
    project = PROJECT_ROOT / "dbt_project"
    started = time.monotonic()
    result = subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "build", "--target", "spark", "--empty",
         "--select", "+test_type:unit", "--exclude", "test_type:data",
         "--project-dir", str(project), "--profiles-dir", str(project),
         "--target-path", str(target), "--log-path", str(tmp_path / "logs")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1800,
    )
    seconds = time.monotonic() - started
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    with capsys.disabled():
        print(f"\ndbt unit tests on Spark: {seconds:.0f} s")

    defined = set(json.loads((target / "manifest.json").read_text())["unit_tests"])
    results = json.loads((target / "run_results.json").read_text())["results"]
    ran = {r["unique_id"]: r["status"] for r in results if r["unique_id"].startswith("unit_test.")}
    assert defined, "the project defines dbt unit tests"
    assert ran == dict.fromkeys(defined, "pass")
