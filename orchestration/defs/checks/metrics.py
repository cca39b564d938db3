"""Metric checks as plain functions of a read-only warehouse connection and a snapshot date.

Each returns an Outcome: whether it passed, the measured value, the threshold it was held to,
and a sentence a user can act on. The Dagster asset checks in assets.py wrap them.

The expected values are recomputed from the columns of marts.dim_models (or staging and the
lineage closure), never from a mart's own SQL: a check re-derives what the mart should hold in
a few plain lines and compares. A check that does not apply to a snapshot (nothing to compare
with, nothing to measure) passes with value None and says why; it never reports a made-up 0.
"""

import datetime as dt
from dataclasses import dataclass, field

import duckdb

SHARE_TOLERANCE = 1e-9
RANKED_METRICS = ("likes", "downloads_30d", "downloads_all_time", "trending_score")
DOWNLOAD_COHORTS = ("all", "new_365d")
TOP_LIKED_NS = (10, 50, 100)
DERIVATIVE_RELATIONS = ("finetune", "adapter", "quantized", "merge")
LIVE_SOURCES = ("hub_stats", "api")
HEATMAP_DAYS = 364
EXAMPLES = 3  # differences quoted in a message


@dataclass(frozen=True)
class Outcome:
    passed: bool
    value: float | None
    threshold: float | None
    message: str
    details: dict = field(default_factory=dict)

    @property
    def applies(self) -> bool:
        return self.value is not None


def not_applicable(reason: str, threshold: float | None = None, **details) -> Outcome:
    """A check with nothing to measure on this snapshot: it passes, says why, reports no value."""
    return Outcome(True, None, threshold, f"does not apply: {reason}", details)


def _one(con: duckdb.DuckDBPyConnection, sql: str, *params):
    return con.execute(sql, list(params)).fetchone()


def _all(con: duckdb.DuckDBPyConnection, sql: str, *params) -> list[tuple]:
    return con.execute(sql, list(params)).fetchall()


def _examples(rows: list[tuple], render) -> str:
    shown = "; ".join(render(*row) for row in rows[:EXAMPLES])
    more = f"; and {len(rows) - EXAMPLES} more" if len(rows) > EXAMPLES else ""
    return f" ({shown}{more})" if rows else ""


# The non-floor models of the snapshot with a known creation time: the releases as defined in the README.
RELEASES = """
    select * from marts.dim_models
    where snapshot_date = $snapshot_date and not created_at_is_floor and created_at is not null
"""


def _with_releases(sql: str) -> str:
    return f"with releases as ({RELEASES}) {sql}"


# --- fct_weekly_new_model_rankings -------------------------------------------------------------


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
    if groups == 0:
        return not_applicable(f"no week/metric groups are ranked for {snapshot_date}", 0)
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
        {"groups": groups, "groups_not_dense": bad_groups, "models_outside_week": outside_week},
    )


def _expected_rankings_sql() -> str:
    metric_cases = " ".join(f"when '{m}' then cast({m} as double)" for m in RANKED_METRICS)
    metrics = ", ".join(f"('{m}')" for m in RANKED_METRICS)
    return f"""
        expected as (
            select
                cast(date_trunc('week', releases.created_at) as date) as week_start,
                metrics.metric,
                releases.model_id,
                case metrics.metric {metric_cases} end as metric_value
            from releases
            cross join (values {metrics}) as metrics(metric)
        ),
        thresholds as (
            -- Each week's N-th largest value (a hash aggregate): only models at or above it can rank,
            -- so the window below sorts a few rows per week instead of every release (2.5x faster).
            select week_start, metric, list_min(max(metric_value, $top_n)) as threshold
            from expected
            where metric_value is not null  -- a model without the metric's value is not ranked by it
            group by week_start, metric
        ),
        expected_top as (
            select expected.*, row_number() over (
                partition by week_start, metric order by metric_value desc, model_id asc
            ) as rank
            from expected
            inner join thresholds using (week_start, metric)
            where metric_value >= threshold
            qualify rank <= $top_n
        )
    """


