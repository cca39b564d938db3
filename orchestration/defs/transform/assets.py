"""dbt models and seeds as Dagster assets, one per node, partitioned by snapshot date."""

import os
import time

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets
from pydantic import Field

from orchestration.defs.engine import DBT_STEP, EngineName, requested_engine
from orchestration.defs.partitions import snapshot_partitions
from orchestration.defs.refusal import refuse
from orchestration.defs.transform.dbt_workarounds import environment
from orchestration.defs.transform.project import BUILD_TARGET, dbt_project, warehouse_env
from orchestration.defs.transform.table_metadata import describe_tables
from orchestration.defs.transform.translator import ObservatoryTranslator
from orchestration.lib.child import PARENT_ENV
from orchestration.lib.engines import engine_problem, load_spark_tables, spark_warehouse_path
from orchestration.lib.locks import exclusive, hold_for_run, release_for_run
from orchestration.lib.publish import LegacyWarehouse, checkpoint, is_legacy, publish, scratch_path, start_scratch
from orchestration.lib.raw_schema import REPO_KINDS
from orchestration.lib.snapshot_store import SnapshotStore
from orchestration.defs.resources import ObservatorySettings
from orchestration.settings import Settings


class DbtBuildConfig(dg.Config):
    """How dbt builds this snapshot date (always from scratch, then published by warehouse/published)."""

    # Every run builds its own snapshot date; rebuilding every stored snapshot is one build per date
    # (`observatory build --full-refresh` does that, or a backfill in the UI).
    full_refresh: bool = Field(default=False, description=(
        "Allow this run to replace a warehouse built by an older version of the observatory (marts stored "
        "in the database file). Rebuilds only this date; leave false otherwise."))
    engine: EngineName | None = Field(default=None, description=(
        "What dbt builds this snapshot on: duckdb, or spark (needs make install-spark and Java 17; its tables are "
        "loaded into the run's DuckDB for the checks and published alike). Unset: the setting ENGINE (default duckdb)."))


PUBLISHED_KEY = dg.AssetKey(["warehouse", "published"])
PUBLISH_STEP = "warehouse__published"


def refuse_partial_build(context: dg.AssetExecutionContext, dbt_keys) -> None:
    """A run builds a snapshot whole or not at all: dbt's scratch warehouse is published only by the
    publish step of the same run. A selection with dbt models but without warehouse/published (one
    mart materialized from its page), or publishing without the dbt step, is refused before dbt starts."""
    run = context.run
    selected = set(run.asset_selection) if run.asset_selection else None  # None or empty: the whole job
    steps = set(run.step_keys_to_execute) if run.step_keys_to_execute is not None else None
    dbt_selected = selected is None or bool(selected & set(dbt_keys))
    dbt_runs = dbt_selected and (steps is None or DBT_STEP in steps)
    publish_runs = (selected is None or PUBLISHED_KEY in selected) and (steps is None or PUBLISH_STEP in steps)
    missing = sorted(k.to_user_string() for k in dbt_keys if selected is not None and k not in selected)
    if dbt_runs and publish_runs and not missing:
        return
    what = ("dbt models without warehouse/published: nothing would publish what dbt builds" if not publish_runs else
            "warehouse/published without the dbt step: this run has nothing built to publish" if not dbt_runs else
            f"only some dbt models ({len(missing)} left out, e.g. {missing[0]})")
    refuse(context, f"build the snapshot {context.partition_key} whole: launch the job refresh_snapshot for this "
                    f"date (or Materialize all of the date); this run selects {what}")


