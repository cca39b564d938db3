{#
  The relative-adoption universe of a snapshot, one row per model with its cumulative downloads:
  text-generation and image-text-to-text models created on or after 2025-02-26 (the first day of
  downloadsAllTime; the floor is excluded), with a known parameter count, not quantized, and not a
  gguf/mlx package (library or tag). Published like every mart, it is the compact series that
  fct_relative_adoption of later snapshots reads back from the lake: a few columns of the universe
  instead of every stored snapshot's whole dim_models.
#}

with

models as (

    select *
    from {{ ref('dim_models') }}

),

tags as (

    select snapshot_date, model_id, has_gguf_or_mlx_tag
    from {{ ref('stg_huggingface__models') }}
    where {{ build_scope() }}

),

universe as (

    select
        models.snapshot_date,
        models.model_id,
        models.model_object_id,
        cast(models.created_at as date) as created_date,
        {{ size_class('models.total_params') }} as size_class,
        models.downloads_all_time
    from models
    inner join tags
        on tags.snapshot_date = models.snapshot_date
        and tags.model_id = models.model_id
    where models.pipeline_tag in ('text-generation', 'image-text-to-text')
        and not models.created_at_is_floor
        and models.created_at >= timestamp '2025-02-26 00:00:00'
        and models.total_params is not null
        and coalesce(models.base_relation, '') <> 'quantized'
        and coalesce(lower(models.library_name), '') not in ('gguf', 'mlx')
        and not tags.has_gguf_or_mlx_tag

),

final as (

    select
        snapshot_date,
        model_id,
        model_object_id,
        created_date,
        size_class,
        downloads_all_time
    from universe

)

select * from final
