"""dbt models and seeds as Dagster assets, one per node, partitioned by snapshot date."""

import os
import time
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from orchestration.defs.partitions import snapshot_partitions
from orchestration.defs.transform.project import dbt_project, environment
from orchestration.defs.transform.table_metadata import describe_tables
from orchestration.lib.child import PARENT_ENV
from orchestration.lib.locks import hold_for_run, release_for_run
from orchestration.lib.publish import candidate_path, checkpoint, publish, start_candidate
from orchestration.lib.snapshot_store import SnapshotStore
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
        # One run per snapshot: dbt builds the snapshot date it gets in OBSERVATORY_SNAPSHOT_DATE.
        backfill_policy=dg.BackfillPolicy.multi_run(1),
        name="observatory_dbt",
    )
    def observatory_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig):
        settings = Settings.from_env()
        _verify_raw_snapshots(context, settings, config.full_refresh)
        # The snapshot and N go in the environment, not --vars: a changed var makes dbt re-parse everything.
        args = ["build"]
        if config.full_refresh:
            args.append("--full-refresh")
        run_id = context.run.run_id
        # The warehouse stays this run's from the copy below to its publication (or the run's end):
        # another build waits here, and never builds on a copy that is about to be replaced.
        hold_for_run(settings.warehouse_lock, run_id, "warehouse", settings.lock_timeout_s, context.log)
        try:
            # dbt builds a private copy; the publish step swaps it in once the checks passed.
            candidate = start_candidate(settings.duckdb_path, run_id)
            # dbt inherits this process's environment when it starts: hand it absolute paths.
            env = {
                **settings.dbt_env(), "DUCKDB_PATH": str(candidate),
                "OBSERVATORY_SNAPSHOT_DATE": context.partition_key, "WEEKLY_TOP_N": str(settings.weekly_top_n),
                PARENT_ENV: str(os.getpid()),
            }
            with environment(env):
                invocation = dbt.cli(args, context=context)
            # Test results are reported as they come; model outputs wait for dbt to let go of the
            # candidate, to carry its row counts and columns.
            outputs = []
            try:
                for event in invocation.stream():
                    if isinstance(event, dg.Output):
                        outputs.append(event)
                    else:
                        yield event
            except Exception:
                yield from outputs  # what dbt built before failing
                raise
            built = candidate_path(settings.duckdb_path, run_id)
            # dbt has let go of the file: fold its write-ahead log in, since only the file is published.
            checkpoint(built)
        except BaseException:
            release_for_run(settings.warehouse_lock, run_id)
            raise
        yield from _with_table_metadata(context, outputs, built)

    return observatory_dbt


def _verify_raw_snapshots(context: dg.AssetExecutionContext, settings: Settings, full_refresh: bool) -> None:
    """Before dbt reads raw files, check each one it will read against its manifest's sha256: the
    run's snapshot, or every stored snapshot on a full refresh. A changed file fails the run."""
    store = SnapshotStore(settings.raw_models_dir)
    dates = [s.manifest["snapshot_date"] for s in store.list()] if full_refresh else [context.partition_key]
    started = time.monotonic()
    for snapshot_date in dates:
        if full_refresh or store.get(snapshot_date) is not None:
            store.verify(snapshot_date)
    context.log.info(f"raw checksums verified for {', '.join(dates) or 'no snapshot'} "
                     f"in {time.monotonic() - started:.2f} s")


def _with_table_metadata(context: dg.AssetExecutionContext, outputs: list[dg.Output], warehouse) -> list[dg.Output]:
    """Each model's output with its row count, columns and (marts) a preview."""
    keys = [context.asset_key_for_output(output.output_name) for output in outputs]
    tables = describe_tables(warehouse, keys, context.partition_key)
    return [output.with_metadata({**output.metadata, **tables.get(key, {})}) for output, key in zip(outputs, keys)]


def build_publish_asset(dbt_assets_def: dg.AssetsDefinition) -> dg.AssetsDefinition:
    """The last step of a build: downstream of every mart, so a failing blocking check stops it."""
    marts = [key for key in dbt_assets_def.keys if key.path[0] == "marts"]

    @dg.asset(
        key=["warehouse", "published"],
        deps=marts,
        partitions_def=snapshot_partitions,
        backfill_policy=dg.BackfillPolicy.multi_run(1),
        group_name="marts",
        kinds={"duckdb"},
        description="The warehouse users query. Replaced in one rename by this run's build once every "
        "dbt test and blocking check passed; until then readers keep the previous one.",
    )
    def published_warehouse(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        settings = Settings.from_env()
        run_id = context.run.run_id
        # Normally held since the dbt step of this run; taken here when only this step is re-executed.
        hold_for_run(settings.warehouse_lock, run_id, "warehouse", settings.lock_timeout_s, context.log)
        try:
            path = publish(settings.duckdb_path, run_id, context.partition_key)
        finally:
            release_for_run(settings.warehouse_lock, run_id)
        return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(path)),
                                              "bytes": path.stat().st_size})

    return published_warehouse
