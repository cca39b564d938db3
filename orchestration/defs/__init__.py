"""Builds the code location's definitions. Called by definitions.py when Dagster loads it."""

import dagster as dg

# Why no asset carries an automation condition, shown on the published warehouse in the UI.
NO_AUTOMATION = (
    " No asset has an automation condition: a snapshot is published all or nothing, by one run that ingests it, "
    "builds every dbt model, test and check and then swaps its folder, so a mart materialized alone "
    "(an eager condition) would be a half-built snapshot nobody can publish. Runs come from the sensor "
    "`hub_refresh_sensor`, the job `refresh_snapshot`, or a launch."
)


def build_definitions(settings=None) -> dg.Definitions:
    """`settings` (orchestration.settings.Settings): the values of the resource `observatory`; by
    default read from the environment when the code location loads."""
    # Imported here so that importing the package parses nothing.
    from orchestration.defs.catalog import with_code_references, with_freshness, with_owner_and_layer
    from orchestration.defs.checks.assets import metric_checks
    from orchestration.defs.ingest.assets import ingest_snapshot
    from orchestration.defs.report.assets import snapshot_report
    from orchestration.defs.schedules import build_refresh_sensor, refresh_job, register_snapshot_dates_job
    from orchestration.defs.transform.assets import build_dbt_assets, build_publish_asset
    from orchestration.defs.transform.project import dbt_resource
    from orchestration.defs.transform.translator import source_specs
    from orchestration.defs.resources import ObservatorySettings

    # Every asset, check and the sensor get the settings as the resource `observatory`.
    settings_resource = ObservatorySettings.from_settings(settings) if settings else ObservatorySettings.from_env()
    dbt_models = build_dbt_assets()
    published = build_publish_asset(dbt_models).map_asset_specs(lambda spec: spec.replace_attributes(
        description=(spec.description or "") + NO_AUTOMATION))
    # The raw models and the published warehouse: Dagster tells when they are late (freshness policy).
    python_assets = [with_freshness(with_owner_and_layer(a), settings_resource.get())
                     for a in (ingest_snapshot, published, snapshot_report)]
    produced = {key for a in python_assets for key in a.keys}
    return dg.Definitions(
        assets=[*with_code_references(python_assets, [dbt_models], settings_resource.get()),
                *source_specs(dbt_models, produced)],
        asset_checks=metric_checks,
        jobs=[refresh_job, register_snapshot_dates_job],
        sensors=[build_refresh_sensor(settings_resource.hub_poll_minutes)],
        resources={"dbt": dbt_resource(), "observatory": settings_resource},
        # A run is one process, so the snapshot date's lock its dbt step takes is still held when its
        # publish step runs (see lib/locks.py): also for runs launched from the UI or the schedule.
        executor=dg.in_process_executor,
    )
