{#
  The size class of a model from its parameter count (total_params), lower bounds inclusive, in
  units of 1e9: under_1B, 1-9B, 10-49B, 50-99B, 100B+; `unknown_label` when the count is unknown
  (null: the relative-adoption universe excludes those models, the size mix counts them as 'unknown').
#}
{% macro size_class(total_params, unknown_label=none) -%}
    case
        when {{ total_params }} is null then {{ "'" ~ unknown_label ~ "'" if unknown_label else 'null' }}
        when {{ total_params }} < 1e9 then 'under_1B'
        when {{ total_params }} < 10e9 then '1-9B'
        when {{ total_params }} < 50e9 then '10-49B'
        when {{ total_params }} < 100e9 then '50-99B'
        else '100B+'
    end
{%- endmacro %}
