{{ config(materialized='view') }}

with source as (

    select * from {{ raw_table('spaces', {
        'id': 'varchar', '_id': 'varchar', 'author': 'varchar', 'createdAt': 'timestamp',
        'likes': 'bigint', 'sdk': 'varchar', 'tags': 'varchar[]'}) }}

),

renamed as (

    select
        cast(snapshot_date as date) as snapshot_date,
        id as space_id,
        _id as space_object_id,
        -- The org as for models: the namespace, else the author, else the id itself.
        coalesce({{ org_of('id') }}, nullif(trim(author), ''), id) as org,
        author,
        createdAt as created_at,
        {{ is_created_at_floor('createdAt') }} as created_at_is_floor,
        likes,
        sdk,
        tags

    from source

)

select * from renamed
