{{ config(materialized='view') }}

with source as (

    select * from {{ raw_table('datasets', {
        'id': 'varchar', '_id': 'varchar', 'author': 'varchar', 'createdAt': 'timestamp',
        'lastModified': 'timestamp', 'likes': 'bigint', 'downloads': 'bigint',
        'downloadsAllTime': 'bigint', 'trendingScore': 'double', 'tags': 'varchar[]'}) }}

),

renamed as (

    select
        cast(snapshot_date as date) as snapshot_date,
        id as dataset_id,
        _id as dataset_object_id,
        -- The org as for models: the namespace, else the author, else the id itself.
        coalesce({{ org_of('id') }}, nullif(trim(author), ''), id) as org,
        author,
        createdAt as created_at,
        {{ is_created_at_floor('createdAt') }} as created_at_is_floor,
        lastModified as last_modified_at,
        likes,
        downloads as downloads_30d,
        downloadsAllTime as downloads_all_time,
        trendingScore as trending_score,
        tags

    from source

)

select * from renamed
