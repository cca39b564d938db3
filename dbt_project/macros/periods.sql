{# Helpers of the period (snapshot-to-snapshot) marts: engine-specific syntax lives here. #}

{# Whole days from one date expression to a later one. #}
{% macro days_between(start_expr, end_expr) -%}
    date_diff('day', {{ start_expr }}, {{ end_expr }})
{%- endmacro %}

{# True when a snapshot's missing_columns (comma-separated names, null = not recorded) lists `column`. #}
{% macro lacks_column(missing_columns, column) -%}
    (coalesce({{ missing_columns }}, '') like '%{{ column }}%')
{%- endmacro %}

{#
  The lake's dates a run may need as previous snapshots: from `max_gap_days` before the run's
  snapshot up to the day before it (a literal range, so the lake reads only those folders), or
  every date when a manual run builds all stored snapshots.
#}
{% macro previous_window(column, max_gap_days=35) -%}
    {%- set requested = requested_snapshot_date() -%}
    {%- if requested -%}
        {{ column }} >= {{ days_before(snapshot_date_literal(requested), max_gap_days) }}
        and {{ column }} < {{ snapshot_date_literal(requested) }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#
  The lake's dates that can be earlier snapshots of the run's snapshot (strictly before it: a
  rebuild may find its own date, or later dates, in the lake).
#}
{% macro before_run_snapshot(column) -%}
    {%- set requested = requested_snapshot_date() -%}
    {%- if requested -%}
        {{ column }} < {{ snapshot_date_literal(requested) }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
