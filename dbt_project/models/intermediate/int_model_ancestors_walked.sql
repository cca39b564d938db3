{{ config(materialized='view') }}

{#
  The lineage closure over all parents: one row per (model, ancestor) at the smallest depth.
  Cycle-safe (a path never revisits an id, so no model is its own ancestor), at most 10 hops.
#}

with recursive

links as (

    select snapshot_date, model_id, parent_model_id, relation
    from {{ ref('stg_huggingface__model_base_links') }}
    where {{ build_scope() }}

),

walk as (

    select
        snapshot_date,
        model_id,
        relation,
        parent_model_id as ancestor_model_id,
        1 as depth,
        {{ list_of(['model_id', 'parent_model_id']) }} as visited
    from links
    where parent_model_id <> model_id

    union all

    select
        walk.snapshot_date,
        walk.model_id,
        walk.relation,
        links.parent_model_id as ancestor_model_id,
        walk.depth + 1 as depth,
        {{ list_append('walk.visited', 'links.parent_model_id') }} as visited
    from walk
    inner join links
        on links.snapshot_date = walk.snapshot_date
        and links.model_id = walk.ancestor_model_id
    where walk.depth < 10
        and not {{ list_contains('walk.visited', 'links.parent_model_id') }}

),

final as (

    select
        snapshot_date,
        model_id,
        ancestor_model_id,
        min(relation) as relation,
        min(depth) as depth
    from walk
    group by snapshot_date, model_id, ancestor_model_id

)

select * from final
