{#
  Releases per provider, repo type and calendar year (UTC): models, datasets and Spaces dated by
  their createdAt. The provider of a repo's org as for models (the seed, case-insensitive; an org
  without a group is its own provider). Floor dates are unknown, never counted; only years with a
  release have a row.
#}

with

models as (

    select snapshot_date, org, created_at, created_at_is_floor, 'model' as repo_type
    from {{ ref('dim_models') }}

),

datasets as (

    select snapshot_date, org, created_at, created_at_is_floor, 'dataset' as repo_type
    from {{ ref('stg_huggingface__datasets') }}
    where {{ build_scope() }}

),

spaces as (

    select snapshot_date, org, created_at, created_at_is_floor, 'space' as repo_type
    from {{ ref('stg_huggingface__spaces') }}
    where {{ build_scope() }}

),

repos as (

    select * from models
    union all
    select * from datasets
    union all
    select * from spaces

),

orgs as (

    select lower(org) as org_key, provider
    from {{ ref('org_countries') }}

),

releases as (

    select
        repos.snapshot_date,
        coalesce(orgs.provider, repos.org) as provider,
        repos.repo_type,
        cast(extract(year from repos.created_at) as integer) as year
    from repos
    left join orgs
        on orgs.org_key = lower(repos.org)
    where not repos.created_at_is_floor and repos.created_at is not null

),

final as (

    select snapshot_date, provider, repo_type, year, count(*) as n_releases
    from releases
    group by snapshot_date, provider, repo_type, year

)

select * from final
