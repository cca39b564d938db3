"""What the Dagster catalog shows beyond the data: owner, tags, code references, dbt test checks,
freshness, virtual views, previews and descriptions. Expected values are written by hand or read
from the dbt YAML and manifest with plain code, never from the translator under test."""

import dataclasses
import datetime as dt
import json
import re
import types
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml

from tests.conftest import PROJECT_ROOT

OWNER = "team:observatory"
LAYERS = {"raw", "staging", "intermediate", "marts", "reports", "reference", "lake"}
SNAPSHOT = "2026-06-05"


@pytest.fixture(scope="module")
def graph():
    from orchestration.defs import build_definitions

    return build_definitions().resolve_asset_graph()


def _node(graph, key: str):
    return graph.get(dg.AssetKey(key.split("/")))


def _manifest() -> dict:
    from orchestration.defs.transform.project import dbt_project

    return json.loads(dbt_project().manifest_path.read_text())


def test_every_asset_has_the_owner_and_a_layer(graph):
    keys = graph.get_all_asset_keys()
    assert len(keys) > 40
    for key in keys:
        node = graph.get(key)
        assert OWNER in node.owners, key
        assert node.tags.get("layer") in LAYERS, key
    assert _node(graph, "huggingface/models").tags["layer"] == "raw"
    assert _node(graph, "staging/stg_huggingface__models").tags["layer"] == "staging"
    assert _node(graph, "marts/dim_models").tags["layer"] == "marts"
    assert _node(graph, "warehouse/published").tags["layer"] == "marts"
    assert _node(graph, "reports/snapshot_report").tags["layer"] == "reports"
    assert _node(graph, "lake/dim_models").tags["layer"] == "lake"


def test_models_are_tagged_with_the_analysis_their_yaml_names(graph):
    # By hand: the analyses of the README (A1 releases per provider ... A6 base models' countries).
    assert {name: _node(graph, f"marts/{name}").tags.get("analysis") for name in (
        "fct_org_release_growth", "fct_weekly_new_model_rankings", "fct_release_heatmap",
        "fct_country_download_share", "fct_top_liked_country_share", "fct_derivative_share_by_base_country",
        "fct_concentration", "fct_release_size_mix", "fct_repo_releases", "dim_models",
    )} == {
        "fct_org_release_growth": "a1", "fct_weekly_new_model_rankings": "a2", "fct_release_heatmap": "a3",
        "fct_country_download_share": "a4", "fct_top_liked_country_share": "a5",
        "fct_derivative_share_by_base_country": "a6", "fct_concentration": "trends",
        "fct_release_size_mix": "breadth", "fct_repo_releases": "repos", "dim_models": "core",
    }
    # Every model whose YAML names an analysis carries it, and every mart names one.
    named = {}
    for path in (PROJECT_ROOT / "dbt_project" / "models").rglob("*.yml"):
        for model in yaml.safe_load(path.read_text()).get("models") or []:
            analysis = ((model.get("config") or {}).get("meta") or {}).get("analysis")
            if analysis:
                named[model["name"]] = analysis
    marts = [key for key in graph.get_all_asset_keys() if key.path[0] == "marts" and len(key.path) == 2
             and key.path[1] != "published"]
    assert {key.path[1] for key in marts} <= set(named)
    for key in graph.get_all_asset_keys():
        if key.path[-1] in named and key.path[0] in ("marts", "intermediate", "staging"):
            assert graph.get(key).tags["analysis"] == named[key.path[-1]], key


def _references(node) -> list:
    return node.metadata["dagster/code_references"].code_references


def test_code_references_point_at_the_code_that_builds_each_asset(graph):
    ingest = _references(_node(graph, "huggingface/models"))
    assert [Path(r.file_path) for r in ingest] == [PROJECT_ROOT / "orchestration/defs/ingest/assets.py"]
    source = (PROJECT_ROOT / "orchestration/defs/ingest/assets.py").read_text().splitlines()
    # The line is the decorator of the function that ingests.
    following = source[ingest[0].line_number - 1:]
    assert following[0].startswith("@dg.multi_asset(")
    assert next(line for line in following if line.startswith("def ")).startswith("def ingest_snapshot(")
    report = _references(_node(graph, "reports/snapshot_report"))
    assert [Path(r.file_path) for r in report] == [PROJECT_ROOT / "orchestration/defs/report/assets.py"]
    published = _references(_node(graph, "warehouse/published"))
    assert [Path(r.file_path) for r in published] == [PROJECT_ROOT / "orchestration/defs/transform/assets.py"]
    mart = _references(_node(graph, "marts/dim_models"))
    assert [Path(r.file_path) for r in mart] == [PROJECT_ROOT / "dbt_project/models/marts/dim_models.sql"]


