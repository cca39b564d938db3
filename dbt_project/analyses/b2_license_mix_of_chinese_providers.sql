-- B2. Is Apache-2.0 the default licence of the tracked Chinese providers? Releases per licence
-- (the first license: tag, 'none' without one) over all years, with the share of each provider's
-- releases, largest first.
select
    provider,
    license,
    sum(n_releases) as n_releases,
    round(sum(n_releases) / sum(sum(n_releases)) over (partition by provider), 3) as share
from marts.fct_license_mix
where snapshot_date = (select max(snapshot_date) from marts.dim_snapshots)
    and provider in (
        select provider from marts.fct_org_release_growth
        where snapshot_date = (select max(snapshot_date) from marts.dim_snapshots) and country = 'CN'
    )
group by provider, license
order by provider, n_releases desc, license
