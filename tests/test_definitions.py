"""The code location: cheap to import, loads, and its pieces line up."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from tests.conftest import PROJECT_ROOT, run_observatory


def test_importing_the_code_location_parses_nothing():
    code = (
        "import sys, orchestration.definitions as d; "
        "print('dagster_dbt' in sys.modules, 'duckdb' in sys.modules, 'huggingface_hub' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False False"


def test_definitions_load_and_line_up():
    from orchestration.definitions import defs

    definitions = defs()
    dg.Definitions.validate_loadable(definitions)  # what `make dev` checks: e.g. op and job names do not clash
    graph = definitions.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert {"huggingface/models", "huggingface/snapshot_manifests", "staging/stg_huggingface__models",
            "marts/dim_models", "marts/dim_organizations", "reference/org_countries"} <= keys
    # The dbt source names the ingest asset as its producer: staging hangs off the raw snapshot.
    assert dg.AssetKey(["huggingface", "models"]) in graph.get(dg.AssetKey(["staging", "stg_huggingface__models"])).parent_keys
    assert dg.AssetKey(["huggingface", "snapshot_manifests"]) in graph.get(
        dg.AssetKey(["staging", "stg_huggingface__snapshots"])).parent_keys
    assert graph.get(dg.AssetKey(["marts", "dim_models"])).group_name == "marts"
    assert graph.get(dg.AssetKey(["staging", "stg_huggingface__models"])).group_name == "staging"
    # dbt tests appear as asset checks.
    checks = {key.name for key in graph.asset_check_keys}
    assert "unique_key_dim_models_snapshot_date__model_id" in checks

    # Metric checks: the ones guarding what users read block, the rest warn.
    specs = {(key.asset_key.to_user_string(), key.name): graph.get_check_spec(key).blocking
             for key in graph.asset_check_keys}
    assert specs[("marts/fct_weekly_new_model_rankings", "ranks_dense_within_week")] is True
    assert specs[("marts/fct_country_download_share", "shares_sum_to_one")] is True
    assert specs[("marts/fct_model_lineage", "lineage_acyclic_and_bounded")] is True
    assert specs[("marts/fct_org_release_growth", "releases_reconcile_with_staging")] is True
    assert specs[("marts/fct_country_download_share", "label_coverage_of_new_downloads")] is False

    # Publishing the warehouse comes after every mart, so a failing blocking check stops it.
    publish_parents = graph.get(dg.AssetKey(["warehouse", "published"])).parent_keys
    assert dg.AssetKey(["marts", "dim_models"]) in publish_parents
    assert dg.AssetKey(["marts", "fct_weekly_new_model_rankings"]) in publish_parents

    sensor = definitions.resolve_sensor_def("hub_refresh_sensor")
    assert sensor.job_name == "refresh_snapshot"
    assert sensor.minimum_interval_seconds == 30 * 60
    assert definitions.resolve_job_def("refresh_snapshot").partitions_def is not None


def test_report_asset_follows_publication():
    from orchestration.definitions import defs

    graph = defs().resolve_asset_graph()
    report = graph.get(dg.AssetKey(["reports", "snapshot_report"]))
    assert report.group_name == "reports"
    assert dg.AssetKey(["warehouse", "published"]) in report.parent_keys


def test_the_dbt_resource_overrides_exist_in_dagster_dbt():
    # ObservatoryDbtCli (transform/dbt_workarounds.py) replaces two private members of the pinned
    # dagster-dbt: fail loudly if they move.
    import functools

    from dagster_dbt import DbtCliResource

    assert isinstance(DbtCliResource.__dict__["_cli_version"], functools.cached_property)
    assert callable(DbtCliResource.__dict__["_initialize_dbt_core_adapter"])


def test_every_run_is_one_process_so_the_snapshot_lock_spans_dbt_to_publish():
    # A run launched from the UI or the schedule holds its snapshot date's lock from its dbt step to
    # its publish step only if both steps run in one process (lib/locks.py hold_for_run).
    from orchestration.definitions import defs

    definitions = defs()
    assert definitions.resolve_job_def("refresh_snapshot").executor_def is dg.in_process_executor
    assert definitions.resolve_implicit_global_asset_job_def().executor_def is dg.in_process_executor
    assert definitions.resolve_job_def("register_snapshot_dates").executor_def is dg.in_process_executor


def test_dbt_starts_in_the_warehouse_folder_with_its_paths_kept(tmp_path, monkeypatch):
    # observatory-dbt (lib/child.py) moves to the warehouse folder so that the profile's relative
    # warehouse path is the same for every data folder; dbt's own paths still point where they did.
    from orchestration.lib.child import start_in

    project = tmp_path / "dbt_project"
    project.mkdir()
    (project / "profiles.yml").write_text("observatory: {}\n")
    monkeypatch.chdir(project)
    monkeypatch.setenv("DBT_TARGET_PATH", "target/run-1")
    monkeypatch.setenv("DBT_LOG_PATH", "target/run-1")
    for name in ("DBT_PROJECT_DIR", "DBT_PROFILES_DIR"):  # set, then removed: restored when the test ends
        monkeypatch.setenv(name, "unset")
        monkeypatch.delenv(name)
    workdir = tmp_path / "data" / "warehouse" / ".building"
    start_in(str(workdir))
    assert Path.cwd() == workdir
    assert os.environ["DBT_TARGET_PATH"] == os.environ["DBT_LOG_PATH"] == str(project / "target" / "run-1")
    assert os.environ["DBT_PROJECT_DIR"] == os.environ["DBT_PROFILES_DIR"] == str(project)


def test_builds_into_other_data_folders_reuse_the_last_parse(built, sample_build):
    # The two builds have data folders of their own, and one parse serves both (dbt_workarounds.py,
    # 6): dbt re-parses only the files that read the data folder, never the whole project.
    for output in (built[2].stdout, (sample_build.parent / "build.stdout").read_text()):
        assert "Concurrency: 2 threads" in output  # dbt's own output
        assert "Unable to do partial parsing" not in output, output[:2000]


def test_dbt_run_by_hand_leaves_the_builds_parse_alone(sample_build, tmp_path):
    # A user's `dbt parse` in dbt_project, with a warehouse path of their own, writes dbt's default
    # target folder; builds start from their own parse (target/builds), so the next build in yet
    # another data folder still re-parses only what reads the data folder (dbt_workarounds.py, 7).
    project = PROJECT_ROOT / "dbt_project"
    env = {**os.environ, "DUCKDB_PATH": str(tmp_path / "mine.duckdb"), "DO_NOT_TRACK": "1"}
    parsed = subprocess.run([str(Path(sys.executable).parent / "dbt"), "parse", "--quiet"], cwd=project, env=env,
                            capture_output=True, text=True, timeout=300)
    assert parsed.returncode == 0, parsed.stdout[-2000:]
    result = run_observatory(tmp_path / "data", "build", "--sample-rows", "50", "--snapshot-date", "2026-01-20")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Concurrency: 2 threads" in result.stdout
    assert "Unable to do partial parsing" not in result.stdout, result.stdout[:2000]
