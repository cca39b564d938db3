-- T4. Which countries' new models (created in the last 365 days) get the real downloads, period
-- by period: share of period downloads by label country over the snapshots.
select
    snapshot_date,
    country,
    downloads,
    round(share, 4) as share
from marts.fct_country_period_download_share
where cohort = 'new_365d'
order by snapshot_date, downloads desc, country
