"""The hub-stats models schema: what a snapshot must contain, and its normalized raw form.

A source file is checked against the schema before anything is written. The raw layer stores
one fixed column set with fixed types, so every partition reads the same way in dbt.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
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
    "publishedAt": "cast(null as timestamp)",
    "paper_upvotes": "cast(null as bigint)",
}


# Repos besides models, and the Hub's daily papers: hub-stats ships them as files of their own
# (datasets.parquet, spaces.parquet, daily papers). Only the columns the marts read are required;
# the rest is kept when present, null otherwise, and any further column is tolerated.
def _as_in_models(*names: str, required: tuple[str, ...] = ("id", "createdAt")) -> dict[str, tuple[bool, object, str, str]]:
    """Columns the models file has too: the same type check and normalization, required only when named."""
    return {name: (name in required, *COLUMNS[name][1:]) for name in names}


DATASET_COLUMNS = _as_in_models(
    "id", "_id", "author", "createdAt", "lastModified", "likes", "downloads", "downloadsAllTime", "trendingScore", "tags",
)
SPACE_COLUMNS = {
    **_as_in_models("id", "_id", "author", "createdAt", "likes"),
    "sdk": (False, _is_string, "string", "cast(sdk as varchar)"),
    **_as_in_models("tags"),
}
# The organization of a daily paper: a column literally named `paper_organization.name` (a flattened
# file) or the field `name` of a struct column `paper_organization`; either is stored as
# paper_organization_name.
PAPER_ORG_FLAT = "paper_organization.name"
PAPER_ORG_STRUCT = "paper_organization"
PAPER_COLUMNS: dict[str, tuple[bool, object, str, str]] = {
    "paper_id": (True, _is_string, "string", "cast(paper_id as varchar)"),
    "paper_title": (False, _is_string, "string", "cast(paper_title as varchar)"),
    "publishedAt": (True, _is_timestamp, "timestamp", "cast(publishedAt as timestamp)"),
    "paper_upvotes": (True, _is_int, "integer", "cast(paper_upvotes as bigint)"),
    "paper_organization_name": (False, _is_string, "string", "cast({column} as varchar)"),
}


@dataclass(frozen=True)
class RawKind:
    """One kind of raw file: its columns, key, date column and the file name it is stored under."""

    name: str
    columns: dict
    key: str = "id"
    date_column: str = "createdAt"
    # Repos older than the Hub's creation dates carry the floor; papers are dated by the paper.
    has_created_at_floor: bool = True

    @property
    def data_name(self) -> str:
        return f"{self.name}.parquet"

    @property
    def count_columns(self) -> tuple[str, ...]:
        return tuple(c for c in ("downloads", "downloadsAllTime", "likes", "paper_upvotes") if c in self.columns)


MODELS = RawKind("models", COLUMNS)
KINDS: dict[str, RawKind] = {k.name: k for k in (
    MODELS,
    RawKind("datasets", DATASET_COLUMNS),
    RawKind("spaces", SPACE_COLUMNS),
    RawKind("papers", PAPER_COLUMNS, key="paper_id", date_column="publishedAt", has_created_at_floor=False),
)}
REPO_KINDS = tuple(k for k in KINDS if k != "models")  # the files that may come beside models


def get_kind(kind: "str | RawKind") -> RawKind:
    return kind if isinstance(kind, RawKind) else KINDS[kind]


def _field_type(schema: pa.Schema, name: str, kind: RawKind) -> pa.DataType | None:
    """The type of column `name` in `schema` (the paper organization in either of its forms), None if absent."""
    if kind.name == "papers" and name == "paper_organization_name":
        if schema.get_field_index(PAPER_ORG_FLAT) >= 0:
            return schema.field(schema.get_field_index(PAPER_ORG_FLAT)).type
        index = schema.get_field_index(PAPER_ORG_STRUCT)
        if index < 0:
            return None
        struct = schema.field(index).type
        if pa.types.is_null(struct):
            return struct
        if not pa.types.is_struct(struct) or struct.get_field_index("name") < 0:
            return pa.struct([])  # named in the error as the unreadable type it is
        return struct.field(struct.get_field_index("name")).type
    index = schema.get_field_index(name)
    return schema.field(index).type if index >= 0 else None


def _source_expression(schema: pa.Schema, name: str, kind: RawKind) -> str:
    """Where the paper organization is read from: the flat column or the struct's field."""
    if schema.get_field_index(PAPER_ORG_FLAT) >= 0:
        return '"paper_organization.name"'
    return "paper_organization.name"


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


def check_schema(schema: pa.Schema, kind: "str | RawKind" = "models") -> list[str]:
    """Problems with a snapshot's schema; an empty list means it can be ingested.

    Extra columns are tolerated (the full hub-stats file has many more)."""
    kind = get_kind(kind)
    problems = []
    for name, (required, type_ok, expected, _) in kind.columns.items():
        actual = _field_type(schema, name, kind)
        shown = PAPER_ORG_FLAT if name == "paper_organization_name" else name
        if actual is None:
            if required:
                problems.append(f"missing required column '{shown}' ({expected})")
            continue
        if not type_ok(actual):
            problems.append(f"column '{shown}' has type {actual}, expected {expected}")
    return problems


def missing_optional_columns(schema: pa.Schema, kind: "str | RawKind" = "models") -> list[str]:
    """Optional columns the file lacks (absent, or all-null typed): null in the stored snapshot.

    Real files of earlier schema eras lack some (cardData and trendingScore before ~2024-10,
    downloadsAllTime before 2025-02-26); the manifest records which, per snapshot."""
    kind = get_kind(kind)
    missing = []
    for name, (required, *_rest) in kind.columns.items():
        actual = _field_type(schema, name, kind)
        if not required and (actual is None or pa.types.is_null(actual)):
            missing.append(name)
    return missing


def normalized_select(parquet_path: Path, schema: pa.Schema, kind: "str | RawKind" = "models") -> str:
    """DuckDB SQL that reads `parquet_path` into the raw column set with fixed types."""
    kind = get_kind(kind)
    expressions = []
    for name, (_, _, _, expression) in kind.columns.items():
        actual = _field_type(schema, name, kind)
        if actual is None or pa.types.is_null(actual):
            expressions.append(f"{NULL_OF_TYPE.get(name, 'cast(null as varchar)')} as {name}")
            continue
        if expression == "{json}":
            is_struct = pa.types.is_struct(schema.field(schema.get_field_index(name)).type)
            expression = f"cast(to_json({name}) as varchar)" if is_struct else f"cast({name} as varchar)"
        elif "{column}" in expression:
            expression = expression.format(column=_source_expression(schema, name, kind))
        expressions.append(f"{expression} as {name}")
    return "select\n  " + ",\n  ".join(expressions) + f"\nfrom read_parquet({literal(parquet_path)})"