def rankings_follow_metric(con, snapshot_date: str, top_n: int) -> Outcome:
    """Within each week and metric the ranks follow metric_value desc, model_id asc, and the
    ranked models are exactly the week's top N recomputed from marts.dim_models."""
    params = {"snapshot_date": snapshot_date, "top_n": top_n}
    misordered = con.execute(
        """
        select week_start, metric, model_id, rank, expected_rank from (
            select week_start, metric, model_id, rank, row_number() over (
                partition by week_start, metric order by metric_value desc nulls last, model_id asc
            ) as expected_rank
            from marts.fct_weekly_new_model_rankings
            where snapshot_date = $snapshot_date
        )
        where rank <> expected_rank
        order by week_start, metric, expected_rank
        """,
        {"snapshot_date": snapshot_date},
    ).fetchall()
    membership = con.execute(
        _with_releases(
            ", " + _expected_rankings_sql() + """
            , ranked as (
                select week_start, metric, model_id, metric_value
                from marts.fct_weekly_new_model_rankings
                where snapshot_date = $snapshot_date
            )
            select
                coalesce(expected_top.week_start, ranked.week_start) as week_start,
                coalesce(expected_top.metric, ranked.metric) as metric,
                coalesce(expected_top.model_id, ranked.model_id) as model_id,
                case when ranked.model_id is null then 'missing'
                     when expected_top.model_id is null then 'not in the top'
                     else 'wrong value' end as problem,
                expected_top.metric_value as expected_value,
                ranked.metric_value as ranked_value
            from expected_top
            full outer join ranked
                on ranked.week_start = expected_top.week_start
                and ranked.metric = expected_top.metric
                and ranked.model_id = expected_top.model_id
            where ranked.model_id is null or expected_top.model_id is null
                or ranked.metric_value is distinct from expected_top.metric_value
            order by 1, 2, 3
            """
        ),
        params,
    ).fetchall()
    n_ranked = _one(
        con, "select count(*) from marts.fct_weekly_new_model_rankings where snapshot_date = ?", snapshot_date
    )[0]
    n_releases = con.execute(_with_releases("select count(*) from releases"), {"snapshot_date": snapshot_date}).fetchone()[0]
    if n_ranked == 0 and n_releases == 0:
        return not_applicable(f"the snapshot {snapshot_date} has no release to rank", 0)
    missing = [r for r in membership if r[3] == "missing"]
    extra = [r for r in membership if r[3] == "not in the top"]
    wrong = [r for r in membership if r[3] == "wrong value"]
    problems = len(misordered) + len(membership)
    return Outcome(
        problems == 0, problems, 0,
        f"{len(misordered)} of {n_ranked} ranked rows are out of order (metric_value desc, model_id asc)"
        + _examples(misordered, lambda w, m, model, r, e: f"{w} {m}: {model} ranked {r}, should be {e}")
        + f"; {len(missing)} models of a week's top {top_n} by dim_models are missing"
        + _examples(missing, lambda w, m, model, *_: f"{w} {m}: {model}")
        + f"; {len(extra)} ranked models are not in their week's top {top_n}"
        + _examples(extra, lambda w, m, model, *_: f"{w} {m}: {model}")
        + f"; {len(wrong)} metric values differ from dim_models"
        + _examples(wrong, lambda w, m, model, _p, e, v: f"{w} {m}: {model} {v} instead of {e}"),
        {"ranked_rows": n_ranked, "out_of_order": len(misordered), "missing_from_top": len(missing),
         "not_in_top": len(extra), "wrong_metric_value": len(wrong)},
    )


def ranked_weeks_present(con, snapshot_date: str) -> Outcome:
    """Every week with a release is ranked by every metric some release of the week has a value of
    (none when the snapshot lacks the metric's column), and no other week is."""
    metrics = ", ".join(f"('{m}')" for m in RANKED_METRICS)
    metric_cases = " ".join(f"when '{m}' then {m}" for m in RANKED_METRICS)
    rows = con.execute(
        _with_releases(
            f"""
            , expected as (
                select distinct cast(date_trunc('week', created_at) as date) as week_start, metrics.metric
                from releases cross join (values {metrics}) as metrics(metric)
                where (case metrics.metric {metric_cases} end) is not null
            ),
            ranked as (
                select distinct week_start, metric
                from marts.fct_weekly_new_model_rankings
                where snapshot_date = $snapshot_date
            )
            select coalesce(expected.week_start, ranked.week_start), coalesce(expected.metric, ranked.metric),
                   expected.week_start is not null, ranked.week_start is not null
            from expected full outer join ranked
                on ranked.week_start = expected.week_start and ranked.metric = expected.metric
            order by 1, 2
            """
        ),
        {"snapshot_date": snapshot_date},
    ).fetchall()
    if not rows:
        return not_applicable(f"the snapshot {snapshot_date} has no release, so no week to rank", 0)
    expected = sum(1 for r in rows if r[2])
    missing = [r for r in rows if r[2] and not r[3]]
    extra = [r for r in rows if r[3] and not r[2]]
    return Outcome(
        not missing and not extra, len(missing) + len(extra), 0,
        f"{len(missing)} of {expected} week/metric groups with a release are not ranked"
        + _examples(missing, lambda w, m, *_: f"{w} {m}")
        + f"; {len(extra)} ranked week/metric groups have no release in dim_models"
        + _examples(extra, lambda w, m, *_: f"{w} {m}"),
        {"expected_groups": expected, "missing_groups": len(missing), "unexpected_groups": len(extra)},
    )


