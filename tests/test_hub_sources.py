"""The hub_stats and api sources, against a local server that answers like the Hub."""

import datetime as dt
import io
import logging

import duckdb
import pyarrow.parquet as pq
import pytest

from orchestration.defs.ingest.assets import ingest
from orchestration.defs.ingest.hub import list_models_table, resolve_revision
from orchestration.defs.ingest.sources import SnapshotRequest
from orchestration.lib import sample
from orchestration.lib.raw_schema import check_schema
from orchestration.lib.snapshot_store import SnapshotExistsError
from orchestration.settings import Settings

REPO = "cfahlgren1/hub-stats"
LOG = logging.getLogger("test")


def _parquet_bytes(n_rows: int, date: str) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(sample.generate(n_rows, date), buffer)
    return buffer.getvalue()


def _settings(tmp_path) -> Settings:
    data = tmp_path / "data"
    return Settings(data, data / "warehouse" / "w.duckdb", "hub_stats", None, None, 100, REPO, ())


@pytest.fixture
def two_revisions(hub):
    hub.add_dataset_revision(REPO, "a" * 40, "2026-06-04T13:02:00.000Z", {"models.parquet": _parquet_bytes(30, "2026-06-04")})
    hub.add_dataset_revision(REPO, "b" * 40, "2026-06-05T09:00:00.000Z", {"models.parquet": _parquet_bytes(35, "2026-06-05")})
    hub.add_dataset_revision(REPO, "c" * 40, "2026-06-05T13:05:00.000Z", {"models.parquet": _parquet_bytes(40, "2026-06-05")})
    return hub


def test_revision_is_the_last_commit_of_the_day_or_the_newest(two_revisions):
    assert resolve_revision(REPO, "2026-06-05").sha == "c" * 40
    assert resolve_revision(REPO, "2026-06-04").sha == "a" * 40
    newest = resolve_revision(REPO)
    assert (newest.sha, newest.snapshot_date) == ("c" * 40, "2026-06-05")
    with pytest.raises(LookupError, match="no revision dated 2026-06-01"):
        resolve_revision(REPO, "2026-06-01")


def test_hub_stats_ingest_records_the_revision_and_is_idempotent(two_revisions, tmp_path):
    settings = _settings(tmp_path)
    request = SnapshotRequest(source="hub_stats", snapshot_date="2026-06-04", repo_id=REPO)
    stored, outcome = ingest(request, settings, replace=False, log=LOG)
    assert outcome == "stored"
    assert stored.manifest["revision"] == "a" * 40
    assert stored.manifest["repo_id"] == REPO
    assert stored.manifest["rows"] == 30
    downloads = [r for r in two_revisions.requests if r["path"].endswith("/models.parquet") and r["method"] == "GET"]
    assert downloads and all(f"/resolve/{'a' * 40}/" in r["path"] for r in downloads)

    again, outcome = ingest(request, settings, replace=False, log=LOG)
    assert outcome == "unchanged" and again.manifest == stored.manifest


def test_hub_stats_revision_of_another_day_is_refused(two_revisions, tmp_path):
    request = SnapshotRequest(source="hub_stats", snapshot_date="2026-06-05", repo_id=REPO, revision="a" * 40)
    with pytest.raises(ValueError, match="dated 2026-06-04, not 2026-06-05"):
        ingest(request, _settings(tmp_path), replace=False, log=LOG)


def test_a_different_input_for_a_stored_date_needs_replace(two_revisions, tmp_path):
    settings = _settings(tmp_path)
    ingest(SnapshotRequest(source="hub_stats", snapshot_date="2026-06-05", repo_id=REPO, revision="b" * 40),
           settings, replace=False, log=LOG)
    newer = SnapshotRequest(source="hub_stats", snapshot_date="2026-06-05", repo_id=REPO)
    with pytest.raises(SnapshotExistsError, match="replace"):
        ingest(newer, settings, replace=False, log=LOG)
    stored, outcome = ingest(newer, settings, replace=True, log=LOG)
    assert (outcome, stored.manifest["revision"], stored.manifest["rows"]) == ("replaced", "c" * 40, 40)