def test_code_references_link_to_the_configured_repository():
    from orchestration.defs import build_definitions
    from orchestration.settings import Settings

    settings = dataclasses.replace(Settings.from_env(), git_url="https://github.com/example/observatory",
                                   git_branch="release")
    graph = build_definitions(settings).resolve_asset_graph()
    base = "https://github.com/example/observatory/tree/release"
    assert [r.url for r in _references(_node(graph, "marts/dim_models"))] == [
        f"{base}/dbt_project/models/marts/dim_models.sql"]
    [ingest] = _references(_node(graph, "huggingface/models"))
    assert ingest.url.startswith(f"{base}/orchestration/defs/ingest/assets.py#L")


def _dbt_checks(graph) -> dict[str, dg.AssetCheckSpec]:
    specs = {}
    for key in graph.asset_check_keys:
        spec = graph.get_check_spec(key)
        if "dagster_dbt/unique_id" in spec.metadata:
            specs[spec.metadata["dagster_dbt/unique_id"]] = spec
    return specs


def test_dbt_tests_are_checks_described_in_plain_words_and_kept_per_snapshot(graph):
    checks = _dbt_checks(graph)
    tests = {uid for uid, node in _manifest()["nodes"].items() if node["resource_type"] == "test"}
    assert set(checks) == tests and len(tests) > 150
    partitions = _node(graph, "marts/dim_models").partitions_def
    for uid, spec in checks.items():
        assert spec.description and "{{" not in spec.description, uid
        assert spec.partitions_def == partitions, uid
    by_name = {(spec.asset_key.to_user_string(), spec.name): spec.description for spec in checks.values()}
    assert by_name[("marts/dim_models", "unique_key_dim_models_snapshot_date__model_id")] == (
        "(snapshot_date, model_id) identifies one row of marts.dim_models for the snapshot: its grain.")
    assert by_name[("marts/dim_models", "not_null_dim_models_model_id")] == (
        "`model_id` is never null in marts.dim_models for the snapshot.")
    accepted = [d for (asset, name), d in by_name.items()
                if asset == "marts/fct_release_size_mix" and name.startswith("accepted_values_")]
    assert accepted == ["`size_class` in marts.fct_release_size_mix for the snapshot is one of: "
                        "under_1B, 1-9B, 10-49B, 50-99B, 100B+, unknown."]


def test_tests_of_every_kind_are_described():
    from orchestration.defs.transform.translator import describe_test

    model = {"schema": "marts", "name": "dim_models", "columns": {"snapshot_date": {}, "model_id": {}}}
    orgs = {"schema": "marts", "name": "dim_organizations", "columns": {"org": {}}}
    manifest = {"nodes": {"model.observatory.dim_models": model, "model.observatory.dim_organizations": orgs}}

    def test(name, attached="model.observatory.dim_models", **kwargs):
        config = kwargs.pop("config", {})
        return {"name": "t", "attached_node": attached, "config": config, "description": "",
                "test_metadata": {"name": name, "kwargs": kwargs} if name else None}

    assert describe_test(manifest, test("unique", column_name="model_id")) == (
        "`model_id` is unique in marts.dim_models for the snapshot.")
    assert describe_test(manifest, test("relationships", column_name="org", field="org",
                                        to="ref('dim_organizations')")) == (
        "every `org` of marts.dim_models for the snapshot exists as `org` in dim_organizations.")
    # A relation without snapshot_date is tested whole; a `where` and a warning are said.
    assert describe_test(manifest, test("not_null", "model.observatory.dim_organizations", column_name="org",
                                        config={"where": "org <> ''", "severity": "warn"})) == (
        "`org` is never null in marts.dim_organizations, among rows where org <> '' (warns).")
    assert describe_test(manifest, {**test(None), "name": "assert_shares_sum_to_one"}) == (
        "the singular dbt test assert_shares_sum_to_one returns no row.")
    assert describe_test(manifest, {**test("unique"), "description": "Written by hand."}) == "Written by hand."


def test_freshness_policies_on_the_raw_models_and_the_published_warehouse(graph):
    fresh = {}
    for key in graph.get_all_asset_keys():
        policy = graph.get(key).freshness_policy
        if policy is not None:
            fresh[key.to_user_string()] = (policy.fail_window.to_timedelta(), policy.warn_window.to_timedelta())
    assert fresh == {
        "huggingface/models": (dt.timedelta(hours=72), dt.timedelta(hours=36)),
        "warehouse/published": (dt.timedelta(hours=72), dt.timedelta(hours=36)),
    }


def test_freshness_windows_are_settings():
    from orchestration.defs import build_definitions
    from orchestration.settings import Settings

    settings = dataclasses.replace(Settings.from_env(), freshness_warn_hours=12, freshness_fail_hours=48)
    policy = _node(build_definitions(settings).resolve_asset_graph(), "warehouse/published").freshness_policy
    assert (policy.fail_window.to_timedelta(), policy.warn_window.to_timedelta()) == (
        dt.timedelta(hours=48), dt.timedelta(hours=12))


