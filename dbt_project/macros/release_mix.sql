{#
  Releases per snapshot, month of createdAt and label country ('unknown' when none), split by
  `column` = `expression` over dim_models, with each value's share of the (month, country)
  releases. A release has a real createdAt (the floor is excluded). Shared by the size and
  modality mixes.
#}
{% macro monthly_release_mix(column, expression) -%}

with

releases as (

    select
        snapshot_date,
        {{ month_start('created_at') }} as month,
        coalesce(label_country, 'unknown') as country,
        {{ expression }} as {{ column }}
    from {{ ref('dim_models') }}
    where not created_at_is_floor and created_at is not null

),

counted as (

    select snapshot_date, month, country, {{ column }}, count(*) as n_releases
    from releases
    group by snapshot_date, month, country, {{ column }}

),

final as (

    select
        snapshot_date,
        month,
        country,
        {{ column }},
        n_releases,
        cast(n_releases as double)
            / sum(n_releases) over (partition by snapshot_date, month, country) as share
    from counted

)

select * from final

{%- endmacro %}
