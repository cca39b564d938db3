-- T3. Which base models' families are downloaded most, and how much of that goes to the
-- derivatives (fine-tunes, quantizations, adapters, merges) rather than the root itself.
select
    root_model_id,
    root_org,
    root_country,
    n_models,
    downloads_30d,
    downloads_30d_root,
    round(derivative_share, 4) as derivative_share
from marts.fct_family_downloads
where snapshot_date = (select max(snapshot_date) from marts.dim_snapshots)
order by downloads_30d desc, root_model_id
limit 25
