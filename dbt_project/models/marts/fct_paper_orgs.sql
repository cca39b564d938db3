{#
  The Hub's daily papers per organization (paper_organization.name, as the Hub names it) and
  calendar year (UTC) of publishedAt: how many, and their upvotes. Papers that name no
  organization are one row, org 'none'.
#}

with

papers as (

    select snapshot_date, organization_name, published_at, upvotes
    from {{ ref('stg_huggingface__papers') }}
    where {{ build_scope() }} and published_at is not null

),

final as (

    select
        snapshot_date,
        coalesce(organization_name, 'none') as org,
        cast(extract(year from published_at) as integer) as year,
        count(*) as n_papers,
        cast(coalesce(sum(upvotes), 0) as bigint) as upvotes
    from papers
    group by snapshot_date, coalesce(organization_name, 'none'), cast(extract(year from published_at) as integer)

)

select * from final
