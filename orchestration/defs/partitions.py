"""One partition per snapshot date, shared by the raw snapshot and every dbt model."""

import dagster as dg

# hub-stats begins in 2022; end_offset=1 makes today's snapshot a valid partition.
snapshot_partitions = dg.DailyPartitionsDefinition(start_date="2022-03-01", end_offset=1)
