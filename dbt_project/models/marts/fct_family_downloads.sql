{#
  Families of root models: a root and every model whose first-parent chain ends at it
  (root_model_id). One row per root with at least one derivative. Derived attribution: the
  family's 30-day downloads credited to the root's org and its country (the org's seed country,
  'unknown' when unmapped), also when the root itself is not in the snapshot.
#}

with

models as (

    select snapshot_date, model_id, root_model_id, downloads_30d
    from {{ ref('dim_models') }}

),

roots as (

    select snapshot_date, root_model_id
    from models
    where root_model_id is not null
        and model_id <> root_model_id
    group by snapshot_date, root_model_id

),

members as (

    -- The models whose chain ends at the root, and the root itself when present (a root on a
    -- parent cycle has another root of its own, yet still heads its family).
    select models.snapshot_date, models.root_model_id, models.model_id, models.downloads_30d
    from models
    inner join roots
        on roots.snapshot_date = models.snapshot_date
        and roots.root_model_id = models.root_model_id

    union

    select models.snapshot_date, models.model_id as root_model_id, models.model_id, models.downloads_30d
    from models
    inner join roots
        on roots.snapshot_date = models.snapshot_date
        and roots.root_model_id = models.model_id

),

families as (

    select
        snapshot_date,
        root_model_id,
        count(*) as n_models,
        cast(sum(coalesce(downloads_30d, 0)) as bigint) as downloads_30d,
        cast(sum(case when model_id = root_model_id then coalesce(downloads_30d, 0) else 0 end) as bigint)
            as downloads_30d_root
    from members
    group by snapshot_date, root_model_id

),

orgs as (

    select lower(org) as org_key, country
    from {{ ref('org_countries') }}

),

final as (

    select
        families.snapshot_date,
        families.root_model_id,
        {{ org_of('families.root_model_id') }} as root_org,
        coalesce(orgs.country, 'unknown') as root_country,
        families.n_models,
        families.downloads_30d,
        families.downloads_30d_root,
        case
            when families.downloads_30d > 0
                then 1 - cast(families.downloads_30d_root as double) / families.downloads_30d
        end as derivative_share
    from families
    left join orgs
        on orgs.org_key = lower({{ org_of('families.root_model_id') }})

)

select * from final
