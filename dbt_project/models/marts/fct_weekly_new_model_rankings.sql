{#
  Per ISO week of creation (Monday start, UTC), the top N models created that week by each
  metric. Ties: metric descending, then model_id ascending; ranks 1..N without gaps.
  Floor-dated models have no known week and are never ranked; a model without a value of the
  metric is not ranked by it, so a snapshot whose file lacks the metric's column (downloadsAllTime
  before 2025-02-26, trendingScore before ~2024-10) has no rows for that metric, never zeros.
#}

with

new_models as (

    select *
    from {{ ref('dim_models') }}
    where not created_at_is_floor and created_at is not null

),

metric_values as (

    {% set metrics = ['likes', 'downloads_30d', 'downloads_all_time', 'trending_score'] %}
    {% for metric in metrics %}
    select
        snapshot_date,
        {{ week_start('created_at') }} as week_start,
        '{{ metric }}' as metric,
        model_id,
        cast({{ metric }} as double) as metric_value
    from new_models
    where {{ metric }} is not null
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

cutoffs as (

    -- The Nth largest value of each week and metric (null when fewer than N have a value):
    -- only models at or above it can rank, so the sort below sees a few rows per week.
    select
        snapshot_date,
        week_start,
        metric,
        case
            when count(metric_value) >= {{ weekly_top_n() }}
            then {{ nth_largest('metric_value', weekly_top_n()) }}
        end as cutoff
    from metric_values
    group by snapshot_date, week_start, metric

),

candidates as (

    select metric_values.*
    from metric_values
    inner join cutoffs
        on cutoffs.snapshot_date = metric_values.snapshot_date
        and cutoffs.week_start = metric_values.week_start
        and cutoffs.metric = metric_values.metric
    where cutoffs.cutoff is null or metric_values.metric_value >= cutoffs.cutoff

),

ranked as (

    select
        *,
        -- A bigint on every engine (Spark's row_number() is an int).
        cast(row_number() over (
            partition by snapshot_date, week_start, metric
            order by metric_value desc nulls last, model_id asc
        ) as bigint) as rank
    from candidates

),

final as (

    select
        ranked.snapshot_date,
        ranked.week_start,
        ranked.metric,
        ranked.rank,
        ranked.model_id,
        new_models.org,
        ranked.metric_value,
        new_models.created_at,
        new_models.parent_model_id,
        new_models.label_country,
        new_models.label_source
    from ranked
    inner join new_models
        on new_models.snapshot_date = ranked.snapshot_date
        and new_models.model_id = ranked.model_id
    where ranked.rank <= {{ weekly_top_n() }}

)

select * from final
