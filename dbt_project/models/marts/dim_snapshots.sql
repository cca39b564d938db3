{#
  One row per built snapshot: where it came from, and whether it is synthetic. Incremental like
  the other marts: a run adds the snapshots it builds, from their manifests, and keeps every row
  built before, also when that snapshot's raw folder was deleted since (its fact rows stay in the
  marts too). The whole (tiny) table is rewritten, so is_raw_stored is current for every row.
#}

with

manifests as (

    select * from {{ ref('stg_huggingface__snapshots') }}

),

snapshots as (

    select snapshot_date, snapshot_source, repo_id, revision, is_synthetic, n_rows, sha256, ingested_at,
        missing_columns, source_license
    from manifests
    where {{ snapshot_scope() }}

    {% if is_incremental() %}
    union all

    select snapshot_date, snapshot_source, repo_id, revision, is_synthetic, n_rows, sha256, ingested_at,
        missing_columns, source_license
    from {{ this }}
    where not ({{ snapshot_scope() }})
    {% endif %}

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
