-- A1. Hugging Face repository growth of Chinese companies: releases per provider and year,
-- and the year-over-year growth ratio (null when the previous year had no release).
select provider, year, n_releases, n_releases_prev_year, round(growth_ratio, 2) as growth_ratio
from marts.fct_org_release_growth
where snapshot_date = (select max(snapshot_date) from marts.dim_snapshots)
    and country = 'CN'
    and year >= 2024
order by provider, year
