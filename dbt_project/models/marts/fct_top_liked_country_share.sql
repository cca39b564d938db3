{#
  Country shares among the N most-liked models of the snapshot (all creation dates), for N in
  10, 50 and 100. Ties: likes descending, then model_id. Unknown countries are one row.
#}

with

models as (

    select snapshot_date, model_id, likes, label_country
    from {{ ref('dim_models') }}

),

like_cutoffs as (

    -- The 100th largest like count (null when fewer models have one): only models at or
    -- above it can be in a top 100, so the ranking sorts a few hundred rows, not the Hub.
    select
        snapshot_date,
        case when count(likes) >= 100 then {{ nth_largest('likes', 100) }} end as cutoff
    from models
    group by snapshot_date

),

ranked as (

    select
        models.snapshot_date,
        coalesce(models.label_country, 'unknown') as country,
        row_number() over (
            partition by models.snapshot_date order by models.likes desc nulls last, models.model_id asc
        ) as like_rank
    from models
    inner join like_cutoffs
        on like_cutoffs.snapshot_date = models.snapshot_date
    where like_cutoffs.cutoff is null or models.likes >= like_cutoffs.cutoff

),

cutoffs as (

    select {{ unnest_rows(list_of([10, 50, 100]), 'top_n') }}

),

top_models as (

    select ranked.snapshot_date, cutoffs.top_n, ranked.country
    from ranked
    inner join cutoffs
        on ranked.like_rank <= cutoffs.top_n

),

final as (

    select
        snapshot_date,
        top_n,
        country,
        count(*) as n_models,
        cast(count(*) as double) / sum(count(*)) over (partition by snapshot_date, top_n) as share
    from top_models
    group by snapshot_date, top_n, country

)

select * from final
