"""Builds the code location's definitions. Called by definitions.py when Dagster loads it."""

import dagster as dg


def build_definitions(settings=None) -> dg.Definitions:
    """`settings` (orchestration.settings.Settings): the values of the resource `observatory`; by
    default read from the environment when the code location loads."""
    # Imported here so that importing the package parses nothing.
    from orchestration.defs.checks.assets import metric_checks
    from orchestration.defs.ingest.assets import ingest_snapshot
    from orchestration.defs.report.assets import snapshot_report
    from orchestration.defs.schedules import build_refresh_sensor, refresh_job, register_snapshot_dates_job
    from orchestration.defs.transform.assets import build_dbt_assets, build_publish_asset
    from orchestration.defs.transform.project import dbt_resource
    from orchestration.defs.resources import ObservatorySettings

    # Every asset, check and the sensor get the settings as the resource `observatory`.
    settings_resource = ObservatorySettings.from_settings(settings) if settings else ObservatorySettings.from_env()
    dbt_models = build_dbt_assets()
    return dg.Definitions(
        assets=[ingest_snapshot, dbt_models, build_publish_asset(dbt_models), snapshot_report],
        asset_checks=metric_checks,
        jobs=[refresh_job, register_snapshot_dates_job],
        sensors=[build_refresh_sensor(settings_resource.hub_poll_minutes)],
        resources={"dbt": dbt_resource(), "observatory": settings_resource},
        # A run is one process, so the snapshot date's lock its dbt step takes is still held when its
        # publish step runs (see lib/locks.py): also for runs launched from the UI or the schedule.
        executor=dg.in_process_executor,
    )
