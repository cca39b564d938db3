{#
  Releases per provider and calendar year (UTC), from the provider's first release year to the
  snapshot's year, with zero years filled in. Floor dates are unknown, never counted.
#}

with

releases as (

    select snapshot_date, provider, extract(year from created_at) as release_year
    from {{ ref('dim_models') }}
    where not created_at_is_floor and created_at is not null

),

provider_countries as (

    select provider, max(country) as country
    from {{ ref('org_countries') }}
    group by provider

),

counted as (

    select snapshot_date, provider, release_year, count(*) as n_releases
    from releases
    group by snapshot_date, provider, release_year

),

provider_spans as (

    select snapshot_date, provider, min(release_year) as first_year
    from counted
    group by snapshot_date, provider

),

provider_years as (

    select
        provider_spans.snapshot_date,
        provider_spans.provider,
        years.release_year
    from provider_spans
    {{ cross_join_list(
        integers_from_to('provider_spans.first_year', 'extract(year from provider_spans.snapshot_date)'),
        'years', 'release_year'
    ) }}

),

filled as (

    select
        provider_years.snapshot_date,
        provider_years.provider,
        provider_years.release_year,
        coalesce(counted.n_releases, 0) as n_releases
    from provider_years
    left join counted
        on counted.snapshot_date = provider_years.snapshot_date
        and counted.provider = provider_years.provider
        and counted.release_year = provider_years.release_year

),

with_previous as (

    select
        *,
        lag(n_releases) over (partition by snapshot_date, provider order by release_year) as previous
    from filled

),

final as (

    select
        with_previous.snapshot_date,
        with_previous.provider,
        cast(with_previous.release_year as integer) as year,
        provider_countries.country,
        with_previous.n_releases,
        coalesce(with_previous.previous, 0) as n_releases_prev_year,
        cast(with_previous.n_releases as double) / nullif(with_previous.previous, 0) as growth_ratio
    from with_previous
    left join provider_countries
        on provider_countries.provider = with_previous.provider

)

select * from final
