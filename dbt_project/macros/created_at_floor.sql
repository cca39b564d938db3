{#
  The createdAt floor: every repo created before the Hub stored creation dates carries an instant
  of the minute 2022-03-02 23:29 UTC (23:29:04 for most, 23:29:05 for a few). Any createdAt
  within that minute means "created before then": unknown, never a release of 2022.
  The one SQL definition of the rule; its Python twin is raw_schema.CREATED_AT_FLOOR.
#}
{% macro is_created_at_floor(column) -%}
    ({{ column }} >= timestamp '2022-03-02 23:29:00' and {{ column }} < timestamp '2022-03-02 23:30:00')
{%- endmacro %}
