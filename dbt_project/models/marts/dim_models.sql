with

labelled_models as (

    select *
    from {{ ref('int_models_labelled') }}

),

final as (

    select
        snapshot_date,
        model_id,
        model_object_id,
        org,
        provider,
        created_at,
        created_at_is_floor,
        pipeline_tag,
        library_name,
        license,
        total_params,
        likes,
        downloads_30d,
        downloads_all_time,
        trending_score,
        base_relation,
        parent_model_id,
        root_model_id,
        lineage_depth,
        org_country,
        label_country,
        label_source
    from labelled_models

)

select * from final
