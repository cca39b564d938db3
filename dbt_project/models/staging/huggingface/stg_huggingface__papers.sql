{{ config(materialized='view') }}

with source as (

    select * from {{ raw_table('papers', {
        'paper_id': 'varchar', 'paper_title': 'varchar', 'publishedAt': 'timestamp',
        'paper_upvotes': 'bigint', 'paper_organization_name': 'varchar'}) }}

),

renamed as (

    select
        cast(snapshot_date as date) as snapshot_date,
        paper_id,
        paper_title,
        publishedAt as published_at,
        paper_upvotes as upvotes,
        -- paper_organization.name of the Hub's daily papers; blank is none.
        nullif(trim(paper_organization_name), '') as organization_name

    from source

)

select * from renamed
