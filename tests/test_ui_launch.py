"""What a launch from the Dagster UI can and cannot do: the launchpad's config, refusals that harm no
data and leave the date's assets as they were, partial builds refused, the partitions, and runs of
the command line on the job page."""

import datetime as dt
import os
import shutil
import tomllib
from pathlib import Path

import dagster as dg
import pytest

from orchestration.lib.sources import SOURCE_NAMES
from tests.conftest import PROJECT_ROOT, run_observatory
from tests.snapshot_fixture import FIXTURE, model, write_fixture

DATE = "2026-06-05"  # the date of the session fixture `built`
MODELS = dg.AssetKey(["huggingface", "models"])
DIM_MODELS = dg.AssetKey(["marts", "dim_models"])
PUBLISHED = dg.AssetKey(["warehouse", "published"])


# The launchpad: what a user sees and must fill in.


def _fields(config_class) -> dict:
    return config_class.to_config_schema().as_field().config_type.fields


def test_the_launchpad_requires_a_source_chosen_from_the_sources():
    from orchestration.defs.ingest.assets import IngestConfig

    fields = _fields(IngestConfig)
    source = fields["source"]
    assert source.is_required
    assert source.config_type.kind.value == "ENUM"  # the editor offers the choices
    assert {value.config_value for value in source.config_type.enum_values} == set(SOURCE_NAMES)
    # The description says which fields go with which source.
    assert "dir: " in source.description and "`dir`" in source.description
    assert "file: " in source.description and "`file`" in source.description
    assert "SYNTHETIC" in source.description
    assert fields["replace"].description.startswith("DESTRUCTIVE")
    assert not fields["replace"].is_required and fields["replace"].default_value is False


def test_config_classes_show_users_descriptions_only():
    from orchestration.defs.ingest.assets import IngestConfig
    from orchestration.defs.schedules import RegisterDatesConfig
    from orchestration.defs.transform.assets import DbtBuildConfig

    for config_class in (IngestConfig, DbtBuildConfig, RegisterDatesConfig):
        field = config_class.to_config_schema().as_field()  # what the launchpad shows
        assert field.description and "\n" not in field.description, config_class  # one line in the launchpad
        for name, subfield in field.config_type.fields.items():
            assert subfield.description, f"{config_class.__name__}.{name} has no description"
        # Internal notes (locks, environment, private helpers) stay in comments.
        text = " ".join([field.description, *(f.description for f in field.config_type.fields.values())])
        for word in ("OBSERVATORY_SNAPSHOT_DATE", "lock", "Internal", "workaround"):
            assert word not in text, (config_class, word)
    assert set(_fields(RegisterDatesConfig)) == {"from", "to", "every"}


def test_the_synthetic_sample_never_replaces_a_real_snapshot(tmp_path):
    import logging

    from orchestration.defs.ingest.assets import ingest
    from orchestration.lib.snapshot_store import SnapshotExistsError, SnapshotStore
    from orchestration.lib.sources import SnapshotRequest
    from orchestration.settings import Settings

    settings = Settings(tmp_path / "data", tmp_path / "data" / "w.duckdb", None, None, None, 50, "x/y", ())
    real = write_fixture(tmp_path / "models.parquet", FIXTURE)
    log = logging.getLogger("test")
    ingest(SnapshotRequest(source="file", snapshot_date=DATE, file=real), settings, False, log)
    store = SnapshotStore(settings.raw_models_dir)
    before = store.get(DATE).manifest["sha256"]

    sample = SnapshotRequest(source="sample", snapshot_date=DATE, sample_rows=50)
    with pytest.raises(SnapshotExistsError, match="never replaced by the synthetic sample"):
        ingest(sample, settings, True, log)
    with pytest.raises(SnapshotExistsError, match="nothing was changed"):
        ingest(sample, settings, False, log)
    assert store.get(DATE).manifest["sha256"] == before

    # Another real input replaces it when asked to: the refusal is about synthetic data only.
    other = write_fixture(tmp_path / "other.parquet", FIXTURE + [model("frank/new", dt.datetime(2026, 6, 1))])
    _, outcome = ingest(SnapshotRequest(source="file", snapshot_date=DATE, file=other), settings, True, log)
    assert outcome == "replaced" and store.get(DATE).manifest["rows"] == len(FIXTURE) + 1


# Partitions: the dates stored or asked for.


def test_every_asset_is_partitioned_by_the_registered_snapshot_dates():
    from orchestration.definitions import defs

    definitions = defs()
    graph = definitions.resolve_asset_graph()
    partitions = {graph.get(key).partitions_def for key in graph.get_all_asset_keys()
                  if graph.get(key).is_materializable}  # not the lake: the published snapshots as a dbt source
    assert len(partitions) == 1
    [snapshot_dates] = partitions
    assert isinstance(snapshot_dates, dg.DynamicPartitionsDefinition) and snapshot_dates.name == "snapshot_date"
    assert definitions.resolve_job_def("refresh_snapshot").partitions_def == snapshot_dates


