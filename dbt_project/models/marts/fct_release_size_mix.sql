{#
  Releases per month, label country and size class, with each size class's share of the
  (month, country) releases. A release is a model with a real createdAt (the floor is excluded);
  size classes by total_params, 'unknown' when the count is unknown.
#}

{{ monthly_release_mix('size_class', size_class('total_params', 'unknown')) }}
