"""Raw snapshots are validated, normalized, written atomically and never silently overwritten."""

import datetime as dt
import json
import os

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.lib import sample
from orchestration.lib.raw_schema import RAW_COLUMNS, SchemaError
from orchestration.lib.snapshot_store import SnapshotExistsError, SnapshotStore, file_sha256, parse_snapshot_date


def _parquet(tmp_path, table, name="in.parquet"):
    path = tmp_path / name
    pq.write_table(table, path)
    return path


@pytest.fixture
def store(tmp_path):
    return SnapshotStore(tmp_path / "data" / "raw" / "models")


def test_write_stores_normalized_rows_and_a_manifest(tmp_path, store):
    table = sample.generate(200, "2026-01-20")
    source = _parquet(tmp_path, table.append_column("gated", pa.array(["false"] * 200)))
    stored = store.write(source, "2026-01-20", {"source": "sample", "synthetic": True})

    assert stored.path.name == "snapshot_date=2026-01-20"
    manifest = json.loads((stored.path / "_manifest.json").read_text())
    assert manifest["rows"] == 200
    assert manifest["source"] == "sample" and manifest["synthetic"] is True
    assert manifest["revision"] is None
    assert manifest["sha256"] == file_sha256(stored.data_path)
    columns = duckdb.execute(f"describe select * from '{stored.data_path}'").fetchall()
    types = {name: kind for name, kind, *_ in columns}
    assert types["_id"] == "VARCHAR"  # the model key across renames is kept
    assert set(types) - {"snapshot_date"} == set(RAW_COLUMNS)  # extra columns (gated) are not carried (snapshot_date: the folder name)
    assert types["safetensors"] == "STRUCT(parameters MAP(VARCHAR, BIGINT), total BIGINT)"
    # Values survive normalization: compare with the input file directly.
    original = duckdb.execute(f"select sum(likes), count(baseModels) from '{source}'").fetchone()
    landed = duckdb.execute(f"select sum(likes), count(baseModels) from '{stored.data_path}'").fetchone()
    assert original == landed
    assert list((tmp_path / "data" / "raw" / ".incoming").iterdir()) == []


def test_parameters_by_dtype_become_a_map_without_nulls(tmp_path, store):
    table = sample.generate(30, "2026-01-20")
    stored = store.write(_parquet(tmp_path, table), "2026-01-20", {"source": "sample"})
    first = next(v for v in table["safetensors"].to_pylist() if v)
    row = duckdb.execute(
        f"select safetensors.parameters, safetensors.total from '{stored.data_path}' "
        f"where safetensors.total = {first['total']} limit 1"
    ).fetchone()
    assert row == ({"BF16": first["parameters"]["BF16"]}, first["total"])


def test_existing_snapshot_is_not_overwritten_without_replace(tmp_path, store):
    first = store.write(_parquet(tmp_path, sample.generate(50, "2026-01-20")), "2026-01-20", {"source": "sample"})
    before = first.manifest["sha256"]
    other = _parquet(tmp_path, sample.generate(60, "2026-01-20"), "other.parquet")
    with pytest.raises(SnapshotExistsError, match="already stored"):
        store.write(other, "2026-01-20", {"source": "file"})
    assert store.get("2026-01-20").manifest["sha256"] == before

    replaced = store.write(other, "2026-01-20", {"source": "file"}, replace=True)
    assert replaced.manifest["rows"] == 60
    assert [s.manifest["rows"] for s in store.list()] == [60]


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda ids: ids[:-1] + [ids[0]], "1 duplicated ids"),
        (lambda ids: ids[:-1] + [None], "1 rows have a null or empty id"),
        (lambda ids: ids[:-1] + ["  "], "1 rows have a null or empty id"),
    ],
)
def test_bad_ids_fail_and_leave_the_previous_snapshot(tmp_path, store, mutate, message):
    good = store.write(_parquet(tmp_path, sample.generate(40, "2026-01-20")), "2026-01-20", {"source": "sample"})
    table = sample.generate(40, "2026-01-20")
    ids = mutate(table["id"].to_pylist())
    table = table.set_column(table.schema.get_field_index("id"), "id", pa.array(ids, pa.string()))
    with pytest.raises(SchemaError, match=message):
        store.write(_parquet(tmp_path, table, "bad.parquet"), "2026-01-20", {"source": "file"}, replace=True)
    assert store.get("2026-01-20").manifest == good.manifest
    assert list((tmp_path / "data" / "raw" / ".incoming").iterdir()) == []


