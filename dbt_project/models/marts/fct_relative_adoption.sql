{#
  Relative adoption (after the ATOM project's RAM), as of each snapshot S: for every model of S's
  universe (fct_adoption_points) and checkpoint d in 7, 14, 30, 60, 90, 180, 365 days after its
  creation date, the cumulative downloads at T = createdAt date + d, read off the model's curve of
  points: (t, downloadsAllTime) of every stored, non-stalled snapshot t <= S holding the model (by
  model key: `_id` when both rows have it, else the repo id), plus (createdAt date, 0) unless one of
  those snapshots is dated on the createdAt date. A point dated T gives its value; otherwise the
  value is interpolated linearly between the latest point before T and the earliest after it; none
  when T is after S, no point follows T, or those two points are more than 35 days apart.
  baseline(size class, d) = the 10th largest cumulative of the class at d (the smallest when the class
  has fewer than 10), made non-decreasing in d by a running max; ram = cumulative / baseline.

  The run's own snapshots come from this run (ref), older ones from the lake; a date in both is read
  from the run. Only a point within 35 days of a checkpoint T <= S can give T a value, so no other
  point is read (macro adoption_point_is_needed); the curves are sorted and joined on a compact
  integer key per (snapshot, model).
#}

{%- set checkpoints = adoption_checkpoints() -%}

with

universe as (

    select *
    from {{ ref('fct_adoption_points') }}

),

own_snapshot_is_stalled as (

    -- A stalled snapshot's own counters are frozen: it adds no point (its rows come from earlier points).
    select snapshot_date, coalesce(is_stalled, false) as is_stalled
    from {{ ref('dim_snapshots') }}

),

lake_snapshots as (

    select snapshot_date, coalesce(is_stalled, false) as is_stalled
    from {{ lake_table('dim_snapshots', {'is_stalled': 'boolean'}) }}

),

lake_points as (

    select *
    from {{ lake_table('fct_adoption_points', {
        'model_id': 'varchar', 'model_object_id': 'varchar', 'downloads_all_time': 'bigint'}) }}

),

stored_points as (

    -- Every non-stalled stored snapshot's points: the run's own snapshots, then the lake's other dates.
    select universe.snapshot_date as point_date, universe.model_id, universe.model_object_id, universe.downloads_all_time
    from universe
    inner join own_snapshot_is_stalled
        on own_snapshot_is_stalled.snapshot_date = universe.snapshot_date
    where not own_snapshot_is_stalled.is_stalled
        and universe.downloads_all_time is not null

    union all

    select lake_points.snapshot_date, lake_points.model_id, lake_points.model_object_id, lake_points.downloads_all_time
    from lake_points
    left join lake_snapshots
        on lake_snapshots.snapshot_date = lake_points.snapshot_date
    where lake_points.snapshot_date not in (select snapshot_date from own_snapshot_is_stalled)
        and not coalesce(lake_snapshots.is_stalled, false)
        and lake_points.downloads_all_time is not null

),

universe_keyed as (

    -- A compact key per (snapshot, model) for the curve's sorts and joins, and which points it needs.
    select
        universe.*,
        row_number() over (order by universe.snapshot_date, universe.model_id) as curve_id,
        {{ adoption_point_bounds('universe.created_date', 'universe.snapshot_date') }}
    from universe

),

matched_points as (

    -- The model key: the object id when both rows carry one, else the repo id (one rule, two equi-joins).
    select universe_keyed.curve_id, stored_points.point_date, stored_points.downloads_all_time
    from universe_keyed
    inner join stored_points
        on stored_points.model_object_id = universe_keyed.model_object_id
    where stored_points.point_date <= universe_keyed.snapshot_date
        and {{ adoption_point_is_needed('universe_keyed', 'stored_points.point_date') }}

    union all

    select universe_keyed.curve_id, stored_points.point_date, stored_points.downloads_all_time
    from universe_keyed
    inner join stored_points
        on stored_points.model_id = universe_keyed.model_id
    where (stored_points.model_object_id is null or universe_keyed.model_object_id is null)
        and stored_points.point_date <= universe_keyed.snapshot_date
        and {{ adoption_point_is_needed('universe_keyed', 'stored_points.point_date') }}

),

curve_points as (

    -- The stored points, plus (created date, 0) unless a stored snapshot dated that day holds the model.
    select curve_id, point_date, downloads_all_time
    from matched_points

    union all

    select universe_keyed.curve_id, universe_keyed.created_date, cast(0 as bigint)
    from universe_keyed
    left join matched_points
        on matched_points.curve_id = universe_keyed.curve_id
        and matched_points.point_date = universe_keyed.created_date
    where matched_points.curve_id is null

),

checkpoints as (

    select
        universe_keyed.curve_id,
        checkpoint_days.checkpoint_days,
        {{ days_after('universe_keyed.created_date', 'checkpoint_days.checkpoint_days') }} as checkpoint_date
    from universe_keyed
    cross join (values {% for days in checkpoints %}({{ days }}){% if not loop.last %}, {% endif %}{% endfor %}) as checkpoint_days (checkpoint_days)
    where {{ days_after('universe_keyed.created_date', 'checkpoint_days.checkpoint_days') }} <= universe_keyed.snapshot_date

),

curve_events as (

    -- Points and checkpoints on one time line per curve; a point sorts before a checkpoint of its day.
    select curve_id, point_date as event_date, 0 as event_order, cast(null as integer) as checkpoint_days
    from curve_points
    union all
    select curve_id, checkpoint_date, 1, checkpoint_days
    from checkpoints

),

surrounding_dates as (

    -- For each checkpoint: the latest point on or before T, and the earliest point after T.
    select
        curve_id,
        checkpoint_days,
        event_date as checkpoint_date,
        event_order,
        max(case when event_order = 0 then event_date end) over (
            partition by curve_id order by event_date, event_order
            rows between unbounded preceding and current row
        ) as before_date,
        min(case when event_order = 0 then event_date end) over (
            partition by curve_id order by event_date, event_order
            rows between current row and unbounded following
        ) as after_date
    from curve_events

),

cumulative as (

    select
        universe_keyed.snapshot_date,
        universe_keyed.model_id,
        universe_keyed.size_class,
        surrounding_dates.checkpoint_days,
        surrounding_dates.checkpoint_date,
        case
            when surrounding_dates.before_date = surrounding_dates.checkpoint_date then cast(before_point.downloads_all_time as double)
            when surrounding_dates.after_date is null then null
            when {{ days_between('surrounding_dates.before_date', 'surrounding_dates.after_date') }} > 35 then null
            else cast(before_point.downloads_all_time as double)
                + cast(after_point.downloads_all_time - before_point.downloads_all_time as double)
                * {{ days_between('surrounding_dates.before_date', 'surrounding_dates.checkpoint_date') }}
                / {{ days_between('surrounding_dates.before_date', 'surrounding_dates.after_date') }}
        end as cumulative_downloads
    from surrounding_dates
    inner join universe_keyed
        on universe_keyed.curve_id = surrounding_dates.curve_id
    inner join curve_points as before_point
        on before_point.curve_id = surrounding_dates.curve_id
        and before_point.point_date = surrounding_dates.before_date
    left join curve_points as after_point
        on after_point.curve_id = surrounding_dates.curve_id
        and after_point.point_date = surrounding_dates.after_date
    where surrounding_dates.event_order = 1

),

classed as (

    select
        cumulative.*,
        row_number() over (
            partition by snapshot_date, size_class, checkpoint_days
            order by cumulative_downloads desc, model_id
        ) as position_desc,
        count(*) over (partition by snapshot_date, size_class, checkpoint_days) as n_in_class
    from cumulative
    where cumulative_downloads is not null

),

class_baselines as (

    -- The 10th largest of the class at d (the smallest when fewer than 10), then the running max over d.
    select
        snapshot_date,
        size_class,
        checkpoint_days,
        max(cumulative_downloads) over (
            partition by snapshot_date, size_class order by checkpoint_days
            rows between unbounded preceding and current row
        ) as baseline
    from classed
    where position_desc = least(n_in_class, 10)

),

final as (

    select
        classed.snapshot_date,
        classed.model_id,
        classed.checkpoint_days,
        classed.checkpoint_date,
        classed.size_class,
        classed.cumulative_downloads,
        class_baselines.baseline,
        case when class_baselines.baseline <> 0 then classed.cumulative_downloads / class_baselines.baseline end as ram
    from classed
    inner join class_baselines
        on class_baselines.snapshot_date = classed.snapshot_date
        and class_baselines.size_class = classed.size_class
        and class_baselines.checkpoint_days = classed.checkpoint_days

)

select * from final
