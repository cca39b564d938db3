"""The metric checks pass on a sound warehouse and fail, with a message naming the breakage, on a
broken one.

The sound warehouses are end-to-end builds: the hand-made snapshot (`built`), a richer hand-made
one with a crowded week and releases of tracked providers inside the heatmap window (`rich`),
and the real slice (`real_build`). Each breakage test breaks a copy of `rich` in one way, with
plain SQL on one mart, and expects exactly its check to name it; the expected numbers are
worked out by hand from the rows below, not by the marts' SQL.
"""

import datetime as dt
import hashlib
import shutil

import duckdb
import pytest

from orchestration.defs.checks import metrics
from tests.conftest import REAL_SNAPSHOT, dbt_marts, run_observatory
from tests.snapshot_fixture import FIXTURE, model, write_fixture

SNAPSHOT = "2026-06-05"
TOP_N = 10

# A crowded week (Monday 2026-05-25): twelve community models and one DeepSeek release, so the
# top 10 by likes leaves three out and the top 10 by downloads a different three. Likes tie
# at 40 (model_id decides). DeepSeek and Qwen release inside the 364-day heatmap window.
CROWDED_WEEK = "2026-05-25"
CROWDED = [
    model(f"zed/w-{i:02d}", dt.datetime(2026, 5, 25 + i % 7, 12), likes=likes, downloads=downloads)
    for i, (likes, downloads) in enumerate(
        zip([50, 40, 40, 30, 25, 20, 15, 10, 8, 5, 3, 1], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), start=1
    )
]
RICH = FIXTURE + CROWDED + [
    model("deepseek-ai/DeepSeek-R2", dt.datetime(2026, 5, 27, 9), likes=60, downloads=500),
    model("Qwen/Qwen3-Next", dt.datetime(2026, 1, 15), likes=70, downloads=800),
    model("Qwen/Qwen3-Next-FP8", dt.datetime(2026, 1, 20), likes=2, downloads=40, relation="quantized",
          parents=["Qwen/Qwen3-Next"]),
    model("zed/r2-lora", dt.datetime(2026, 5, 29), likes=1, relation="adapter", parents=["deepseek-ai/DeepSeek-R2"]),
]


