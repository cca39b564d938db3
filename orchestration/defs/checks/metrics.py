"""Metric checks as plain functions of a read-only warehouse connection and a snapshot date.

Each returns an Outcome: whether it passed, the measured value, the threshold it was held to,
and a sentence a user can act on. The Dagster asset checks in assets.py wrap them.
"""

import datetime as dt
from dataclasses import dataclass, field

import duckdb

SHARE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Outcome:
    passed: bool
    value: float
    threshold: float
    message: str
    details: dict = field(default_factory=dict)


def _one(con: duckdb.DuckDBPyConnection, sql: str, *params):
    return con.execute(sql, list(params)).fetchone()


def rankings_are_dense(con, snapshot_date: str, top_n: int) -> Outcome:
    """Ranks are 1..k (k <= N) per week and metric, and each ranked model was created that week."""
    bad_groups, groups = _one(
        con,
        """
        select count(*) filter (where min_rank <> 1 or max_rank <> n or n <> n_distinct or n > ?), count(*)
        from (
            select week_start, metric, min(rank) as min_rank, max(rank) as max_rank,
                   count(*) as n, count(distinct rank) as n_distinct
            from marts.fct_weekly_new_model_rankings
            where snapshot_date = ?
            group by week_start, metric
        )
        """,
        top_n, snapshot_date,
    )
    outside_week = _one(
        con,
        """
        select count(*) from marts.fct_weekly_new_model_rankings
        where snapshot_date = ?
          and not (created_at >= week_start and created_at < week_start + interval 7 day)
        """,
        snapshot_date,
    )[0]
    problems = bad_groups + outside_week
    return Outcome(
        problems == 0, problems, 0,
        f"{bad_groups} of {groups} week/metric groups have ranks that are not 1..k (k <= {top_n}); "
        f"{outside_week} ranked models were not created in their week",
        {"groups": groups},
    )


def shares_sum_to_one(con, snapshot_date: str, table: str, group_by: str) -> Outcome:
    """Every share is in [0, 1] and the shares of each group sum to 1."""
    out_of_range, worst, groups = _one(
        con,
        f"""
        select sum(n_out_of_range), coalesce(max(abs(total - 1)), 0), count(*)
        from (
            select count(*) filter (where share < 0 or share > 1) as n_out_of_range, sum(share) as total
            from marts.{table}
            where snapshot_date = ? and share is not null
            group by {group_by}
        )
        """,
        snapshot_date,
    )
    passed = (out_of_range or 0) == 0 and worst <= SHARE_TOLERANCE and groups > 0
    return Outcome(
        passed, worst, SHARE_TOLERANCE,
        f"{table}: {groups} groups by {group_by}; largest |sum of shares - 1| = {worst:.3g}; "
        f"{out_of_range or 0} shares outside [0, 1]",
        {"groups": groups},
    )


def release_counts_reconcile(con, snapshot_date: str) -> Outcome:
    """The releases in fct_org_release_growth add up to the non-floor models in staging."""
    in_mart, in_staging = _one(
        con,
        """
        select
            (select coalesce(sum(n_releases), 0) from marts.fct_org_release_growth where snapshot_date = ?),
            (select count(*) from staging.stg_huggingface__models
             where snapshot_date = ? and not created_at_is_floor and created_at is not null)
        """,
        snapshot_date, snapshot_date,
    )
    gap = abs(in_mart - in_staging)
    return Outcome(
        gap == 0, gap, 0,
        f"fct_org_release_growth counts {in_mart} releases, staging has {in_staging} non-floor models",
        {"releases_in_mart": in_mart, "releases_in_staging": in_staging},
    )


def lineage_is_sound(con, snapshot_date: str) -> Outcome:
    """No model is its own ancestor, every edge's child exists, and depth stays within 10."""
    self_ancestors, orphan_children, max_depth = _one(
        con,
        """
        select
            count(*) filter (where lineage.model_id = lineage.ancestor_model_id),
            count(*) filter (where models.model_id is null),
            coalesce(max(lineage.depth), 0)
        from marts.fct_model_lineage as lineage
        left join marts.dim_models as models
            on models.snapshot_date = lineage.snapshot_date and models.model_id = lineage.model_id
        where lineage.snapshot_date = ?
        """,
        snapshot_date,
    )
    problems = self_ancestors + orphan_children + (1 if max_depth > 10 else 0)
    return Outcome(
        problems == 0, problems, 0,
        f"{self_ancestors} models are their own ancestor; {orphan_children} edges have a child missing "
        f"from dim_models; max depth {max_depth} (limit 10)",
        {"max_depth": max_depth},
    )


def label_coverage(con, snapshot_date: str, minimum: float) -> Outcome:
    """Share of new models' 30-day downloads whose label country is known."""
    known, total = _one(
        con,
        """
        select coalesce(sum(downloads_30d) filter (where country <> 'unknown'), 0), coalesce(sum(downloads_30d), 0)
        from marts.fct_country_download_share
        where snapshot_date = ? and cohort = 'new_365d'
        """,
        snapshot_date,
    )
    coverage = known / total if total else 0.0
    hint = "" if coverage >= minimum else "; map more orgs in seeds/org_countries.csv to raise it"
    return Outcome(
        coverage >= minimum, round(coverage, 6), minimum,
        f"{coverage:.1%} of new models' 30-day downloads have a known country (minimum {minimum:.0%}){hint}",
        {"downloads_known": known, "downloads_total": total},
    )


def volume_drift(rows: int, previous_rows: int | None, band: float) -> Outcome:
    """Rows of this snapshot against the previous stored one, within +-band."""
    if previous_rows is None:
        return Outcome(True, 0.0, band, f"first stored snapshot ({rows} rows): nothing to compare with")
    change = rows / previous_rows - 1 if previous_rows else float("inf")
    return Outcome(
        abs(change) <= band, round(change, 6), band,
        f"{rows} rows against {previous_rows} in the previous snapshot: {change:+.1%} (band +-{band:.0%})",
    )


def freshness(snapshot_date: str, source: str, max_age_days: int, today: dt.date | None = None) -> Outcome:
    """A live source's snapshot is at most max_age_days old; fixed inputs are exempt."""
    if source not in ("hub_stats", "api"):
        return Outcome(True, 0, max_age_days, f"source {source} is a fixed snapshot: freshness does not apply")
    today = today or dt.datetime.now(dt.timezone.utc).date()
    age = (today - dt.date.fromisoformat(snapshot_date)).days
    return Outcome(
        age <= max_age_days, age, max_age_days,
        f"snapshot {snapshot_date} is {age} days old (limit {max_age_days})",
    )