# --- share marts ---------------------------------------------------------------------------------


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
    if groups == 0:
        # Whether a group is missing is the job of the groups-present checks.
        return not_applicable(f"{table} has no group with a share for {snapshot_date}", SHARE_TOLERANCE)
    passed = (out_of_range or 0) == 0 and worst <= SHARE_TOLERANCE
    return Outcome(
        passed, worst, SHARE_TOLERANCE,
        f"{table}: {groups} groups by {group_by}; largest |sum of shares - 1| = {worst:.3g}; "
        f"{out_of_range or 0} shares outside [0, 1]",
        {"groups": groups, "shares_out_of_range": int(out_of_range or 0)},
    )


def download_cohorts_present(con, snapshot_date: str) -> Outcome:
    """Cohort 'all' (any model) and 'new_365d' (a release created in the 365 days up to the
    snapshot) are present, no other cohort is, and each holds the 30-day downloads of its models."""
    rows = con.execute(
        """
        with models as (
            select * from marts.dim_models where snapshot_date = $snapshot_date
        ),
        expected as (
            select 'all' as cohort, count(*) as n_models, coalesce(sum(downloads_30d), 0) as downloads
            from models
            union all
            select 'new_365d', count(*), coalesce(sum(downloads_30d), 0)
            from models
            where not created_at_is_floor and created_at is not null
                and cast(created_at as date) between cast($snapshot_date as date) - 364 and cast($snapshot_date as date)
        ),
        mart as (
            select cohort, sum(downloads_30d) as downloads
            from marts.fct_country_download_share
            where snapshot_date = $snapshot_date
            group by cohort
        )
        select coalesce(expected.cohort, mart.cohort), coalesce(expected.n_models, 0),
               expected.downloads, mart.downloads, mart.cohort is not null
        from expected full outer join mart on mart.cohort = expected.cohort
        order by 1
        """,
        {"snapshot_date": snapshot_date},
    ).fetchall()
    required = [r for r in rows if r[1] > 0]
    if not required and not any(r[4] for r in rows):
        return not_applicable(f"the snapshot {snapshot_date} has no model", 0)
    missing = [r for r in required if not r[4]]
    unexpected = [r for r in rows if r[4] and r[1] == 0]
    wrong_total = [r for r in rows if r[1] > 0 and r[4] and r[2] != r[3]]
    problems = len(missing) + len(unexpected) + len(wrong_total)
    return Outcome(
        problems == 0, problems, 0,
        f"{len(missing)} of {len(required)} cohorts with models are missing"
        + _examples(missing, lambda c, n, *_: f"{c}: {n} models")
        + f"; {len(unexpected)} cohorts have no model in dim_models"
        + _examples(unexpected, lambda c, *_: c)
        + f"; {len(wrong_total)} cohorts' 30-day downloads differ from dim_models"
        + _examples(wrong_total, lambda c, _n, e, v, _p: f"{c}: {v} instead of {e}"),
        {"required_cohorts": len(required), "missing_cohorts": len(missing),
         "unexpected_cohorts": len(unexpected), "cohorts_with_wrong_downloads": len(wrong_total)},
    )


def top_liked_groups_present(con, snapshot_date: str) -> Outcome:
    """Each top_n in (10, 50, 100) is present when the snapshot has at least top_n models with a
    like count (likes not null), and any top_n present counts the label countries of the snapshot's
    top_n models by likes desc, model_id asc (nulls last), recomputed from dim_models."""
    cutoffs = ", ".join(f"({n})" for n in TOP_LIKED_NS)
    with_likes = _one(
        con, "select count(likes) from marts.dim_models where snapshot_date = ?", snapshot_date
    )[0]
    rows = con.execute(
        f"""
        with top as (
            -- The largest top_n's models first (a top-N scan, not a sort of every model), ranked after.
            select coalesce(label_country, 'unknown') as country, likes, model_id
            from marts.dim_models
            where snapshot_date = $snapshot_date
            order by likes desc nulls last, model_id asc
            limit {max(TOP_LIKED_NS)}
        ),
        ranked as (
            select country, row_number() over (order by likes desc nulls last, model_id asc) as like_rank
            from top
        ),
        expected as (
            select cutoffs.top_n, ranked.country, count(*) as n_models
            from ranked inner join (values {cutoffs}) as cutoffs(top_n) on ranked.like_rank <= cutoffs.top_n
            group by all
        ),
        mart as (
            select top_n, country, n_models
            from marts.fct_top_liked_country_share
            where snapshot_date = $snapshot_date
        )
        select coalesce(expected.top_n, mart.top_n), coalesce(expected.country, mart.country),
               expected.n_models, mart.n_models
        from expected full outer join mart on mart.top_n = expected.top_n and mart.country = expected.country
        order by 1, 2
        """,
        {"snapshot_date": snapshot_date},
    ).fetchall()
    present = {r[0] for r in rows if r[3] is not None}
    required = [n for n in TOP_LIKED_NS if with_likes >= n]
    if not required and not present:
        return not_applicable(f"the snapshot {snapshot_date} has fewer than {TOP_LIKED_NS[0]} models with likes "
                              "and no top-N group", 0, models_with_likes=with_likes)
    missing = [n for n in required if n not in present]
    unknown = sorted(n for n in present if n not in TOP_LIKED_NS)
    # Counts are compared within the groups present; a missing group is reported once above.
    wrong = [r for r in rows if r[0] in present and r[2] != r[3]]
    problems = len(missing) + len(unknown) + len(wrong)
    return Outcome(
        problems == 0, problems, 0,
        f"{len(missing)} of {len(required)} required top_n groups are missing "
        f"(the snapshot has {with_likes} models with likes){' (top_n ' + ', '.join(map(str, missing)) + ')' if missing else ''}"
        f"; {len(unknown)} unexpected top_n values{' (' + ', '.join(map(str, unknown)) + ')' if unknown else ''}"
        f"; {len(wrong)} top_n/country counts differ from dim_models"
        + _examples(wrong, lambda n, c, e, v: f"top {n} {c}: {v or 0} instead of {e or 0}"),
        {"models_with_likes": with_likes, "required_groups": len(required), "missing_groups": len(missing),
         "counts_differing": len(wrong)},
    )