def test_schema_problems_are_reported_before_writing(tmp_path, store):
    table = sample.generate(40, "2026-01-20").drop_columns(["id", "likes"])
    with pytest.raises(SchemaError, match="missing required column 'id'.*missing required column 'likes'"):
        store.write(_parquet(tmp_path, table), "2026-01-20", {"source": "file"})
    assert store.list() == []


def test_no_rows_is_an_error(tmp_path, store):
    table = sample.generate(40, "2026-01-20").slice(0, 0)
    with pytest.raises(SchemaError, match="no rows"):
        store.write(_parquet(tmp_path, table), "2026-01-20", {"source": "file"})


@pytest.mark.parametrize("value", ["2026-1-20", "20260120", "2026-02-30", "", "2026-01-20; drop table x"])
def test_snapshot_dates_are_checked(value):
    with pytest.raises(ValueError, match="snapshot date"):
        parse_snapshot_date(value)


def test_rows_that_cannot_be_right_are_quarantined_and_negative_counts_repaired(tmp_path, store):
    table = sample.generate(40, "2026-01-20")
    rows = table.to_pylist()
    rows[0]["createdAt"] = dt.datetime(2026, 1, 21, 0, 0, 0)  # after the snapshot's day
    rows[1]["createdAt"] = dt.datetime(2026, 1, 20, 23, 59, 59)  # same day: fine
    rows[2]["id"] = "evil/" + "x" * 1_000_000  # a 1 MB "id"
    rows[3]["likes"] = -5
    rows[4]["downloads"] = -1
    rows[5]["id"] = "quote'n\"semi;colon/--drop table x; 模型"  # hostile characters are data
    rows[6]["cardData"] = json.dumps({"license": "mit", "blob": "y" * 1_000_000, "code": "__import__('os')"})
    source = _parquet(tmp_path, pa.Table.from_pylist(rows, schema=table.schema))

    stored = store.write(source, "2026-01-20", {"source": "file"})
    assert stored.manifest["rows"] == 38
    assert stored.manifest["quarantined"] == {"created_at_after_snapshot": 1, "id_too_long": 1}
    assert stored.manifest["repaired"] == {"negative_counts_nulled": 2}
    quarantine = duckdb.execute(
        f"select id, reason, length(id) from '{stored.path / '_quarantine.parquet'}' order by reason"
    ).fetchall()
    assert quarantine[0] == (rows[0]["id"], "created_at_after_snapshot", len(rows[0]["id"]))
    assert quarantine[1][1:] == ("id_too_long", 256)
    kept = {r[0]: r[1:] for r in duckdb.execute(
        f"select id, likes, downloads, length(cardData) from '{stored.data_path}'").fetchall()}
    assert kept[rows[3]["id"]][0] is None and kept[rows[4]["id"]][1] is None
    assert rows[5]["id"] in kept and rows[1]["id"] in kept
    assert kept[rows[6]["id"]][2] > 1_000_000


def test_dates_before_the_floor_minute_are_quarantined_and_impossible_counts_nulled(tmp_path, store):
    table = sample.generate(40, "2026-01-20")
    rows = table.to_pylist()
    rows[0]["createdAt"] = dt.datetime(1970, 1, 1)  # an epoch zero: no repo is older than the floor
    rows[1]["createdAt"] = dt.datetime(2022, 3, 2, 23, 28, 59)  # a second before the floor minute
    rows[2]["createdAt"] = dt.datetime(2022, 3, 2, 23, 29, 0)  # the floor minute: kept, an unknown date
    rows[3]["createdAt"] = dt.datetime(2022, 3, 2, 23, 29, 5)
    rows[4]["downloads"] = 2**63 - 1  # would overflow any sum of downloads
    rows[5]["downloadsAllTime"] = 2**63 - 1
    rows[5]["likes"] = 10**12 + 1
    rows[6]["downloadsAllTime"] = 10**12  # large but possible: kept
    rows[7]["likes"] = -1
    source = _parquet(tmp_path, pa.Table.from_pylist(rows, schema=table.schema))

    stored = store.write(source, "2026-01-20", {"source": "file"})
    assert stored.manifest["rows"] == 38
    assert stored.manifest["quarantined"] == {"created_at_before_floor": 2}
    assert stored.manifest["repaired"] == {"implausible_counts_nulled": 2, "negative_counts_nulled": 1}
    quarantine = duckdb.execute(
        f"select id, reason, createdAt from '{stored.path / '_quarantine.parquet'}' order by createdAt"
    ).fetchall()
    assert quarantine == [(rows[0]["id"], "created_at_before_floor", rows[0]["createdAt"]),
                          (rows[1]["id"], "created_at_before_floor", rows[1]["createdAt"])]
    kept = {r[0]: r[1:] for r in duckdb.execute(
        f"select id, createdAt, downloads, downloadsAllTime, likes from '{stored.data_path}'").fetchall()}
    assert kept[rows[2]["id"]][0] == rows[2]["createdAt"] and kept[rows[3]["id"]][0] == rows[3]["createdAt"]
    assert kept[rows[4]["id"]][1] is None and kept[rows[4]["id"]][2] == rows[4]["downloadsAllTime"]
    assert kept[rows[5]["id"]][2:] == (None, None)
    assert kept[rows[6]["id"]][2] == 10**12 and kept[rows[7]["id"]][3] is None


