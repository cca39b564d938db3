-- A2. Top newly created models by week: the 10 most-liked models created in each of the last
-- 8 ISO weeks, with the country label and where it came from (the org, or the base model).
select week_start, rank, model_id, metric_value as likes, label_country, label_source, parent_model_id
from marts.fct_weekly_new_model_rankings
where snapshot_date = (select max(snapshot_date) from marts.dim_snapshots)
    and metric = 'likes'
    and week_start >= (select max(snapshot_date) from marts.dim_snapshots) - interval 56 day
order by week_start desc, rank
