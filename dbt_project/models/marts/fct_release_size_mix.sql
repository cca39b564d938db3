{#
  Releases per month, label country and size class, with each size class's share of the
  (month, country) releases. A release is a model with a real createdAt (the floor is excluded);
  size classes by total_params, 'unknown' when the count is unknown.
#}

with

releases as (

    select
        snapshot_date,
        {{ month_start('created_at') }} as month,
        coalesce(label_country, 'unknown') as country,
        {{ size_class('total_params', 'unknown') }} as size_class
    from {{ ref('dim_models') }}
    where not created_at_is_floor and created_at is not null

),

counted as (

    select snapshot_date, month, country, size_class, count(*) as n_releases
    from releases
    group by snapshot_date, month, country, size_class

),

final as (

    select
        snapshot_date,
        month,
        country,
        size_class,
        n_releases,
        cast(n_releases as double)
            / sum(n_releases) over (partition by snapshot_date, month, country) as share
    from counted

)

select * from final
