{# Rows of each snapshot that were set aside at ingest, and why. #}

with

quarantined as (

    select *
    from {{ ref('stg_huggingface__quarantined_rows') }}
    where {{ build_scope() }}

),

final as (

    select snapshot_date, model_id, reason, created_at
    from quarantined

)

select * from final
