{#
  Every model with its org's provider and country, its first parent, the root and length of
  its first-parent chain, and its label country: the org's country when the org is mapped,
  else the country of the nearest mapped ancestor on the chain, else unknown.
#}

with

models as (

    select *
    from {{ ref('stg_huggingface__models') }}
    where {{ snapshot_scope() }}

),

first_parents as (

    select snapshot_date, model_id, parent_model_id
    from {{ ref('stg_huggingface__model_base_links') }}
    where parent_rank = 1 and {{ snapshot_scope() }}

),

chains as (

    select *
    from {{ ref('int_model_chains_walked') }}
    where {{ snapshot_scope() }}

),

orgs as (

    select lower(org) as org_key, provider, country
    from {{ ref('org_countries') }}

),

roots as (

    select
        snapshot_date,
        model_id,
        max(depth) as lineage_depth,
        arg_max(chain_model_id, depth) as root_model_id
    from chains
    group by snapshot_date, model_id

),

nearest_mapped_ancestors as (

    select
        chains.snapshot_date,
        chains.model_id,
        arg_min(orgs.country, chains.depth) as base_country
    from chains
    inner join orgs
        on orgs.org_key = lower({{ org_of('chains.chain_model_id') }})
    where chains.depth >= 1
    group by chains.snapshot_date, chains.model_id

),

final as (

    select
        models.snapshot_date,
        models.model_id,
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
        models.base_relation,
        first_parents.parent_model_id,
        roots.root_model_id,
        roots.lineage_depth,
        orgs.country as org_country,
        coalesce(orgs.country, nearest_mapped_ancestors.base_country) as label_country,
        case
            when orgs.country is not null then 'org'
            when nearest_mapped_ancestors.base_country is not null then 'base_model'
            else 'unknown'
        end as label_source

    from models
    left join orgs
        on orgs.org_key = lower(models.org)
    left join first_parents
        on first_parents.snapshot_date = models.snapshot_date
        and first_parents.model_id = models.model_id
    left join roots
        on roots.snapshot_date = models.snapshot_date
        and roots.model_id = models.model_id
    left join nearest_mapped_ancestors
        on nearest_mapped_ancestors.snapshot_date = models.snapshot_date
        and nearest_mapped_ancestors.model_id = models.model_id

)

select * from final