@pytest.fixture(scope="session")
def rich_build(tmp_path_factory):
    root = tmp_path_factory.mktemp("rich")
    snapshot = write_fixture(root / "models.parquet", RICH)
    result = run_observatory(root / "data", "build", "--source", "file", "--file", str(snapshot),
                             "--snapshot-date", SNAPSHOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return root / "data"


def _copy(data_dir, tmp_path):
    """A private warehouse to break: the catalog, with its mart views over the lake made tables."""
    path = tmp_path / "copy.duckdb"
    shutil.copy(data_dir / "warehouse" / "observatory.duckdb", path)
    with duckdb.connect(str(path)) as con:
        for (view,) in con.execute("select view_name from duckdb_views() where schema_name = 'marts'").fetchall():
            con.execute(f"create table marts.{view}__t as select * from marts.{view}")
            con.execute(f"drop view marts.{view}")
            con.execute(f"alter table marts.{view}__t rename to {view}")
    return path


@pytest.fixture
def warehouse_copy(built, tmp_path):
    return _copy(built[1], tmp_path)


@pytest.fixture
def rich_copy(rich_build, tmp_path):
    return _copy(rich_build, tmp_path)


def _run_all(con, snapshot=SNAPSHOT):
    return {
        "ranks": metrics.rankings_are_dense(con, snapshot, TOP_N),
        "rank_order": metrics.rankings_follow_metric(con, snapshot, TOP_N),
        "ranked_weeks": metrics.ranked_weeks_present(con, snapshot),
        "download_shares": metrics.shares_sum_to_one(con, snapshot, "fct_country_download_share", "cohort"),
        "cohorts": metrics.download_cohorts_present(con, snapshot),
        "liked_shares": metrics.shares_sum_to_one(con, snapshot, "fct_top_liked_country_share", "top_n"),
        "top_n_groups": metrics.top_liked_groups_present(con, snapshot),
        "derivative_shares": metrics.shares_sum_to_one(con, snapshot, "fct_derivative_share_by_base_country", "month"),
        "monthly_derivatives": metrics.monthly_derivatives_reconcile(con, snapshot),
        "derivative_counts": metrics.derivative_counts_match_lineage(con, snapshot),
        "releases": metrics.release_counts_reconcile(con, snapshot),
        "heatmap": metrics.heatmap_matches_releases(con, snapshot),
        "lineage": metrics.lineage_is_sound(con, snapshot),
    }


def _outcomes(path, breakage=None):
    if breakage:
        with duckdb.connect(str(path)) as con:
            con.execute(breakage)
    with duckdb.connect(str(path), read_only=True) as con:
        return _run_all(con)


def _failed(outcomes):
    return sorted(name for name, outcome in outcomes.items() if not outcome.passed)


def test_every_check_passes_on_the_sound_builds(warehouse_copy, rich_copy):
    for path in (warehouse_copy, rich_copy):
        outcomes = _outcomes(path)
        assert _failed(outcomes) == []
        # Every check measured something on these builds: none passed by not applying.
        assert [name for name, outcome in outcomes.items() if not outcome.applies] == []
    # The fixture holds a two-model cycle and a merge: the closure stays acyclic.
    assert outcomes["lineage"].message.startswith("0 models are their own ancestor")


def test_every_check_passes_on_the_real_slice(real_build):
    with duckdb.connect(str(real_build / "warehouse" / "observatory.duckdb"), read_only=True) as con:
        outcomes = _run_all(con, REAL_SNAPSHOT)
    assert _failed(outcomes) == []
    assert outcomes["rank_order"].details["ranked_rows"] > 1000
    assert outcomes["top_n_groups"].details["required_groups"] == 3


def test_the_rich_fixture_is_what_the_breakages_assume(rich_copy):
    """Hand-counted facts about RICH, read from dim_models, that the expected messages rest on."""
    with duckdb.connect(str(rich_copy), read_only=True) as con:
        crowded = con.execute(
            "select count(*) from marts.dim_models where snapshot_date = ?"
            " and date_trunc('week', created_at) = cast(? as date)", [SNAPSHOT, CROWDED_WEEK]
        ).fetchone()[0]
        heatmap_releases = con.execute(
            "select provider, count(*) from marts.dim_models where snapshot_date = ? and not created_at_is_floor"
            " and cast(created_at as date) between date '2025-06-07' and date '2026-06-05'"
            " and provider in ('DeepSeek', 'Alibaba Qwen') group by 1 order by 1", [SNAPSHOT]
        ).fetchall()
    assert crowded == 14  # twelve zed/w-*, DeepSeek-R2 and zed/r2-lora
    assert heatmap_releases == [("Alibaba Qwen", 2), ("DeepSeek", 1)]


# Each breakage: the SQL, the one check that must fail, and what its message must say.
BREAKAGES = {
    "ranks reversed in the crowded week": (
        "update marts.fct_weekly_new_model_rankings set rank = 11 - rank"
        " where week_start = '2026-05-25' and metric = 'likes'",
        "rank_order",
        "10 of 84 ranked rows are out of order (metric_value desc, model_id asc) "
        "(2026-05-25 likes: deepseek-ai/DeepSeek-R2 ranked 10, should be 1; "
        "2026-05-25 likes: zed/w-01 ranked 9, should be 2; 2026-05-25 likes: zed/w-02 ranked 8, should be 3; "
        "and 7 more); 0 models of a week's top 10 by dim_models are missing; 0 ranked models are not in "
        "their week's top 10; 0 metric values differ from dim_models",
    ),
    "a higher-liked model dropped for the 11th": (
        "delete from marts.fct_weekly_new_model_rankings"
        " where week_start = '2026-05-25' and metric = 'likes' and model_id = 'deepseek-ai/DeepSeek-R2';"
        " update marts.fct_weekly_new_model_rankings set rank = rank - 1"
        " where week_start = '2026-05-25' and metric = 'likes';"
        " insert into marts.fct_weekly_new_model_rankings select * replace (10 as rank, 'zed/w-11' as model_id,"
        " 3.0 as metric_value) from marts.fct_weekly_new_model_rankings"
        " where week_start = '2026-05-25' and metric = 'likes' and rank = 9",
        "rank_order",
        "0 of 84 ranked rows are out of order (metric_value desc, model_id asc); 1 models of a week's top 10 "
        "by dim_models are missing (2026-05-25 likes: deepseek-ai/DeepSeek-R2); 1 ranked models are not in "
        "their week's top 10 (2026-05-25 likes: zed/w-11); 0 metric values differ from dim_models",
    ),
    "a metric value that is not the model's": (
        "update marts.fct_weekly_new_model_rankings set metric_value = 4000"
        " where week_start = '2024-12-23' and metric = 'downloads_30d'",
        "rank_order",
        "0 of 84 ranked rows are out of order (metric_value desc, model_id asc); 0 models of a week's top 10 "
        "by dim_models are missing; 0 ranked models are not in their week's top 10; 1 metric values differ "
        "from dim_models (2024-12-23 downloads_30d: deepseek-ai/DeepSeek-V3 4000.0 instead of 900.0)",
    ),
    "ranks with a gap": (
        "update marts.fct_weekly_new_model_rankings set rank = rank + 1 where model_id = 'qwen/lowercase-org'",
        "ranks", "4 of 48 week/metric groups have ranks that are not 1..k (k <= 10); "
                 "0 ranked models were not created in their week",
    ),
    "ranked models moved to the week before": (
        "update marts.fct_weekly_new_model_rankings set week_start = week_start - 7"
        " where model_id = 'old/legacy' or model_id = 'erin/cycle-a'",
        "ranks", "0 of 48 week/metric groups have ranks that are not 1..k (k <= 10); "
                 "4 ranked models were not created in their week",
    ),
    "a week with releases left out": (
        "delete from marts.fct_weekly_new_model_rankings where week_start = '2024-12-23'",
        "ranked_weeks",
        "4 of 48 week/metric groups with a release are not ranked (2024-12-23 downloads_30d; "
        "2024-12-23 downloads_all_time; 2024-12-23 likes; and 1 more); "
        "0 ranked week/metric groups have no release in dim_models",
    ),
    "cohort new_365d missing": (
        "delete from marts.fct_country_download_share where cohort = 'new_365d'",
        "cohorts",
        "1 of 2 cohorts with models are missing (new_365d: 18 models); 0 cohorts have no model in dim_models; "
        "0 cohorts' 30-day downloads differ from dim_models",
    ),
    "a country added to a cohort": (
        "insert into marts.fct_country_download_share select * replace ('ZZ' as country)"
        " from marts.fct_country_download_share where cohort = 'all' and rank = 1",
        "download_shares", "fct_country_download_share: 2 groups by cohort; largest |sum of shares - 1| = 0.936; "
                           "0 shares outside [0, 1]",
    ),
    "top 10 missing": (
        "delete from marts.fct_top_liked_country_share where top_n = 10",
        "top_n_groups",
        "1 of 1 required top_n groups are missing (the snapshot has 26 models with likes) (top_n 10); "
        "0 unexpected top_n values; 0 top_n/country counts differ from dim_models",
    ),
    "a top-10 model counted under the wrong country": (
        "update marts.fct_top_liked_country_share set n_models = n_models + 1 where top_n = 10 and country = 'US';"
        " update marts.fct_top_liked_country_share set n_models = n_models - 1 where top_n = 10 and country = 'CN'",
        "top_n_groups",
        "0 of 1 required top_n groups are missing (the snapshot has 26 models with likes); "
        "0 unexpected top_n values; 2 top_n/country counts differ from dim_models "
        "(top 10 CN: 2 instead of 3; top 10 US: 2 instead of 1)",
    ),
    "shares doubled": (
        "update marts.fct_top_liked_country_share set share = share * 2 where top_n = 10",
        "liked_shares", "fct_top_liked_country_share: 3 groups by top_n; largest |sum of shares - 1| = 1; "
                        "1 shares outside [0, 1]",
    ),
    "a release moved to another provider": (
        "update marts.fct_org_release_growth set n_releases = n_releases - 1 where provider = 'DeepSeek' and year = 2026;"
        " update marts.fct_org_release_growth set n_releases = n_releases + 1"
        " where provider = 'Alibaba Qwen' and year = 2026",
        "releases",
        "2 provider-years differ from dim_models (of 11 with a release) (Alibaba Qwen 2026: 3 in the mart, "
        "2 in dim_models; DeepSeek 2026: 0 in the mart, 1 in dim_models); fct_org_release_growth counts "
        "25 releases, staging has 25 non-floor models",
    ),
    "a release moved to another year": (
        "update marts.fct_org_release_growth set n_releases = n_releases - 1 where provider = 'DeepSeek' and year = 2024;"
        " update marts.fct_org_release_growth set n_releases = n_releases + 1 where provider = 'DeepSeek' and year = 2025",
        "releases",
        "2 provider-years differ from dim_models (of 11 with a release) (DeepSeek 2024: 0 in the mart, "
        "1 in dim_models; DeepSeek 2025: 1 in the mart, 0 in dim_models); fct_org_release_growth counts "
        "25 releases, staging has 25 non-floor models",
    ),
    "releases added in total": (
        "update marts.fct_org_release_growth set n_releases = n_releases + 1 where provider = 'DeepSeek'",
        "releases",
        "3 provider-years differ from dim_models (of 11 with a release) (DeepSeek 2024: 2 in the mart, "
        "1 in dim_models; DeepSeek 2025: 1 in the mart, 0 in dim_models; DeepSeek 2026: 2 in the mart, "
        "1 in dim_models); fct_org_release_growth counts 28 releases, staging has 25 non-floor models",
    ),
    "a heatmap release dropped": (
        "update marts.fct_release_heatmap set n_releases = 0 where provider = 'DeepSeek' and day = '2026-05-27'",
        "heatmap",
        "1 of 14 tracked providers have a 364-day total that differs from their releases in dim_models "
        "(DeepSeek: 0 in the heatmap, 1 releases); 1 provider-days differ; 0 tracked providers lack days of "
        "the window; 0 rows for untracked providers, 0 outside the window, 0 provider-days repeated",
    ),
    "a heatmap release moved to another day": (
        "update marts.fct_release_heatmap set n_releases = 1 - n_releases"
        " where provider = 'DeepSeek' and day in ('2026-05-26', '2026-05-27')",
        "heatmap",
        "0 of 14 tracked providers have a 364-day total that differs from their releases in dim_models; "
        "2 provider-days differ; 0 tracked providers lack days of the window; 0 rows for untracked providers, "
        "0 outside the window, 0 provider-days repeated",
    ),
    "a heatmap day missing": (
        "delete from marts.fct_release_heatmap where provider = 'Baidu' and day = '2026-01-01'",
        "heatmap",
        "0 of 14 tracked providers have a 364-day total that differs from their releases in dim_models; "
        "0 provider-days differ; 1 tracked providers lack days of the window (Baidu: 363 of 364 days); "
        "0 rows for untracked providers, 0 outside the window, 0 provider-days repeated",
    ),
    "a heatmap row for an untracked provider": (
        "insert into marts.fct_release_heatmap values ('2026-06-05', 'alice', '2026-06-01', 0)",
        "heatmap",
        "0 of 14 tracked providers have a 364-day total that differs from their releases in dim_models; "
        "0 provider-days differ; 0 tracked providers lack days of the window; 1 rows for untracked providers, "
        "0 outside the window, 0 provider-days repeated",
    ),
    "a derivative counted under the wrong relation": (
        "update marts.fct_base_model_derivatives set n_finetune = n_finetune - 1, n_quantized = n_quantized + 1"
        " where base_model_id = 'deepseek-ai/DeepSeek-V3'",
        "derivative_counts",
        "1 of 8 base models have derivative counts that differ from their direct lineage edges "
        "(deepseek-ai/DeepSeek-V3: n_finetune 1 instead of 2, n_quantized 1 instead of 0)",
    ),
    "a base model missing": (
        "delete from marts.fct_base_model_derivatives where base_model_id = 'Qwen/Qwen3-Next'",
        "derivative_counts",
        "1 of 8 base models have derivative counts that differ from their direct lineage edges "
        "(Qwen/Qwen3-Next: n_direct 0 instead of 1, n_quantized 0 instead of 1)",
    ),
    "a derivative moved to another month": (
        "update marts.fct_derivative_share_by_base_country set n_new_derivatives = n_new_derivatives + 1"
        " where month = '2025-03-01'; update marts.fct_derivative_share_by_base_country"
        " set n_new_derivatives = n_new_derivatives - 1 where month = '2026-05-01'",
        "monthly_derivatives",
        "2 of 8 months have a number of new derivatives that differs from dim_models "
        "(2025-03: 2 in the mart, 1 in dim_models; 2026-05: 0 in the mart, 1 in dim_models)",
    ),
    "a self-ancestor": (
        "insert into marts.fct_model_lineage values ('2026-06-05', 'erin/cycle-a', 'erin/cycle-a', 'finetune', 2)",
        "lineage", "1 models are their own ancestor; 0 edges have a child missing from dim_models; max depth 2 (limit 10)",
    ),
    "an orphan edge": (
        "insert into marts.fct_model_lineage values ('2026-06-05', 'ghost/model', 'alice/v3-sft', 'finetune', 3)",
        "lineage", "0 models are their own ancestor; 1 edges have a child missing from dim_models; max depth 3 (limit 10)",
    ),
}


# Breakages that another check rightly sees too, and why.
ALSO_FAILING = {
    # A model ranked 2nd alone in its week is out of order as well.
    "ranks with a gap": ["rank_order"],
    # Its old week lost a ranked model, its new week has one it should not.
    "ranked models moved to the week before": ["rank_order", "ranked_weeks"],
    "a week with releases left out": ["rank_order"],
    # The added country carries downloads the cohort's models do not have.
    "a country added to a cohort": ["cohorts"],
}


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_a_broken_mart_fails_its_check(rich_copy, breakage):
    sql, check, message = BREAKAGES[breakage]
    sound = _outcomes(rich_copy)[check]
    outcomes = _outcomes(rich_copy, sql)
    assert _failed(outcomes) == sorted([check, *ALSO_FAILING.get(breakage, [])])
    assert outcomes[check].message == message
    assert outcomes[check].value > sound.value


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


def test_checks_without_anything_to_measure_do_not_apply(warehouse_copy):
    """A snapshot date with no rows at all: every check passes, says why, and reports no value."""
    from orchestration.defs.checks.assets import check_metadata

    with duckdb.connect(str(warehouse_copy), read_only=True) as con:
        outcomes = {**_run_all(con, "2020-01-01"), "coverage": metrics.label_coverage(con, "2020-01-01", 0.5)}
    # Lineage measures 0 problems on an empty closure: that is a measurement, not "does not apply".
    assert [n for n, o in outcomes.items() if o.applies] == ["lineage"]
    for name, outcome in outcomes.items():
        assert outcome.passed, name
        if not outcome.applies:
            assert outcome.message.startswith("does not apply: "), name
            assert "value" not in check_metadata(outcome), name
    assert outcomes["rank_order"].message == "does not apply: the snapshot 2020-01-01 has no release to rank"
    assert outcomes["heatmap"].message == "does not apply: the snapshot 2020-01-01 has no model"
    assert outcomes["coverage"].message == ("does not apply: new models of 2020-01-01 have no 30-day downloads "
                                            "to label")


def _manifest(date, source, rows, synthetic=False):
    return {"snapshot_date": date, "source": source, "rows": rows, "synthetic": synthetic}


def test_volume_drift_compares_within_one_source_only():
    from orchestration.defs.checks.assets import check_metadata

    sample = _manifest("2026-06-01", "sample", 20_000, synthetic=True)
    file = _manifest("2026-06-05", "file", 4_167)
    # A file after a sample is no drift: nothing of the same source to compare with.
    across = metrics.volume_drift(file, [sample, file], 0.25)
    assert across.passed and across.value is None and "value" not in check_metadata(across)
    assert across.message == ("does not apply: no stored snapshot before 2026-06-05 from source file "
                              "to compare its 4167 rows with")
    # The same source a week later, doubled: drift.
    later = _manifest("2026-06-12", "file", 8_334)
    drift = metrics.volume_drift(later, [sample, file, later], 0.25)
    assert not drift.passed and drift.value == 1.0
    assert drift.message.startswith("8334 rows against 4167 on 2026-06-05 (source file): +100.0% (band +-25%)")
    # Compared with the previous one of its source, not with the newest of any source.
    steady = _manifest("2026-06-20", "file", 8_000)
    other = _manifest("2026-06-15", "sample", 20_000, synthetic=True)
    within = metrics.volume_drift(steady, [sample, file, later, other, steady], 0.25)
    assert within.passed and within.details["previous_snapshot_date"] == "2026-06-12"
    # A synthetic file does not drift against a real one.
    synthetic_file = _manifest("2026-06-25", "file", 100, synthetic=True)
    assert metrics.volume_drift(synthetic_file, [file, later, synthetic_file], 0.25).value is None


def test_freshness_applies_to_the_newest_live_snapshot_only():
    from orchestration.defs.checks.assets import check_metadata

    today = dt.date(2026, 6, 10)
    old = _manifest("2026-06-01", "hub_stats", 10)
    new = _manifest("2026-06-08", "hub_stats", 10)
    assert metrics.freshness(new, [old, new], 3, today).passed
    # A historic date built on purpose: not applicable, no value.
    historic = metrics.freshness(old, [old, new], 3, today)
    assert historic.passed and historic.value is None and "value" not in check_metadata(historic)
    assert historic.message == ("does not apply: snapshot 2026-06-01 is historic: "
                                "the newest stored live snapshot is 2026-06-08")
    # The newest live snapshot, stale: warns, even when a fixed input of a later date is stored.
    sample = _manifest("2026-06-09", "sample", 10, synthetic=True)
    stale = metrics.freshness(_manifest("2026-06-01", "api", 10), [old, sample], 3, today)
    assert not stale.passed and stale.value == 9
    assert stale.message.startswith("snapshot 2026-06-01 (api) is 9 days old (limit 3)")
    fixed = metrics.freshness(sample, [old, sample], 3, today)
    assert fixed.passed and fixed.value is None
    assert fixed.message == "does not apply: source sample is a fixed input, not a live one"


def test_metric_checks_that_guard_marts_block_and_the_others_warn():
    from orchestration.defs import build_definitions
    from orchestration.defs.checks.assets import metric_checks

    graph = build_definitions().resolve_asset_graph()
    ours = [key for check in metric_checks for key in check.check_keys]
    assert {(key.asset_key.to_user_string(), key.name): graph.get_check_spec(key).blocking for key in ours} == {
        ("marts/fct_weekly_new_model_rankings", "ranks_dense_within_week"): True,
        ("marts/fct_weekly_new_model_rankings", "ranks_follow_metric"): True,
        ("marts/fct_weekly_new_model_rankings", "ranked_weeks_present"): True,
        ("marts/fct_country_download_share", "shares_sum_to_one"): True,
        ("marts/fct_country_download_share", "cohorts_present"): True,
        ("marts/fct_top_liked_country_share", "shares_sum_to_one"): True,
        ("marts/fct_top_liked_country_share", "top_n_groups_present"): True,
        ("marts/fct_derivative_share_by_base_country", "shares_sum_to_one"): True,
        ("marts/fct_derivative_share_by_base_country", "monthly_derivatives_reconcile"): True,
        ("marts/fct_release_size_mix", "shares_sum_to_one"): True,
        ("marts/fct_modality_mix", "shares_sum_to_one"): True,
        ("marts/fct_license_mix", "shares_sum_to_one"): True,
        ("marts/fct_base_model_derivatives", "derivative_counts_match_lineage"): True,
        ("marts/fct_org_release_growth", "releases_reconcile_with_staging"): True,
        ("marts/fct_release_heatmap", "heatmap_matches_releases"): True,
        ("marts/fct_model_lineage", "lineage_acyclic_and_bounded"): True,
        ("marts/fct_country_download_share", "label_coverage_of_new_downloads"): False,
        ("huggingface/models", "volume_within_band"): False,
        ("huggingface/models", "snapshot_is_fresh"): False,
        ("marts/fct_relative_adoption", "adoption_baselines_non_decreasing"): True,
        ("marts/fct_provider_period_downloads", "shares_sum_to_one"): True,
        ("marts/fct_country_period_download_share", "shares_sum_to_one"): True,
        ("marts/fct_model_period_downloads", "period_downloads_reconcile"): True,
        ("marts/fct_model_period_downloads", "no_period_rows_without_a_period"): True,
        ("marts/fct_concentration", "concentration_in_bounds"): True,
    }


def _sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_failing_blocking_check_stops_publication(tmp_path, monkeypatch):
    """Through the real job, twice: a sound build publishes; a rebuild whose scratch warehouse gets
    its ranks reversed after dbt wrote it fails ranks_follow_metric, never publishes, and leaves the
    published snapshot and the catalog byte for byte as they were."""
    from orchestration.defs import build_definitions
    from orchestration.defs.transform import project
    from orchestration.lib.publish import scratch_path

    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DUCKDB_PATH", raising=False)
    partition = "2026-01-20"
    run_config = {"ops": {"ingest_snapshot": {"config": {"source": "sample", "sample_rows": 300}}}}

    import dagster as dg

    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("snapshot_date", [partition])
    sound = build_definitions().resolve_job_def("refresh_snapshot").execute_in_process(
        partition_key=partition, run_config=run_config, instance=instance)
    assert sound.success
    published = tmp_path / "data" / "warehouse" / "observatory.duckdb"
    folder = tmp_path / "data" / "warehouse" / "lake" / f"snapshot_date={partition}"

    def published_state():
        return _sha256(published), sorted((p.name, _sha256(p)) for p in folder.glob("*.parquet")), folder.resolve()

    published_before = published_state()
    assert len(published_before[1]) == len(dbt_marts())

    reversed_group = {}

    def reverse_the_largest_ranked_group(candidate):
        """The week/metric group with most ranked models gets its ranks reversed: 1 <-> k."""
        with duckdb.connect(str(candidate)) as con:
            week, metric, k = con.execute(
                "select week_start, metric, count(*) from marts.fct_weekly_new_model_rankings"
                " where snapshot_date = ? group by all order by 3 desc, 1, 2 limit 1", [partition]
            ).fetchone()
            con.execute(
                "update marts.fct_weekly_new_model_rankings set rank = ? + 1 - rank"
                " where snapshot_date = ? and week_start = ? and metric = ?", [k, partition, week, metric]
            )
            reversed_group.update(week=week, metric=metric, k=k,
                                  n=con.execute("select count(*) from marts.fct_weekly_new_model_rankings"
                                                " where snapshot_date = ?", [partition]).fetchone()[0])

    class CorruptingInvocation:
        def __init__(self, invocation, candidate):
            self.invocation, self.candidate = invocation, candidate

        def stream(self):
            yield from self.invocation.stream()
            self.invocation.process.wait()  # dbt has let go of the candidate
            reverse_the_largest_ranked_group(self.candidate)

    class CorruptingDbt(project.ObservatoryDbtCli):
        """dbt as usual; then the ranks of the candidate it wrote are corrupted."""

        def cli(self, args, **kwargs):
            invocation = super().cli(args, **kwargs)
            run_id = kwargs["context"].run.run_id
            # Inside dbt.cli the environment points DUCKDB_PATH at the scratch: name it from the published path.
            return CorruptingInvocation(invocation, scratch_path(published, run_id))

    monkeypatch.setattr(project, "dbt_resource", lambda: CorruptingDbt(
        project_dir=project.dbt_project(), dbt_executable=project.dbt_executable()))
    broken = build_definitions().resolve_job_def("refresh_snapshot").execute_in_process(
        partition_key=partition, run_config=run_config, raise_on_error=False, instance=instance)

    assert not broken.success
    k, n = reversed_group["k"], reversed_group["n"]
    assert k >= 2, "the sample needs a week with two ranked models"
    out_of_order = k - k % 2  # the middle of an odd group keeps its rank
    evaluations = broken.get_asset_check_evaluations()
    failed = [e for e in evaluations if not e.passed]
    assert [(e.asset_key.to_user_string(), e.check_name) for e in failed] == [
        ("marts/fct_weekly_new_model_rankings", "ranks_follow_metric")
    ]
    [failure] = failed
    assert failure.description.startswith(
        f"{out_of_order} of {n} ranked rows are out of order (metric_value desc, model_id asc) "
        f"({reversed_group['week']} {reversed_group['metric']}: "
    )
    assert failure.description.endswith(
        "0 models of a week's top 10 by dim_models are missing; 0 ranked models are not in their week's "
        "top 10; 0 metric values differ from dim_models. The warehouse is not published until "
        "marts.fct_weekly_new_model_rankings agrees: fix dbt_project/models/marts/fct_weekly_new_model_rankings.sql "
        "or the data it reads, then build again"
    )
    metadata = {key: value.value for key, value in failure.metadata.items()}
    assert metadata["value"] == out_of_order and metadata["threshold"] == 0
    assert metadata["out_of_order"] == out_of_order and metadata["missing_from_top"] == 0
    # The dense-ranks check does not see a reversal; the one that does is the one that failed.
    dense = next(e for e in evaluations if e.check_name == "ranks_dense_within_week")
    assert dense.passed
    # The sample is a fixed input: freshness does not apply, and says so without a value.
    fresh = next(e for e in evaluations if e.check_name == "snapshot_is_fresh")
    assert fresh.passed and "value" not in fresh.metadata
    assert fresh.description == "does not apply: source sample is a fixed input, not a live one"

    started = {e.step_key for e in broken.all_events if e.event_type_value == "STEP_START"}
    assert "observatory_dbt" in started and "warehouse__published" not in started
    assert published_state() == published_before


# fct_relative_adoption by hand: class 1-9B has 11 models at 7 days (10th largest 20) and 3 at 14 days
# (smallest 5, raised to 20 by the running max); class under_1B has one model whose baseline is 0.
ADOPTION_ROWS = [
    *[("1-9B", 7, value, 20.0, value / 20) for value in range(10, 111, 10)],
    *[("1-9B", 14, value, 20.0, value / 20) for value in (5, 30, 90)],
    ("under_1B", 7, 0, 0.0, None),
]


def _adoption_warehouse(path, rows=ADOPTION_ROWS):
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.fct_relative_adoption (snapshot_date date, model_id varchar, checkpoint_days integer,"
                    " size_class varchar, cumulative_downloads double, baseline double, ram double)")
        con.executemany("insert into marts.fct_relative_adoption values (?, ?, ?, ?, ?, ?, ?)",
                        [(SNAPSHOT, f"m/{i}", days, size_class, value, baseline, ram)
                         for i, (size_class, days, value, baseline, ram) in enumerate(rows)])
    return duckdb.connect(str(path), read_only=True)


def test_adoption_baselines_hold_on_a_sound_table(tmp_path):
    with _adoption_warehouse(tmp_path / "sound.duckdb") as con:
        outcome = metrics.adoption_baselines_non_decreasing(con, SNAPSHOT)
        other_day = metrics.adoption_baselines_non_decreasing(con, "2020-01-01")
    assert outcome.passed and outcome.value == 0
    assert outcome.details == {"groups": 3, "rows": 15, "rows_with_bad_ram": 0}
    assert not other_day.applies and other_day.message == "does not apply: fct_relative_adoption has no row for 2020-01-01"


@pytest.mark.parametrize("breakage, problems, phrase", [
    # the 14-day baseline left at the class's smallest (5) instead of the running max (20): a decrease,
    # and not the running max; ram follows the wrong baseline so it still equals cumulative / baseline
    ("update marts.fct_relative_adoption set baseline = 5, ram = cumulative_downloads / 5 where checkpoint_days = 14",
     2, "1 checkpoints lower (or split) their size class's baseline (1-9B at 14 days: 5.0 after 20.0)"),
    # the 9th largest (30) taken at 7 days, raising 14 days by the running max too: two mismatches, no decrease
    ("update marts.fct_relative_adoption set baseline = 30, ram = cumulative_downloads / 30 where size_class = '1-9B'",
     2, "; 2 baselines differ from the running max of the 10th largest cumulative (1-9B at 7 days: 30.0, expected 20.0"),
    # a ram off by one row, and a ram where the baseline is 0
    ("update marts.fct_relative_adoption set ram = 1.5 where cumulative_downloads in (10, 0)",
     2, "; 2 of 15 rows have ram other than cumulative / baseline"),
])
def test_adoption_baselines_check_catches(tmp_path, breakage, problems, phrase):
    path = tmp_path / "broken.duckdb"
    _adoption_warehouse(path).close()
    with duckdb.connect(str(path)) as con:
        con.execute(breakage)
    with duckdb.connect(str(path), read_only=True) as con:
        outcome = metrics.adoption_baselines_non_decreasing(con, SNAPSHOT)
    assert not outcome.passed and outcome.value == problems
    assert phrase in outcome.message
# --- period (trend) marts: a small hand-made warehouse -----------------------------------------------

PERIOD = "2026-01-15"
# Period downloads of three models: a (created 2025-06-01, new) 70, b (2024) 30, c (floor) 10 = 110;
# new models: 70. Providers P1 (a, c) 80 and P2 (b) 30; countries CN (a) 70 and unknown 40.
PERIOD_TABLES = f"""
create schema marts;
create table marts.dim_snapshots as
    select date '{PERIOD}' as snapshot_date, false as is_stalled, 15.7 as hub_period_downloads_per_day;
create table marts.dim_models as select * from (values
    (date '{PERIOD}', 'x/a', timestamp '2025-06-01 00:00:00', false),
    (date '{PERIOD}', 'y/b', timestamp '2024-01-01 00:00:00', false),
    (date '{PERIOD}', 'x/c', timestamp '2022-03-02 23:29:04', true)
) as t(snapshot_date, model_id, created_at, created_at_is_floor);
create table marts.fct_model_period_downloads as select * from (values
    (date '{PERIOD}', 'x/a', 70), (date '{PERIOD}', 'y/b', 30), (date '{PERIOD}', 'x/c', 10)
) as t(snapshot_date, model_id, downloads);
create table marts.fct_provider_period_downloads as select * from (values
    (date '{PERIOD}', 'P1', 80, 80 / 110), (date '{PERIOD}', 'P2', 30, 30 / 110)
) as t(snapshot_date, provider, downloads, share);
create table marts.fct_country_period_download_share as select * from (values
    (date '{PERIOD}', 'all', 'CN', 70, 70 / 110), (date '{PERIOD}', 'all', 'unknown', 40, 40 / 110),
    (date '{PERIOD}', 'new_365d', 'CN', 70, 1.0)
) as t(snapshot_date, cohort, country, downloads, share);
create table marts.fct_concentration as select * from (values
    (date '{PERIOD}', 'period_downloads', 'provider', 2, 0.55::double, 0.2272727::double, 0.7272727::double, 1e0),
    (date '{PERIOD}', 'downloads_30d', 'org', 1, 1e0, 0e0, 1e0, 1e0)
) as t(snapshot_date, measure, unit, n_units, hhi, gini, top1_share, top10_share);
"""


def _period_outcomes(breakage=None, snapshot=PERIOD):
    con = duckdb.connect()
    con.execute(PERIOD_TABLES)
    if breakage:
        con.execute(breakage)
    return {
        "reconcile": metrics.period_downloads_reconcile(con, snapshot),
        "no_period_rows": metrics.no_period_rows_without_a_period(con, snapshot),
        "concentration": metrics.concentration_in_bounds(con, snapshot),
        "provider_shares": metrics.shares_sum_to_one(con, snapshot, "fct_provider_period_downloads", "snapshot_date"),
        "country_shares": metrics.shares_sum_to_one(con, snapshot, "fct_country_period_download_share", "cohort"),
    }


def test_period_checks_pass_on_a_sound_period():
    outcomes = _period_outcomes()
    assert _failed(outcomes) == []
    assert [name for name, outcome in outcomes.items() if not outcome.applies] == ["no_period_rows"]
    assert outcomes["reconcile"].details == {"period_downloads": 110, "breakdowns_differing": 0}
    assert outcomes["reconcile"].message.startswith("period downloads: 110 over models, 70 over new models; 0 of 3")


@pytest.mark.parametrize("breakage, failed, message", [
    ("update marts.fct_provider_period_downloads set downloads = 81 where provider = 'P1'",
     ["reconcile"], "providers: 111 instead of 110"),
    ("update marts.fct_country_period_download_share set downloads = 60 where cohort = 'new_365d'",
     ["reconcile"], "countries (cohort new_365d): 60 instead of 70"),
    ("update marts.dim_models set created_at = timestamp '2025-01-15 00:00:00' where model_id = 'x/a'",
     ["reconcile"], "countries (cohort new_365d): 70 instead of 0"),
    ("update marts.fct_provider_period_downloads set share = 0.6 where provider = 'P1'",
     ["provider_shares"], "largest |sum of shares - 1| = 0.127"),
    ("update marts.fct_country_period_download_share set share = 0.9 where cohort = 'new_365d'",
     ["country_shares"], "largest |sum of shares - 1| = 0.1"),
    ("update marts.fct_concentration set hhi = 0.4 where unit = 'provider'",
     ["concentration"], "1 of 2 concentration rows out of bounds"),
    ("update marts.fct_concentration set gini = 1.0 where unit = 'org'",
     ["concentration"], "(downloads_30d by org: n=1 hhi=1 gini=1)"),
    ("update marts.dim_snapshots set is_stalled = true",
     ["no_period_rows"], "is stalled; 9 period rows where none belong"),
    ("update marts.dim_snapshots set hub_period_downloads_per_day = null",
     ["no_period_rows"], "is without a period; 9 period rows where none belong"),
])
def test_a_broken_period_mart_fails_its_check(breakage, failed, message):
    outcomes = _period_outcomes(breakage)
    assert _failed(outcomes) == failed
    assert message in outcomes[failed[0]].message


def test_period_checks_without_a_period_do_not_apply_and_a_stall_has_no_rows():
    emptied = ";".join(f"delete from marts.{t}" for t in (
        "fct_model_period_downloads", "fct_provider_period_downloads", "fct_country_period_download_share",
        "fct_concentration")) + "; update marts.dim_snapshots set is_stalled = true"
    outcomes = _period_outcomes(emptied)
    assert _failed(outcomes) == []
    assert [name for name, outcome in outcomes.items() if outcome.applies] == ["no_period_rows"]
    assert outcomes["no_period_rows"].value == 0
    assert outcomes["reconcile"].message == f"does not apply: the snapshot {PERIOD} has no period downloads"
    assert _period_outcomes(snapshot="2020-01-01")["no_period_rows"].message == (
        "does not apply: the snapshot 2020-01-01 is not in dim_snapshots")
