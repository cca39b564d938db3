{#
  Each snapshot of the run paired with its previous snapshot: the newest published snapshot before
  it that is not stalled. has_period says whether period downloads are measured (a previous
  snapshot at most 35 days earlier, and downloadsAllTime present in both). stall_baseline_per_day
  is the median of the Hub-wide per-day period downloads of the up to 8 preceding published
  snapshots that are not stalled and had a period (null when there is none).
#}

with

run_snapshots as (

    select snapshot_date, missing_columns
    from {{ ref('stg_huggingface__snapshots') }}
    where {{ build_scope() }}

),

published as (

    select snapshot_date, is_stalled, hub_period_downloads_per_day, missing_columns
    from {{ ref('int_period_lake_snapshots') }}

),

candidates as (

    select
        run_snapshots.snapshot_date,
        published.snapshot_date as prev_snapshot_date,
        published.missing_columns as prev_missing_columns,
        row_number() over (
            partition by run_snapshots.snapshot_date order by published.snapshot_date desc
        ) as recency
    from run_snapshots
    inner join published
        on published.snapshot_date < run_snapshots.snapshot_date
        and not published.is_stalled

),

preceding_periods as (

    select
        run_snapshots.snapshot_date,
        published.hub_period_downloads_per_day,
        row_number() over (
            partition by run_snapshots.snapshot_date order by published.snapshot_date desc
        ) as recency
    from run_snapshots
    inner join published
        on published.snapshot_date < run_snapshots.snapshot_date
        and not published.is_stalled
        and published.hub_period_downloads_per_day is not null

),

baselines as (

    select snapshot_date, median(hub_period_downloads_per_day) as stall_baseline_per_day
    from preceding_periods
    where recency <= 8
    group by snapshot_date

),

final as (

    select
        run_snapshots.snapshot_date,
        candidates.prev_snapshot_date,
        {{ days_between('candidates.prev_snapshot_date', 'run_snapshots.snapshot_date') }} as days,
        coalesce(
            candidates.prev_snapshot_date is not null
            and {{ days_between('candidates.prev_snapshot_date', 'run_snapshots.snapshot_date') }} <= 35
            and not {{ lacks_column('run_snapshots.missing_columns', 'downloadsAllTime') }}
            and not {{ lacks_column('candidates.prev_missing_columns', 'downloadsAllTime') }},
            false
        ) as has_period,
        baselines.stall_baseline_per_day
    from run_snapshots
    left join candidates
        on candidates.snapshot_date = run_snapshots.snapshot_date
        and candidates.recency = 1
    left join baselines
        on baselines.snapshot_date = run_snapshots.snapshot_date

)

select * from final
