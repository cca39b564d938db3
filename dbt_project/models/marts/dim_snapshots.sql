{#
  One row per built snapshot: where it came from, and whether it is synthetic. A run builds the
  row of its snapshot; the rows of other snapshots stay in their own folders of the lake, also
  when that snapshot's raw folder was deleted since. The catalog's view of this mart recomputes
  is_raw_stored for every snapshot at each publication (orchestration/lib/publish.py).
  The period columns pair the snapshot with its previous one (int_period_snapshots_paired) and
  flag a stall: the Hub-wide positive period downloads per day under 25% of the median of the up
  to 8 preceding periods' (the Hub's counters freeze on some days and catch up the next).
  built_at and history_fingerprint say when the snapshot was built and on which published
  snapshots before it (relative adoption carries its curves over while those stay the same).
#}

with

manifests as (

    select * from {{ ref('stg_huggingface__snapshots') }}

),

snapshots as (

    select snapshot_date, snapshot_source, repo_id, revision, is_synthetic, n_rows, sha256, ingested_at,
        missing_columns, source_license
    from manifests
    where {{ build_scope() }}


),

periods as (

    select snapshot_date, prev_snapshot_date, days, has_period, stall_baseline_per_day
    from {{ ref('int_period_snapshots_paired') }}

),

period_sums as (

    select
        snapshot_date,
        sum(case when downloads > 0 then downloads else 0 end) as positive_downloads
    from {{ ref('int_model_period_downloads') }}
    group by snapshot_date

),

histories as (

    -- The snapshots published before each one at the time of this build (relative adoption checks it).
    select
        snapshots.snapshot_date,
        {{ history_fingerprint('published.snapshot_date', 'published.built_at') }} as history_fingerprint
    from snapshots
    left join {{ ref('int_period_lake_snapshots') }} as published
        on published.snapshot_date < snapshots.snapshot_date
    group by snapshots.snapshot_date

),

period_rates as (

    select
        periods.snapshot_date,
        periods.prev_snapshot_date,
        periods.stall_baseline_per_day,
        case
            when periods.has_period
                then cast(coalesce(period_sums.positive_downloads, 0) as double) / periods.days
        end as hub_period_downloads_per_day
    from periods
    left join period_sums
        on period_sums.snapshot_date = periods.snapshot_date

),

final as (

    select
        snapshots.snapshot_date,
        snapshots.snapshot_source,
        snapshots.repo_id,
        snapshots.revision,
        snapshots.is_synthetic,
        snapshots.n_rows,
        snapshots.sha256,
        snapshots.ingested_at,
        snapshots.missing_columns,
        snapshots.source_license,
        snapshots.snapshot_date in (select snapshot_date from manifests) as is_raw_stored,
        period_rates.prev_snapshot_date,
        period_rates.hub_period_downloads_per_day,
        period_rates.stall_baseline_per_day,
        coalesce(
            period_rates.hub_period_downloads_per_day < 0.25 * period_rates.stall_baseline_per_day,
            false
        ) as is_stalled,
        -- The engine of this build: the dbt adapter (duckdb, or spark for `observatory build --engine spark`).
        cast('{{ target.type }}' as {{ sql_type('varchar') }}) as engine,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ sql_type('timestamp') }}) as built_at,
        histories.history_fingerprint
    from snapshots
    left join period_rates
        on period_rates.snapshot_date = snapshots.snapshot_date
    left join histories
        on histories.snapshot_date = snapshots.snapshot_date

)

select * from final
