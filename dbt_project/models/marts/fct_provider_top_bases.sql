{#
  The 20 most built-on base models of each provider that has a country in the seed. A base
  belongs to the provider of its own org (from its id, case-insensitive, whether or not the base
  is in the snapshot). Bases are those with at least one direct derivative, with the counts of
  fct_base_model_derivatives: ranked by n_descendants desc, n_direct desc, base_model_id asc.
#}

with

bases as (

    select snapshot_date, base_model_id, base_org, n_direct, n_descendants
    from {{ ref('fct_base_model_derivatives') }}
    where n_direct >= 1

),

seed as (

    select lower(org) as org_key, provider, country, is_heatmap_tracked
    from {{ ref('org_countries') }}

),

providers as (

    select provider, max(country) as country, bool_or(is_heatmap_tracked) as is_heatmap_tracked
    from seed
    group by provider
    having max(country) is not null

),

ranked as (

    select
        bases.snapshot_date,
        seed.provider,
        bases.base_model_id,
        bases.n_direct,
        bases.n_descendants,
        -- A bigint on every engine (Spark's row_number() is an int).
        cast(row_number() over (
            partition by bases.snapshot_date, seed.provider
            order by bases.n_descendants desc, bases.n_direct desc, bases.base_model_id asc
        ) as bigint) as rank
    from bases
    inner join seed
        on seed.org_key = lower(bases.base_org)

),

final as (

    select
        ranked.snapshot_date,
        ranked.provider,
        ranked.rank,
        ranked.base_model_id,
        ranked.n_direct,
        ranked.n_descendants,
        providers.country,
        providers.is_heatmap_tracked
    from ranked
    inner join providers
        on providers.provider = ranked.provider
    where ranked.rank <= 20

)

select * from final
