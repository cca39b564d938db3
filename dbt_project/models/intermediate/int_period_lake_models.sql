{{ config(materialized='view') }}
{#
  Models of the published snapshots that can be the previous snapshot of the run's snapshot
  (the 35 days before it): the key columns and the all-time download counter. A view, so the
  lake reads only the one previous folder's columns it needs.
#}

with

published as (

    select *
    from {{ lake_table('dim_models', {
        'model_id': 'varchar',
        'model_object_id': 'varchar',
        'downloads_all_time': 'bigint',
    }) }} as lake_models

),

final as (

    select snapshot_date, model_id, model_object_id, downloads_all_time
    from published
    where {{ previous_window('snapshot_date') }}

)

select * from final
