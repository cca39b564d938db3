{#
  Published snapshots of one mart, read from the lake (source `lake`), with `columns` always
  present: a column that older snapshots lack is null there, and an empty lake (the first build)
  gives no rows instead of an error. Callers filter on snapshot_date themselves (the run's own date
  may be in the lake already when it is rebuilt; the run never reads its own snapshot from there).
#}
{% macro lake_table(name, columns) -%}
    {{ optional_parquet(
        source('lake', name),
        env_var('LAKE_DIR', '../data/warehouse/lake') ~ '/snapshot_date=*/' ~ name ~ '.parquet',
        columns
    ) }}
{%- endmacro %}
