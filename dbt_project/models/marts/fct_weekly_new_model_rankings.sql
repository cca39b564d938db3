{#
  Per ISO week of creation (Monday start, UTC), the top N models created that week by each
  metric. Ties: metric descending, then model_id ascending; ranks 1..N without gaps.
  Floor-dated models have no known week and are never ranked.
#}

with

new_models as (

    select *
    from {{ ref('int_models_labelled') }}
    where {{ snapshot_scope() }} and not created_at_is_floor and created_at is not null

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
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

ranked as (

    select
        *,
        row_number() over (
            partition by snapshot_date, week_start, metric
            order by metric_value desc nulls last, model_id asc
        ) as rank
    from metric_values

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
    where ranked.rank <= {{ var('weekly_top_n', 10) }}

)

select * from final
