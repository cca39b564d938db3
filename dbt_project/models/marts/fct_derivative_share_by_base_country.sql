{#
  New derivatives (models with a parent) per month of creation, by the country of the org of
  their root (the end of the first-parent chain); 'unknown' when unmapped. Floor dates excluded.
#}

with

derivatives as (

    select snapshot_date, created_at, root_model_id
    from {{ ref('dim_models') }}
    where parent_model_id is not null
        and not created_at_is_floor

),

orgs as (

    select lower(org) as org_key, country
    from {{ ref('org_countries') }}

),

by_country as (

    select
        derivatives.snapshot_date,
        {{ month_start('derivatives.created_at') }} as month,
        coalesce(orgs.country, 'unknown') as base_country,
        count(*) as n_new_derivatives
    from derivatives
    left join orgs
        on orgs.org_key = lower({{ org_of('derivatives.root_model_id') }})
    group by 1, 2, 3

),

final as (

    select
        snapshot_date,
        month,
        base_country,
        n_new_derivatives,
        cast(n_new_derivatives as double)
            / sum(n_new_derivatives) over (partition by snapshot_date, month) as share
    from by_country

)

select * from final
