"""Datasets, Spaces and daily papers beside the models: refused with a clear error when unreadable, bad
rows quarantined, all of a date's files stored or none, fetched from hub-stats when a revision has them,
and counted by the marts fct_repo_releases and fct_paper_orgs as a plain-Python count over the files says."""

import datetime as dt
import io
import logging
from collections import Counter

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.defs.ingest.assets import ingest
from orchestration.lib import sample, sample_repos
from orchestration.lib.raw_schema import SchemaError
from orchestration.lib.snapshot_store import SnapshotStore, file_sha256
from orchestration.lib.sources import SnapshotRequest
from orchestration.settings import Settings
from tests.conftest import warehouse
from tests.reference import Seed, is_floor, org_of_id

DATE = "2026-06-05"
STATS = "cfahlgren1/hub-stats"
LOG = logging.getLogger("test")
UTC = dt.timezone.utc


def settings_for(tmp_path) -> Settings:
    data = tmp_path / "data"
    return Settings(data, data / "warehouse" / "w.duckdb", "sample", None, None, 100, STATS, ())


def write(path, rows, schema=None):
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    return path


def dataset(id_, created, author=None, likes=1, **extra):
    return {"_id": f"obj-{id_}", "id": id_, "author": author, "createdAt": created, "likes": likes,
            "downloads": 5, "tags": ["task_categories:translation"], **extra}


def models_file(tmp_path, n=30):
    return sample.write_parquet(tmp_path / "models.parquet", n, DATE)


# --- schema refusals ---------------------------------------------------------------------------


def test_a_datasets_file_without_createdAt_is_refused_naming_the_column_and_the_kind(tmp_path):
    path = write(tmp_path / "d.parquet", [{"id": "a/x", "likes": 1}])
    with pytest.raises(SchemaError) as refused:
        SnapshotStore(tmp_path / "raw" / "datasets", "datasets").write(path, DATE, {})
    assert "(datasets file)" in str(refused.value)
    assert "missing required column 'createdAt' (timestamp)" in str(refused.value)
    assert not (tmp_path / "raw").exists() or not any((tmp_path / "raw" / "datasets").glob("snapshot_date=*"))


def test_mistyped_paper_columns_are_named_with_their_type(tmp_path):
    path = write(tmp_path / "p.parquet", [{"paper_id": "2501.1", "publishedAt": "2025-01-01", "paper_upvotes": "12"}])
    with pytest.raises(SchemaError) as refused:
        SnapshotStore(tmp_path / "raw" / "papers", "papers").write(path, DATE, {})
    message = str(refused.value)
    assert "column 'publishedAt' has type string, expected timestamp" in message
    assert "column 'paper_upvotes' has type string, expected integer" in message


def test_spaces_without_id_and_a_struct_organization_without_name_are_refused(tmp_path):
    path = write(tmp_path / "s.parquet", [{"author": "a", "createdAt": dt.datetime(2025, 1, 1, tzinfo=UTC)}])
    with pytest.raises(SchemaError, match="missing required column 'id' \\(string\\)"):
        SnapshotStore(tmp_path / "raw" / "spaces", "spaces").write(path, DATE, {})
    path = write(tmp_path / "p.parquet", [{"paper_id": "1", "publishedAt": dt.datetime(2025, 1, 1), "paper_upvotes": 1,
                                           "paper_organization": {"fullname": "Qwen"}}])
    with pytest.raises(SchemaError, match="column 'paper_organization.name' has type struct<>"):
        SnapshotStore(tmp_path / "raw" / "papers", "papers").write(path, DATE, {})


