-- A3. Chinese release heatmap: releases per day of each tracked provider over the 52 weeks
-- ending at the snapshot, summed per provider and week here (drop the grouping for days).
select provider, date_trunc('week', day) as week_start, sum(n_releases) as n_releases
from marts.fct_release_heatmap
where snapshot_date = (select max(snapshot_date) from marts.dim_snapshots)
group by provider, week_start
order by provider, week_start
