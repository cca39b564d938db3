{#
  Period downloads of every model of a snapshot that has a period (int_period_snapshots_paired):
  downloadsAllTime now minus downloadsAllTime in the previous snapshot, matched by model key (the
  Hub's _id when the model has one and the previous snapshot has them, so a renamed repo continues;
  else the id). A model absent from the previous snapshot counts from 0 when it was created after
  the previous snapshot's date, else its downloads are unknown (null); a negative difference (the
  counter went backwards) is null. Stalled snapshots are still here: their sum decides the stall.
#}

with

periods as (

    select snapshot_date, prev_snapshot_date, days
    from {{ ref('int_period_snapshots_paired') }}
    where has_period

),

current_models as (

    select
        models.snapshot_date,
        models.model_id,
        models.model_object_id,
        models.created_at,
        models.downloads_all_time,
        periods.prev_snapshot_date,
        periods.days
    -- Staging holds the same models as dim_models; reading it skips the lineage labelling.
    from {{ ref('stg_huggingface__models') }} as models
    inner join periods
        on periods.snapshot_date = models.snapshot_date
    where {{ build_scope('models.snapshot_date') }}

),

previous_models as (

    select snapshot_date, model_id, model_object_id, downloads_all_time
    from {{ ref('int_period_lake_models') }}
    where snapshot_date in (select prev_snapshot_date from periods)

),

previous_with_object_ids as (

    select snapshot_date
    from previous_models
    where model_object_id is not null
    group by snapshot_date

),

keyed as (

    select
        current_models.*,
        current_models.model_object_id is not null
            and previous_with_object_ids.snapshot_date is not null as is_keyed_by_object_id
    from current_models
    left join previous_with_object_ids
        on previous_with_object_ids.snapshot_date = current_models.prev_snapshot_date

),

-- Each previous snapshot is grouped by the one key its models are matched on (the other grouping
-- would be ~1 s of work at 2.2M models for no row).
previous_by_object_id as (

    select snapshot_date, model_object_id as model_key, max(downloads_all_time) as downloads_all_time
    from previous_models
    where model_object_id is not null
        and snapshot_date in (select prev_snapshot_date from keyed where is_keyed_by_object_id)
    group by snapshot_date, model_object_id

),

previous_by_id as (

    select snapshot_date, model_id as model_key, max(downloads_all_time) as downloads_all_time
    from previous_models
    where snapshot_date in (select prev_snapshot_date from keyed where not is_keyed_by_object_id)
    group by snapshot_date, model_id

),

matched as (

    select
        keyed.snapshot_date,
        keyed.model_id,
        keyed.model_object_id as model_key,
        keyed.prev_snapshot_date,
        keyed.days,
        keyed.created_at,
        keyed.downloads_all_time,
        previous_by_object_id.model_key is not null as is_in_previous,
        previous_by_object_id.downloads_all_time as prev_downloads_all_time
    from keyed
    left join previous_by_object_id
        on previous_by_object_id.snapshot_date = keyed.prev_snapshot_date
        and previous_by_object_id.model_key = keyed.model_object_id
    where keyed.is_keyed_by_object_id

    union all

    select
        keyed.snapshot_date,
        keyed.model_id,
        keyed.model_id as model_key,
        keyed.prev_snapshot_date,
        keyed.days,
        keyed.created_at,
        keyed.downloads_all_time,
        previous_by_id.model_key is not null as is_in_previous,
        previous_by_id.downloads_all_time as prev_downloads_all_time
    from keyed
    left join previous_by_id
        on previous_by_id.snapshot_date = keyed.prev_snapshot_date
        and previous_by_id.model_key = keyed.model_id
    where not keyed.is_keyed_by_object_id

),

final as (

    select
        snapshot_date,
        model_id,
        model_key,
        prev_snapshot_date,
        days,
        case
            when is_in_previous and downloads_all_time >= prev_downloads_all_time
                then downloads_all_time - prev_downloads_all_time
            when not is_in_previous and cast(created_at as date) > prev_snapshot_date
                then downloads_all_time
        end as downloads
    from matched

)

select * from final
