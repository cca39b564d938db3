{#
  Which snapshots a model builds in this run, as a predicate on `column`:
  - a full refresh (or the first build) takes every stored snapshot;
  - an incremental run with var snapshot_date takes that snapshot only;
  - an incremental run without it takes the stored snapshots the model does not hold yet.
  Older snapshots are never recomputed by an incremental run.
#}
{% macro snapshot_scope(column='snapshot_date') -%}
    {%- set requested = var('snapshot_date', none) -%}
    {%- if not is_incremental() -%}
        true
    {%- elif requested -%}
        {{ column }} = {{ snapshot_date_literal(requested) }}
    {%- else -%}
        {{ column }} not in (select distinct snapshot_date from {{ this }})
    {%- endif -%}
{%- endmacro %}

{# A validated date literal: the var comes from the command line and is never spliced raw. #}
{% macro snapshot_date_literal(value) -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', value | string) -%}
        {{ exceptions.raise_compiler_error("var snapshot_date must be YYYY-MM-DD, got '" ~ value ~ "'") }}
    {%- endif -%}
    cast('{{ value }}' as date)
{%- endmacro %}

{# The org of a model id: the namespace before '/', null for a legacy id without one. #}
{% macro org_of(model_id) -%}
    case when strpos({{ model_id }}, '/') > 0 then split_part({{ model_id }}, '/', 1) end
{%- endmacro %}
