"""Dagster asset checks that validate the metrics users read, per snapshot date.

Each opens the warehouse read-only (dbt is its only writer) and reports the measured value and
threshold as metadata. Checks guarding what users read are blocking: a failure stops the assets
downstream of the checked one. Coverage, drift and freshness only warn.
"""

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


def _result(outcome: metrics.Outcome, severity=dg.AssetCheckSeverity.ERROR) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=outcome.passed,
        severity=severity,
        description=outcome.message,
        metadata={"value": outcome.value, "threshold": outcome.threshold, **outcome.details},
    )


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
        return _result(metrics.rankings_are_dense(con, context.partition_key, settings.weekly_top_n))


def _share_check(asset: str, group_by: str):
    @_check(asset, "shares_sum_to_one", f"Shares are in [0, 1] and sum to 1 (+-1e-9) per {group_by}.")
    def shares_sum_to_one(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        with _warehouse(Settings.from_env(), context) as con:
            return _result(metrics.shares_sum_to_one(con, context.partition_key, asset, group_by))

    return shares_sum_to_one


download_shares = _share_check("fct_country_download_share", "cohort")
top_liked_shares = _share_check("fct_top_liked_country_share", "top_n")
derivative_shares = _share_check("fct_derivative_share_by_base_country", "month")


@_check("fct_org_release_growth", "releases_reconcile_with_staging",
        "The releases per provider and year add up to the non-floor models of the snapshot.")
def releases_reconcile_with_staging(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    with _warehouse(Settings.from_env(), context) as con:
        return _result(metrics.release_counts_reconcile(con, context.partition_key))


@_check("fct_model_lineage", "lineage_acyclic_and_bounded",
        "No model is its own ancestor, every edge's child exists in dim_models, depth <= 10.")
def lineage_acyclic_and_bounded(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    with _warehouse(Settings.from_env(), context) as con:
        return _result(metrics.lineage_is_sound(con, context.partition_key))


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


@_raw_check("volume_within_band", "Rows against the previous stored snapshot stay within +-VOLUME_DRIFT_BAND (warns).")
def volume_within_band(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    settings = Settings.from_env()
    snapshots = SnapshotStore(settings.raw_models_dir).list()
    current = next(s for s in snapshots if s.manifest["snapshot_date"] == context.partition_key)
    earlier = [s for s in snapshots if s.manifest["snapshot_date"] < context.partition_key]
    previous_rows = earlier[-1].manifest["rows"] if earlier else None
    outcome = metrics.volume_drift(current.manifest["rows"], previous_rows, settings.volume_drift_band)
    return _result(outcome, dg.AssetCheckSeverity.WARN)


@_raw_check("snapshot_is_fresh", "A live snapshot (hub_stats, api) is at most FRESHNESS_MAX_AGE_DAYS old (warns).")
def snapshot_is_fresh(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    settings = Settings.from_env()
    stored = SnapshotStore(settings.raw_models_dir).get(context.partition_key)
    outcome = metrics.freshness(context.partition_key, stored.manifest["source"], settings.freshness_max_age_days)
    return _result(outcome, dg.AssetCheckSeverity.WARN)


metric_checks = [
    ranks_dense_within_week, download_shares, top_liked_shares, derivative_shares,
    releases_reconcile_with_staging, lineage_acyclic_and_bounded, label_coverage_of_new_downloads,
    volume_within_band, snapshot_is_fresh,
]
