{#
  The rows of a source over Parquet files that may not exist yet, with `columns` always present:
  no file matching `pattern` gives no rows instead of an error, and a column some files lack is null
  there. `columns` maps name -> type; snapshot_date comes from the folder name. A dbt unit test that
  gives the source reads its fixture (a CTE), whatever the folder holds. Used by lake_table (the
  published marts) and raw_table (the raw files beside the models).
#}
{% macro optional_parquet(relation, pattern, columns) -%}
    {{ return(adapter.dispatch('optional_parquet')(relation, pattern, columns)) }}
{%- endmacro %}

{% macro default__optional_parquet(relation, pattern, columns) -%}
    {%- set found = false -%}
    {%- if execute -%}
        {%- set result = run_query("select count(*) from glob('" ~ (pattern | replace("'", "''")) ~ "')") -%}
        {%- set found = result.columns[0].values()[0] > 0 -%}
    {%- endif -%}
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
        ) as files
    )
{%- endmacro %}

{#
  Spark: `pattern` is <folder>/snapshot_date=*/<file>; the relation becomes a table over those files
  with exactly `columns` (spark_file_table), which gives no rows when no file exists yet.
#}
{% macro spark__optional_parquet(relation, pattern, columns) -%}
    {%- set folder, file_name = pattern.split('/snapshot_date=*/') -%}
    {%- do spark_file_table(relation, folder, file_name, columns=columns) -%}
    (
        select snapshot_date{% for column in columns %}, {{ adapter.quote(column) }}{% endfor %}
        from {{ relation }}
    )
{%- endmacro %}
