-- T2. Is the ecosystem concentrating? HHI, Gini and the top providers' share of downloads and
-- releases, snapshot by snapshot (stalled snapshots have no period downloads).
select
    snapshot_date,
    measure,
    n_units,
    round(hhi, 4) as hhi,
    round(gini, 4) as gini,
    round(top1_share, 4) as top1_share,
    round(top10_share, 4) as top10_share
from marts.fct_concentration
where unit = 'provider'
order by measure, snapshot_date
