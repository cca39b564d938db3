{# Fails on every combination of `columns` that appears more than once: a table's grain. #}
{% test unique_key(model, columns) %}

select {{ columns | join(', ') }}, count(*) as n_rows
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
