{#
  Country shares among the N most-liked models of the snapshot (all creation dates), for N in
  10, 50 and 100. Ties: likes descending, then model_id. Unknown countries are one row.
#}

with

ranked as (

    select
        snapshot_date,
        coalesce(label_country, 'unknown') as country,
        row_number() over (
            partition by snapshot_date order by likes desc nulls last, model_id asc
        ) as like_rank
    from {{ ref('int_models_labelled') }}
    where {{ snapshot_scope() }}

),

cutoffs as (

    select unnest([10, 50, 100]) as top_n

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