def test_register_snapshot_dates_adds_a_range_once():
    from orchestration.definitions import defs

    job = defs().resolve_job_def("register_snapshot_dates")
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("snapshot_date", ["2024-07-31"])
        config = {"ops": {"add_snapshot_dates": {"config": {"from": "2024-07-24", "to": "2024-08-20",
                                                                  "every": "week"}}}}
        assert job.execute_in_process(run_config=config, instance=instance).success
        # Wednesdays from 2024-07-24, hub_weekly's days: 07-24, 07-31 (already there), 08-07, 08-14.
        assert sorted(instance.get_dynamic_partitions("snapshot_date")) == [
            "2024-07-24", "2024-07-31", "2024-08-07", "2024-08-14"]
        assert job.execute_in_process(run_config=config, instance=instance).success  # idempotent
        assert len(instance.get_dynamic_partitions("snapshot_date")) == 4

        daily = {"ops": {"add_snapshot_dates": {"config": {"from": "2024-12-30", "to": "2025-01-02"}}}}
        assert job.execute_in_process(run_config=daily, instance=instance).success
        assert {"2024-12-30", "2024-12-31", "2025-01-01", "2025-01-02"} <= set(
            instance.get_dynamic_partitions("snapshot_date"))

        backwards = {"ops": {"add_snapshot_dates": {"config": {"from": "2025-01-02", "to": "2025-01-01"}}}}
        result = job.execute_in_process(run_config=backwards, instance=instance, raise_on_error=False)
        assert not result.success
        assert len(instance.get_dynamic_partitions("snapshot_date")) == 8


# Launches against a built date: a copy of the session's built warehouse, so nothing else sees them.


@pytest.fixture
def built_copy(built, tmp_path, monkeypatch):
    root, data_dir, _ = built
    copy = tmp_path / "data"
    shutil.copytree(data_dir, copy, symlinks=True)
    monkeypatch.setenv("DATA_DIR", str(copy))
    monkeypatch.setenv("DAGSTER_HOME", str(copy / "dagster_home"))
    monkeypatch.delenv("DUCKDB_PATH", raising=False)
    instance = dg.DagsterInstance.from_config(str(copy / "dagster_home"))
    yield root, copy, instance
    instance.dispose()


def _refresh_job():
    from orchestration.defs import build_definitions

    return build_definitions().resolve_job_def("refresh_snapshot")


def _statuses(instance, keys):
    from orchestration.defs.partitions import snapshot_partitions

    return {key.to_user_string(): instance.get_status_by_partition(key, [DATE], snapshot_partitions)[DATE]
            for key in keys}


def test_a_refused_launch_harms_nothing_and_leaves_the_dates_assets_materialized(built_copy):
    root, data_dir, instance = built_copy
    manifest = data_dir / "raw" / "models" / f"snapshot_date={DATE}" / "_manifest.json"
    manifest_before = manifest.read_text()
    keys = [MODELS, DIM_MODELS, PUBLISHED, dg.AssetKey(["reports", "snapshot_report"])]
    assert set(_statuses(instance, keys).values()) == {dg.AssetPartitionStatus.MATERIALIZED}

    # A different input for the stored date, without replace: what the launchpad would send.
    other = write_fixture(root / "ui-other.parquet", FIXTURE + [model("zed/new", dt.datetime(2026, 6, 1))])
    config = {"ops": {"ingest_snapshot": {"config": {"source": "file", "file": str(other)}}}}
    result = _refresh_job().execute_in_process(run_config=config, instance=instance, partition_key=DATE,
                                               raise_on_error=False)

    run = instance.get_run_by_id(result.run_id)
    assert run.status == dg.DagsterRunStatus.CANCELED  # shown as canceled, not as a success
    assert run.tags["observatory/refused"].startswith(f"a different snapshot for {DATE} is already stored")
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert failure.step_key == "ingest_snapshot" and "nothing was changed" in failure.step_failure_data.error.message
    assert not [e for e in result.all_events if e.is_step_success and e.step_key != "ingest_snapshot"]
    assert manifest.read_text() == manifest_before
    # Every asset of the date keeps its status: materialized, none failed.
    assert set(_statuses(instance, keys).values()) == {dg.AssetPartitionStatus.MATERIALIZED}


@pytest.mark.parametrize("selection", [[DIM_MODELS], [PUBLISHED]], ids=["one-mart", "publish-only"])
def test_a_partial_build_is_refused_before_dbt_and_leaves_no_scratch(built_copy, selection):
    from orchestration.lib.publish import scratch_path

    _, data_dir, instance = built_copy
    published = data_dir / "warehouse" / "observatory.duckdb"
    published_before = published.read_bytes()
    building = scratch_path(published, "run").parent.parent

    def scratch_folders():  # every run's scratch warehouse (the symlink `active` only names the last one)
        return sorted(p.name for p in building.iterdir() if not p.is_symlink()) if building.exists() else []

    assert scratch_folders() == []
    result = _refresh_job().execute_in_process(instance=instance, partition_key=DATE, asset_selection=selection,
                                               raise_on_error=False)

    run = instance.get_run_by_id(result.run_id)
    assert run.status == dg.DagsterRunStatus.CANCELED
    reason = run.tags["observatory/refused"]
    assert reason.startswith(f"build the snapshot {DATE} whole: launch the job refresh_snapshot for this date "
                             "(or Materialize all of the date); this run selects ")
    assert "without warehouse/published" in reason if selection == [DIM_MODELS] else "without the dbt step" in reason
    assert not [e for e in result.all_events if e.is_step_success or e.event_type_value == "ASSET_MATERIALIZATION"]
    assert not scratch_path(published, result.run_id).parent.exists()
    assert scratch_folders() == []
    assert published.read_bytes() == published_before
    assert set(_statuses(instance, selection).values()) == {dg.AssetPartitionStatus.MATERIALIZED}


