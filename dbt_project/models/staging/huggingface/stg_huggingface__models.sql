{{ config(materialized='view') }}

with source as (

    select * from {{ source('huggingface', 'models') }}

),

renamed as (

    select
        cast(snapshot_date as date) as snapshot_date,
        id as model_id,
        coalesce({{ org_of('id') }}, author) as org,
        author,
        createdAt as created_at,
        createdAt = timestamp '2022-03-02 23:29:04' as created_at_is_floor,
        lastModified as last_modified_at,
        downloads as downloads_30d,
        downloadsAllTime as downloads_all_time,
        likes,
        trendingScore as trending_score,
        pipeline_tag,
        library_name,
        nullif(substr(list_filter(tags, lambda t: starts_with(t, 'license:'))[1], 9), '') as license,
        safetensors.total as total_params,
        -- case, not coalesce: the tags are only searched when baseModels has no relation.
        case
            when baseModels.relation is not null then baseModels.relation
            else regexp_extract(
                list_filter(tags, lambda t: regexp_matches(t, '^base_model:(adapter|finetune|quantized|merge):'))[1],
                '^base_model:([a-z]+):', 1
            )
        end as base_relation,
        tags,
        cardData as card_data

    from source

)

select * from renamed