API_MODELS = [
    {"id": "Qwen/Qwen3-8B", "author": "Qwen", "createdAt": "2025-04-27T03:40:00.000Z",
     "lastModified": "2025-07-01T00:00:00.000Z", "downloads": 900, "downloadsAllTime": 5000, "likes": 70,
     "trendingScore": 3, "tags": ["transformers", "license:apache-2.0"], "pipeline_tag": "text-generation",
     "library_name": "transformers", "cardData": {"license": "apache-2.0"},
     "safetensors": {"parameters": {"BF16": 8190735360}, "total": 8190735360}},
    {"id": "alice/qwen3-sft", "author": "alice", "createdAt": "2025-05-01T00:00:00.000Z", "downloads": 3,
     "likes": 0, "tags": ["base_model:Qwen/Qwen3-8B", "base_model:finetune:Qwen/Qwen3-8B"],
     "baseModels": {"relation": "finetune", "models": [{"id": "Qwen/Qwen3-8B", "_id": "x1"}]}},
    {"id": "alice/qwen3-gguf", "author": "alice", "createdAt": "2025-05-02T00:00:00.000Z", "downloads": 10,
     "likes": 1, "tags": [], "gguf": {"total": 8190735360}},
    {"id": "bob/other", "author": "bob", "createdAt": "2025-05-03T00:00:00.000Z", "downloads": 0, "likes": 0,
     "tags": []},
    {"id": "alice/merge", "author": "alice", "createdAt": "2025-05-04T00:00:00.000Z", "downloads": 0, "likes": 0,
     "tags": [], "baseModels": {"relation": "merge", "models": [{"id": "a/x"}, {"id": "b/y"}]}},
]


def test_api_listing_is_paginated_and_mapped_to_the_hub_stats_schema(hub, tmp_path):
    hub.models.extend(API_MODELS)
    table = list_models_table(authors=("Qwen", "alice"))
    assert check_schema(table.schema) == []
    rows = {r["id"]: r for r in table.to_pylist()}
    assert set(rows) == {"Qwen/Qwen3-8B", "alice/qwen3-sft", "alice/qwen3-gguf", "alice/merge"}
    listing_calls = [r for r in hub.requests if r["path"] == "/api/models"]
    assert len(listing_calls) == 3  # Qwen: one page; alice: two pages of two
    assert "expand" in listing_calls[0]["query"]

    qwen = rows["Qwen/Qwen3-8B"]
    assert qwen["createdAt"] == dt.datetime(2025, 4, 27, 3, 40)
    assert qwen["safetensors"]["total"] == 8190735360
    assert dict(qwen["safetensors"]["parameters"]) == {"BF16": 8190735360}
    assert qwen["trendingScore"] == 3.0 and qwen["downloadsAllTime"] == 5000
    assert rows["alice/qwen3-sft"]["baseModels"] == {
        "relation": "finetune", "models": [{"_id": "x1", "id": "Qwen/Qwen3-8B"}]
    }
    assert [m["id"] for m in rows["alice/merge"]["baseModels"]["models"]] == ["a/x", "b/y"]
    assert rows["alice/qwen3-gguf"]["gguf"] == '{"total": 8190735360}'


def test_api_ingest_stores_todays_snapshot(hub, tmp_path):
    hub.models.extend(API_MODELS)
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    settings = _settings(tmp_path)
    request = SnapshotRequest(source="api", snapshot_date=today, api_authors=("alice",))
    stored, outcome = ingest(request, settings, replace=False, log=LOG)
    assert outcome == "stored" and stored.manifest["source"] == "api"
    ids = duckdb.execute(f"select id from '{stored.data_path}' order by id").fetchall()
    assert [i for (i,) in ids] == ["alice/merge", "alice/qwen3-gguf", "alice/qwen3-sft"]
    with pytest.raises(ValueError, match="must be today"):
        ingest(SnapshotRequest(source="api", snapshot_date="2026-01-01"), settings, replace=False, log=LOG)
