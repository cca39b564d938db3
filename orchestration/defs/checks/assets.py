"""Dagster asset checks that validate the metrics users read, per snapshot date.

Each opens the run's candidate warehouse read-only (dbt is its only writer) and reports the
measured value and threshold as metadata, with a sentence a user can act on. A check that does not
apply to the snapshot passes, says why, and carries no value. Checks guarding what users read are
blocking: a failure stops the assets downstream of the checked one, publication included.
Coverage, drift and freshness only warn.
"""

import dataclasses
import warnings

import dagster as dg
import duckdb

from orchestration.defs.checks import metrics
from orchestration.defs.partitions import snapshot_partitions
from orchestration.lib.publish import readable_path
from orchestration.lib.snapshot_store import SnapshotStore
from orchestration.settings import Settings

warnings.filterwarnings("ignore", message=".*partitions_def on an AssetCheckSpec.*")


def _mart(name: str) -> dg.AssetKey:
    return dg.AssetKey(["marts", name])


def check_metadata(outcome: metrics.Outcome) -> dict:
    """The measured value and threshold, and the counts behind them; no value when the check does not apply."""
    metadata = {"value": outcome.value, "threshold": outcome.threshold, **outcome.details}
    return {key: value for key, value in metadata.items() if value is not None}


def _result(outcome: metrics.Outcome, severity=dg.AssetCheckSeverity.ERROR) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=outcome.passed,
        severity=severity,
        description=outcome.message,
        metadata=check_metadata(outcome),
    )


def _blocking(context: dg.AssetCheckExecutionContext, outcome: metrics.Outcome) -> dg.AssetCheckResult:
    """A blocking check's result; when it fails, the description says what it holds back and where to look."""
    if not outcome.passed:
        mart = context.check_specs[0].asset_key.path[-1]
        outcome = dataclasses.replace(outcome, message=(
            f"{outcome.message}. The warehouse is not published until marts.{mart} agrees: fix "
            f"dbt_project/models/marts/{mart}.sql or the data it reads, then build again"
        ))
    return _result(outcome)


def _warehouse(settings: Settings, context: dg.AssetCheckExecutionContext) -> duckdb.DuckDBPyConnection:
    """The warehouse this run built (not yet published), read-only."""
    return duckdb.connect(str(readable_path(settings.duckdb_path, context.run.run_id)), read_only=True)


def _check(asset: str, name: str, description: str, blocking: bool = True):
    return dg.asset_check(
        asset=_mart(asset), name=name, description=description, blocking=blocking,
        partitions_def=snapshot_partitions,
    )


@_check("fct_weekly_new_model_rankings", "ranks_dense_within_week",
        "Ranks are 1..k with k <= N per week and metric, and every ranked model was created that week.")
