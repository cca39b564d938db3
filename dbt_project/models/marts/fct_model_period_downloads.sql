{#
  Downloads of each model over the period since the previous snapshot (downloadsAllTime now minus
  then, by model key), for snapshots with a period that are not stalled. Only models with downloads
  above zero: unknown periods (absent before, counter backwards) have no row, and never a zero.
#}

with

period_downloads as (

    select snapshot_date, model_id, model_key, prev_snapshot_date, days, downloads
    from {{ ref('int_model_period_downloads') }}
    where downloads > 0

),

measured_snapshots as (

    select snapshot_date
    from {{ ref('dim_snapshots') }}
    where not is_stalled

),

final as (

    select
        period_downloads.snapshot_date,
        period_downloads.model_id,
        period_downloads.model_key,
        period_downloads.prev_snapshot_date,
        period_downloads.days,
        period_downloads.downloads,
        cast(period_downloads.downloads as double) / period_downloads.days as downloads_per_day
    from period_downloads
    inner join measured_snapshots
        on measured_snapshots.snapshot_date = period_downloads.snapshot_date

)

select * from final
