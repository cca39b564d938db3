{#
  What differs between the engines a build can run on (DuckDB, the default, and Spark), behind
  adapter.dispatch: a default__ (or duckdb__) and a spark__ macro each. Models call these, never
  engine-only syntax; the list and struct helpers are in lists.sql, the calendar ones in calendar.sql.
#}

{# A type name as the engine spells it; models write DuckDB's names (varchar, varchar[], timestamptz). #}
{% macro sql_type(name) -%}
    {{ return(adapter.dispatch('sql_type')(name)) }}
{%- endmacro %}

{% macro default__sql_type(name) -%}
    {{ return(name) }}
{%- endmacro %}

{% macro spark__sql_type(name) -%}
    {%- set element = name[:-2] if name.endswith('[]') else none -%}
    {%- if element -%}
        {{ return('array<' ~ sql_type(element) ~ '>') }}
    {%- endif -%}
    {{ return({'varchar': 'string', 'text': 'string', 'timestamptz': 'timestamp_ltz', 'timestamp': 'timestamp_ntz'}.get(name | lower, name)) }}
{%- endmacro %}

{#
  A raw source that every stored snapshot has (models, quarantined_rows, snapshot_manifests). DuckDB
  reads it through the source's external_location; Spark through a table over the same files
  (spark_file_table), declared once per session.
#}
{% macro raw_source(name) -%}
    {{ return(adapter.dispatch('raw_source')(name)) }}
{%- endmacro %}

{% macro default__raw_source(name) -%}
    {{ return(source('huggingface', name)) }}
{%- endmacro %}

{% macro spark__raw_source(name) -%}
    {%- set relation = source('huggingface', name) -%}
    {%- set folder = env_var('DATA_DIR', '../data') ~ '/raw/models' -%}
    {%- if name == 'models' -%}
        {%- do spark_file_table(relation, folder, 'models.parquet') -%}
    {%- elif name == 'quarantined_rows' -%}
        {%- do spark_file_table(relation, folder, '_quarantine.parquet') -%}
    {%- elif name == 'snapshot_manifests' -%}
        {%- do spark_file_table(relation, folder, '_manifest.json', columns={
            'source': 'varchar', 'repo_id': 'varchar', 'revision': 'varchar', 'synthetic': 'boolean',
            'rows': 'bigint', 'sha256': 'varchar', 'ingested_at': 'varchar', 'missing_columns': 'varchar[]',
            'license': 'varchar'}, format='json') -%}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}

{#
  Spark: declare `relation` as a table over the files named `file_name` in the snapshot_date=D
  folders under `folder` (snapshot_date from the folder name, as a date). With `columns` (name ->
  type, DuckDB names) the table has exactly those columns, null where a file lacks one, and a
  folder without any such file gives no rows instead of an error; without, the files' own schema.
  Names starting with '_' are read too (the manifests and quarantine files). Files are never
  written or removed: the table only points at them. Does nothing for a unit test's fixture.
#}
{% macro spark_file_table(relation, folder, file_name, columns=none, format='parquet') -%}
    {%- if execute and not relation.is_cte -%}
        {%- do run_query('create schema if not exists ' ~ relation.schema) -%}
        {%- set schema_sql -%}
            {%- if columns -%}
            ({% for column, type in columns.items() %}{{ adapter.quote(column) }} {{ sql_type(type) }}, {% endfor %}snapshot_date date)
            {%- endif -%}
        {%- endset -%}
        {%- do run_query(
            'create table if not exists ' ~ relation.render() ~ ' ' ~ schema_sql ~ ' using ' ~ format
            ~ " options (path '" ~ (folder | replace("'", "\\'")) ~ "', pathGlobFilter '" ~ file_name ~ "'"
            ~ ", ignoredPathSegmentRegex '^[.]'"
            ~ (", multiLine 'true'" if format == 'json' else '') ~ ')'
        ) -%}
    {%- endif -%}
{%- endmacro %}

{#
  The rows of `relation` with `columns` (name -> type) always present: a column the relation lacks
  (older files) is null. On Spark the source tables already declare every column.
#}
{% macro with_optional_columns(relation, columns) -%}
    {{ return(adapter.dispatch('with_optional_columns')(relation, columns)) }}
{%- endmacro %}

{% macro default__with_optional_columns(relation, columns) -%}
    (
        select * from {{ relation }}
        union all by name
        select {% for column, type in columns.items() %}cast(null as {{ type }}) as {{ column }}{% if not loop.last %}, {% endif %}{% endfor %}
        where false
    )
{%- endmacro %}

{% macro spark__with_optional_columns(relation, columns) -%}
    {{ relation }}
{%- endmacro %}

{# The value of `expr` on the row where `order_by` is largest (smallest) in the group. #}
{% macro value_at_max(expr, order_by) -%}
    {{ return(adapter.dispatch('value_at_max')(expr, order_by)) }}
{%- endmacro %}
{% macro default__value_at_max(expr, order_by) -%}
    arg_max({{ expr }}, {{ order_by }})
{%- endmacro %}
{% macro spark__value_at_max(expr, order_by) -%}
    max_by({{ expr }}, {{ order_by }})
{%- endmacro %}

{% macro value_at_min(expr, order_by) -%}
    {{ return(adapter.dispatch('value_at_min')(expr, order_by)) }}
{%- endmacro %}
{% macro default__value_at_min(expr, order_by) -%}
    arg_min({{ expr }}, {{ order_by }})
{%- endmacro %}
{% macro spark__value_at_min(expr, order_by) -%}
    min_by({{ expr }}, {{ order_by }})
{%- endmacro %}

{#
  A common table expression read where it is used instead of computed once (DuckDB computes a CTE
  used twice once, whole, before any join can cut it down; Spark always inlines): `name as
  {{ not_materialized() }} (...)`. For reads of the lake that joins usually reduce to little or nothing.
#}
{% macro not_materialized() -%}
    {{ return(adapter.dispatch('not_materialized')()) }}
{%- endmacro %}

{% macro default__not_materialized() -%}
    not materialized
{%- endmacro %}

{% macro spark__not_materialized() -%}
{%- endmacro %}
