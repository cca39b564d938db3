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
  from the run. Points after createdAt + 400 days are never needed (T <= createdAt + 365, and the
  point after T must lie within 35 days of one on or before T), so they are not read.
#}

with

universe as (

    select *
    from {{ ref('fct_adoption_points') }}

),

own_snapshots as (

    select snapshot_date
    from {{ ref('dim_snapshots') }}

),

own_snapshot_is_stalled as (

    -- HOOK (wire at merge): read coalesce(is_stalled, false) from ref('dim_snapshots') once it has the column.
    select snapshot_date, false as is_stalled from own_snapshots

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
    where lake_points.snapshot_date not in (select snapshot_date from own_snapshots)
        and not coalesce(lake_snapshots.is_stalled, false)
        and lake_points.downloads_all_time is not null

),

matched_points as (

    -- The model key: the object id when both rows carry one, else the repo id (one rule, two equi-joins).
    select universe.snapshot_date, universe.model_id, stored_points.point_date, stored_points.downloads_all_time
    from universe
    inner join stored_points
        on stored_points.model_object_id = universe.model_object_id
    where stored_points.point_date <= universe.snapshot_date
        and stored_points.point_date >= universe.created_date
        and stored_points.point_date <= {{ days_after('universe.created_date', 400) }}

    union all

    select universe.snapshot_date, universe.model_id, stored_points.point_date, stored_points.downloads_all_time
    from universe
    inner join stored_points
        on stored_points.model_id = universe.model_id
    where (stored_points.model_object_id is null or universe.model_object_id is null)
        and stored_points.point_date <= universe.snapshot_date
        and stored_points.point_date >= universe.created_date
        and stored_points.point_date <= {{ days_after('universe.created_date', 400) }}

),

creation_points as (

    -- (createdAt date, 0), unless a stored snapshot dated that day holds the model.
    select universe.snapshot_date, universe.model_id, universe.created_date as point_date, cast(0 as bigint) as downloads_all_time
    from universe
    where not exists (
        select 1
        from matched_points
        where matched_points.snapshot_date = universe.snapshot_date
            and matched_points.model_id = universe.model_id
            and matched_points.point_date = universe.created_date
    )

),

checkpoints as (

    select
        universe.snapshot_date,
        universe.model_id,
        checkpoint_days.checkpoint_days,
        {{ days_after('universe.created_date', 'checkpoint_days.checkpoint_days') }} as checkpoint_date
    from universe
    cross join (values (7), (14), (30), (60), (90), (180), (365)) as checkpoint_days (checkpoint_days)
    where {{ days_after('universe.created_date', 'checkpoint_days.checkpoint_days') }} <= universe.snapshot_date

),

curve_events as (

    -- Points and checkpoints on one time line per model; a point sorts before a checkpoint of its day.
    select snapshot_date, model_id, point_date as event_date, 0 as event_order,
        cast(null as integer) as checkpoint_days, downloads_all_time
    from matched_points
    union all
    select snapshot_date, model_id, point_date, 0, cast(null as integer), downloads_all_time
    from creation_points
    union all
    select snapshot_date, model_id, checkpoint_date, 1, checkpoint_days, cast(null as bigint)
    from checkpoints

),

surrounding_points as (

    select
        snapshot_date,
        model_id,
        checkpoint_days,
        event_date as checkpoint_date,
        max(case when event_order = 0 then event_date end) over before_checkpoint as before_date,
        {{ last_non_null('downloads_all_time') }} over before_checkpoint as before_downloads,
        min(case when event_order = 0 then event_date end) over after_checkpoint as after_date,
        {{ first_non_null('downloads_all_time') }} over after_checkpoint as after_downloads,
        event_order
    from curve_events
    window
        before_checkpoint as (
            partition by snapshot_date, model_id order by event_date, event_order
            rows between unbounded preceding and current row
        ),
        after_checkpoint as (
            partition by snapshot_date, model_id order by event_date, event_order
            rows between current row and unbounded following
        )

),

cumulative as (

    select
        snapshot_date,
        model_id,
        checkpoint_days,
        checkpoint_date,
        case
            when before_date = checkpoint_date then cast(before_downloads as double)
            when after_date is null then null
            when {{ days_between('before_date', 'after_date') }} > 35 then null
            else cast(before_downloads as double)
                + cast(after_downloads - before_downloads as double)
                * {{ days_between('before_date', 'checkpoint_date') }}
                / {{ days_between('before_date', 'after_date') }}
        end as cumulative_downloads
    from surrounding_points
    where event_order = 1

),

classed as (

    select
        cumulative.*,
        universe.size_class,
        row_number() over class_at_checkpoint as position_desc,
        count(*) over (partition by cumulative.snapshot_date, universe.size_class, cumulative.checkpoint_days)
            as n_in_class
    from cumulative
    inner join universe
        on universe.snapshot_date = cumulative.snapshot_date
        and universe.model_id = cumulative.model_id
    where cumulative.cumulative_downloads is not null
    window class_at_checkpoint as (
        partition by cumulative.snapshot_date, universe.size_class, cumulative.checkpoint_days
        order by cumulative.cumulative_downloads desc, cumulative.model_id
    )

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
