-- A4. "Of newly created models (<1 year), downloads for Chinese models have surpassed any other
-- country": share of 30-day downloads by country, models created in the last 365 days.
select rank, country, downloads_30d, round(share, 4) as share
from marts.fct_country_download_share
where snapshot_date = (select max(snapshot_date) from marts.dim_snapshots)
    and cohort = 'new_365d'
order by rank
