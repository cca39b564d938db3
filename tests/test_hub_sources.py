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


@pytest.fixture
def fast_retries(monkeypatch):
    from orchestration.defs.ingest import hub as hub_client

    monkeypatch.setattr(hub_client, "RETRY_BASE_DELAY_S", 0.01)


FAULTS = [("status", 503), ("status", 429), ("status", 429, {"Retry-After": "1"}), ("reset",), ("truncate",),
          ("stall", 3)]


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: "-".join(map(str, f)))
@pytest.mark.parametrize("target", ["/commits/", "/models.parquet"])
def test_transient_hub_faults_are_retried(two_revisions, tmp_path, fast_retries, fault, target):
    two_revisions.fail_next(target, *fault)
    request = SnapshotRequest(source="hub_stats", snapshot_date="2026-06-04", repo_id=REPO)
    stored, outcome = ingest(request, _settings(tmp_path), replace=False, log=LOG)
    assert outcome == "stored" and stored.manifest["rows"] == 30
    assert not two_revisions.faults, "the injected fault was not hit"
    data = duckdb.execute(f"select count(*), count(distinct id) from '{stored.data_path}'").fetchone()
    assert data == (30, 30)  # a cut download was resumed into a whole file


def test_a_hub_that_keeps_failing_leaves_nothing_and_a_later_run_succeeds(two_revisions, tmp_path, fast_retries):
    settings = _settings(tmp_path)
    for _ in range(30):
        two_revisions.fail_next("/models.parquet", "reset")
    request = SnapshotRequest(source="hub_stats", snapshot_date="2026-06-04", repo_id=REPO)
    from orchestration.defs.ingest.hub import HubUnavailable

    with pytest.raises(HubUnavailable, match="download of models.parquet at aaaaaaaaaaaa failed after 4 attempts"):
        ingest(request, settings, replace=False, log=LOG)
    assert not (settings.raw_models_dir / "snapshot_date=2026-06-04").exists()
    assert list((settings.data_dir / "raw" / ".incoming").iterdir()) == []

    two_revisions.faults.clear()
    stored, outcome = ingest(request, settings, replace=False, log=LOG)
    assert outcome == "stored" and stored.manifest["revision"] == "a" * 40


def test_a_missing_file_is_not_retried(two_revisions, tmp_path, fast_retries):
    two_revisions.files.clear()
    request = SnapshotRequest(source="hub_stats", snapshot_date="2026-06-04", repo_id=REPO)
    with pytest.raises(Exception, match="404|not found|Entry Not Found"):
        ingest(request, _settings(tmp_path), replace=False, log=LOG)
    gets = [r for r in two_revisions.requests if r["path"].endswith("/models.parquet")]
    assert len(gets) <= 2


def test_api_listing_that_fails_mid_way_leaves_nothing(hub, tmp_path, fast_retries):
    hub.models.extend(API_MODELS)
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    settings = _settings(tmp_path)
    request = SnapshotRequest(source="api", snapshot_date=today, api_authors=("alice",))
    # The first page succeeds, the next fails for good (transient codes are retried by huggingface_hub).
    hub.fail_next("page=1", "status", 403)
    with pytest.raises(Exception, match="403"):
        ingest(request, settings, replace=False, log=LOG)
    assert any("page=1" in r["query"] for r in hub.requests)
    assert not settings.raw_models_dir.exists() or not any(settings.raw_models_dir.iterdir())


def test_the_token_is_sent_but_never_stored_or_logged(two_revisions, tmp_path, monkeypatch, caplog, fast_retries):
    token = "hf_testsecretTOKEN1234567890"
    monkeypatch.setenv("HF_TOKEN", token)
    caplog.set_level(logging.DEBUG)
    settings = _settings(tmp_path)
    two_revisions.fail_next("/models.parquet", "reset")
    stored, _ = ingest(SnapshotRequest(source="hub_stats", snapshot_date="2026-06-04", repo_id=REPO),
                       settings, replace=False, log=LOG)
    sent = [{k.lower(): v for k, v in r["headers"].items()} for r in two_revisions.requests]
    assert sent and all(h.get("authorization") == f"Bearer {token}" for h in sent)
    assert token not in (stored.path / "_manifest.json").read_text()
    assert token not in caplog.text

    two_revisions.files.clear()
    with pytest.raises(Exception) as failure:
        ingest(SnapshotRequest(source="hub_stats", snapshot_date="2026-06-05", repo_id=REPO),
               settings, replace=False, log=LOG)
    assert token not in str(failure.value) and token not in repr(failure.value)
