"""The schema check and normalization that guard ingestion."""

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.lib import sample
from orchestration.lib.raw_schema import SchemaError, check_schema, read_schema


def test_sample_schema_passes_and_extra_columns_are_tolerated():
    table = sample.generate(50, "2026-01-20")
    assert "_id" in table.column_names  # an extra column of the full hub-stats file
    assert check_schema(table.schema) == []


def test_missing_required_column_is_named():
    table = sample.generate(50, "2026-01-20").drop_columns(["createdAt"])
    assert check_schema(table.schema) == ["missing required column 'createdAt' (timestamp)"]


def test_optional_columns_may_be_absent():
    table = sample.generate(50, "2026-01-20").drop_columns(["gguf", "safetensors", "baseModels"])
    assert check_schema(table.schema) == []


def test_wrong_type_is_named():
    table = sample.generate(50, "2026-01-20")
    index = table.schema.get_field_index("likes")
    table = table.set_column(index, "likes", pa.array([str(v) for v in table["likes"].to_pylist()]))
    assert check_schema(table.schema) == ["column 'likes' has type string, expected integer"]


def test_tags_must_be_a_list_of_strings():
    table = sample.generate(50, "2026-01-20")
    index = table.schema.get_field_index("tags")
    table = table.set_column(index, "tags", pa.array(["a,b"] * 50))
    assert check_schema(table.schema) == ["column 'tags' has type string, expected list<string>"]


def test_not_parquet_and_empty_files_are_refused(tmp_path):
    text = tmp_path / "models.parquet"
    text.write_text("id,likes\nx/y,1\n")
    with pytest.raises(SchemaError, match="not a Parquet file"):
        read_schema(text)
    empty = tmp_path / "empty.parquet"
    empty.write_bytes(b"")
    with pytest.raises(SchemaError, match="empty"):
        read_schema(empty)
    with pytest.raises(SchemaError, match="not found"):
        read_schema(tmp_path / "missing.parquet")


def test_read_schema_of_a_parquet_file(tmp_path):
    path = tmp_path / "s.parquet"
    pq.write_table(sample.generate(20, "2026-01-20"), path)
    assert read_schema(path).field("tags").type == pa.list_(pa.string())
