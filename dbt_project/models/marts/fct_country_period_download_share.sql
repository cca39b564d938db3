{#
  Share of period downloads by label country, for models created in the 365 days up to and
  including the snapshot date (cohort new_365d, floor dates excluded) and for all models (cohort
  all). Unknown countries are one row, 'unknown'. Shares of a cohort sum to 1.
#}

with

period_downloads as (

    select snapshot_date, model_id, downloads
    from {{ ref('fct_model_period_downloads') }}

),

models as (

    select snapshot_date, model_id, created_at, created_at_is_floor, label_country
    from {{ ref('dim_models') }}

),

labelled as (

    select
        period_downloads.snapshot_date,
        coalesce(models.label_country, 'unknown') as country,
        not models.created_at_is_floor
            and cast(models.created_at as date)
                between {{ days_before('period_downloads.snapshot_date', 364) }} and period_downloads.snapshot_date
            as is_new,
        period_downloads.downloads
    from period_downloads
    inner join models
        on models.snapshot_date = period_downloads.snapshot_date
        and models.model_id = period_downloads.model_id

),

cohorts as (

    select snapshot_date, 'all' as cohort, country, downloads
    from labelled

    union all

    select snapshot_date, 'new_365d' as cohort, country, downloads
    from labelled
    where is_new

),

by_country as (

    select snapshot_date, cohort, country, cast(sum(downloads) as bigint) as downloads
    from cohorts
    group by snapshot_date, cohort, country

),

final as (

    select
        snapshot_date,
        cohort,
        country,
        downloads,
        cast(downloads as double) / sum(downloads) over (partition by snapshot_date, cohort) as share
    from by_country

)

select * from final
