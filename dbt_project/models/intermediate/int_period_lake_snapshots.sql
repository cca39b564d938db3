{#
  Published snapshots before the run's snapshot, as the lake holds them: the stall flag and the
  Hub-wide per-day period downloads each was built with (null for snapshots published before
  those columns existed), and when each was built and on which earlier snapshots (null before
  those columns existed). The only place the models read dim_snapshots of the lake.
#}

with

published as (

    select *
    from {{ lake_table('dim_snapshots', {
        'is_stalled': 'boolean',
        'hub_period_downloads_per_day': 'double',
        'missing_columns': 'varchar',
        'built_at': 'timestamp',
        'history_fingerprint': 'varchar',
    }) }} as lake_snapshots

),

final as (

    select
        snapshot_date,
        coalesce(is_stalled, false) as is_stalled,
        hub_period_downloads_per_day,
        missing_columns,
        built_at,
        history_fingerprint
    from published
    where {{ before_run_snapshot('snapshot_date') }}

)

select * from final
