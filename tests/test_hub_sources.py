"""The hub_stats and api sources, against a local server that answers like the Hub."""

import datetime as dt
import io
import logging
import time

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


# Every Hub call is bounded in time and retried: the fake Hub counts the requests, so a retry shows.

@pytest.fixture
def short_timeout(monkeypatch):
    monkeypatch.setenv("HUB_TIMEOUT_S", "1")  # seconds per Hub request


HUB_CALLS = {
    "commits": ("/commits/", lambda: resolve_revision(REPO, "2026-06-04"), "listing the commits of cfahlgren1/hub-stats"),
    "models": ("/api/models", lambda: list_models_table(authors=("Qwen",)), "listing the models of Qwen"),
}


@pytest.fixture
def hub_with_models(two_revisions):
    two_revisions.models.extend(API_MODELS)
    return two_revisions


@pytest.mark.parametrize("call", HUB_CALLS)
def test_one_503_costs_exactly_one_more_request(hub_with_models, fast_retries, short_timeout, call):
    path, operation, _ = HUB_CALLS[call]
    hub_with_models.fail_next(path, "status", 503)
    operation()
    assert hub_with_models.count(path) == 2


@pytest.mark.parametrize("call", HUB_CALLS)
def test_a_hub_that_keeps_answering_503_gives_up_after_four_requests(hub_with_models, fast_retries, short_timeout, call):
    from orchestration.defs.ingest.hub import HubUnavailable

    path, operation, what = HUB_CALLS[call]
    for _ in range(10):
        hub_with_models.fail_next(path, "status", 503)
    started = time.monotonic()
    with pytest.raises(HubUnavailable, match=f"^{what} failed after 4 attempts: 503"):
        operation()
    assert hub_with_models.count(path) == 4
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("call", HUB_CALLS)
def test_a_stalled_hub_call_times_out_and_is_retried(hub_with_models, fast_retries, short_timeout, call):
    path, operation, _ = HUB_CALLS[call]
    hub_with_models.fail_next(path, "stall", 6)
    started = time.monotonic()
    operation()
    elapsed = time.monotonic() - started
    assert hub_with_models.count(path) == 2  # the stalled request, given up after 1 s, then its retry
    assert 1 <= elapsed < 4


@pytest.mark.parametrize("call", HUB_CALLS)
def test_a_hub_that_keeps_stalling_fails_clearly_within_bounded_time(hub_with_models, fast_retries, short_timeout, call):
    from orchestration.defs.ingest.hub import HubUnavailable

    path, operation, what = HUB_CALLS[call]
    for _ in range(10):
        hub_with_models.fail_next(path, "stall", 6)
    started = time.monotonic()
    with pytest.raises(HubUnavailable, match=f"^{what} failed after 4 attempts: ReadTimeout"):
        operation()
    assert hub_with_models.count(path) == 4
    assert time.monotonic() - started < 8  # 4 attempts of 1 s each, plus short backoffs


# A server that echoes the Authorization header in its error body must not leak HF_TOKEN anywhere.

TOKEN = "hf_echoedSECRETtoken0123456789"


@pytest.mark.parametrize("call", HUB_CALLS)
def test_a_token_echoed_in_an_error_body_is_redacted(hub_with_models, fast_retries, short_timeout, monkeypatch,
                                                     caplog, call):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    caplog.set_level(logging.DEBUG)
    path, operation, what = HUB_CALLS[call]
    hub_with_models.fail_next(path, "echo", 500)  # retried: logged as a warning
    hub_with_models.fail_next(path, "echo", 403)  # not retried: raised
    with pytest.raises(Exception) as failure:
        operation()
    assert hub_with_models.count(path) == 2
    message = str(failure.value)
    assert TOKEN not in message + repr(failure.value)
    assert TOKEN not in caplog.text
    assert type(failure.value).__name__ == "HubError"
    assert message == f"{what} failed: 403 Forbidden: request rejected (Authorization: Bearer ***)"
    assert failure.value.__cause__ is None and failure.value.__context__ is None  # the raw error is not attached
    assert "Authorization: Bearer ***" in caplog.text


def test_a_token_echoed_by_a_failing_download_is_redacted_and_not_stored(two_revisions, fast_retries, short_timeout,
                                                                          monkeypatch, caplog, tmp_path):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    caplog.set_level(logging.DEBUG)
    two_revisions.fail_next("/models.parquet", "echo", 500)
    stored, outcome = ingest(SnapshotRequest(source="hub_stats", snapshot_date="2026-06-04", repo_id=REPO),
                             _settings(tmp_path), replace=False, log=LOG)
    assert outcome == "stored" and not two_revisions.faults
    assert TOKEN not in caplog.text
    assert "Authorization: Bearer ***" in caplog.text
    for path in stored.path.rglob("*"):
        assert TOKEN.encode() not in path.read_bytes()

    two_revisions.fail_next("/models.parquet", "echo", 401)
    with pytest.raises(Exception) as failure:
        ingest(SnapshotRequest(source="hub_stats", snapshot_date="2026-06-05", repo_id=REPO),
               _settings(tmp_path), replace=False, log=LOG)
    assert TOKEN not in str(failure.value) + repr(failure.value) + caplog.text
    assert "Bearer ***" in str(failure.value)


def test_the_token_never_reaches_the_cli_output_or_the_dagster_run_history(two_revisions, tmp_path):
    import dagster as dg
    from dagster._serdes import serialize_value

    from tests.conftest import run_observatory

    two_revisions.fail_next("/commits/", "echo", 500)
    two_revisions.fail_next("/commits/", "echo", 403)
    data_dir = tmp_path / "data"
    result = run_observatory(data_dir, "build", "--source", "hub_stats", "--snapshot-date", "2026-06-04",
                             env={"HF_TOKEN": TOKEN, "HUB_TIMEOUT_S": "2"})
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-3000:]
    assert TOKEN not in output
    assert two_revisions.count("/commits/") == 2
    assert "observatory: step ingest_snapshot failed: " in result.stderr
    assert ("listing the commits of cfahlgren1/hub-stats failed: 403 Forbidden: request rejected "
            "(Authorization: Bearer ***)") in result.stderr

    instance = dg.DagsterInstance.from_config(str(data_dir / "dagster_home"))
    (run,) = instance.get_runs()
    events = instance.all_logs(run.run_id)
    failures = [e for e in events if e.dagster_event and e.dagster_event.is_step_failure]
    error = failures[0].dagster_event.step_failure_data.error.cause  # ours, under Dagster's wrapper
    assert error.cls_name == "HubError" and "(Authorization: Bearer ***)" in error.message
    assert error.cause is None and error.context is None  # the token-bearing original is not kept
    assert not any(TOKEN in serialize_value(e) for e in events)
    instance.dispose()
    for path in data_dir.rglob("*"):  # run storage, event logs, compute logs, raw store
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path
