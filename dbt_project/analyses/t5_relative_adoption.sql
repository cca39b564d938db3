-- T5. Relative adoption (after the ATOM project's RAM): which new language and vision-language
-- models were adopted fastest for their size? The 10 models of each size class with the highest
-- ram at 30 days after creation, in the newest snapshot, with their org and label country.
-- ram = 1 means "as downloaded as the class's 10th best at that age"; change checkpoint_days
-- (7, 14, 30, 60, 90, 180, 365) for another age.
select
    adoption.size_class,
    rank() over (partition by adoption.size_class order by adoption.ram desc nulls last) as rank,
    adoption.model_id,
    models.org,
    coalesce(models.label_country, 'unknown') as label_country,
    round(adoption.cumulative_downloads) as downloads_at_30d,
    round(adoption.baseline) as class_baseline,
    round(adoption.ram, 2) as ram
from marts.fct_relative_adoption as adoption
left join marts.dim_models as models
    on models.snapshot_date = adoption.snapshot_date
    and models.model_id = adoption.model_id
where adoption.snapshot_date = (select max(snapshot_date) from marts.dim_snapshots)
    and adoption.checkpoint_days = 30
qualify rank <= 10
order by adoption.size_class, rank, adoption.model_id
