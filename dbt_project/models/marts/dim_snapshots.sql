{{ config(materialized='table') }}

{# One row per stored snapshot: where it came from, and whether it is synthetic. #}

with

snapshots as (

    select * from {{ ref('stg_huggingface__snapshots') }}

),

final as (

    select
        snapshot_date,
        snapshot_source,
        repo_id,
        revision,
        is_synthetic,
        n_rows,
        sha256,
        ingested_at
    from snapshots

)

select * from final
