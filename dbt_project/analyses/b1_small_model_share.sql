-- B1. Do small models dominate releases, and does their share grow? Per year and label country
-- (CN, US, and all countries together): releases of 1-9B and 10-49B parameters (1e9 up to, not
-- including, 50e9; the closest classes to the series' "0.5B-30B") among the releases of known size.
with

releases as (

    select cast(extract(year from month) as integer) as year, country, size_class, n_releases
    from marts.fct_release_size_mix
    where snapshot_date = (select max(snapshot_date) from marts.dim_snapshots)
        and size_class <> 'unknown'

),

grouped as (

    select year, country, size_class, n_releases from releases where country in ('CN', 'US')
    union all
    select year, 'all' as country, size_class, n_releases from releases

)

select
    country,
    year,
    sum(n_releases) filter (where size_class in ('1-9B', '10-49B')) as n_small,
    sum(n_releases) as n_known_size,
    round(sum(n_releases) filter (where size_class in ('1-9B', '10-49B')) / sum(n_releases), 3) as small_share
from grouped
group by country, year
order by country, year