def build_dbt_assets() -> dg.AssetsDefinition:
    project = dbt_project()

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=ObservatoryTranslator(partitions_def=snapshot_partitions),
        partitions_def=snapshot_partitions,
        # One run per snapshot: dbt builds the snapshot date it gets in OBSERVATORY_SNAPSHOT_DATE.
        backfill_policy=dg.BackfillPolicy.multi_run(1),
        name="observatory_dbt",
    )
    def observatory_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig,
                        observatory: ObservatorySettings):
        refuse_partial_build(context, context.assets_def.keys)
        settings = observatory.get()
        engine = config.engine.value if config.engine else settings.engine
        problem = engine_problem(engine)
        if problem:
            refuse(context, problem)
        if not config.full_refresh and is_legacy(settings.duckdb_path):
            raise LegacyWarehouse(
                f"{settings.duckdb_path} was built by an older version of the observatory (marts stored in the "
                "file); rebuild every snapshot into the new layout once: observatory build --full-refresh"
            )
        _verify_raw_snapshots(context, settings)
        # The snapshot and N go in the environment, not --vars: a changed var makes dbt re-parse everything.
        run_id = context.run.run_id
        # One build per snapshot date at a time, from here to its publication (or the run's end).
        # Builds of other dates go on: they write their own scratch and their own lake folder.
        hold_for_run(settings.snapshot_lock(context.partition_key), run_id, f"snapshot {context.partition_key}",
                     settings.lock_timeout_s, context.log)
        try:
            with exclusive(settings.dbt_lock, "dbt scratch path", settings.lock_timeout_s, context.log):
                # dbt builds this run's snapshot alone into a scratch warehouse; publishing copies it to the lake.
                active = start_scratch(settings.duckdb_path, run_id)
                # dbt inherits this process's environment when it starts: absolute paths, but the warehouse's,
                # which is relative to the folder dbt starts in (dbt_workarounds.py, 6).
                env = {
                    **settings.dbt_env(), **warehouse_env(active),
                    "OBSERVATORY_SNAPSHOT_DATE": context.partition_key, "WEEKLY_TOP_N": str(settings.weekly_top_n),
                    PARENT_ENV: str(os.getpid()),
                    # Where dagster-dbt makes the run's target folder and finds the parse to start from.
                    "DBT_TARGET_PATH": str(BUILD_TARGET),
                }
                args = ["build", "--exclude", "test_type:unit"]
                if engine == "spark":
                    # Spark writes its tables under the run's scratch folder, removed with it.
                    spark_dir = spark_warehouse_path(settings.duckdb_path, run_id)
                    env["SPARK_WAREHOUSE_DIR"] = str(spark_dir)
                    args = ["build", "--target", "spark", "--exclude", "test_type:unit"]
                context.log.info(f"dbt builds snapshot {context.partition_key} on {engine}")
                with environment(env):
                    # Unit tests check the models' logic on fixed rows, not the snapshot: `make test` runs
                    # them (tests/test_dbt_unit.py); a build runs the data tests only (~5 s less per build).
                    invocation = dbt.cli(args, context=context)
                # Test results are reported as they come; model outputs wait for dbt to let go of the
                # scratch, to carry its row counts and columns.
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
                if engine == "spark":
                    with environment(env):
                        _hand_over_from_spark(context, dbt, spark_dir, scratch_path(settings.duckdb_path, run_id))
            built = scratch_path(settings.duckdb_path, run_id)
            # dbt has let go of the file: fold its write-ahead log in, since publishing reads the file.
            checkpoint(built)
        except BaseException:
            release_for_run(settings.snapshot_lock(context.partition_key), run_id)
            raise
        yield from _with_table_metadata(context, outputs, built)

    return observatory_dbt


def _hand_over_from_spark(context: dg.AssetExecutionContext, dbt: DbtCliResource, spark_dir, scratch) -> None:
    """After a Spark build: every table Spark wrote (seeds, intermediate, marts) into the run's scratch
    DuckDB, same schema and name, and the staging views (views over the raw files, which Spark does not
    write) made there by dbt on DuckDB. The checks and publishing then read the scratch as after a
    DuckDB build."""
    started = time.monotonic()
    rows = load_spark_tables(spark_dir, scratch)
    loaded = time.monotonic()
    dbt.cli(["run", "--select", "path:models/staging", "--quiet"]).wait()
    context.log.info(f"handed over from Spark: {len(rows)} tables ({sum(rows.values()):,} rows) loaded into the "
                     f"scratch DuckDB in {loaded - started:.1f} s, staging views made in "
                     f"{time.monotonic() - loaded:.1f} s")


def _verify_raw_snapshots(context: dg.AssetExecutionContext, settings: Settings) -> None:
    """Before dbt reads the run's raw file, check it against its manifest's sha256: a changed file fails the run."""
    store = SnapshotStore(settings.raw_models_dir)
    dates = [context.partition_key]
    started = time.monotonic()
    for snapshot_date in dates:
        if store.get(snapshot_date) is not None:
            store.verify(snapshot_date)
        for kind in REPO_KINDS:  # datasets, spaces, papers stored beside the models
            other = SnapshotStore(settings.raw_dir(kind), kind)
            if other.get(snapshot_date) is not None:
                other.verify(snapshot_date)
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
        key=PUBLISHED_KEY,
        deps=marts,
        partitions_def=snapshot_partitions,
        backfill_policy=dg.BackfillPolicy.multi_run(1),
        group_name="marts",
        kinds={"duckdb"},
        description="The snapshot's marts in the lake (data/warehouse/lake/snapshot_date=<date>/<mart>.parquet) "
        "and the catalog of views over them users query (observatory.duckdb). The date's folder is swapped in "
        "one rename once every dbt test and blocking check passed; other dates are never touched.",
    )
    def published_warehouse(context: dg.AssetExecutionContext, observatory: ObservatorySettings) -> dg.MaterializeResult:
        refuse_partial_build(context, dbt_assets_def.keys)
        settings = observatory.get()
        run_id = context.run.run_id
        lock = settings.snapshot_lock(context.partition_key)
        # Held since the dbt step of this run (a run without it is refused above); taking it again is a no-op.
        hold_for_run(lock, run_id, f"snapshot {context.partition_key}", settings.lock_timeout_s, context.log)
        try:
            rows = publish(settings.duckdb_path, run_id, context.partition_key, settings.raw_models_dir)
        finally:
            release_for_run(lock, run_id)
        folder = settings.lake_dir / f"snapshot_date={context.partition_key}"
        size = sum(p.stat().st_size for p in folder.glob("*.parquet"))
        context.log.info(f"published snapshot {context.partition_key} to {folder} ({size / 2**20:.1f} MiB)")
        return dg.MaterializeResult(metadata={
            "engine": requested_engine(context.run, settings),
            "path": dg.MetadataValue.path(str(folder)), "catalog": dg.MetadataValue.path(str(settings.duckdb_path)),
            "bytes": size, "rows": dg.MetadataValue.json(rows),
        })

    return published_warehouse
