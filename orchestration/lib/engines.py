"""The engines dbt can build a snapshot on: DuckDB (the default) and Apache Spark (optional).

Whichever builds it, a snapshot ends up in the run's scratch DuckDB under the same schema and table
names, so the metric checks and publishing (lib/publish.py) read it the same way. Spark writes its
tables as Parquet under a warehouse folder of its own inside the run's scratch folder (removed with
it); `load_spark_tables` copies every table found there into the scratch DuckDB.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

from orchestration.lib.publish import scratch_path
from orchestration.lib.sql import literal

ENGINES = ("duckdb", "spark")
DEFAULT_ENGINE = "duckdb"
# The Python packages the spark engine imports (make install-spark installs them).
SPARK_MODULES = ("pyspark", "dbt.adapters.spark")


def java_executable() -> str | None:
    """The java Spark would start: JAVA_HOME's, else the one on PATH (pyspark looks in that order)."""
    home = os.environ.get("JAVA_HOME")
    if home:
        candidate = Path(home) / "bin" / "java"
        return str(candidate) if os.access(candidate, os.X_OK) else None
    return shutil.which("java")


def engine_problem(engine: str) -> str | None:
    """Why `engine` cannot build here (one line naming what to install), or None when it can."""
    if engine not in ENGINES:
        return f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}"
    if engine == "spark":
        missing = [name for name in SPARK_MODULES if not _importable(name)]
        if missing:
            return (f"the spark engine needs the spark extra (missing: {', '.join(missing)}): install it with "
                    "make install-spark (Java 17 is needed too)")
        if java_executable() is None:
            where = f"JAVA_HOME={os.environ['JAVA_HOME']} has no bin/java" if os.environ.get("JAVA_HOME") \
                else "no java on PATH"
            return f"the spark engine needs Java 17 ({where}): install a Java 17 runtime, or set JAVA_HOME to one"
    return None


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:  # a parent package is missing
        return False


def spark_warehouse_path(published: Path, run_id: str) -> Path:
    """Where Spark writes this run's tables: inside the run's scratch folder, removed with it."""
    return scratch_path(published, run_id).parent / "spark-warehouse"


def spark_tables(warehouse: Path) -> dict[tuple[str, str], Path]:
    """The tables Spark wrote under `warehouse`: (schema, table) -> folder (`<schema>.db/<table>/`)."""
    tables = {}
    if warehouse.is_dir():
        for schema_dir in sorted(warehouse.glob("*.db")):
            for table_dir in sorted(p for p in schema_dir.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
                tables[(schema_dir.name[: -len(".db")], table_dir.name)] = table_dir
    return tables


# Made on DuckDB after a Spark build, as a DuckDB build makes it: the staging views over the raw
# files (a staging model Spark keeps as a table is a view there too).
DUCKDB_SCHEMAS = ("staging",)


def load_spark_tables(warehouse: Path, database: Path, skip_schemas=DUCKDB_SCHEMAS) -> dict[str, int]:
    """Copy every table Spark wrote under `warehouse` (but those of `skip_schemas`) into the DuckDB file
    `database`, same schema and name (an existing one replaced); returns rows per `schema.table`, each
    checked against the files."""
    import duckdb

    tables = {key: folder for key, folder in spark_tables(warehouse).items() if key[0] not in skip_schemas}
    if not tables:
        raise FileNotFoundError(f"Spark wrote no table under {warehouse}")
    rows = {}
    con = duckdb.connect(str(database))
    try:
        con.execute("set TimeZone = 'UTC'")
        for (schema, table), folder in tables.items():
            if not any(folder.glob("*.parquet")):
                raise FileNotFoundError(f"Spark's table {schema}.{table} has no Parquet file in {folder}")
            read = f"read_parquet({literal(folder / '*.parquet')})"
            name = f'"{schema}"."{table}"'
            con.execute(f'create schema if not exists "{schema}"')
            con.execute(f"create or replace table {name} as select * from {read}")
            loaded = con.execute(f"select count(*) from {name}").fetchone()[0]
            written = con.execute(f"select count(*) from {read}").fetchone()[0]
            if loaded != written:
                raise RuntimeError(f"{schema}.{table}: {loaded} rows loaded of the {written} Spark wrote")
            rows[f"{schema}.{table}"] = loaded
    finally:
        con.close()
    return rows
