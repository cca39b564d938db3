{#
  One row per built snapshot: where it came from, and whether it is synthetic. A run builds the
  row of its snapshot; the rows of other snapshots stay in their own folders of the lake, also
  when that snapshot's raw folder was deleted since. The catalog's view of this mart recomputes
  is_raw_stored for every snapshot at each publication (orchestration/lib/publish.py).
#}

with

manifests as (

    select * from {{ ref('stg_huggingface__snapshots') }}

),

snapshots as (

    select snapshot_date, snapshot_source, repo_id, revision, is_synthetic, n_rows, sha256, ingested_at,
        missing_columns, source_license
    from manifests
    where {{ build_scope() }}


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
        ingested_at,
        missing_columns,
        source_license,
        snapshot_date in (select snapshot_date from manifests) as is_raw_stored
    from snapshots

)

select * from final
