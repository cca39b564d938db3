{{ config(materialized='view') }}

with source as (

    select * from {{ source('huggingface', 'snapshot_manifests') }}
    -- Manifests written before these fields existed lack them: the columns exist either way.
    union all by name
    select cast(null as varchar[]) as missing_columns, cast(null as varchar) as license
    where false

),

renamed as (

    select
        cast(snapshot_date as date) as snapshot_date,
        cast(source as varchar) as snapshot_source,
        cast(repo_id as varchar) as repo_id,
        cast(revision as varchar) as revision,
        coalesce(cast(synthetic as boolean), false) as is_synthetic,
        cast(rows as bigint) as n_rows,
        cast(sha256 as varchar) as sha256,
        cast(ingested_at as timestamptz) as ingested_at,
        array_to_string(cast(missing_columns as varchar[]), ', ') as missing_columns,
        cast(license as varchar) as source_license
    from source

)

select * from renamed