# --- fct_org_release_growth ----------------------------------------------------------------------


def release_counts_reconcile(con, snapshot_date: str) -> Outcome:
    """Releases per (provider, year) in fct_org_release_growth equal the non-floor models per
    provider and creation year in dim_models, and their total equals staging's."""
    params = {"snapshot_date": snapshot_date}
    rows = con.execute(
        _with_releases(
            """
            , expected as (
                select provider, cast(extract(year from created_at) as integer) as year, count(*) as n
                from releases group by all
            ),
            mart as (
                select provider, year, n_releases as n
                from marts.fct_org_release_growth
                where snapshot_date = $snapshot_date and n_releases <> 0
            )
            select coalesce(expected.provider, mart.provider), coalesce(expected.year, mart.year),
                   coalesce(mart.n, 0), coalesce(expected.n, 0)
            from expected full outer join mart on mart.provider = expected.provider and mart.year = expected.year
            where coalesce(mart.n, 0) <> coalesce(expected.n, 0)
            order by 1, 2
            """
        ),
        params,
    ).fetchall()
    in_mart, in_staging, groups = con.execute(
        """
        select
            (select coalesce(sum(n_releases), 0) from marts.fct_org_release_growth where snapshot_date = $snapshot_date),
            (select count(*) from staging.stg_huggingface__models
             where snapshot_date = $snapshot_date and not created_at_is_floor and created_at is not null),
            (select count(distinct (provider, extract(year from created_at))) from marts.dim_models
             where snapshot_date = $snapshot_date and not created_at_is_floor and created_at is not null)
        """,
        params,
    ).fetchone()
    if in_mart == 0 and in_staging == 0:
        return not_applicable(f"the snapshot {snapshot_date} has no release", 0)
    gap = abs(in_mart - in_staging)
    return Outcome(
        not rows and gap == 0, len(rows) + (1 if gap else 0), 0,
        f"{len(rows)} provider-years differ from dim_models (of {groups} with a release)"
        + _examples(rows, lambda p, y, m, e: f"{p} {y}: {m} in the mart, {e} in dim_models")
        + f"; fct_org_release_growth counts {in_mart} releases, staging has {in_staging} non-floor models",
        {"provider_years_differing": len(rows), "releases_in_mart": in_mart, "releases_in_staging": in_staging},
    )


# --- fct_release_heatmap -------------------------------------------------------------------------


