{{ config(materialized='view') }}

with source as (

    select * from {{ raw_source('models') }}

),

renamed as (

    select
        cast(snapshot_date as date) as snapshot_date,
        id as model_id,
        _id as model_object_id,
        -- A legacy id without namespace belongs to its author; without an author either, the id
        -- is its own namespace (an unmapped org, so no country is invented for it).
        coalesce({{ org_of('id') }}, nullif(trim(author), ''), id) as org,
        author,
        createdAt as created_at,
        {{ is_created_at_floor('createdAt') }} as created_at_is_floor,
        lastModified as last_modified_at,
        downloads as downloads_30d,
        downloadsAllTime as downloads_all_time,
        likes,
        trendingScore as trending_score,
        pipeline_tag,
        library_name,
        nullif(substr({{ list_element(list_filter('tags', 't', starts_with('t', "'license:'")), 1) }}, 9), '') as license,
        safetensors.total as total_params,
        tags,
        {{ has_any_tag('tags', ['gguf', 'mlx']) }} as has_gguf_or_mlx_tag,
        cardData as card_data

    from source

)

select * from renamed
