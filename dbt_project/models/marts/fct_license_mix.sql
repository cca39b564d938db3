{#
  Releases per provider, calendar year (UTC) of createdAt and licence, with each licence's share
  of the (provider, year) releases, for the providers with a heatmap-tracked org (all of such a
  provider's orgs count). The licence is the value of the model's first `license:` tag, 'none'
  when it has none. The floor is excluded.
#}

with

tracked_providers as (

    select provider
    from {{ ref('org_countries') }}
    group by provider
    having bool_or(is_heatmap_tracked)

),

releases as (

    select
        snapshot_date,
        provider,
        cast(extract(year from created_at) as integer) as year,
        coalesce(license, 'none') as license
    from {{ ref('dim_models') }}
    where not created_at_is_floor and created_at is not null
        and provider in (select provider from tracked_providers)

),

counted as (

    select snapshot_date, provider, year, license, count(*) as n_releases
    from releases
    group by snapshot_date, provider, year, license

),

final as (

    select
        snapshot_date,
        provider,
        year,
        license,
        n_releases,
        cast(n_releases as double)
            / sum(n_releases) over (partition by snapshot_date, provider, year) as share
    from counted

)

select * from final