def ranks_dense_within_week(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    settings = Settings.from_env()
    with _warehouse(settings, context) as con:
        return _blocking(context, metrics.rankings_are_dense(con, context.partition_key, settings.weekly_top_n))


@_check("fct_weekly_new_model_rankings", "ranks_follow_metric",
        "Ranks follow metric_value desc, model_id asc, and each week's ranked models are exactly its top N "
        "recomputed from dim_models.")
def ranks_follow_metric(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    settings = Settings.from_env()
    with _warehouse(settings, context) as con:
        return _blocking(context, metrics.rankings_follow_metric(con, context.partition_key, settings.weekly_top_n))


@_check("fct_weekly_new_model_rankings", "ranked_weeks_present",
        "Every week with a (non-floor) release is ranked by every metric, and no other week is.")
def ranked_weeks_present(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    with _warehouse(Settings.from_env(), context) as con:
        return _blocking(context, metrics.ranked_weeks_present(con, context.partition_key))


def _share_check(asset: str, group_by: str):
    @_check(asset, "shares_sum_to_one", f"Shares are in [0, 1] and sum to 1 (+-1e-9) per {group_by}.")
    def shares_sum_to_one(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        with _warehouse(Settings.from_env(), context) as con:
            return _blocking(context, metrics.shares_sum_to_one(con, context.partition_key, asset, group_by))

    return shares_sum_to_one


download_shares = _share_check("fct_country_download_share", "cohort")
top_liked_shares = _share_check("fct_top_liked_country_share", "top_n")
derivative_shares = _share_check("fct_derivative_share_by_base_country", "month")


@_check("fct_country_download_share", "cohorts_present",
        "Cohorts all and new_365d are present when they have models, and each holds its models' downloads.")
def download_cohorts_present(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    with _warehouse(Settings.from_env(), context) as con:
        return _blocking(context, metrics.download_cohorts_present(con, context.partition_key))


@_check("fct_top_liked_country_share", "top_n_groups_present",
        "Each top_n in 10, 50, 100 is present once the snapshot has that many models with likes, and counts "
        "the label countries of the top_n most-liked models.")
def top_n_groups_present(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    with _warehouse(Settings.from_env(), context) as con:
        return _blocking(context, metrics.top_liked_groups_present(con, context.partition_key))


@_check("fct_release_heatmap", "heatmap_matches_releases",
        "Every tracked provider has all 364 days of the window, with its releases per day from dim_models.")
def heatmap_matches_releases(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    with _warehouse(Settings.from_env(), context) as con:
        return _blocking(context, metrics.heatmap_matches_releases(con, context.partition_key))


@_check("fct_base_model_derivatives", "derivative_counts_match_lineage",
        "Direct derivatives per base model, by relation, equal its direct lineage edges (depth 1).")
def derivative_counts_match_lineage(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    with _warehouse(Settings.from_env(), context) as con:
        return _blocking(context, metrics.derivative_counts_match_lineage(con, context.partition_key))


@_check("fct_derivative_share_by_base_country", "monthly_derivatives_reconcile",
        "New derivatives per month equal the non-floor models with a parent created that month.")
def monthly_derivatives_reconcile(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    with _warehouse(Settings.from_env(), context) as con:
        return _blocking(context, metrics.monthly_derivatives_reconcile(con, context.partition_key))


@_check("fct_org_release_growth", "releases_reconcile_with_staging",
        "The releases per provider and year equal the non-floor models per provider and creation year.")
def releases_reconcile_with_staging(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    with _warehouse(Settings.from_env(), context) as con:
        return _blocking(context, metrics.release_counts_reconcile(con, context.partition_key))


@_check("fct_model_lineage", "lineage_acyclic_and_bounded",
        "No model is its own ancestor, every edge's child exists in dim_models, depth <= 10.")
def lineage_acyclic_and_bounded(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    with _warehouse(Settings.from_env(), context) as con:
        return _blocking(context, metrics.lineage_is_sound(con, context.partition_key))


@_check("fct_country_download_share", "label_coverage_of_new_downloads",
        "Share of new models' 30-day downloads with a known label country (warns below LABEL_COVERAGE_MIN).",
        blocking=False)
def label_coverage_of_new_downloads(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    settings = Settings.from_env()
    with _warehouse(settings, context) as con:
        outcome = metrics.label_coverage(con, context.partition_key, settings.label_coverage_min)
    return _result(outcome, dg.AssetCheckSeverity.WARN)


def _raw_check(name: str, description: str):
    return dg.asset_check(
        asset=dg.AssetKey(["huggingface", "models"]), name=name, description=description,
        partitions_def=snapshot_partitions,
    )


def _manifests(settings: Settings, snapshot_date: str) -> tuple[dict, list[dict]]:
    """The manifest of this snapshot and those of every stored snapshot."""
    stored = [s.manifest for s in SnapshotStore(settings.raw_models_dir).list()]
    return next(m for m in stored if m["snapshot_date"] == snapshot_date), stored


@_raw_check("volume_within_band",
            "Rows against the previous stored snapshot of the same source and synthetic-ness stay within "
            "+-VOLUME_DRIFT_BAND (warns).")
def volume_within_band(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    settings = Settings.from_env()
    current, stored = _manifests(settings, context.partition_key)
    return _result(metrics.volume_drift(current, stored, settings.volume_drift_band), dg.AssetCheckSeverity.WARN)


@_raw_check("snapshot_is_fresh",
            "The newest stored snapshot of a live source (hub_stats, api) is at most FRESHNESS_MAX_AGE_DAYS old "
            "(warns); fixed inputs and historic dates do not apply.")
def snapshot_is_fresh(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    settings = Settings.from_env()
    current, stored = _manifests(settings, context.partition_key)
    outcome = metrics.freshness(current, stored, settings.freshness_max_age_days)
    return _result(outcome, dg.AssetCheckSeverity.WARN)


metric_checks = [
    ranks_dense_within_week, ranks_follow_metric, ranked_weeks_present,
    download_shares, download_cohorts_present, top_liked_shares, top_n_groups_present,
    derivative_shares, monthly_derivatives_reconcile, derivative_counts_match_lineage,
    releases_reconcile_with_staging, heatmap_matches_releases, lineage_acyclic_and_bounded,
    label_coverage_of_new_downloads, volume_within_band, snapshot_is_fresh,
]


# --- period (trend) marts ------------------------------------------------------------------------

provider_period_shares = _share_check("fct_provider_period_downloads", "snapshot_date")
country_period_shares = _share_check("fct_country_period_download_share", "cohort")


@_check("fct_model_period_downloads", "period_downloads_reconcile",
        "Period downloads summed over models equal the sums over providers and over countries (cohort all), "
        "and cohort new_365d equals the period downloads of the new models in dim_models.")
def period_downloads_reconcile(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    with _warehouse(Settings.from_env(), context) as con:
        return _blocking(context, metrics.period_downloads_reconcile(con, context.partition_key))


@_check("fct_model_period_downloads", "no_period_rows_without_a_period",
        "A stalled snapshot, or one without a period, has no rows in the period marts.")
def no_period_rows_without_a_period(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    with _warehouse(Settings.from_env(), context) as con:
        return _blocking(context, metrics.no_period_rows_without_a_period(con, context.partition_key))


@_check("fct_concentration", "concentration_in_bounds",
        "Every row has 1/n <= hhi <= 1, 0 <= gini < 1 and 1/n <= top1_share <= top10_share <= 1.")
def concentration_in_bounds(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    with _warehouse(Settings.from_env(), context) as con:
        return _blocking(context, metrics.concentration_in_bounds(con, context.partition_key))


metric_checks += [
    provider_period_shares, country_period_shares, period_downloads_reconcile,
    no_period_rows_without_a_period, concentration_in_bounds,
]
@_check("fct_relative_adoption", "adoption_baselines_non_decreasing",
        "Per size class the baseline never decreases with checkpoint_days and is the running max of the 10th "
        "largest cumulative downloads; ram = cumulative / baseline (null when the baseline is 0).")
def adoption_baselines_non_decreasing(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    with _warehouse(Settings.from_env(), context) as con:
        return _blocking(context, metrics.adoption_baselines_non_decreasing(con, context.partition_key))


metric_checks.append(adoption_baselines_non_decreasing)
