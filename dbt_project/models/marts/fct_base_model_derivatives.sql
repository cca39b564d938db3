{# Every model that at least one model builds on, present in the snapshot or not. #}

with

links as (

    select snapshot_date, model_id, parent_model_id, relation
    from {{ ref('stg_huggingface__model_base_links') }}
    where parent_model_id <> model_id

),

ancestors as (

    select snapshot_date, model_id, ancestor_model_id
    from {{ ref('fct_model_lineage') }}

),

orgs as (

    select lower(org) as org_key, country
    from {{ ref('org_countries') }}

),

direct_children as (

    select
        snapshot_date,
        parent_model_id as base_model_id,
        -- Links are unique per (model, parent), so counting rows counts distinct children.
        count(*) as n_direct,
        count(*) filter (where relation = 'finetune') as n_finetune,
        count(*) filter (where relation = 'adapter') as n_adapter,
        count(*) filter (where relation = 'quantized') as n_quantized,
        count(*) filter (where relation = 'merge') as n_merge
    from links
    group by snapshot_date, parent_model_id

),

descendants as (

    select
        snapshot_date,
        ancestor_model_id as base_model_id,
        count(*) as n_descendants
    from ancestors
    group by snapshot_date, ancestor_model_id

),

final as (

    select
        direct_children.snapshot_date,
        direct_children.base_model_id,
        {{ org_of('direct_children.base_model_id') }} as base_org,
        orgs.country as base_country,
        direct_children.n_direct,
        direct_children.n_finetune,
        direct_children.n_adapter,
        direct_children.n_quantized,
        direct_children.n_merge,
        coalesce(descendants.n_descendants, 0) as n_descendants
    from direct_children
    left join descendants
        on descendants.snapshot_date = direct_children.snapshot_date
        and descendants.base_model_id = direct_children.base_model_id
    left join orgs
        on orgs.org_key = lower({{ org_of('direct_children.base_model_id') }})

)

select * from final
