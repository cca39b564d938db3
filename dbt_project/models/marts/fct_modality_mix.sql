{#
  Releases per month, label country and pipeline tag (the model's task, 'none' when it has
  none), with each tag's share of the (month, country) releases. The floor is excluded.
#}

with

releases as (

    select
        snapshot_date,
        {{ month_start('created_at') }} as month,
        coalesce(label_country, 'unknown') as country,
        coalesce(pipeline_tag, 'none') as pipeline_tag
    from {{ ref('dim_models') }}
    where not created_at_is_floor and created_at is not null

),

counted as (

    select snapshot_date, month, country, pipeline_tag, count(*) as n_releases
    from releases
    group by snapshot_date, month, country, pipeline_tag

),

final as (

    select
        snapshot_date,
        month,
        country,
        pipeline_tag,
        n_releases,
        cast(n_releases as double)
            / sum(n_releases) over (partition by snapshot_date, month, country) as share
    from counted

)

select * from final