def test_the_paper_organization_is_read_as_a_flat_column_or_a_struct_field_and_extras_are_kept_out(tmp_path):
    published = dt.datetime(2025, 3, 1, 12)
    flat = write(tmp_path / "flat.parquet", [
        {"paper_id": "1", "publishedAt": published, "paper_upvotes": 3, "paper_organization.name": "Qwen", "x": 1}])
    nested = write(tmp_path / "nested.parquet", [
        {"paper_id": "1", "publishedAt": published, "paper_upvotes": 3,
         "paper_organization": {"name": "Qwen", "fullname": "Qwen team"}, "paper_title": "T"}])
    for path in (flat, nested):
        stored = SnapshotStore(tmp_path / path.stem, "papers").write(path, DATE, {})
        row = pq.read_table(stored.data_path).to_pylist()[0]
        assert row["paper_organization_name"] == "Qwen" and "x" not in row and row["paper_upvotes"] == 3


# --- quarantine --------------------------------------------------------------------------------


def test_impossible_dataset_dates_are_quarantined_the_floor_kept_and_old_papers_are_fine(tmp_path):
    rows = [
        dataset("a/ok", dt.datetime(2025, 1, 1, tzinfo=UTC)),
        dataset("a/floor", dt.datetime(2022, 3, 2, 23, 29, 4, tzinfo=UTC)),
        dataset("a/future", dt.datetime(2026, 6, 6, 0, 0, tzinfo=UTC)),
        dataset("a/epoch", dt.datetime(1970, 1, 1, tzinfo=UTC)),
        dataset("a/negative", dt.datetime(2025, 1, 1, tzinfo=UTC), likes=-4),
    ]
    stored = SnapshotStore(tmp_path / "raw" / "datasets", "datasets").write(write(tmp_path / "d.parquet", rows), DATE, {})
    kept = {r["id"]: r for r in pq.read_table(stored.data_path).to_pylist()}
    assert set(kept) == {"a/ok", "a/floor", "a/negative"}
    assert kept["a/negative"]["likes"] is None
    assert stored.manifest["quarantined"] == {"created_at_after_snapshot": 1, "created_at_before_floor": 1}
    assert stored.manifest["repaired"] == {"negative_counts_nulled": 1}
    quarantined = pq.read_table(stored.path / "_quarantine.parquet").to_pylist()
    assert sorted(r["id"] for r in quarantined) == ["a/epoch", "a/future"]
    # A paper published in 2017 is no impossible date: papers have no floor.
    papers = write(tmp_path / "p.parquet", [{"paper_id": "1706.03762", "publishedAt": dt.datetime(2017, 6, 12),
                                             "paper_upvotes": 90}])
    stored = SnapshotStore(tmp_path / "raw" / "papers", "papers").write(papers, DATE, {})
    assert stored.manifest["rows"] == 1 and stored.manifest["quarantined"] == {}


def test_duplicated_dataset_ids_refuse_the_file(tmp_path):
    created = dt.datetime(2025, 1, 1, tzinfo=UTC)
    path = write(tmp_path / "d.parquet", [dataset("a/x", created), dataset("a/x", created)])
    with pytest.raises(SchemaError, match="1 duplicated ids \\(e.g. 'a/x'\\)"):
        SnapshotStore(tmp_path / "raw" / "datasets", "datasets").write(path, DATE, {})


# --- all of a date's files or none ---------------------------------------------------------------