def heatmap_matches_releases(con, snapshot_date: str) -> Outcome:
    """Each heatmap-tracked provider (any of its orgs tracked in the seed) has one row for every day
    of the 364 days snapshot_date - 363 .. snapshot_date and no other row, and its releases per day
    (hence over the window) equal its non-floor models created that day in dim_models."""
    tracked = {r[0] for r in _all(
        con, "select provider from reference.org_countries group by provider having bool_or(is_heatmap_tracked)"
    )}
    rows = con.execute(
        _with_releases(
            f"""
            , window_days as (
                select cast(unnest(generate_series(
                    cast($snapshot_date as date) - {HEATMAP_DAYS - 1}, cast($snapshot_date as date), interval 1 day
                )) as date) as day
            ),
            spine as (
                select providers.provider, window_days.day
                from (select unnest($tracked::varchar[]) as provider) as providers cross join window_days
            ),
            expected as (
                select provider, cast(created_at as date) as day, count(*) as n
                from releases
                group by all
            ),
            heatmap as (
                select provider, day, count(*) as n_rows, sum(n_releases) as n
                from marts.fct_release_heatmap
                where snapshot_date = $snapshot_date
                group by all
            )
            select coalesce(spine.provider, heatmap.provider), spine.day is not null,
                   coalesce(heatmap.n_rows, 0), coalesce(heatmap.n, 0), coalesce(expected.n, 0)
            from spine
            full outer join heatmap on heatmap.provider = spine.provider and heatmap.day = spine.day
            left join expected on expected.provider = spine.provider and expected.day = spine.day
            """
        ),
        {"snapshot_date": snapshot_date, "tracked": sorted(tracked)},
    ).fetchall()
    n_models = _one(con, "select count(*) from marts.dim_models where snapshot_date = ?", snapshot_date)[0]
    window = [r for r in rows if r[1]]
    stray = [r for r in rows if not r[1]]
    if not stray and (not tracked or n_models == 0):
        return not_applicable(
            f"the snapshot {snapshot_date} has no model" if tracked
            else "no provider is heatmap-tracked in seeds/org_countries.csv", 0,
        )
    per_provider = {p: [0, 0, 0] for p in sorted(tracked)}  # days present, in the heatmap, in dim_models
    for provider, _, n_rows, n, expected in window:
        per_provider[provider][0] += 1 if n_rows else 0
        per_provider[provider][1] += n
        per_provider[provider][2] += expected
    wrong_total = [(p, h, e) for p, (_, h, e) in per_provider.items() if h != e]
    gaps = [(p, d) for p, (d, _, _) in per_provider.items() if d != HEATMAP_DAYS]
    days_differing = sum(1 for r in window if r[2] and r[3] != r[4])
    untracked_rows = sum(r[2] for r in stray if r[0] not in tracked)
    outside_rows = sum(r[2] for r in stray if r[0] in tracked)
    repeated_days = sum(1 for r in rows if r[2] > 1)
    problems = len(wrong_total) + len(gaps) + days_differing + untracked_rows + outside_rows + repeated_days
    return Outcome(
        problems == 0, problems, 0,
        f"{len(wrong_total)} of {len(tracked)} tracked providers have a {HEATMAP_DAYS}-day total that differs "
        "from their releases in dim_models"
        + _examples(wrong_total, lambda p, h, e: f"{p}: {h} in the heatmap, {e} releases")
        + f"; {days_differing} provider-days differ"
        + f"; {len(gaps)} tracked providers lack days of the window"
        + _examples(gaps, lambda p, d: f"{p}: {d} of {HEATMAP_DAYS} days")
        + f"; {untracked_rows} rows for untracked providers, {outside_rows} outside the window, "
        f"{repeated_days} provider-days repeated",
        {"tracked_providers": len(tracked), "providers_with_wrong_total": len(wrong_total),
         "provider_days_differing": days_differing, "providers_missing_days": len(gaps),
         "stray_rows": untracked_rows + outside_rows + repeated_days},
    )


# --- derivative marts ----------------------------------------------------------------------------


def derivative_counts_match_lineage(con, snapshot_date: str) -> Outcome:
    """n_direct and n_<relation> per base model equal the direct edges (fct_model_lineage depth 1)
    into it, by relation; every base model with an edge has a row and no other has one."""
    columns = ("n_direct",) + tuple(f"n_{r}" for r in DERIVATIVE_RELATIONS)
    counts = ", ".join(["count(*) as n_direct"] + [f"count(*) filter (where relation = '{r}') as n_{r}"
                                                  for r in DERIVATIVE_RELATIONS])
    differs = " or ".join(f"edges.{c} is distinct from mart.{c}" for c in columns)
    shown = ", ".join(f"coalesce(mart.{c}, 0), coalesce(edges.{c}, 0)" for c in columns)
    rows = con.execute(
        f"""
        with edges as (
            select ancestor_model_id as base_model_id, {counts}
            from marts.fct_model_lineage
            where snapshot_date = $snapshot_date and depth = 1
            group by ancestor_model_id
        ),
        mart as (
            select base_model_id, {", ".join(columns)}
            from marts.fct_base_model_derivatives
            where snapshot_date = $snapshot_date
        )
        select coalesce(edges.base_model_id, mart.base_model_id), {shown}
        from edges full outer join mart on mart.base_model_id = edges.base_model_id
        where {differs}
        order by 1
        """,
        {"snapshot_date": snapshot_date},
    ).fetchall()
    n_bases = _one(
        con,
        "select count(distinct ancestor_model_id) from marts.fct_model_lineage where snapshot_date = ? and depth = 1",
        snapshot_date,
    )[0]
    if n_bases == 0 and not rows:
        return not_applicable(f"the snapshot {snapshot_date} has no lineage edge", 0)

    def render(base, *pairs):
        diffs = [f"{c} {pairs[2 * i]} instead of {pairs[2 * i + 1]}" for i, c in enumerate(columns)
                 if pairs[2 * i] != pairs[2 * i + 1]]
        return f"{base}: {', '.join(diffs)}"

    return Outcome(
        not rows, len(rows), 0,
        f"{len(rows)} of {n_bases} base models have derivative counts that differ from their direct lineage edges"
        + _examples(rows, render),
        {"base_models": n_bases, "base_models_differing": len(rows)},
    )


