-- B3. Do releases spread across modalities? Releases of the last 12 full months before the
-- snapshot's month, per pipeline tag ('none' when a model has none), with their share.
with

snapshot as (

    select max(snapshot_date) as snapshot_date from marts.dim_snapshots

),

releases as (

    select modality.pipeline_tag, modality.n_releases
    from marts.fct_modality_mix as modality, snapshot
    where modality.snapshot_date = snapshot.snapshot_date
        and modality.month >= cast(date_trunc('month', snapshot.snapshot_date) - interval 12 month as date)
        and modality.month < cast(date_trunc('month', snapshot.snapshot_date) as date)

)

select
    pipeline_tag,
    sum(n_releases) as n_releases,
    round(sum(n_releases) / sum(sum(n_releases)) over (), 3) as share
from releases
group by pipeline_tag
order by n_releases desc, pipeline_tag
