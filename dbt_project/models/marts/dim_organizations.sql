{{ config(materialized='table') }}

{#
  One row per org (case-insensitive) as of the newest built snapshot: every curated org, every
  org with a model in that snapshot, and every org named only as a parent of one.
#}

with

models as (

    select *
    from {{ ref('dim_models') }}
    where snapshot_date = (select max(snapshot_date) from {{ ref('dim_models') }})

),

curated as (

    select * from {{ ref('org_countries') }}

),

parent_orgs as (

    select lower(org) as org_key, min(org) as org
    from (select {{ org_of('parent_model_id') }} as org from models) as parents
    where org is not null
    group by lower(org)

),

model_orgs as (

    select
        lower(org) as org_key,
        min(org) as org,
        count(*) as n_models,
        min(case when not created_at_is_floor then created_at end) as first_release_at
    from models
    group by lower(org)

),

all_orgs as (

    select lower(org) as org_key from curated
    union
    select org_key from model_orgs
    union
    select org_key from parent_orgs

),

final as (

    select
        coalesce(curated.org, model_orgs.org, parent_orgs.org) as org,
        coalesce(curated.provider, model_orgs.org, parent_orgs.org) as provider,
        curated.country,
        curated.org_type,
        coalesce(curated.is_heatmap_tracked, false) as is_heatmap_tracked,
        curated.evidence as country_evidence,
        coalesce(model_orgs.n_models, 0) as n_models,
        model_orgs.first_release_at,
        (select max(snapshot_date) from models) as snapshot_date
    from all_orgs
    left join curated
        on lower(curated.org) = all_orgs.org_key
    left join model_orgs
        on model_orgs.org_key = all_orgs.org_key
    left join parent_orgs
        on parent_orgs.org_key = all_orgs.org_key

)

select * from final
