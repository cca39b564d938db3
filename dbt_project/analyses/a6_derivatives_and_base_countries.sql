-- A6. Which bases does the community build on? The most-derived base models (direct and all
-- descendants, by relation); see fct_derivative_share_by_base_country for the monthly share of
-- new derivatives built on each country's bases.
select base_model_id, base_country, n_direct, n_finetune, n_adapter, n_quantized, n_merge, n_descendants
from marts.fct_base_model_derivatives
where snapshot_date = (select max(snapshot_date) from marts.dim_snapshots)
order by n_descendants desc, base_model_id
limit 20