def test_command_line_runs_are_on_the_job_page_and_the_timeline(built_copy):
    from dagster._core.storage.tags import REPOSITORY_LABEL_TAG

    from orchestration.building import LOCATION_NAME

    _, _, instance = built_copy
    # The code location's name, as `make dev` loads it (no -m: pyproject.toml's [tool.dagster]).
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    assert pyproject["tool"]["dagster"]["code_location_name"] == LOCATION_NAME == "observatory"
    dev = (PROJECT_ROOT / "Makefile").read_text().split("\ndev:")[1].split("\n\n")[0]
    assert "dagster dev" in dev and not any(flag in dev.split("dagster dev")[1] for flag in (" -m", " -f", " -w"))

    # The filter of the job page's Runs tab (PipelineRunsFeedRoot): the job name and the repository label.
    runs = instance.get_runs(filters=dg.RunsFilter(
        job_name="refresh_snapshot", tags={REPOSITORY_LABEL_TAG: "__repository__@observatory"}))
    assert DATE in [run.tags["dagster/partition"] for run in runs]
    assert len(runs) == len(instance.get_runs(filters=dg.RunsFilter(job_name="refresh_snapshot")))
    # The Overview timeline drops runs without a repository origin (useRunsForTimeline).
    origin = runs[0].remote_job_origin
    assert origin.location_name == "observatory" and origin.repository_origin.repository_name == "__repository__"
    assert origin.job_name == "refresh_snapshot"


def test_status_registers_the_stored_dates(built_copy):
    _, data_dir, instance = built_copy
    instance.delete_dynamic_partition("snapshot_date", DATE)
    assert DATE not in instance.get_dynamic_partitions("snapshot_date")
    result = run_observatory(data_dir, "status")
    assert result.returncode == 0, result.stderr
    assert DATE in instance.get_dynamic_partitions("snapshot_date")
    assert os.environ["DATA_DIR"] == str(data_dir) and Path(os.environ["DAGSTER_HOME"]).parent == data_dir


def test_the_stored_dates_are_the_raw_stores_date_folders(tmp_path):
    from orchestration.building import stored_dates
    from orchestration.settings import Settings

    settings = Settings(tmp_path / "data", tmp_path / "data" / "w.duckdb", None, None, None, 50, "x/y", ())
    assert stored_dates(settings) == []
    for name in ("snapshot_date=2026-01-20", "snapshot_date=2025-12-31", "snapshot_date=2026-01-20.partial",
                 ".incoming", "snapshot_date=x"):
        (settings.raw_models_dir / name).mkdir(parents=True)
    assert stored_dates(settings) == ["2025-12-31", "2026-01-20"]


def test_a_backfill_registers_its_whole_range_before_building(tmp_path, monkeypatch):
    from orchestration import backfill as backfill_module
    from orchestration.building import BuildResult
    from orchestration.lib.sources import SnapshotRequest
    from orchestration.settings import Settings

    # The backfill sets these in this process's environment: restored after the test, as they were.
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "elsewhere"))
    for name in ("DATA_DIR", "DUCKDB_PATH", "LAKE_DIR"):  # setenv records a variable that was absent; delenv does not
        monkeypatch.setenv(name, str(tmp_path / "unused"))
    settings = Settings(tmp_path / "data", tmp_path / "data" / "w.duckdb", None, None, None, 50, "x/y", ())
    folder = tmp_path / "dumps"
    folder.mkdir()
    for date in ("2025-01-03", "2025-01-06", "2025-01-08", "2025-02-01"):
        (folder / f"models-{date}.parquet").write_bytes(b"x")
    seen = []

    def no_build(settings, request):  # what a build finds registered when it starts
        instance = dg.DagsterInstance.from_config(str(settings.dagster_home))
        seen.append(sorted(instance.get_dynamic_partitions("snapshot_date")))
        instance.dispose()
        return BuildResult(request.snapshot_date, True)

    monkeypatch.setattr(backfill_module, "build_one_date", no_build)
    failed = backfill_module.backfill(settings, SnapshotRequest(source="dir", snapshot_date="", dir=folder),
                                      "2025-01-04", "2025-01-31", out=lambda line: None)
    assert failed == []
    assert seen == [["2025-01-06", "2025-01-08"]] * 2
