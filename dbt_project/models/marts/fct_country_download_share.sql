{#
  Share of 30-day downloads by label country, for models created in the 365 days up to and
  including the snapshot date (cohort new_365d) and for all models (cohort all).
  Unknown countries are one row, 'unknown'. Shares of a cohort sum to 1.
#}

with

models as (

    select *
    from {{ ref('dim_models') }}

),

cohorts as (

    select snapshot_date, 'all' as cohort, coalesce(label_country, 'unknown') as country, downloads_30d
    from models

    union all

    select snapshot_date, 'new_365d' as cohort, coalesce(label_country, 'unknown') as country, downloads_30d
    from models
    where not created_at_is_floor
        and cast(created_at as date) between {{ days_before('snapshot_date', 364) }} and snapshot_date

),

by_country as (

    -- Fits a bigint: ingest nulls any count above 10^12 (snapshot_store.MAX_PLAUSIBLE_COUNT), so
    -- the sum stays exact up to 9.2 million models per snapshot.
    select snapshot_date, cohort, country, cast(sum(coalesce(downloads_30d, 0)) as bigint) as downloads_30d
    from cohorts
    group by snapshot_date, cohort, country

),

final as (

    select
        snapshot_date,
        cohort,
        country,
        downloads_30d,
        cast(downloads_30d as double)
            / nullif(sum(downloads_30d) over (partition by snapshot_date, cohort), 0) as share,
        -- A bigint on every engine (Spark's row_number() is an int).
        cast(row_number() over (
            partition by snapshot_date, cohort order by downloads_30d desc, country asc
        ) as bigint) as rank
    from by_country

)

select * from final