def test_a_refused_datasets_file_leaves_nothing_written_and_the_stored_snapshot_intact(tmp_path):
    settings = settings_for(tmp_path)
    models = models_file(tmp_path)
    good = write(tmp_path / "datasets.parquet", [dataset("a/x", dt.datetime(2025, 1, 1, tzinfo=UTC))])
    bad = write(tmp_path / "bad.parquet", [{"id": "a/y"}])  # no createdAt

    # A first ingest with a refused datasets file stores nothing at all, not even the models.
    request = SnapshotRequest(source="file", snapshot_date=DATE, file=models, repo_files={"datasets": bad})
    with pytest.raises(SchemaError, match="datasets file"):
        ingest(request, settings, replace=False, log=LOG)
    assert not any(settings.raw_models_dir.glob("snapshot_date=*")) if settings.raw_models_dir.exists() else True
    assert not settings.raw_dir("datasets").exists() or not any(settings.raw_dir("datasets").iterdir())

    request.repo_files = {"datasets": good}
    stored, outcome = ingest(request, settings, replace=False, log=LOG)
    assert outcome == "stored"
    datasets = SnapshotStore(settings.raw_dir("datasets"), "datasets").get(DATE)
    before = (file_sha256(stored.data_path), file_sha256(datasets.data_path))

    # Replacing both with a new models file and a refused datasets file changes neither.
    (tmp_path / "new").mkdir()
    request = SnapshotRequest(source="file", snapshot_date=DATE, file=models_file(tmp_path / "new", 40),
                              repo_files={"datasets": bad})
    with pytest.raises(SchemaError):
        ingest(request, settings, replace=True, log=LOG)
    models_now = SnapshotStore(settings.raw_models_dir).get(DATE)
    datasets_now = SnapshotStore(settings.raw_dir("datasets"), "datasets").get(DATE)
    assert (file_sha256(models_now.data_path), file_sha256(datasets_now.data_path)) == before
    assert models_now.manifest == stored.manifest
    leftovers = [p.name for p in (settings.data_dir / "raw" / ".incoming").iterdir()]
    assert leftovers == []

    # A replacement without a datasets file takes the date's datasets away with the old models.
    request.repo_files = {}
    ingest(request, settings, replace=True, log=LOG)
    assert SnapshotStore(settings.raw_models_dir).get(DATE).manifest["rows"] != stored.manifest["rows"]
    assert SnapshotStore(settings.raw_dir("datasets"), "datasets").get(DATE) is None


def test_files_of_other_kinds_go_with_source_file_only(tmp_path):
    from orchestration.lib.sources import check_request

    request = SnapshotRequest(source="sample", snapshot_date=DATE, repo_files={"papers": tmp_path / "p.parquet"})
    with pytest.raises(ValueError, match="go with --source file only"):
        check_request(request)
    request = SnapshotRequest(source="file", snapshot_date=DATE, file=models_file(tmp_path),
                              repo_files={"papers": tmp_path / "absent.parquet"})
    with pytest.raises(FileNotFoundError, match="papers file .*absent.parquet does not exist"):
        check_request(request)


# --- hub-stats ----------------------------------------------------------------------------------


