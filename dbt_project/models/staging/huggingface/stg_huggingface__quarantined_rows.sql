{{ config(materialized='view') }}

with source as (

    select * from {{ raw_source('quarantined_rows') }}

),

renamed as (

    select
        cast(snapshot_date as date) as snapshot_date,
        id as model_id,
        reason,
        createdAt as created_at
    from source

)

select * from renamed
