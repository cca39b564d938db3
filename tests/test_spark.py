"""The dbt project on Apache Spark: the real slice built with the `spark` target gives the same
marts as the DuckDB build, mart by mart (sorted rows, floats within 1e-9 relative).

Needs the optional extra (`make install-spark`: pyspark, dbt-spark) and Java; skipped otherwise.
Spark writes its tables as Parquet under its warehouse folder (<schema>.db/<table>/); DuckDB reads
both sides, so the comparison uses none of the code under test.
"""

import datetime as dt
import decimal
import importlib.util
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT, REAL_SNAPSHOT, dbt_marts
# The three daily snapshots test_trends_build builds with DuckDB (its session fixture, reused here).
from tests.test_trends_build import DATES as TREND_DATES, trends_build  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.spark]

MISSING = [name for name in ("pyspark", "dbt.adapters.spark") if importlib.util.find_spec(name) is None]
if MISSING or shutil.which("java") is None:
    pytest.skip(
        f"Spark tests need the spark extra (make install-spark) and Java: missing {MISSING or ['java']}",
        allow_module_level=True,
    )

REL_TOL = 1e-9


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
        "SPARK_MASTER": "local[2]",
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


def test_the_real_slice_built_on_spark_equals_the_duckdb_build(real_build, tmp_path_factory, capsys):
    """The real slice's snapshot (ingested and built with DuckDB by real_build) built again with Spark,
    every dbt data test included: every mart equal to DuckDB's. One test, so that a parallel run builds
    it once; the failures name every differing mart."""
    warehouse_dir, seconds = _spark_dbt_build(real_build, REAL_SNAPSHOT, tmp_path_factory.mktemp("spark"))
    with capsys.disabled():
        print(f"\nSpark dbt build of the real slice: {seconds:.0f} s")
    _assert_same_marts(real_build / "warehouse" / "lake" / f"snapshot_date={REAL_SNAPSHOT}", warehouse_dir, REAL_SNAPSHOT)


def test_a_later_snapshot_builds_on_spark_from_the_lake(trends_build, tmp_path_factory):  # noqa: F811
    """The third of three snapshots DuckDB built one after the other, built again with Spark: it reads
    the two earlier snapshots from the lake (period downloads, stalls, adoption series) and writes only
    its own snapshot's rows, equal to DuckDB's, mart by mart. Models only: the data tests ran above."""
    snapshot_date = TREND_DATES[-1]
    warehouse_dir, _ = _spark_dbt_build(
        trends_build, snapshot_date, tmp_path_factory.mktemp("spark-trends"), "test_type:data"
    )
    _assert_same_marts(trends_build / "warehouse" / "lake" / f"snapshot_date={snapshot_date}", warehouse_dir, snapshot_date)


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

    # The lake's file holds no snapshot_date (the folder names it; DuckDB reads it from there, as the
    # last column): the columns are compared as a set, the values in one order.
    duck_columns, duck_rows = _rows(f"read_parquet('{duckdb_file}')")
    spark_columns, _ = _rows(f"read_parquet('{spark_folder}/*.parquet') limit 0")
    assert sorted(spark_columns) == sorted(duck_columns)
    _, spark_rows = _rows(
        "(select " + ", ".join(f'"{column}"' for column in duck_columns) + f" from read_parquet('{spark_folder}/*.parquet'))"
    )

    duck_rows = sorted((tuple(_plain(v) for v in row) for row in duck_rows), key=_sort_key)
    spark_rows = sorted((tuple(_plain(v) for v in row) for row in spark_rows), key=_sort_key)
    assert len(spark_rows) == len(duck_rows), f"{mart}: {len(spark_rows)} rows on Spark, {len(duck_rows)} on DuckDB"
    for duck_row, spark_row in zip(duck_rows, spark_rows):
        differing = [
            (column, duck_value, spark_value)
            for column, duck_value, spark_value in zip(duck_columns, duck_row, spark_row)
            if not _same(duck_value, spark_value)
        ]
        assert not differing, f"{mart}: first differing row: {differing} (DuckDB row {duck_row})"