def _bytes(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def test_hub_stats_fetches_the_files_a_revision_has_and_stores_each_kind(hub, tmp_path):
    repos = sample_repos.generate(40, DATE)
    hub.add_dataset_revision(STATS, "a" * 40, f"{DATE}T10:00:00.000Z", {
        "models.parquet": _bytes(sample.generate(20, DATE)),
        "datasets.parquet": _bytes(repos["datasets"]),
        "daily_papers.parquet": _bytes(repos["papers"]),
    })
    settings = settings_for(tmp_path)
    request = SnapshotRequest(source="hub_stats", snapshot_date=DATE, repo_id=STATS)
    stored, outcome = ingest(request, settings, replace=False, log=LOG)
    assert outcome == "stored" and stored.manifest["rows"] == 20
    datasets = SnapshotStore(settings.raw_dir("datasets"), "datasets").get(DATE)
    papers = SnapshotStore(settings.raw_dir("papers"), "papers").get(DATE)
    assert datasets.manifest["revision"] == "a" * 40 and datasets.manifest["file_path"] == "datasets.parquet"
    assert datasets.manifest["rows"] + sum(datasets.manifest["quarantined"].values()) == repos["datasets"].num_rows
    assert papers.manifest["rows"] == repos["papers"].num_rows
    assert SnapshotStore(settings.raw_dir("spaces"), "spaces").get(DATE) is None  # the revision has none
    assert hub.count("/spaces.parquet") == 0


def test_hub_weekly_fetches_a_papers_file_beside_the_week_models_and_skips_absent_kinds(hub, tmp_path):
    weekly = "hfmlsoc/hub_weekly_snapshots"
    repos = sample_repos.generate(40, DATE)
    hub.add_weekly_file(weekly, DATE, _bytes(sample.generate(20, DATE)))
    hub.add_weekly_file(weekly, DATE, _bytes(repos["papers"]), name="daily_papers")
    settings = settings_for(tmp_path)
    request = SnapshotRequest(source="hub_weekly", snapshot_date=DATE, weekly_repo=weekly)
    ingest(request, settings, replace=False, log=LOG)
    papers = SnapshotStore(settings.raw_dir("papers"), "papers").get(DATE)
    assert papers.manifest["file_path"] == f"daily_papers/{DATE}/daily_papers.parquet"
    assert papers.manifest["license"] == "ODbL-1.0" and papers.manifest["rows"] == repos["papers"].num_rows
    assert SnapshotStore(settings.raw_dir("datasets"), "datasets").get(DATE) is None


# --- end to end: the marts against a plain count over the files -----------------------------------


def _releases(path, repo_type: str, seed: Seed, columns=("id", "author", "createdAt")) -> Counter:
    counted = Counter()
    snapshot_end = dt.datetime.fromisoformat(DATE) + dt.timedelta(days=1)
    for row in pq.read_table(path, columns=list(columns)).to_pylist():
        created = row["createdAt"]
        if created is None or is_floor(created) or created.replace(tzinfo=None) >= snapshot_end:
            continue  # unknown dates, and rows quarantined at ingest
        if created.replace(tzinfo=None) < dt.datetime(2022, 3, 2, 23, 29):
            continue
        org = org_of_id(row["id"]) or row["author"] or row["id"]
        counted[(seed.provider(org), repo_type, created.year)] += 1  # UTC: the files hold UTC instants
    return counted


def test_repo_releases_and_paper_orgs_match_a_plain_count_over_the_files(real_build, real_models_path):
    """The real slice's models with datasets, Spaces and papers files generated beside them (conftest real_build)."""
    data_dir, models = real_build, real_models_path
    files = {kind: real_build.parent / f"{kind}.parquet" for kind in ("datasets", "spaces", "papers")}
    seed = Seed.read()
    expected = _releases(models, "model", seed) + _releases(files["datasets"], "dataset", seed) \
        + _releases(files["spaces"], "space", seed)
    papers = Counter()
    upvotes = Counter()
    for row in pq.read_table(files["papers"]).to_pylist():
        key = (row["paper_organization.name"] or "none", row["publishedAt"].year)
        papers[key] += 1
        upvotes[key] += row["paper_upvotes"] or 0
    with warehouse(data_dir) as con:
        actual = {(p, t, y): n for p, t, y, n in con.execute(
            "select provider, repo_type, year, n_releases from marts.fct_repo_releases where snapshot_date = ?",
            [DATE]).fetchall()}
        paper_rows = con.execute("select org, year, n_papers, upvotes from marts.fct_paper_orgs where snapshot_date = ?",
                                 [DATE]).fetchall()
    assert actual == dict(expected)
    assert {(o, y): n for o, y, n, _ in paper_rows} == dict(papers)
    assert {(o, y): u for o, y, _, u in paper_rows} == dict(upvotes)
    # The edge rows: the floor is no release, a bare id is its own provider, Wan-AI's dataset is Alibaba Qwen's.
    assert ("orphan-dataset", "dataset", 2025) in actual and not any(k[0] == "edge" for k in actual)
    assert actual[("Alibaba Qwen", "dataset", 2026)] >= 1


def test_a_snapshot_without_those_files_builds_and_has_only_model_releases(built):
    _, data_dir, _ = built
    with warehouse(data_dir) as con:
        types = {t for (t,) in con.execute("select distinct repo_type from marts.fct_repo_releases").fetchall()}
        n_papers = con.execute("select count(*) from marts.fct_paper_orgs").fetchone()[0]
    assert types == {"model"} and n_papers == 0
