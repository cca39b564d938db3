-- A5. Are the top liked models still majority U.S.-developed? Country shares among the
-- 10, 50 and 100 most-liked models of all time.
select top_n, country, n_models, round(share, 3) as share
from marts.fct_top_liked_country_share
where snapshot_date = (select max(snapshot_date) from marts.dim_snapshots)
order by top_n, n_models desc, country
