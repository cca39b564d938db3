with

ancestors as (

    select *
    from {{ ref('int_model_ancestors_walked') }}

),

final as (

    select
        snapshot_date,
        model_id,
        ancestor_model_id,
        relation,
        depth
    from ancestors

)

select * from final