def test_dbt_views_are_virtual_assets_and_tables_are_not(graph):
    views = {(node["schema"], node["name"]) for node in _manifest()["nodes"].values()
             if node["resource_type"] == "model" and node["config"]["materialized"] == "view"}
    assert ("staging", "stg_huggingface__models") in views
    for key in graph.get_all_asset_keys():
        if len(key.path) == 2 and key.path[0] in ("staging", "intermediate", "marts"):
            assert graph.get(key).is_virtual == ((key.path[0], key.path[1]) in views), key


def _rendered(markdown: str) -> str:
    """What a Markdown renderer shows as text: code spans kept, HTML-like tags dropped."""
    spans = re.findall(r"`[^`]*`", markdown)
    without = re.sub(r"`[^`]*`", "\0", markdown)
    without = re.sub(r"<[A-Za-z][^>]*>", "", without)
    for span in spans:
        without = without.replace("\0", span[1:-1], 1)
    return without


def test_report_description_renders_the_file_name(graph):
    description = _node(graph, "reports/snapshot_report").description
    assert "report-<date>.html" in _rendered(description)
    assert "automation condition" in description


def test_no_asset_is_automated_and_the_published_warehouse_says_why(graph):
    assert [key for key in graph.get_all_asset_keys() if graph.get(key).automation_condition is not None] == []
    description = _node(graph, "warehouse/published").description
    assert "No asset has an automation condition" in description and "all or nothing" in description


def test_mart_previews_are_typed_and_rounded(tmp_path):
    from orchestration.defs.transform.table_metadata import describe_tables

    path = tmp_path / "tiny.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute("""
            create table marts.fct_tiny as select * from (values
                (date '2026-06-05', 'a/one', 1.0 / 3, 1.234567e-9, 12345678901::bigint,
                 timestamp '2026-06-05 12:30:00', ['x', 'y'], 2.5::decimal(18, 6), true, 0.0),
                (date '2026-06-05', 'b/two', 2.0 / 3, null, 0::bigint, null, [], null, false, -1e-12),
                (date '2026-05-29', 'c/old', 0.5, 0.5, 1::bigint, null, [], null, false, 0.0)
            ) t(snapshot_date, model_id, share, tiny, downloads, created_at, tags, price, is_new, nearly_zero)
        """)
    key = dg.AssetKey(["marts", "fct_tiny"])
    metadata = describe_tables(path, [key], SNAPSHOT)[key]
    assert metadata["dagster/row_count"] == 2  # the snapshot's rows only
    schema = [(c.name, c.type) for c in metadata["dagster/column_schema"].columns]
    assert schema[:3] == [("snapshot_date", "DATE"), ("model_id", "VARCHAR"), ("share", "DOUBLE")]
    preview = metadata["preview"]
    assert isinstance(preview, dg.TableMetadataValue)
    assert [(c.name, c.type) for c in preview.schema.columns] == schema
    rows = sorted((record.data for record in preview.records), key=lambda r: r["model_id"])
    assert rows == [
        {"snapshot_date": "2026-06-05", "model_id": "a/one", "share": 0.333333, "tiny": 1.235e-09,
         "downloads": 12345678901, "created_at": "2026-06-05T12:30:00", "tags": "['x', 'y']", "price": 2.5,
         "is_new": True, "nearly_zero": 0.0},
        {"snapshot_date": "2026-06-05", "model_id": "b/two", "share": 0.666667, "tiny": None,
         "downloads": 0, "created_at": None, "tags": "[]", "price": None, "is_new": False, "nearly_zero": -1e-12},
    ]


def test_checks_that_do_not_apply_report_no_value(monkeypatch):
    """All metric checks, each fed an outcome that does not apply (threshold 0): no `value` in the
    result, the threshold kept; fed a measured 0, the value 0 is kept."""
    from orchestration.defs.checks import assets, metrics
    from orchestration.defs.resources import ObservatorySettings

    monkeypatch.setattr(assets, "_warehouse", lambda settings, context: duckdb.connect(":memory:"))
    monkeypatch.setattr(assets, "_manifests", lambda settings, snapshot_date: ({}, []))
    resource = ObservatorySettings.from_env()
    checks = assets.metric_checks
    assert len(checks) == 25

    measures = [name for name, value in vars(metrics).items()
                if isinstance(value, types.FunctionType) and value.__module__ == metrics.__name__
                and not name.startswith("_") and name != "not_applicable"]

    def results(outcome):
        for name in measures:
            monkeypatch.setattr(metrics, name, lambda *args, **kwargs: outcome)
        for check in checks:
            context = types.SimpleNamespace(partition_key=SNAPSHOT, run=types.SimpleNamespace(run_id="run"),
                                            check_specs=list(check.check_specs))
            yield check, check.node_def.compute_fn.decorated_fn(context, observatory=resource)

    for check, result in results(metrics.not_applicable("nothing to measure", 0)):
        assert result.passed, check.check_keys
        assert "value" not in result.metadata and result.metadata["threshold"].value == 0, check.check_keys
        assert result.description == "does not apply: nothing to measure"
    for check, result in results(metrics.Outcome(True, 0, 0, "0 problems")):
        assert result.metadata["value"].value == 0, check.check_keys
