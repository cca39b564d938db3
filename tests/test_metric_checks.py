"""The metric checks pass on a sound warehouse and fail, with a clear message, on a broken one.

The warehouse is the end-to-end build of the hand-made snapshot; each test breaks a copy of it.
"""

import datetime as dt
import shutil

import duckdb
import pytest

from orchestration.defs.checks import metrics

SNAPSHOT = "2026-06-05"


@pytest.fixture
def warehouse_copy(built, tmp_path):
    _, data_dir, _ = built
    path = tmp_path / "copy.duckdb"
    shutil.copy(data_dir / "warehouse" / "observatory.duckdb", path)
    return path


def _run_all(con):
    return {
        "ranks": metrics.rankings_are_dense(con, SNAPSHOT, 10),
        "download_shares": metrics.shares_sum_to_one(con, SNAPSHOT, "fct_country_download_share", "cohort"),
        "liked_shares": metrics.shares_sum_to_one(con, SNAPSHOT, "fct_top_liked_country_share", "top_n"),
        "derivative_shares": metrics.shares_sum_to_one(con, SNAPSHOT, "fct_derivative_share_by_base_country", "month"),
        "releases": metrics.release_counts_reconcile(con, SNAPSHOT),
        "lineage": metrics.lineage_is_sound(con, SNAPSHOT),
    }


def test_every_check_passes_on_the_sound_build(warehouse_copy):
    with duckdb.connect(str(warehouse_copy), read_only=True) as con:
        outcomes = _run_all(con)
    assert {name: o.passed for name, o in outcomes.items()} == dict.fromkeys(outcomes, True)
    # The fixture holds a two-model cycle and a merge: the closure stays acyclic.
    assert outcomes["lineage"].message.startswith("0 models are their own ancestor")


@pytest.mark.parametrize(
    "breakage, check, message",
    [
        ("insert into marts.fct_model_lineage values ('2026-06-05', 'erin/cycle-a', 'erin/cycle-a', 'finetune', 2)",
         "lineage", "1 models are their own ancestor"),
        ("insert into marts.fct_model_lineage values ('2026-06-05', 'ghost/model', 'alice/v3-sft', 'finetune', 1)",
         "lineage", "1 edges have a child missing from dim_models"),
        ("update marts.fct_weekly_new_model_rankings set rank = rank + 1 where model_id = 'qwen/lowercase-org'",
         "ranks", "4 of "),
        ("update marts.fct_weekly_new_model_rankings set week_start = week_start - 7"
         " where model_id = 'old/legacy' or model_id = 'erin/cycle-a'", "ranks", "ranked models were not created"),
        ("insert into marts.fct_country_download_share select * replace ('ZZ' as country)"
         " from marts.fct_country_download_share where cohort = 'all' and rank = 1", "download_shares", "largest"),
        ("update marts.fct_top_liked_country_share set share = share * 2 where top_n = 10", "liked_shares",
         "outside [0, 1]"),
        ("update marts.fct_org_release_growth set n_releases = n_releases + 1 where provider = 'DeepSeek'",
         "releases", "counts 12 releases, staging has 9 non-floor models"),
    ],
)
def test_a_broken_mart_fails_its_check(warehouse_copy, breakage, check, message):
    with duckdb.connect(str(warehouse_copy)) as con:
        con.execute(breakage)
    with duckdb.connect(str(warehouse_copy), read_only=True) as con:
        outcome = _run_all(con)[check]
    assert not outcome.passed
    assert message in outcome.message


def test_label_coverage_volume_drift_and_freshness():
    assert metrics.volume_drift(110, 100, 0.25).passed
    drift = metrics.volume_drift(200, 100, 0.25)
    assert not drift.passed and drift.value == 1.0 and "+100.0%" in drift.message
    assert metrics.volume_drift(100, None, 0.25).passed

    today = dt.date(2026, 6, 10)
    assert metrics.freshness("2026-06-08", "hub_stats", 3, today).passed
    stale = metrics.freshness("2026-06-01", "api", 3, today)
    assert not stale.passed and stale.value == 9
    assert metrics.freshness("2020-01-01", "sample", 3, today).passed


def test_label_coverage_is_measured_on_new_downloads(warehouse_copy):
    with duckdb.connect(str(warehouse_copy), read_only=True) as con:
        known, total = con.execute(
            "select sum(downloads_30d) filter (where label_source <> 'unknown'), sum(downloads_30d)"
            " from marts.dim_models where snapshot_date = ? and not created_at_is_floor"
            " and created_at >= date '2026-06-05' - interval 364 day", [SNAPSHOT]
        ).fetchone()
        outcome = metrics.label_coverage(con, SNAPSHOT, 0.5)
        strict = metrics.label_coverage(con, SNAPSHOT, 1.01)
    assert outcome.value == pytest.approx(known / total) and outcome.passed
    assert not strict.passed and "map more orgs" in strict.message


def test_a_failing_blocking_check_stops_publication(tmp_path, monkeypatch):
    """Through the real job: the marts are built, a blocking check fails, nothing is published."""
    from orchestration.defs import build_definitions
    from orchestration.defs.checks import assets as check_assets

    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DUCKDB_PATH", raising=False)
    monkeypatch.setattr(
        check_assets.metrics, "rankings_are_dense",
        lambda con, snapshot_date, top_n: metrics.Outcome(False, 3, 0, "3 week/metric groups have gaps"),
    )
    job = build_definitions().resolve_job_def("refresh_snapshot")
    result = job.execute_in_process(
        partition_key="2026-01-20", raise_on_error=False,
        run_config={"ops": {"ingest_snapshot": {"config": {"source": "sample", "sample_rows": 300}}}},
    )
    assert not result.success
    failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert [(e.check_name, e.description) for e in failed] == [
        ("ranks_dense_within_week", "3 week/metric groups have gaps")
    ]
    succeeded = {e.step_key for e in result.all_events if e.event_type_value == "STEP_SUCCESS"}
    assert "observatory_dbt" in succeeded and "warehouse__published" not in succeeded
    assert not (tmp_path / "data" / "warehouse" / "observatory.duckdb").exists()
