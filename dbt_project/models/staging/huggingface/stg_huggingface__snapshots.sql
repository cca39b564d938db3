{{ config(materialized='view') }}

with source as (

    -- Manifests written before these fields existed lack them: the columns exist either way.
    select * from {{ with_optional_columns(raw_source('snapshot_manifests'), {'missing_columns': 'varchar[]', 'license': 'varchar'}) }} as manifests

),

renamed as (

    select
        cast(snapshot_date as date) as snapshot_date,
        cast(source as {{ sql_type('varchar') }}) as snapshot_source,
        cast(repo_id as {{ sql_type('varchar') }}) as repo_id,
        cast(revision as {{ sql_type('varchar') }}) as revision,
        coalesce(cast(synthetic as boolean), false) as is_synthetic,
        cast(rows as bigint) as n_rows,
        cast(sha256 as {{ sql_type('varchar') }}) as sha256,
        cast(ingested_at as {{ sql_type('timestamptz') }}) as ingested_at,
        {{ list_join("cast(missing_columns as " ~ sql_type('varchar[]') ~ ")", "', '") }} as missing_columns,
        cast(license as {{ sql_type('varchar') }}) as source_license
    from source

)

select * from renamed