def test_a_clean_snapshot_has_an_empty_quarantine(tmp_path, store):
    stored = store.write(_parquet(tmp_path, sample.generate(30, "2026-01-20")), "2026-01-20", {"source": "sample"})
    assert stored.manifest["quarantined"] == {} and stored.manifest["repaired"] == {}
    assert duckdb.execute(f"select count(*) from '{stored.path / '_quarantine.parquet'}'").fetchone() == (0,)


def test_leftovers_of_killed_ingests_are_cleaned_up(tmp_path, store):
    import os
    import time

    incoming = tmp_path / "data" / "raw" / ".incoming"
    old = incoming / "2026-01-19-dead"
    old.mkdir(parents=True)
    (old / "models.parquet").write_bytes(b"half a file")
    os.utime(old, (time.time() - 7 * 3600,) * 2)
    young = incoming / "fetch-in-progress"
    young.mkdir()
    store.write(_parquet(tmp_path, sample.generate(20, "2026-01-20")), "2026-01-20", {"source": "sample"})
    assert not old.exists() and young.exists()


def _ingest_sample(settings, replace=False):
    import logging

    from orchestration.defs.ingest.assets import ingest
    from orchestration.defs.ingest.sources import SnapshotRequest

    request = SnapshotRequest(source="sample", snapshot_date="2026-01-20", sample_rows=40)
    return ingest(request, settings, replace, logging.getLogger("test"))


def _replacement_killed_between_its_renames(store, stored):
    """What `--replace` leaves when killed after moving the stored snapshot aside, before moving the new one in."""
    store.incoming.mkdir(parents=True, exist_ok=True)
    (store.incoming / "2026-01-20-0123abcd").mkdir()  # the new one, never moved in
    os.rename(stored.path, store.incoming / "2026-01-20-0123abcd.retired")
    assert store.get("2026-01-20") is None


def test_a_replacement_killed_between_its_two_renames_is_undone_by_the_next_ingest(tmp_path, monkeypatch):
    from orchestration.settings import Settings

    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    settings = Settings.from_env()
    store = SnapshotStore(settings.raw_models_dir)
    first, outcome = _ingest_sample(settings)
    assert outcome == "stored"
    _replacement_killed_between_its_renames(store, first)

    again, outcome = _ingest_sample(settings)
    assert outcome == "unchanged"  # the snapshot that was stored is back, not ingested anew
    assert again.manifest == first.manifest
    assert not list(store.incoming.glob("*.retired"))


def test_status_puts_back_a_snapshot_whose_replacement_was_killed(tmp_path):
    from tests.conftest import run_observatory

    data_dir = tmp_path / "data"
    store = SnapshotStore(data_dir / "raw" / "models")
    first = store.write(_parquet(tmp_path, sample.generate(30, "2026-01-20")), "2026-01-20", {"source": "sample"})
    _replacement_killed_between_its_renames(store, first)

    status = run_observatory(data_dir, "status")
    assert status.returncode == 0, status.stderr
    assert status.stdout.splitlines()[1].split()[:3] == ["2026-01-20", "sample", "30"]
    assert store.get("2026-01-20").manifest == first.manifest
