"""The refresh job and its daily schedule."""

import dagster as dg

# Everything for one snapshot date: the raw snapshot, every dbt model, test and check, the report.
refresh_job = dg.define_asset_job(
    name="refresh_snapshot",
    selection=dg.AssetSelection.all(),
    description="Ingest one snapshot date and build every model, test and check on it.",
    # One process per run: the snapshot date's lock is held from the dbt step to the publish step.
    executor_def=dg.in_process_executor,
)

# hub-stats is updated daily around 13:00 UTC; refresh today's snapshot half an hour later.
daily_refresh_schedule = dg.build_schedule_from_partitioned_job(
    refresh_job,
    name="daily_refresh",
    hour_of_day=13,
    minute_of_hour=30,
    description="Daily at 13:30 UTC: ingest today's snapshot and rebuild its marts.",
)
