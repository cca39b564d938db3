{#
  Releases per day of each heatmap-tracked provider over the 52 weeks ending at the snapshot
  (the 364 days snapshot_date - 363 .. snapshot_date), with a zero row for every empty day.
  A provider is tracked when any of its orgs is; all of its orgs' releases count.
#}

with

snapshots as (

    select distinct snapshot_date
    from {{ ref('dim_models') }}

),

tracked_providers as (

    select provider
    from {{ ref('org_countries') }}
    group by provider
    having bool_or(is_heatmap_tracked)

),

releases as (

    select snapshot_date, provider, cast(created_at as date) as day, count(*) as n_releases
    from {{ ref('dim_models') }}
    where not created_at_is_floor
        and provider in (select provider from tracked_providers)
    group by snapshot_date, provider, cast(created_at as date)

),

spine as (

    select snapshots.snapshot_date, tracked_providers.provider, days.day
    from snapshots
    cross join tracked_providers
    {{ cross_join_days(days_before('snapshots.snapshot_date', 363), 'snapshots.snapshot_date', 'days') }}

),

final as (

    select
        spine.snapshot_date,
        spine.provider,
        spine.day,
        coalesce(releases.n_releases, 0) as n_releases
    from spine
    left join releases
        on releases.snapshot_date = spine.snapshot_date
        and releases.provider = spine.provider
        and releases.day = spine.day

)

select * from final
