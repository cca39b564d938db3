{#
  Releases per month, label country and pipeline tag (the model's task, 'none' when it has
  none), with each tag's share of the (month, country) releases. The floor is excluded.
#}

{{ monthly_release_mix('pipeline_tag', "coalesce(pipeline_tag, 'none')") }}
