-- T1. Which providers' models were downloaded most between the two newest snapshots: real
-- downloads over the period (downloadsAllTime now minus then), per day, and share of the Hub's.
select
    snapshot_date,
    rank,
    provider,
    country,
    downloads,
    round(downloads_per_day, 1) as downloads_per_day,
    round(share, 4) as share
from marts.fct_provider_period_downloads
where snapshot_date = (select max(snapshot_date) from marts.fct_provider_period_downloads)
order by rank
limit 20
