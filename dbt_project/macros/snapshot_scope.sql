{#
  Which snapshots a model (staging, intermediate and mart tables) holds after this run: only the
  run's snapshot_date, or every stored snapshot without it (a manual dbt run). Builds write a
  scratch warehouse of one snapshot, published into the lake's folder of that date, so a daily
  build costs the same with 100 snapshots stored as with one.
#}
{% macro build_scope(column='snapshot_date') -%}
    {%- set requested = requested_snapshot_date() -%}
    {%- if requested -%}
        {{ column }} = {{ snapshot_date_literal(requested) }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{# A validated date literal: the var comes from the command line and is never spliced raw. #}
{% macro snapshot_date_literal(value) -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', value | string) -%}
        {{ exceptions.raise_compiler_error("snapshot_date (var or OBSERVATORY_SNAPSHOT_DATE) must be YYYY-MM-DD, got '" ~ value ~ "'") }}
    {%- endif -%}
    cast('{{ value }}' as date)
{%- endmacro %}

{# The org of a model id: the namespace before '/', null for a legacy id without one. #}
{% macro org_of(model_id) -%}
    {{ return(adapter.dispatch('org_of')(model_id)) }}
{%- endmacro %}

{% macro default__org_of(model_id) -%}
    case when strpos({{ model_id }}, '/') > 0 then split_part({{ model_id }}, '/', 1) end
{%- endmacro %}

{% macro spark__org_of(model_id) -%}
    case when instr({{ model_id }}, '/') > 0 then split_part({{ model_id }}, '/', 1) end
{%- endmacro %}

{#
  The snapshot this run builds: var snapshot_date, else env OBSERVATORY_SNAPSHOT_DATE, else none.
  Read only at execution: dbt re-parses the whole project whenever a --vars value changes
  (~4 s a build, every day), while an env var read at execution never invalidates the parse.
#}
{% macro requested_snapshot_date() -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(var('snapshot_date', none) or env_var('OBSERVATORY_SNAPSHOT_DATE', '') or none) }}
{%- endmacro %}

{# How many models the weekly rankings keep: var weekly_top_n, else env WEEKLY_TOP_N, else 10. #}
{% macro weekly_top_n() -%}
    {%- set value = (var('weekly_top_n', none) or env_var('WEEKLY_TOP_N', '10')) if execute else 10 -%}
    {%- if not modules.re.match('^[1-9][0-9]*$', value | string) -%}
        {{ exceptions.raise_compiler_error("weekly_top_n must be a positive integer, got '" ~ value ~ "'") }}
    {%- endif -%}
    {{ return(value | int) }}
{%- endmacro %}