def monthly_derivatives_reconcile(con, snapshot_date: str) -> Outcome:
    """n_new_derivatives per month (over all base countries) equals the models with a parent,
    non-floor, created that month in dim_models."""
    rows = con.execute(
        _with_releases(
            """
            , expected as (
                select cast(date_trunc('month', created_at) as date) as month, count(*) as n
                from releases where parent_model_id is not null group by all
            ),
            mart as (
                select month, sum(n_new_derivatives) as n
                from marts.fct_derivative_share_by_base_country
                where snapshot_date = $snapshot_date group by month
            )
            select coalesce(expected.month, mart.month), coalesce(mart.n, 0), coalesce(expected.n, 0)
            from expected full outer join mart on mart.month = expected.month
            order by 1
            """
        ),
        {"snapshot_date": snapshot_date},
    ).fetchall()
    if not rows:
        return not_applicable(f"the snapshot {snapshot_date} has no derivative with a known creation date", 0)
    wrong = [r for r in rows if r[1] != r[2]]
    return Outcome(
        not wrong, len(wrong), 0,
        f"{len(wrong)} of {len(rows)} months have a number of new derivatives that differs from dim_models"
        + _examples(wrong, lambda m, v, e: f"{m:%Y-%m}: {v} in the mart, {e} in dim_models"),
        {"months": len(rows), "months_differing": len(wrong)},
    )


# --- fct_model_lineage ---------------------------------------------------------------------------


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


# --- warnings ------------------------------------------------------------------------------------


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
    if total == 0:
        return not_applicable(f"new models of {snapshot_date} have no 30-day downloads to label", minimum)
    coverage = known / total
    hint = "" if coverage >= minimum else "; map more orgs in seeds/org_countries.csv to raise it"
    return Outcome(
        coverage >= minimum, round(coverage, 6), minimum,
        f"{coverage:.1%} of new models' 30-day downloads have a known country (minimum {minimum:.0%}){hint}",
        {"downloads_known": known, "downloads_total": total},
    )


def _kind(manifest: dict) -> tuple[str | None, bool]:
    return manifest.get("source"), bool(manifest.get("synthetic"))


def _describe_kind(manifest: dict) -> str:
    source, synthetic = _kind(manifest)
    return f"source {source}{' (synthetic)' if synthetic else ''}"


def volume_drift(current: dict, stored: list[dict], band: float) -> Outcome:
    """Rows of this snapshot against the previous stored snapshot of the same source and the same
    synthetic-ness (manifests): a sample after a file, or a file after the API, is no drift."""
    date = current["snapshot_date"]
    earlier = [m for m in stored if m["snapshot_date"] < date and _kind(m) == _kind(current)]
    if not earlier:
        return not_applicable(
            f"no stored snapshot before {date} from {_describe_kind(current)} to compare its "
            f"{current['rows']} rows with", band,
        )
    previous = max(earlier, key=lambda m: m["snapshot_date"])
    rows, previous_rows = current["rows"], previous["rows"]
    change = rows / previous_rows - 1 if previous_rows else float("inf")
    hint = "" if abs(change) <= band else "; check the ingest of this snapshot before relying on its trends"
    return Outcome(
        abs(change) <= band, round(change, 6), band,
        f"{rows} rows against {previous_rows} on {previous['snapshot_date']} ({_describe_kind(current)}): "
        f"{change:+.1%} (band +-{band:.0%}){hint}",
        {"rows": rows, "previous_rows": previous_rows, "previous_snapshot_date": previous["snapshot_date"]},
    )


def freshness(current: dict, stored: list[dict], max_age_days: int, today: dt.date | None = None) -> Outcome:
    """The newest stored snapshot of a live source (hub_stats, api) is at most max_age_days old.

    Fixed inputs (sample, file) and historic snapshots (a live one with a newer live one stored,
    built on purpose) are not applicable.
    """
    date, source = current["snapshot_date"], current.get("source")
    if source not in LIVE_SOURCES:
        return not_applicable(f"source {source} is a fixed input, not a live one", max_age_days)
    newest = max(m["snapshot_date"] for m in [current, *stored] if m.get("source") in LIVE_SOURCES)
    if newest > date:
        return not_applicable(
            f"snapshot {date} is historic: the newest stored live snapshot is {newest}", max_age_days,
        )
    today = today or dt.datetime.now(dt.timezone.utc).date()
    age = (today - dt.date.fromisoformat(date)).days
    hint = "" if age <= max_age_days else "; refresh it (observatory build) or check the daily schedule"
    return Outcome(
        age <= max_age_days, age, max_age_days,
        f"snapshot {date} ({source}) is {age} days old (limit {max_age_days}){hint}",
    )


