{# List and window helpers of the relative-adoption marts: engine-specific syntax kept out of the models. #}

{# True when the list column holds any of `values` (exact match); false for a null list. #}
{% macro has_any_tag(tags, values) -%}
    coalesce(list_has_any({{ tags }}, [{% for value in values %}'{{ value }}'{% if not loop.last %}, {% endif %}{% endfor %}]), false)
{%- endmacro %}

{# The last non-null value of `expr` in the window frame that follows (an `over (...)` clause). #}
{% macro last_non_null(expr) -%}
    last_value({{ expr }} ignore nulls)
{%- endmacro %}

{# The first non-null value of `expr` in the window frame that follows. #}
{% macro first_non_null(expr) -%}
    first_value({{ expr }} ignore nulls)
{%- endmacro %}
