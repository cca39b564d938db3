{#
  Period downloads per provider (the org groups of the seed; an org without a group is its own
  provider): total, per day, share of all period downloads of the snapshot, and rank (downloads
  desc, provider asc). Providers with period downloads only; no rows for a snapshot without a period.
#}

with

period_downloads as (

    select snapshot_date, model_id, days, downloads
    from {{ ref('fct_model_period_downloads') }}

),

models as (

    select snapshot_date, model_id, provider
    from {{ ref('dim_models') }}

),

provider_countries as (

    select provider, max(country) as country
    from {{ ref('org_countries') }}
    group by provider

),

by_provider as (

    select
        period_downloads.snapshot_date,
        models.provider,
        max(period_downloads.days) as days,
        cast(sum(period_downloads.downloads) as bigint) as downloads
    from period_downloads
    inner join models
        on models.snapshot_date = period_downloads.snapshot_date
        and models.model_id = period_downloads.model_id
    group by period_downloads.snapshot_date, models.provider

),

final as (

    select
        by_provider.snapshot_date,
        by_provider.provider,
        provider_countries.country,
        by_provider.downloads,
        cast(by_provider.downloads as double) / by_provider.days as downloads_per_day,
        cast(by_provider.downloads as double)
            / sum(by_provider.downloads) over (partition by by_provider.snapshot_date) as share,
        -- A bigint on every engine (Spark's row_number() is an int).
        cast(row_number() over (
            partition by by_provider.snapshot_date order by by_provider.downloads desc, by_provider.provider asc
        ) as bigint) as rank
    from by_provider
    left join provider_countries
        on provider_countries.provider = by_provider.provider

)

select * from final
