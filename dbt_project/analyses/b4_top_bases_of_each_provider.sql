-- B4. Which base models of each provider does the community build on most? ("Among the Qwen series,
-- Qwen1.5-0.5B has the most derivative models.") The top 5 of each heatmap-tracked provider by all
-- descendants, then direct derivatives.
select provider, rank, base_model_id, n_direct, n_descendants
from marts.fct_provider_top_bases
where snapshot_date = (select max(snapshot_date) from marts.dim_snapshots)
    and is_heatmap_tracked
    and rank <= 5
order by provider, rank