# --- fct_relative_adoption -----------------------------------------------------------------------

RAM_TOLERANCE = 1e-9
ADOPTION_RANK = 10  # the baseline is the 10th largest cumulative of a size class at a checkpoint


def adoption_baselines_non_decreasing(con, snapshot_date: str) -> Outcome:
    """Per size class, one baseline per checkpoint, never lower than at an earlier checkpoint and equal to
    the running max of the 10th largest cumulative downloads (the smallest below 10) recomputed from the
    rows; and ram = cumulative / baseline (null when the baseline is 0)."""
    groups = _all(
        con,
        """
        select size_class, checkpoint_days, min(baseline), max(baseline), count(*),
            max(cumulative_downloads) filter (where position = least(n_rows, ?))
        from (
            select size_class, checkpoint_days, baseline, cumulative_downloads,
                row_number() over (partition by size_class, checkpoint_days order by cumulative_downloads desc)
                    as position,
                count(*) over (partition by size_class, checkpoint_days) as n_rows
            from marts.fct_relative_adoption
            where snapshot_date = ?
        )
        group by size_class, checkpoint_days
        order by size_class, checkpoint_days
        """,
        ADOPTION_RANK, snapshot_date,
    )
    if not groups:
        return not_applicable(f"fct_relative_adoption has no row for {snapshot_date}", 0)
    decreasing, mismatched = [], []
    previous_class, previous_baseline, running_max = None, None, None
    for size_class, days, low, high, _, ranked in groups:
        if size_class != previous_class:
            previous_class, previous_baseline, running_max = size_class, None, None
        running_max = ranked if running_max is None else max(running_max, ranked)
        if low != high or (previous_baseline is not None and low < previous_baseline):
            decreasing.append((size_class, days, previous_baseline, low))
        if abs(high - running_max) > RAM_TOLERANCE * max(1.0, abs(running_max)) or low != high:
            mismatched.append((size_class, days, low, running_max))
        previous_baseline = high
    bad_ram, rows = _one(
        con,
        """
        select
            count(*) filter (where case
                when baseline = 0 then ram is not null
                else ram is null or abs(ram - cumulative_downloads / baseline) > ? * greatest(1, abs(ram))
            end),
            count(*)
        from marts.fct_relative_adoption
        where snapshot_date = ?
        """,
        RAM_TOLERANCE, snapshot_date,
    )
    problems = len(decreasing) + len(mismatched) + bad_ram
    return Outcome(
        problems == 0, problems, 0,
        f"{len(decreasing)} checkpoints lower (or split) their size class's baseline"
        + _examples(decreasing, lambda c, d, before, now: f"{c} at {d} days: {now} after {before}")
        + f"; {len(mismatched)} baselines differ from the running max of the 10th largest cumulative"
        + _examples(mismatched, lambda c, d, now, expected: f"{c} at {d} days: {now}, expected {expected}")
        + f"; {bad_ram} of {rows} rows have ram other than cumulative / baseline (null when the baseline is 0)",
        {"groups": len(groups), "rows": rows, "rows_with_bad_ram": bad_ram},
    )


# --- period (trend) marts ------------------------------------------------------------------------


def _period_measured(con, snapshot_date: str) -> tuple[bool, bool]:
    """(is the snapshot in dim_snapshots, does it measure a period: a per-day sum and not stalled)."""
    row = _one(
        con,
        "select hub_period_downloads_per_day is not null and not coalesce(is_stalled, false) "
        "from marts.dim_snapshots where snapshot_date = ?",
        snapshot_date,
    )
    return row is not None, bool(row and row[0])


