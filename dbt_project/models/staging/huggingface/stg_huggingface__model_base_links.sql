{{ config(materialized='view') }}

{#
  One row per (snapshot, model, parent). Parents come from baseModels.models in listed order;
  when baseModels is missing, from the typed tags base_model:<relation>:<parent>.
  A parent listed twice keeps its first position; parent_rank 1 is the first parent.
#}

with source as (

    select * replace (cast(snapshot_date as date) as snapshot_date)
    from {{ source('huggingface', 'models') }}

),

from_base_models as (

    select
        snapshot_date,
        id as model_id,
        baseModels.relation as relation,
        unnest(baseModels.models).id as parent_model_id,
        generate_subscripts(baseModels.models, 1) as listed_position,
        'base_models' as link_source
    from source
    where len(baseModels.models) > 0

),

typed_tags as (

    -- Only base_model tags are exploded: most models have none.
    select
        snapshot_date,
        id as model_id,
        list_filter(tags, lambda t: regexp_matches(t, '^base_model:(adapter|finetune|quantized|merge):.')) as base_tags
    from source
    where coalesce(len(baseModels.models), 0) = 0

),

from_tags as (

    select
        snapshot_date,
        model_id,
        regexp_extract(base_tag, '^base_model:([a-z]+):', 1) as relation,
        regexp_extract(base_tag, '^base_model:[a-z]+:(.+)$', 1) as parent_model_id,
        listed_position,
        'tag' as link_source
    from (
        select
            snapshot_date,
            model_id,
            unnest(base_tags) as base_tag,
            generate_subscripts(base_tags, 1) as listed_position
        from typed_tags
        where len(base_tags) > 0
    )

),

unioned as (

    select * from from_base_models
    union all
    select * from from_tags

),

first_listing as (

    select
        *,
        row_number() over (
            partition by snapshot_date, model_id, parent_model_id order by listed_position
        ) as listing_number
    from unioned
    where coalesce(trim(parent_model_id), '') <> ''

),

final as (

    select
        snapshot_date,
        model_id,
        parent_model_id,
        relation,
        row_number() over (partition by snapshot_date, model_id order by listed_position) as parent_rank,
        link_source
    from first_listing
    where listing_number = 1

)

select * from final
