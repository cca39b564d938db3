{{ config(materialized='view') }}

{#
  The first-parent chain of every model: one row per (model, id on its chain), depth 0 being
  the model itself. The walk stops before an id would repeat (cycles) and after 10 hops.
  A parent absent from the snapshot has no parents of its own, so the chain ends there.
  A view: the walk itself is quick; writing its ~2 rows per model to disk is not. It runs
  once per build, inside marts.dim_models, which reads only the rows of depth 1 and more (the
  depth-0 rows, one per model, are then never made).
#}

with recursive

models as (

    select snapshot_date, model_id
    from {{ ref('stg_huggingface__models') }}
    where {{ build_scope() }}

),

first_parents as (

    select snapshot_date, model_id, parent_model_id
    from {{ ref('stg_huggingface__model_base_links') }}
    where parent_rank = 1 and {{ build_scope() }}

),

walk as (

    -- From each model's first parent: models without one (about half) never enter the walk.
    select
        snapshot_date,
        model_id,
        parent_model_id as chain_model_id,
        1 as depth,
        {{ list_of(['model_id', 'parent_model_id']) }} as visited
    from first_parents
    where parent_model_id <> model_id

    union all

    select
        walk.snapshot_date,
        walk.model_id,
        first_parents.parent_model_id as chain_model_id,
        walk.depth + 1 as depth,
        {{ list_append('walk.visited', 'first_parents.parent_model_id') }} as visited
    from walk
    inner join first_parents
        on first_parents.snapshot_date = walk.snapshot_date
        and first_parents.model_id = walk.chain_model_id
    where walk.depth < 10
        and not {{ list_contains('walk.visited', 'first_parents.parent_model_id') }}

),

final as (

    select snapshot_date, model_id, model_id as chain_model_id, 0 as depth
    from models

    union all

    select snapshot_date, model_id, chain_model_id, depth
    from walk

)

select * from final
