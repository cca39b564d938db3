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

  Carried curves, so a build's cost does not grow with the history stored: when the run builds one
  snapshot S and P, the newest published snapshot before it, is not stalled and was built on the
  snapshots still published before it (dim_snapshots.history_fingerprint), a model of S's universe
  that has a point in P (same key rule, same created date) takes its values at T <= P from P's own
  rows (every later point is after P, so none can change them), and its values at P < T <= S from
  its points at P and S; a model created after P has no stored point but S's and (created date, 0).
  Only the other models (absent from P, or every model when P does not qualify) have their curves
  read from every stored snapshot.
#}

{%- set checkpoints = adoption_checkpoints() -%}
{%- set requested = requested_snapshot_date() -%}

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

    -- The published snapshots before the run's (a rebuild's own date and later ones are never points).
    select snapshot_date, is_stalled, built_at, history_fingerprint
    from {{ ref('int_period_lake_snapshots') }}

),

lake_points as {{ not_materialized() }} (

    -- Read where used (P's rows; the points of models absent from P): at 100 stored snapshots, computing
    -- it once whole took 4.4 s, reading it in place 0.6 s.
    select *
    from {{ lake_table('fct_adoption_points', {
        'model_id': 'varchar', 'model_object_id': 'varchar', 'created_date': 'date', 'downloads_all_time': 'bigint'}) }}

),

previous_candidate as (

    select max(snapshot_date) as snapshot_date
    from lake_snapshots
    {%- if not requested %}
    where false  -- a run of several snapshots reads every curve from the stored snapshots
    {%- endif %}

),

history_before_previous as (

    select {{ history_fingerprint('lake_snapshots.snapshot_date', 'lake_snapshots.built_at') }} as history_fingerprint
    from lake_snapshots
    inner join previous_candidate
        on lake_snapshots.snapshot_date < previous_candidate.snapshot_date

),

previous_snapshot as (

    -- P, when its curves carry over: not stalled, and built on the snapshots still published before it.
    select lake_snapshots.snapshot_date
    from lake_snapshots
    inner join previous_candidate
        on previous_candidate.snapshot_date = lake_snapshots.snapshot_date
    cross join history_before_previous
    where not lake_snapshots.is_stalled
        and lake_snapshots.history_fingerprint = history_before_previous.history_fingerprint

),

previous_points as (

    select lake_points.model_id, lake_points.model_object_id, lake_points.created_date,
        lake_points.downloads_all_time, previous_snapshot.snapshot_date as point_date
    from lake_points
    inner join previous_snapshot
        on previous_snapshot.snapshot_date = lake_points.snapshot_date
    where lake_points.downloads_all_time is not null

),

previous_values as (

    select lake_values.model_id, lake_values.checkpoint_days, lake_values.cumulative_downloads
    from {{ lake_table('fct_relative_adoption', {
        'model_id': 'varchar', 'checkpoint_days': 'integer', 'cumulative_downloads': 'double'}) }} as lake_values
    inner join previous_snapshot
        on previous_snapshot.snapshot_date = lake_values.snapshot_date

),

stored_points as {{ not_materialized() }} (

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

carried_matches as (

    -- Models of S with a point in P: the object id when both rows carry one, else the repo id.
    select universe.snapshot_date, universe.model_id, previous_points.model_id as prev_model_id,
        previous_points.point_date, previous_points.downloads_all_time
    from universe
    inner join previous_points
        on previous_points.model_object_id = universe.model_object_id
    where previous_points.created_date = universe.created_date
        and previous_points.point_date >= universe.created_date

    union all

    select universe.snapshot_date, universe.model_id, previous_points.model_id,
        previous_points.point_date, previous_points.downloads_all_time
    from universe
    inner join previous_points
        on previous_points.model_id = universe.model_id
    where (previous_points.model_object_id is null or universe.model_object_id is null)
        and previous_points.created_date = universe.created_date
        and previous_points.point_date >= universe.created_date

),

folded_curves as (

    -- Each folded model's last point before S: its point in P, or (created date, 0) when created after P.
    -- A model matching two rows of P (two keys) is read from the stored snapshots instead.
    select snapshot_date, model_id, max(prev_model_id) as prev_model_id, max(point_date) as last_date,
        max(downloads_all_time) as last_downloads
    from carried_matches
    group by snapshot_date, model_id
    having count(*) = 1

    union all

    select universe.snapshot_date, universe.model_id, cast(null as {{ sql_type('varchar') }}),
        universe.created_date, cast(0 as bigint)
    from universe
    inner join previous_snapshot
        on universe.created_date > previous_snapshot.snapshot_date

),

folded_checkpoint_dates as (

    -- Each folded model's checkpoints and their dates (those after S are dropped below).
    select
        universe.snapshot_date,
        universe.model_id,
        universe.size_class,
        universe.downloads_all_time,
        folded_curves.prev_model_id,
        folded_curves.last_date,
        folded_curves.last_downloads,
        checkpoint_days.checkpoint_days,
        {{ days_after('universe.created_date', 'checkpoint_days.checkpoint_days') }} as checkpoint_date
    from universe
    inner join folded_curves
        on folded_curves.snapshot_date = universe.snapshot_date
        and folded_curves.model_id = universe.model_id
    cross join (values {% for days in checkpoints %}({{ days }}){% if not loop.last %}, {% endif %}{% endfor %}) as checkpoint_days (checkpoint_days)

),

folded_checkpoints as (

    -- At T <= P, P's value (no row there: none); after P, S's own point at T = S, else the line from
    -- the last point to S's point when they are at most 35 days apart.
    select
        dates.snapshot_date,
        dates.model_id,
        dates.size_class,
        dates.checkpoint_days,
        dates.checkpoint_date,
        case
            when dates.checkpoint_date <= dates.last_date then previous_values.cumulative_downloads
            when own_snapshot_is_stalled.is_stalled or dates.downloads_all_time is null then null
            when dates.checkpoint_date = dates.snapshot_date then cast(dates.downloads_all_time as double)
            when {{ days_between('dates.last_date', 'dates.snapshot_date') }} > 35 then null
            else {{ interpolate_downloads('dates.last_date', 'dates.last_downloads',
                'dates.snapshot_date', 'dates.downloads_all_time', 'dates.checkpoint_date') }}
        end as cumulative_downloads
    from folded_checkpoint_dates as dates
    inner join own_snapshot_is_stalled
        on own_snapshot_is_stalled.snapshot_date = dates.snapshot_date
    left join previous_values
        on previous_values.model_id = dates.prev_model_id
        and previous_values.checkpoint_days = dates.checkpoint_days
    where dates.checkpoint_date <= dates.snapshot_date

),

universe_keyed as (

    -- The models read from every stored snapshot: a compact key per (snapshot, model) for the curve's
    -- sorts and joins, and which points it needs.
    select
        universe.*,
        row_number() over (order by universe.snapshot_date, universe.model_id) as curve_id,
        {{ adoption_point_bounds('universe.created_date', 'universe.snapshot_date') }}
    from universe
    left join folded_curves
        on folded_curves.snapshot_date = universe.snapshot_date
        and folded_curves.model_id = universe.model_id
    where folded_curves.model_id is null

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
            else {{ interpolate_downloads('surrounding_dates.before_date', 'before_point.downloads_all_time',
                'surrounding_dates.after_date', 'after_point.downloads_all_time', 'surrounding_dates.checkpoint_date') }}
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

all_cumulative as (

    select snapshot_date, model_id, size_class, checkpoint_days, checkpoint_date, cumulative_downloads
    from cumulative

    union all

    select snapshot_date, model_id, size_class, checkpoint_days, checkpoint_date, cumulative_downloads
    from folded_checkpoints

),

classed as (

    select
        all_cumulative.*,
        row_number() over (
            partition by snapshot_date, size_class, checkpoint_days
            order by cumulative_downloads desc, model_id
        ) as position_desc,
        count(*) over (partition by snapshot_date, size_class, checkpoint_days) as n_in_class
    from all_cumulative
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
