{#
  List and struct helpers, behind adapter.dispatch (DuckDB: default__; Spark: spark__). Lambdas are
  given as a variable name and an expression over it; positions are 1-based on both engines.
#}

{# A list literal of SQL expressions. #}
{% macro list_of(items) -%}
    {{ return(adapter.dispatch('list_of')(items)) }}
{%- endmacro %}
{% macro default__list_of(items) -%}
    [{{ items | join(', ') }}]
{%- endmacro %}
{% macro spark__list_of(items) -%}
    array({{ items | join(', ') }})
{%- endmacro %}

{# A struct literal from a dict of field name -> SQL expression. #}
{% macro struct_of(fields) -%}
    {{ return(adapter.dispatch('struct_of')(fields)) }}
{%- endmacro %}
{% macro default__struct_of(fields) -%}
    { {%- for name, expr in fields.items() %}'{{ name }}': {{ expr }}{% if not loop.last %}, {% endif %}{% endfor -%} }
{%- endmacro %}
{% macro spark__struct_of(fields) -%}
    named_struct({% for name, expr in fields.items() %}'{{ name }}', {{ expr }}{% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}

{# The list with `item` appended. #}
{% macro list_append(list, item) -%}
    {{ return(adapter.dispatch('list_append')(list, item)) }}
{%- endmacro %}
{% macro default__list_append(list, item) -%}
    list_append({{ list }}, {{ item }})
{%- endmacro %}
{% macro spark__list_append(list, item) -%}
    array_append({{ list }}, {{ item }})
{%- endmacro %}

{# True when the list holds `item`. #}
{% macro list_contains(list, item) -%}
    {{ return(adapter.dispatch('list_contains')(list, item)) }}
{%- endmacro %}
{% macro default__list_contains(list, item) -%}
    list_contains({{ list }}, {{ item }})
{%- endmacro %}
{% macro spark__list_contains(list, item) -%}
    array_contains({{ list }}, {{ item }})
{%- endmacro %}

{# The number of elements (null for a null list). #}
{% macro list_length(list) -%}
    {{ return(adapter.dispatch('list_length')(list)) }}
{%- endmacro %}
{% macro default__list_length(list) -%}
    len({{ list }})
{%- endmacro %}
{% macro spark__list_length(list) -%}
    case when {{ list }} is not null then size({{ list }}) end
{%- endmacro %}

{# The smallest element. #}
{% macro list_min(list) -%}
    {{ return(adapter.dispatch('list_min')(list)) }}
{%- endmacro %}
{% macro default__list_min(list) -%}
    list_min({{ list }})
{%- endmacro %}
{% macro spark__list_min(list) -%}
    array_min({{ list }})
{%- endmacro %}

{# The element at a 1-based position; null past the end. #}
{% macro list_element(list, position) -%}
    {{ return(adapter.dispatch('list_element')(list, position)) }}
{%- endmacro %}
{% macro default__list_element(list, position) -%}
    {{ list }}[{{ position }}]
{%- endmacro %}
{% macro spark__list_element(list, position) -%}
    try_element_at({{ list }}, {{ position }})
{%- endmacro %}

{# The elements joined with `separator` (nulls skipped). #}
{% macro list_join(list, separator) -%}
    {{ return(adapter.dispatch('list_join')(list, separator)) }}
{%- endmacro %}
{% macro default__list_join(list, separator) -%}
    array_to_string({{ list }}, {{ separator }})
{%- endmacro %}
{% macro spark__list_join(list, separator) -%}
    array_join({{ list }}, {{ separator }})
{%- endmacro %}

{# The elements for which `predicate` (an expression over `var`) is true. #}
{% macro list_filter(list, var, predicate) -%}
    {{ return(adapter.dispatch('list_filter')(list, var, predicate)) }}
{%- endmacro %}
{% macro default__list_filter(list, var, predicate) -%}
    list_filter({{ list }}, lambda {{ var }}: {{ predicate }})
{%- endmacro %}
{% macro spark__list_filter(list, var, predicate) -%}
    filter({{ list }}, {{ var }} -> {{ predicate }})
{%- endmacro %}

{# `expression` (over `var`) of every element. #}
{% macro list_transform(list, var, expression) -%}
    {{ return(adapter.dispatch('list_transform')(list, var, expression)) }}
{%- endmacro %}
{% macro default__list_transform(list, var, expression) -%}
    list_transform({{ list }}, lambda {{ var }}: {{ expression }})
{%- endmacro %}
{% macro spark__list_transform(list, var, expression) -%}
    transform({{ list }}, {{ var }} -> {{ expression }})
{%- endmacro %}

{# The elements (structs) whose field `key` is not listed earlier: each key keeps its first position. #}
{% macro list_first_occurrences(list, key) -%}
    {{ return(adapter.dispatch('list_first_occurrences')(list, key)) }}
{%- endmacro %}
{% macro default__list_first_occurrences(list, key) -%}
    list_filter(
            {{ list }},
            lambda p, position: list_position(list_transform({{ list }}, lambda q: q.{{ key }}), p.{{ key }}) = position
        )
{%- endmacro %}
{% macro spark__list_first_occurrences(list, key) -%}
    filter(
            {{ list }},
            (p, index) -> array_position(transform({{ list }}, q -> q.{{ key }}), p.{{ key }}) = index + 1
        )
{%- endmacro %}

{#
  Select-list items that unnest a list into one row per element: the element as `element_alias`
  and its 1-based position as `position_alias`.
#}
{% macro unnest_with_position(list, element_alias, position_alias) -%}
    {{ return(adapter.dispatch('unnest_with_position')(list, element_alias, position_alias)) }}
{%- endmacro %}
{% macro default__unnest_with_position(list, element_alias, position_alias) -%}
    unnest({{ list }}) as {{ element_alias }},
        generate_subscripts({{ list }}, 1) as {{ position_alias }}
{%- endmacro %}
{% macro spark__unnest_with_position(list, element_alias, position_alias) -%}
    inline(transform({{ list }}, (element, index) -> named_struct('{{ element_alias }}', element, '{{ position_alias }}', index + 1)))
{%- endmacro %}

{# Rows of one column `alias`, one per element of the list (a from-clause subquery). #}
{% macro unnest_rows(list, alias) -%}
    {{ return(adapter.dispatch('unnest_rows')(list, alias)) }}
{%- endmacro %}
{% macro default__unnest_rows(list, alias) -%}
    unnest({{ list }}) as {{ alias }}
{%- endmacro %}
{% macro spark__unnest_rows(list, alias) -%}
    explode({{ list }}) as {{ alias }}
{%- endmacro %}

{# True when `value` matches the regular expression `pattern` anywhere. #}
{% macro regexp_matches(value, pattern) -%}
    {{ return(adapter.dispatch('regexp_matches')(value, pattern)) }}
{%- endmacro %}
{% macro default__regexp_matches(value, pattern) -%}
    regexp_matches({{ value }}, {{ pattern }})
{%- endmacro %}
{% macro spark__regexp_matches(value, pattern) -%}
    ({{ value }} rlike {{ pattern }})
{%- endmacro %}

{# True when the string starts with `prefix`. #}
{% macro starts_with(value, prefix) -%}
    {{ return(adapter.dispatch('starts_with')(value, prefix)) }}
{%- endmacro %}
{% macro default__starts_with(value, prefix) -%}
    starts_with({{ value }}, {{ prefix }})
{%- endmacro %}
{% macro spark__starts_with(value, prefix) -%}
    startswith({{ value }}, {{ prefix }})
{%- endmacro %}

{#
  A join clause that repeats each row of the from clause once per element of a list expression
  (which may use the row's columns), the element as column `column` of `alias` (written where a
  `cross join` would be).
#}
{% macro cross_join_list(list, alias, column) -%}
    {{ return(adapter.dispatch('cross_join_list')(list, alias, column)) }}
{%- endmacro %}
{% macro default__cross_join_list(list, alias, column) -%}
    cross join lateral (select unnest({{ list }}) as {{ column }}) as {{ alias }}
{%- endmacro %}
{% macro spark__cross_join_list(list, alias, column) -%}
    lateral view explode({{ list }}) {{ alias }} as {{ column }}
{%- endmacro %}

{# The integers from start to stop, both included (empty when stop < start). #}
{% macro integers_from_to(start, stop) -%}
    {{ return(adapter.dispatch('integers_from_to')(start, stop)) }}
{%- endmacro %}
{% macro default__integers_from_to(start, stop) -%}
    range({{ start }}, {{ stop }} + 1)
{%- endmacro %}
{% macro spark__integers_from_to(start, stop) -%}
    case when {{ start }} <= {{ stop }} then sequence({{ start }}, {{ stop }}) else array() end
{%- endmacro %}

{#
  The `n`th largest non-null value of `expr` in the group (an aggregate); the smallest value when
  the group has fewer than `n`.
#}
{% macro nth_largest(expr, n) -%}
    {{ return(adapter.dispatch('nth_largest')(expr, n)) }}
{%- endmacro %}
{% macro default__nth_largest(expr, n) -%}
    list_min(max({{ expr }}, {{ n }}))
{%- endmacro %}
{% macro spark__nth_largest(expr, n) -%}
    array_min(slice(sort_array(collect_list({{ expr }}), false), 1, {{ n }}))
{%- endmacro %}
