{#
  Published snapshots of one mart, read from the lake (source `lake`), with `columns` always
  present: a column that older snapshots lack is null there, and an empty lake (the first build)
  gives no rows instead of an error. `columns` maps name -> type; snapshot_date comes from the
  folder name. Callers filter on snapshot_date themselves (the run's own date may be in the lake
  already when it is rebuilt; the run never reads its own snapshot from there).
#}
{% macro lake_table(name, columns) -%}
    {%- set relation = source('lake', name) -%}
    {%- set pattern = env_var('LAKE_DIR', '../data/warehouse/lake') ~ '/snapshot_date=*/' ~ name ~ '.parquet' -%}
    {%- set found = false -%}
    {%- if execute -%}
        {%- set result = run_query("select count(*) from glob('" ~ (pattern | replace("'", "''")) ~ "')") -%}
        {%- set found = result.columns[0].values()[0] > 0 -%}
    {%- endif -%}
    {#- A dbt unit test that gives this table reads its fixture (a CTE), whatever the lake holds. -#}
    {%- set found = found or relation.is_cte -%}
    (
        select snapshot_date{% for column in columns %}, {{ adapter.quote(column) }}{% endfor %}
        from (
            select cast(null as date) as snapshot_date
                {%- for column, type in columns.items() %}, cast(null as {{ type }}) as {{ adapter.quote(column) }}{% endfor %}
            where false
            {%- if found %}
            union all by name
            select * from {{ relation }}
            {%- endif %}
        ) as published
    )
{%- endmacro %}
