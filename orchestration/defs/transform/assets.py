"""dbt models and seeds as Dagster assets, one per node, partitioned by snapshot date."""


import json
import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from orchestration.defs.partitions import snapshot_partitions
from orchestration.defs.transform.project import dbt_project
from orchestration.lib.locks import exclusive
from orchestration.settings import Settings


class ObservatoryTranslator(DagsterDbtTranslator):
    """Groups follow the dbt folders: staging, intermediate, marts; seeds go to reference."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"


class DbtBuildConfig(dg.Config):
    """full_refresh rebuilds every stored snapshot instead of the run's partition only."""

    full_refresh: bool = False


def build_dbt_assets() -> dg.AssetsDefinition:
    project = dbt_project()

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=ObservatoryTranslator(
            settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)
        ),
        partitions_def=snapshot_partitions,
        # One run per snapshot: the build of a snapshot date is what the dbt vars describe.
        backfill_policy=dg.BackfillPolicy.multi_run(1),
        name="observatory_dbt",
    )
    def observatory_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig):
        # dbt inherits this process's environment: hand it the same absolute paths Python uses.
        settings = Settings.from_env()
        os.environ.update(settings.dbt_env())
        dbt_vars = {"snapshot_date": context.partition_key, "weekly_top_n": settings.weekly_top_n}
        args = ["build", "--vars", json.dumps(dbt_vars)]
        if config.full_refresh:
            args.append("--full-refresh")
        with exclusive(settings.warehouse_lock, "warehouse", settings.lock_timeout_s, context.log):
            yield from dbt.cli(args, context=context).stream()

    return observatory_dbt