def period_downloads_reconcile(con, snapshot_date: str) -> Outcome:
    """Period downloads summed over models equal the sums over providers and over countries (cohort
    all); cohort new_365d equals the period downloads of the models created in the 365 days up to the
    snapshot (floor excluded), recomputed from dim_models."""
    models, new_models, providers, countries_all, countries_new = con.execute(
        """
        with periods as (
            select model_id, downloads from marts.fct_model_period_downloads where snapshot_date = $snapshot_date
        ),
        models as (
            select model_id, created_at, created_at_is_floor from marts.dim_models where snapshot_date = $snapshot_date
        )
        select
            (select sum(downloads) from periods),
            (select sum(periods.downloads) from periods join models using (model_id)
             where not models.created_at_is_floor and models.created_at is not null
                and cast(models.created_at as date)
                    between cast($snapshot_date as date) - 364 and cast($snapshot_date as date)),
            (select sum(downloads) from marts.fct_provider_period_downloads where snapshot_date = $snapshot_date),
            (select sum(downloads) from marts.fct_country_period_download_share
             where snapshot_date = $snapshot_date and cohort = 'all'),
            (select sum(downloads) from marts.fct_country_period_download_share
             where snapshot_date = $snapshot_date and cohort = 'new_365d')
        """,
        {"snapshot_date": snapshot_date},
    ).fetchone()
    if models is None and providers is None and countries_all is None and countries_new is None:
        return not_applicable(f"the snapshot {snapshot_date} has no period downloads", 0)
    pairs = {
        "providers": (models, providers),
        "countries (cohort all)": (models, countries_all),
        "countries (cohort new_365d)": (new_models, countries_new),
    }
    # A cohort without any model row is no row, not a zero: compare missing sums as 0.
    wrong = {name: (expected or 0, got or 0) for name, (expected, got) in pairs.items() if (expected or 0) != (got or 0)}
    return Outcome(
        not wrong, len(wrong), 0,
        f"period downloads: {models or 0} over models, {new_models or 0} over new models; "
        f"{len(wrong)} of {len(pairs)} breakdowns differ"
        + _examples(list(wrong.items()), lambda name, values: f"{name}: {values[1]} instead of {values[0]}"),
        {"period_downloads": int(models or 0), "breakdowns_differing": len(wrong)},
    )


def concentration_in_bounds(con, snapshot_date: str) -> Outcome:
    """Every concentration row has 1/n <= hhi <= 1, 0 <= gini < 1 and 1/n <= top1 <= top10 <= 1."""
    bad, rows = _one(
        con,
        """
        select
            count(*) filter (where not (
                n_units >= 1
                and hhi between 1.0 / n_units - ? and 1 + ?
                and gini between -? and 1 - 1.0 / n_units + ?
                and top1_share between 1.0 / n_units - ? and top10_share + ?
                and top10_share <= 1 + ?
            ) or hhi is null or gini is null or top1_share is null or top10_share is null),
            count(*)
        from marts.fct_concentration
        where snapshot_date = ?
        """,
        *([SHARE_TOLERANCE] * 7), snapshot_date,
    )
    if rows == 0:
        return not_applicable(f"fct_concentration has no row for {snapshot_date}", 0)
    examples = _all(
        con,
        """
        select measure, unit, n_units, hhi, gini from marts.fct_concentration
        where snapshot_date = ? and not (
            n_units >= 1 and hhi between 1.0 / n_units - ? and 1 + ? and gini between -? and 1 - 1.0 / n_units + ?)
        order by measure, unit
        """,
        snapshot_date, *([SHARE_TOLERANCE] * 4),
    ) if bad else []
    return Outcome(
        bad == 0, bad, 0,
        f"{bad} of {rows} concentration rows out of bounds (hhi in [1/n, 1], gini in [0, 1), top shares in [1/n, 1])"
        + _examples(examples, lambda m, u, n, h, g: f"{m} by {u}: n={n} hhi={h:.4g} gini={g:.4g}"),
        {"rows": rows, "rows_out_of_bounds": bad},
    )


def no_period_rows_without_a_period(con, snapshot_date: str) -> Outcome:
    """A stalled snapshot, or one without a period, has no rows in the period marts."""
    present, measured = _period_measured(con, snapshot_date)
    if not present:
        return not_applicable(f"the snapshot {snapshot_date} is not in dim_snapshots", 0)
    if measured:
        return not_applicable(f"the snapshot {snapshot_date} measures a period and is not stalled", 0)
    counts = {
        table: _one(con, f"select count(*) from marts.{table} where snapshot_date = ?{extra}", snapshot_date)[0]
        for table, extra in (
            ("fct_model_period_downloads", ""),
            ("fct_provider_period_downloads", ""),
            ("fct_country_period_download_share", ""),
            ("fct_concentration", " and measure = 'period_downloads'"),
        )
    }
    stalled = _one(con, "select is_stalled from marts.dim_snapshots where snapshot_date = ?", snapshot_date)[0]
    total = sum(counts.values())
    return Outcome(
        total == 0, total, 0,
        f"the snapshot {snapshot_date} is {'stalled' if stalled else 'without a period'}; "
        f"{total} period rows where none belong"
        + _examples([(t, n) for t, n in counts.items() if n], lambda t, n: f"{t}: {n}"),
        {"is_stalled": bool(stalled), **{f"rows_{t}": n for t, n in counts.items()}},
    )
