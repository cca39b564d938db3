{#
  The stored raw snapshots of one kind of file beside the models (datasets, spaces, papers), with
  `columns` always present. A kind no stored snapshot has gives no rows instead of an error, so a
  snapshot without that file builds (its marts have no rows for it). `columns` maps name -> type;
  snapshot_date comes from the folder name.
#}
{% macro raw_table(kind, columns) -%}
    {{ optional_parquet(
        source('huggingface', kind),
        env_var('DATA_DIR', '../data') ~ '/raw/' ~ kind ~ '/snapshot_date=*/' ~ kind ~ '.parquet',
        columns
    ) }}
{%- endmacro %}
