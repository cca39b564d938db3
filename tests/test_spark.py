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

pytestmark = [pytest.mark.e2e, pytest.mark.spark]

MISSING = [name for name in ("pyspark", "dbt.adapters.spark") if importlib.util.find_spec(name) is None]
if MISSING or shutil.which("java") is None:
    pytest.skip(
        f"Spark tests need the spark extra (make install-spark) and Java: missing {MISSING or ['java']}",
        allow_module_level=True,
    )

REL_TOL = 1e-9


@pytest.fixture(scope="module")
def spark_build(real_build, tmp_path_factory):
    """dbt build with the spark target over the real slice's raw snapshot (the one real_build ingested
    and built with DuckDB); returns (Spark warehouse folder, seconds the build took)."""
    root = tmp_path_factory.mktemp("spark")
    warehouse_dir = root / "spark-warehouse"
    env = {
        **os.environ,
        "DATA_DIR": str(real_build),
        "LAKE_DIR": str(real_build / "warehouse" / "lake"),
        "OBSERVATORY_SNAPSHOT_DATE": REAL_SNAPSHOT,
        "SPARK_WAREHOUSE_DIR": str(warehouse_dir),
        "SPARK_MASTER": "local[2]",
    }
    dbt = Path(sys.executable).parent / "dbt"
    project = PROJECT_ROOT / "dbt_project"
    started = time.monotonic()
    result = subprocess.run(
        [str(dbt), "build", "--target", "spark", "--exclude", "test_type:unit",
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


def test_spark_build_timing(spark_build, capsys):
    warehouse_dir, seconds = spark_build
    with capsys.disabled():
        print(f"\nSpark dbt build of the real slice: {seconds:.0f} s")
    assert (warehouse_dir / "marts.db").is_dir()


@pytest.mark.parametrize("mart", sorted(dbt_marts()))
def test_spark_mart_equals_duckdb(mart, spark_build, real_build):
    warehouse_dir, _ = spark_build
    duckdb_file = real_build / "warehouse" / "lake" / f"snapshot_date={REAL_SNAPSHOT}" / f"{mart}.parquet"
    spark_folder = warehouse_dir / "marts.db" / mart
    assert duckdb_file.exists(), f"the DuckDB build published no {mart}"
    assert spark_folder.is_dir(), f"Spark built no {mart}"

    duck_columns, duck_rows = _rows(f"read_parquet('{duckdb_file}')")
    spark_columns, spark_rows = _rows(f"read_parquet('{spark_folder}/*.parquet')")
    assert spark_columns == duck_columns

    duck_rows = sorted((tuple(_plain(v) for v in row) for row in duck_rows), key=_sort_key)
    spark_rows = sorted((tuple(_plain(v) for v in row) for row in spark_rows), key=_sort_key)
    assert len(spark_rows) == len(duck_rows)
    for duck_row, spark_row in zip(duck_rows, spark_rows):
        differing = [
            (column, duck_value, spark_value)
            for column, duck_value, spark_value in zip(duck_columns, duck_row, spark_row)
            if not _same(duck_value, spark_value)
        ]
        assert not differing, f"{mart}: first differing row: {differing} (DuckDB row {duck_row})"
