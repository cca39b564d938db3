{# List and window helpers of the relative-adoption marts: engine-specific syntax kept out of the models. #}

{# True when the list column holds any of `values` (exact match); false for a null list. #}
{% macro has_any_tag(tags, values) -%}
    {{ return(adapter.dispatch('has_any_tag')(tags, values)) }}
{%- endmacro %}

{% macro default__has_any_tag(tags, values) -%}
    coalesce(list_has_any({{ tags }}, [{% for value in values %}'{{ value }}'{% if not loop.last %}, {% endif %}{% endfor %}]), false)
{%- endmacro %}

{% macro spark__has_any_tag(tags, values) -%}
    coalesce(arrays_overlap({{ tags }}, array({% for value in values %}'{{ value }}'{% if not loop.last %}, {% endif %}{% endfor %})), false)
{%- endmacro %}

{# The last non-null value of `expr` in the window frame that follows (an `over (...)` clause). #}
{% macro last_non_null(expr) -%}
    last_value({{ expr }} ignore nulls)
{%- endmacro %}

{# The first non-null value of `expr` in the window frame that follows. #}
{% macro first_non_null(expr) -%}
    first_value({{ expr }} ignore nulls)
{%- endmacro %}

{# The checkpoints of relative adoption: days after the creation date. #}
{% macro adoption_checkpoints() -%}
    {{ return([7, 14, 30, 60, 90, 180, 365]) }}
{%- endmacro %}

{#
  Which stored points can matter to a model's curve: those on or after the creation date and within
  35 days of a checkpoint T <= S. Only such a point can be the one on or before T, or the one after
  it, that gives T a value (two points further apart give none), so no other point is read.
  adoption_point_bounds gives, per model, the last such date and the gaps between the checkpoints'
  windows, as columns; adoption_point_is_needed compares a point's date with them.
#}
{% macro adoption_point_bounds(created_date, snapshot_date) -%}
    {%- set checkpoints = adoption_checkpoints() -%}
    case
        {%- for days in checkpoints | reverse %}
        when {{ days_after(created_date, days) }} <= {{ snapshot_date }} then {{ days_after(created_date, days + 35) }}
        {%- endfor %}
    end as points_needed_until
    {%- for days in checkpoints[:-1] %}
    {%- set next_days = checkpoints[loop.index] %}
    {%- if days + 35 + 1 <= next_days - 35 - 1 %},
    {{ days_after(created_date, days + 36) }} as points_gap_{{ loop.index }}_from,
    {{ days_after(created_date, next_days - 36) }} as points_gap_{{ loop.index }}_to
    {%- endif %}
    {%- endfor %}
{%- endmacro %}

{% macro adoption_point_is_needed(universe, point_date) -%}
    {%- set checkpoints = adoption_checkpoints() -%}
    ({{ point_date }} >= {{ universe }}.created_date and {{ point_date }} <= {{ universe }}.points_needed_until
    {%- for days in checkpoints[:-1] %}
    {%- set next_days = checkpoints[loop.index] %}
    {%- if days + 35 + 1 <= next_days - 35 - 1 %}
        and not ({{ point_date }} >= {{ universe }}.points_gap_{{ loop.index }}_from
            and {{ point_date }} <= {{ universe }}.points_gap_{{ loop.index }}_to)
    {%- endif %}
    {%- endfor %})
{%- endmacro %}

{#
  A fingerprint of published snapshots (an aggregate): md5 of their dates and build times, sorted.
  A snapshot records the fingerprint of the snapshots published before it when it was built
  (dim_snapshots.history_fingerprint); relative adoption carries a snapshot's curves over only when
  the snapshots before it are still the same (none added, replaced or rebuilt since).
#}
{% macro history_fingerprint(snapshot_date, built_at) -%}
    {%- set entry = "cast(" ~ snapshot_date ~ " as " ~ sql_type('varchar') ~ ") || '@' || coalesce(cast("
        ~ built_at ~ " as " ~ sql_type('varchar') ~ "), '-')" -%}
    md5({{ sorted_string_agg(entry) }})
{%- endmacro %}

{# The non-null values of `expr` joined by ',' in ascending order; '' when there is none. #}
{% macro sorted_string_agg(expr) -%}
    {{ return(adapter.dispatch('sorted_string_agg')(expr)) }}
{%- endmacro %}

{% macro default__sorted_string_agg(expr) -%}
    coalesce(string_agg({{ expr }}, ',' order by {{ expr }}), '')
{%- endmacro %}

{% macro spark__sorted_string_agg(expr) -%}
    array_join(array_sort(collect_list({{ expr }})), ',')
{%- endmacro %}

{# Cumulative downloads at `at_date` on the line from (before_date, before_value) to (after_date, after_value). #}
{% macro interpolate_downloads(before_date, before_value, after_date, after_value, at_date) -%}
    cast({{ before_value }} as double)
        + cast({{ after_value }} - {{ before_value }} as double)
        * {{ days_between(before_date, at_date) }}
        / {{ days_between(before_date, after_date) }}
{%- endmacro %}
