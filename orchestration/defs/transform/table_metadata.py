"""Row counts, column schemas and a preview of the tables dbt built, for the Dagster UI.

Views get their column schema only. The preview of a mart is a typed table (numbers, ISO dates).

Read from the run's candidate warehouse once dbt has finished (DuckDB lets no reader in while
dbt writes), then attached to each model's materialization.
"""

import datetime as dt
import decimal
import math
from pathlib import Path

import dagster as dg
import duckdb

PREVIEW_ROWS = 5
PREVIEW_TEXT = 80  # characters of a text cell shown


def describe_tables(warehouse: Path, keys: list[dg.AssetKey], snapshot_date: str) -> dict[dg.AssetKey, dict]:
    """Metadata per asset key; relations that do not exist (e.g. a failed model) are skipped."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        columns: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for schema, table, column, data_type in con.execute(
            "select schema_name, table_name, column_name, data_type from duckdb_columns() order by column_index"
        ).fetchall():
            columns.setdefault((schema, table), []).append((column, data_type))
        tables = set(con.execute("select schema_name, table_name from duckdb_tables()").fetchall())
        described = {}
        for key in keys:
            relation = (key.path[0], key.path[-1])
            if len(key.path) != 2 or relation not in columns:
                continue
            if relation in tables:
                described[key] = _describe(con, relation, columns[relation], snapshot_date)
            else:  # a view: counting its rows would run it again (some walk the whole lineage)
                described[key] = {"dagster/column_schema": _schema(columns[relation])}
        return described
    finally:
        con.close()


def _describe(con, relation: tuple[str, str], columns: list[tuple[str, str]], snapshot_date: str) -> dict:
    name = f'"{relation[0]}"."{relation[1]}"'
    dated = any(column == "snapshot_date" for column, _ in columns)
    where = " where snapshot_date = cast($1 as date)" if dated else ""
    params = [snapshot_date] if dated else []
    metadata = {
        "dagster/row_count": con.execute(f"select count(*) from {name}{where}", params).fetchone()[0],
        "dagster/column_schema": _schema(columns),
    }
    if relation[0] == "marts":
        cursor = con.execute(f"select * from {name}{where} limit {PREVIEW_ROWS}", params)
        metadata["preview"] = preview_table(columns, cursor.fetchall())
    return metadata


def _schema(columns: list[tuple[str, str]]) -> dg.TableSchema:
    return dg.TableSchema(columns=[dg.TableColumn(name=column, type=data_type) for column, data_type in columns])


def preview_table(columns: list[tuple[str, str]], rows: list[tuple]) -> dg.TableMetadataValue:
    """The first rows as a typed table: numbers stay numbers (floats rounded), dates are ISO strings,
    nested values and long texts are shortened text."""
    return dg.MetadataValue.table(
        records=[dg.TableRecord({column: preview_value(value) for (column, _), value in zip(columns, row)})
                 for row in rows],
        schema=_schema(columns),
    )


def preview_value(value):
    """One cell: None, bool, int, a float rounded to 6 decimals (4 significant digits when smaller), or text."""
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, (float, decimal.Decimal)):
        number = float(value)
        if not math.isfinite(number):
            return str(number)
        rounded = round(number, 6)
        return rounded if rounded != 0 or number == 0 else float(f"{number:.4g}")
    if isinstance(value, (dt.date, dt.time)):  # datetime is a date
        return value.isoformat()
    text = str(value).replace("\n", " ")
    return text if len(text) <= PREVIEW_TEXT else text[:PREVIEW_TEXT - 3] + "..."
