{{ config(materialized='view') }}

{#
  Every model with its org's provider and country, its first parent, the root and length of
  its first-parent chain, and its label country: the org's country when the org is mapped,
  else the country of the nearest mapped ancestor on the chain, else unknown.
#}

with

models as (

    select *
    from {{ ref('stg_huggingface__models') }}
    where {{ build_scope() }}

),

first_parents as (

    select snapshot_date, model_id, parent_model_id, relation
    from {{ ref('stg_huggingface__model_base_links') }}
    where parent_rank = 1 and {{ build_scope() }}

),

chains as (

    -- The ancestors only: a model without a parent is its own root, at depth 0 (final, below).
    select *
    from {{ ref('int_model_chains_walked') }}
    where {{ build_scope() }} and depth >= 1

),

orgs as (

    select lower(org) as org_key, provider, country
    from {{ ref('org_countries') }}

),

chain_facts as (

    -- One pass over the chains: length, root, and the country of the nearest mapped ancestor.
    select
        chains.snapshot_date,
        chains.model_id,
        max(chains.depth) as lineage_depth,
        {{ value_at_max('chains.chain_model_id', 'chains.depth') }} as root_model_id,
        {{ value_at_min('orgs.country', 'chains.depth') }} filter (where orgs.country is not null)
            as base_country
    from chains
    left join orgs
        on orgs.org_key = lower({{ org_of('chains.chain_model_id') }})
    group by chains.snapshot_date, chains.model_id

),

final as (

    select
        models.snapshot_date,
        models.model_id,
        models.model_object_id,
        models.org,
        coalesce(orgs.provider, models.org) as provider,
        models.created_at,
        models.created_at_is_floor,
        models.pipeline_tag,
        models.library_name,
        models.license,
        models.total_params,
        models.likes,
        models.downloads_30d,
        models.downloads_all_time,
        models.trending_score,
        -- The relation of the first parent link: null for a model without a parent.
        first_parents.relation as base_relation,
        first_parents.parent_model_id,
        coalesce(chain_facts.root_model_id, models.model_id) as root_model_id,
        coalesce(chain_facts.lineage_depth, 0) as lineage_depth,
        orgs.country as org_country,
        coalesce(orgs.country, chain_facts.base_country) as label_country,
        case
            when orgs.country is not null then 'org'
            when chain_facts.base_country is not null then 'base_model'
            else 'unknown'
        end as label_source

    from models
    left join orgs
        on orgs.org_key = lower(models.org)
    left join first_parents
        on first_parents.snapshot_date = models.snapshot_date
        and first_parents.model_id = models.model_id
    left join chain_facts
        on chain_facts.snapshot_date = models.snapshot_date
        and chain_facts.model_id = models.model_id

)

select * from final
