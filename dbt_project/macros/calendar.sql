{# Calendar helpers: the only place the marts use engine-specific date functions (DuckDB: default__, Spark: spark__). #}

{# Monday of the ISO week (UTC) of a timestamp, as a date (date_trunc('week') is Monday on both engines). #}
{% macro week_start(column) -%}
    cast(date_trunc('week', {{ column }}) as date)
{%- endmacro %}

{# First day of the month of a timestamp, as a date. #}
{% macro month_start(column) -%}
    cast(date_trunc('month', {{ column }}) as date)
{%- endmacro %}

{# A date `n_days` before a date expression. #}
{% macro days_before(date_expr, n_days) -%}
    {{ return(adapter.dispatch('days_before')(date_expr, n_days)) }}
{%- endmacro %}
{% macro default__days_before(date_expr, n_days) -%}
    cast({{ date_expr }} - to_days(cast({{ n_days }} as integer)) as date)
{%- endmacro %}
{% macro spark__days_before(date_expr, n_days) -%}
    date_sub(cast({{ date_expr }} as date), cast({{ n_days }} as integer))
{%- endmacro %}

{#
  A join clause that repeats each row of the from clause once per day from start to end
  inclusive, the day as column `day` of `alias` (written where a `cross join` would be).
#}
{% macro cross_join_days(start_expr, end_expr, alias) -%}
    {{ return(adapter.dispatch('cross_join_days')(start_expr, end_expr, alias)) }}
{%- endmacro %}
{% macro default__cross_join_days(start_expr, end_expr, alias) -%}
    cross join lateral (select cast(unnest(generate_series({{ start_expr }}, {{ end_expr }}, interval 1 day)) as date) as day) as {{ alias }}
{%- endmacro %}
{% macro spark__cross_join_days(start_expr, end_expr, alias) -%}
    lateral view explode(sequence(cast({{ start_expr }} as date), cast({{ end_expr }} as date))) {{ alias }} as day
{%- endmacro %}

{# A date `n_days` after a date expression. #}
{% macro days_after(date_expr, n_days) -%}
    {{ return(adapter.dispatch('days_after')(date_expr, n_days)) }}
{%- endmacro %}
{% macro default__days_after(date_expr, n_days) -%}
    cast({{ date_expr }} + to_days(cast({{ n_days }} as integer)) as date)
{%- endmacro %}
{% macro spark__days_after(date_expr, n_days) -%}
    date_add(cast({{ date_expr }} as date), cast({{ n_days }} as integer))
{%- endmacro %}

{# Whole days from one date to another (negative when `end_expr` is earlier). #}
{% macro days_between(start_expr, end_expr) -%}
    {{ return(adapter.dispatch('days_between')(start_expr, end_expr)) }}
{%- endmacro %}
{% macro default__days_between(start_expr, end_expr) -%}
    date_diff('day', {{ start_expr }}, {{ end_expr }})
{%- endmacro %}
{% macro spark__days_between(start_expr, end_expr) -%}
    cast(datediff(cast({{ end_expr }} as date), cast({{ start_expr }} as date)) as bigint)
{%- endmacro %}
