{#
  One row per (snapshot, model, parent). Parents come from baseModels.models in listed order;
  when baseModels is missing, from the typed tags base_model:<relation>:<parent>.
  A parent listed twice keeps its first position; parent_rank 1 is the first parent.
  A model's own id is never its parent (compared case-insensitively, as the Hub routes ids):
  a model that lists itself has no parent from that entry, and is no derivative of itself.
  A relation other than finetune, adapter, quantized or merge becomes 'unknown': the parent
  still counts (the model does build on it), only the kind of derivative is not known.
  A table of the run's snapshot (build_scope): the nested columns are unnested once, not by
  every model and test that reads the links.
#}
{{ config(materialized='table') }}

with source as (

    select cast(snapshot_date as date) as snapshot_date, id as model_id, baseModels, tags
    from {{ raw_source('models') }}
    where {{ build_scope() }}

),

listed as (

    -- Each model's parents as a list, in listed order: everything per row, no shuffle.
    select
        snapshot_date,
        model_id,
        case when {{ list_length('baseModels.models') }} > 0 then 'base_models' else 'tag' end as link_source,
        case
            when {{ list_length('baseModels.models') }} > 0 then
                {{ list_transform('baseModels.models', 'm',
                    struct_of({'parent_model_id': 'm.id', 'relation': 'baseModels.relation'})) }}
            else
                {{ list_transform(
                    list_filter('tags', 't', regexp_matches('t', "'^base_model:(adapter|finetune|quantized|merge):.'")),
                    't',
                    struct_of({
                        'parent_model_id': "regexp_extract(t, '^base_model:[a-z]+:(.+)$', 1)",
                        'relation': "regexp_extract(t, '^base_model:([a-z]+):', 1)"
                    })
                ) }}
        end as parents
    from source

),

real_parents as (

    select
        snapshot_date,
        model_id,
        link_source,
        {{ list_filter(
            'parents', 'p',
            "coalesce(trim(p.parent_model_id), '') <> '' and lower(p.parent_model_id) <> lower(model_id)"
        ) }} as parents
    from listed

),

first_listings as (

    -- A parent listed twice keeps its first position.
    select
        snapshot_date,
        model_id,
        link_source,
        {{ list_first_occurrences('parents', 'parent_model_id') }} as parents
    from real_parents
    where {{ list_length('parents') }} > 0

),

unnested as (

    select
        snapshot_date,
        model_id,
        {{ unnest_with_position('parents', 'parent', 'parent_rank') }},
        link_source
    from first_listings

),

final as (

    select
        snapshot_date,
        model_id,
        parent.parent_model_id as parent_model_id,
        case
            when parent.relation in ('finetune', 'adapter', 'quantized', 'merge') then parent.relation
            when parent.relation is not null then 'unknown'
        end as relation,
        parent_rank,
        link_source
    from unnested

)

select * from final
