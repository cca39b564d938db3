"""The hub-stats models schema: what a snapshot must contain, and its normalized raw form.

A source file is checked against the schema before anything is written. The raw layer stores
one fixed column set with fixed types, so every partition reads the same way in dbt.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.lib.sql import literal

# The createdAt floor: every repo created before the Hub stored creation dates carries an instant
# of this minute (UTC; 23:29:04 for most, 23:29:05 for a few). Any createdAt within the minute
# means "created before then": unknown, never a release of 2022. The one Python name for the rule;
# dbt's twin is the macro is_created_at_floor (dbt_project/macros/created_at_floor.sql).
CREATED_AT_FLOOR = dt.datetime(2022, 3, 2, 23, 29)


def is_created_at_floor(created_at: dt.datetime | None) -> bool:
    """True when `created_at` (naive UTC) is the floor: its real creation date is unknown."""
    return created_at is not None and CREATED_AT_FLOOR <= created_at < CREATED_AT_FLOOR + dt.timedelta(minutes=1)


class SchemaError(ValueError):
    """The input does not have the hub-stats models schema."""


def _is_string(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_null(t)


def _is_int(t: pa.DataType) -> bool:
    return pa.types.is_integer(t) or pa.types.is_null(t)


def _is_number(t: pa.DataType) -> bool:
    return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_null(t)


def _is_timestamp(t: pa.DataType) -> bool:
    return pa.types.is_timestamp(t) or pa.types.is_null(t)


def _is_string_list(t: pa.DataType) -> bool:
    if pa.types.is_null(t):
        return True
    return (pa.types.is_list(t) or pa.types.is_large_list(t)) and _is_string(t.value_type)


def _is_struct_with(*fields: str):
    def check(t: pa.DataType) -> bool:
        if pa.types.is_null(t):
            return True
        return pa.types.is_struct(t) and all(t.get_field_index(f) >= 0 for f in fields)

    return check


def _is_json_text(t: pa.DataType) -> bool:
    # hub-stats stores these as JSON text; the api source may hand over a struct.
    return _is_string(t) or pa.types.is_struct(t)


# column -> (required, type check, expected type in words, normalizing SQL expression)
COLUMNS: dict[str, tuple[bool, object, str, str]] = {
    "id": (True, _is_string, "string", "cast(id as varchar)"),
    # The Hub's immutable object id: the model key across renames (in the full files, not in every slice).
    "_id": (False, _is_string, "string", "cast(_id as varchar)"),
    "author": (False, _is_string, "string", "cast(author as varchar)"),
    "createdAt": (True, _is_timestamp, "timestamp", "cast(createdAt as timestamp)"),
    "lastModified": (False, _is_timestamp, "timestamp", "cast(lastModified as timestamp)"),
    "downloads": (True, _is_int, "integer", "cast(downloads as bigint)"),
    "downloadsAllTime": (False, _is_int, "integer", "cast(downloadsAllTime as bigint)"),
    "likes": (True, _is_int, "integer", "cast(likes as bigint)"),
    "trendingScore": (False, _is_number, "number", "cast(trendingScore as double)"),
    "tags": (True, _is_string_list, "list<string>", "cast(tags as varchar[])"),
    "cardData": (False, _is_json_text, "JSON text", "{json}"),
    "safetensors": (
        False,
        _is_struct_with("total"),
        "struct<parameters, total>",
        # Parameter counts by dtype become a map: the dtype set differs between files.
        "case when safetensors is null then null else struct_pack("
        "parameters := map_from_entries(list_filter(map_entries("
        "cast(to_json(safetensors.parameters) as map(varchar, bigint))), "
        "lambda e: e.value is not null)), "
        "total := cast(safetensors.total as bigint)) end",
    ),
    "gguf": (False, _is_json_text, "JSON text", "{json}"),
    "baseModels": (
        False,
        _is_struct_with("relation", "models"),
        "struct<relation, models: list<struct<_id, id>>>",
        "case when baseModels is null then null else struct_pack("
        "relation := cast(baseModels.relation as varchar), "
        "models := list_transform(baseModels.models, "
        "lambda m: struct_pack(_id := cast(m._id as varchar), id := cast(m.id as varchar)))) end",
    ),
    "pipeline_tag": (False, _is_string, "string", "cast(pipeline_tag as varchar)"),
    "library_name": (False, _is_string, "string", "cast(library_name as varchar)"),
}

RAW_COLUMNS = tuple(COLUMNS)

NULL_OF_TYPE = {
    "safetensors": "cast(null as struct(parameters map(varchar, bigint), total bigint))",
    "baseModels": "cast(null as struct(relation varchar, models struct(_id varchar, id varchar)[]))",
    "createdAt": "cast(null as timestamp)",
    "lastModified": "cast(null as timestamp)",
    "downloads": "cast(null as bigint)",
    "downloadsAllTime": "cast(null as bigint)",
    "likes": "cast(null as bigint)",
    "trendingScore": "cast(null as double)",
    "tags": "cast(null as varchar[])",
}


def read_schema(path: Path) -> pa.Schema:
    """The Parquet schema of `path`, or a SchemaError saying why it cannot be read."""
    if not path.exists():
        raise SchemaError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise SchemaError(f"{path}: the file is empty")
    try:
        return pq.read_schema(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise SchemaError(f"{path}: not a Parquet file ({exc})") from exc


def check_schema(schema: pa.Schema) -> list[str]:
    """Problems with a snapshot's schema; an empty list means it can be ingested.

    Extra columns are tolerated (the full hub-stats file has many more)."""
    problems = []
    for name, (required, type_ok, expected, _) in COLUMNS.items():
        index = schema.get_field_index(name)
        if index < 0:
            if required:
                problems.append(f"missing required column '{name}' ({expected})")
            continue
        actual = schema.field(index).type
        if not type_ok(actual):
            problems.append(f"column '{name}' has type {actual}, expected {expected}")
    return problems


def missing_optional_columns(schema: pa.Schema) -> list[str]:
    """Optional columns the file lacks (absent, or all-null typed): null in the stored snapshot.

    Real files of earlier schema eras lack some (cardData and trendingScore before ~2024-10,
    downloadsAllTime before 2025-02-26); the manifest records which, per snapshot."""
    return [
        name for name, (required, *_rest) in COLUMNS.items()
        if not required and (schema.get_field_index(name) < 0 or pa.types.is_null(schema.field(schema.get_field_index(name)).type))
    ]


def normalized_select(parquet_path: Path, schema: pa.Schema) -> str:
    """DuckDB SQL that reads `parquet_path` into the raw column set with fixed types."""
    expressions = []
    for name, (_, _, _, expression) in COLUMNS.items():
        index = schema.get_field_index(name)
        if index < 0 or pa.types.is_null(schema.field(index).type):
            expressions.append(f"{NULL_OF_TYPE.get(name, 'cast(null as varchar)')} as {name}")
            continue
        if expression == "{json}":
            is_struct = pa.types.is_struct(schema.field(index).type)
            expression = f"cast(to_json({name}) as varchar)" if is_struct else f"cast({name} as varchar)"
        expressions.append(f"{expression} as {name}")
    return "select\n  " + ",\n  ".join(expressions) + f"\nfrom read_parquet({literal(parquet_path)})"
