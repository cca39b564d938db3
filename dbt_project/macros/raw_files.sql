{#
  The stored raw snapshots of one kind of file beside the models (datasets, spaces, papers), with
  `columns` always present. A kind no stored snapshot has gives no rows instead of an error, so a
  snapshot without that file builds (its marts have no rows for it). `columns` maps name -> type;
  snapshot_date comes from the folder name.
#}
{% macro raw_table(kind, columns) -%}
    {%- set relation = source('huggingface', kind) -%}
    {%- set pattern = env_var('DATA_DIR', '../data') ~ '/raw/' ~ kind ~ '/snapshot_date=*/' ~ kind ~ '.parquet' -%}
    {%- set found = false -%}
    {%- if execute -%}
        {%- set result = run_query("select count(*) from glob('" ~ (pattern | replace("'", "''")) ~ "')") -%}
        {%- set found = result.columns[0].values()[0] > 0 -%}
    {%- endif -%}
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
        ) as stored
    )
{%- endmacro %}
