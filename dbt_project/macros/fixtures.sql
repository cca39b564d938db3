{#
  Values for the unit tests' SQL fixtures (`format: sql` inputs), written once for both engines:
  DuckDB's syntax by default, Spark's with the spark target (dbt renders the fixtures' Jinja). Plain
  SQL works on both as long as it sticks to `cast(x as bigint|double|string|date|timestamp)`,
  `timestamp '...'` literals and `(values ...) as t(columns)`; lists and the Hub's nested columns
  come from these macros. A fixture that calls them sits between {% raw %} and {% endraw %}: dbt
  renders YAML values when it parses, without the project's macros, and renders the fixture again
  with them when the unit test runs.
#}

{# A list of string literals (e.g. tags); [] for an empty list and a typed null for none. #}
{% macro fixture_strings(values) -%}
    {%- if values is none -%}
        cast(null as {{ sql_type('varchar[]') }})
    {%- elif values | length == 0 -%}
        cast({{ list_of([]) }} as {{ sql_type('varchar[]') }})
    {%- else -%}
        {%- set items = [] -%}
        {%- for value in values -%}
            {%- do items.append("'" ~ value ~ "'") -%}
        {%- endfor -%}
        {{ list_of(items) }}
    {%- endif -%}
{%- endmacro %}

{#
  The Hub's baseModels column: a relation and its models as [_id, id] pairs; a typed null without
  a relation.
#}
{% macro fixture_base_models(relation=none, models=[]) -%}
    {%- if relation is none -%}
        cast(null as {{ fixture_type('base_models') }})
    {%- else -%}
        {%- set items = [] -%}
        {%- for object_id, model_id in models -%}
            {%- do items.append(struct_of({'_id': "'" ~ object_id ~ "'", 'id': "'" ~ model_id ~ "'"})) -%}
        {%- endfor -%}
        {{ struct_of({'relation': "'" ~ relation ~ "'", 'models': list_of(items)}) }}
    {%- endif -%}
{%- endmacro %}

{# The type of a nested Hub column (base_models, safetensors), as the engine spells it. #}
{% macro fixture_type(name) -%}
    {{ return(adapter.dispatch('fixture_type')(name)) }}
{%- endmacro %}

{% macro default__fixture_type(name) -%}
    {{ return({
        'base_models': 'struct(relation varchar, models struct(_id varchar, id varchar)[])',
        'safetensors': 'struct(parameters map(varchar, bigint), total bigint)',
    }[name]) }}
{%- endmacro %}

{% macro spark__fixture_type(name) -%}
    {{ return({
        'base_models': 'struct<relation: string, models: array<struct<_id: string, id: string>>>',
        'safetensors': 'struct<parameters: map<string, bigint>, total: bigint>',
    }[name]) }}
{%- endmacro %}
