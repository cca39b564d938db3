{#
  How concentrated a measure is over units, per snapshot. Measures: downloads_30d, period_downloads
  (fct_model_period_downloads), releases_365d (models created in the 365 days up to the snapshot,
  floor excluded). Units: org, provider, country (label country; models without one belong to no
  country unit). Only units with a value above zero count: shares s = x / sum(x); hhi = sum(s^2);
  gini = sum_i sum_j |x_i - x_j| / (2 n^2 mean(x)), computed from the ascending ranks as
  2 sum(i x_(i)) / (n sum(x)) - (n + 1) / n; top1_share and top10_share (largest units, ties by name).
  No row for a measure that no unit has (e.g. period_downloads of a snapshot without a period).
#}

with

models as (

    select snapshot_date, model_id, org, provider, label_country, downloads_30d, created_at, created_at_is_floor
    from {{ ref('dim_models') }}

),

period_downloads as (

    select snapshot_date, model_id, downloads
    from {{ ref('fct_model_period_downloads') }}

),

model_measures as (

    select snapshot_date, org, provider, label_country, 'downloads_30d' as measure,
        cast(coalesce(downloads_30d, 0) as double) as x
    from models

    union all

    select models.snapshot_date, models.org, models.provider, models.label_country, 'period_downloads' as measure,
        cast(period_downloads.downloads as double) as x
    from period_downloads
    inner join models
        on models.snapshot_date = period_downloads.snapshot_date
        and models.model_id = period_downloads.model_id

    union all

    select snapshot_date, org, provider, label_country, 'releases_365d' as measure, 1.0 as x
    from models
    where not created_at_is_floor
        and cast(created_at as date) between {{ days_before('snapshot_date', 364) }} and snapshot_date

),

unit_values as (

    select snapshot_date, measure, 'org' as unit, org as unit_name, sum(x) as x
    from model_measures
    where org is not null
    group by snapshot_date, measure, org

    union all

    select snapshot_date, measure, 'provider' as unit, provider as unit_name, sum(x) as x
    from model_measures
    where provider is not null
    group by snapshot_date, measure, provider

    union all

    select snapshot_date, measure, 'country' as unit, label_country as unit_name, sum(x) as x
    from model_measures
    where label_country is not null and label_country <> 'unknown'
    group by snapshot_date, measure, label_country

),

ranked as (

    select
        snapshot_date,
        measure,
        unit,
        x,
        x / sum(x) over (partition by snapshot_date, measure, unit) as share,
        row_number() over (partition by snapshot_date, measure, unit order by x asc, unit_name desc) as ascending_rank,
        row_number() over (partition by snapshot_date, measure, unit order by x desc, unit_name asc) as descending_rank
    from unit_values
    where x > 0

),

final as (

    select
        snapshot_date,
        measure,
        unit,
        count(*) as n_units,
        sum(share * share) as hhi,
        2.0 * sum(ascending_rank * x) / (count(*) * sum(x)) - (count(*) + 1.0) / count(*) as gini,
        sum(case when descending_rank = 1 then share else 0 end) as top1_share,
        sum(case when descending_rank <= 10 then share else 0 end) as top10_share
    from ranked
    group by snapshot_date, measure, unit

)

select * from final
