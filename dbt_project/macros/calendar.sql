{# Calendar helpers: the only place the marts use engine-specific date functions. #}

{# Monday of the ISO week (UTC) of a timestamp, as a date. #}
{% macro week_start(column) -%}
    cast(date_trunc('week', {{ column }}) as date)
{%- endmacro %}

{# First day of the month of a timestamp, as a date. #}
{% macro month_start(column) -%}
    cast(date_trunc('month', {{ column }}) as date)
{%- endmacro %}

{# A date `n_days` before a date expression. #}
{% macro days_before(date_expr, n_days) -%}
    cast({{ date_expr }} - to_days(cast({{ n_days }} as integer)) as date)
{%- endmacro %}

{# One row per day from start to end inclusive, as column `day`, for each row of the outer query. #}
{% macro days_from_to(start_expr, end_expr) -%}
    (select cast(unnest(generate_series({{ start_expr }}, {{ end_expr }}, interval 1 day)) as date) as day)
{%- endmacro %}

{# A date `n_days` after a date expression. #}
{% macro days_after(date_expr, n_days) -%}
    cast({{ date_expr }} + to_days(cast({{ n_days }} as integer)) as date)
{%- endmacro %}

{# Whole days from one date to another (negative when `end_expr` is earlier). #}
{% macro days_between(start_expr, end_expr) -%}
    date_diff('day', {{ start_expr }}, {{ end_expr }})
{%- endmacro %}
