"""How dbt nodes appear in Dagster: groups and layer from the dbt folder, the owner, the analysis a
model serves (its YAML `meta.analysis`), and each dbt test as a partitioned asset check described in
plain words."""

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

from orchestration.defs.catalog import OWNERS

# Dagster marks partitioned checks and virtual assets as previews; both are used on purpose.
warnings.filterwarnings("ignore", message=".*partitions_def on an AssetCheckSpec.*")
warnings.filterwarnings("ignore", message=".*Virtual assets.*")

SETTINGS = DagsterDbtTranslatorSettings(
    enable_asset_checks=True,
    # Each model links to its SQL file in the UI (and to the repository when one is configured).
    enable_code_references=True,
    # Staging and working views store nothing: the UI shows them as views computed from their parents.
    enable_dbt_views_as_virtual_assets=True,
)


class ObservatoryTranslator(DagsterDbtTranslator):
    """Groups follow the dbt folders: staging, intermediate, marts; seeds go to reference.

    `partitions_def`: the models' partitions, also given to every dbt test's check, so each snapshot
    date keeps its own test results.
    """

    def __init__(self, partitions_def: dg.PartitionsDefinition | None = None,
                 settings: DagsterDbtTranslatorSettings = SETTINGS):
        super().__init__(settings=settings)
        self._partitions_def = partitions_def

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> Sequence[str] | None:
        return list(dict.fromkeys([*(super().get_owners(dbt_resource_props) or []), *OWNERS]))

    def get_tags(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, str]:
        tags = {**super().get_tags(dbt_resource_props), "layer": self.get_group_name(dbt_resource_props) or "dbt"}
        analysis = _meta(dbt_resource_props).get("analysis")
        if analysis:
            tags["analysis"] = str(analysis)
        return tags

    def get_asset_check_spec(self, asset_spec: dg.AssetSpec, manifest: Mapping[str, Any], unique_id: str,
                             project) -> dg.AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None:
            return None
        return dg.AssetCheckSpec(
            name=spec.name, asset=spec.asset_key, additional_deps=spec.additional_deps, metadata=spec.metadata,
            blocking=spec.blocking, automation_condition=spec.automation_condition,
            description=spec.description or describe_test(manifest, manifest["nodes"][unique_id]),
            partitions_def=self._partitions_def,
        )


def _meta(props: Mapping[str, Any]) -> Mapping[str, Any]:
    return {**(props.get("meta") or {}), **((props.get("config") or {}).get("meta") or {})}


def describe_test(manifest: Mapping[str, Any], test: Mapping[str, Any]) -> str:
    """A dbt test in plain words: what it holds, on which relation, for which rows."""
    if test.get("description"):
        return test["description"]
    model = manifest["nodes"].get(test.get("attached_node") or "", {})
    relation = f"{model['schema']}.{model['name']}" if model else "its model"
    # Tests of a build look at the snapshot it builds only (macros/test_scope.sql), when the relation has one.
    scope = " for the snapshot" if "snapshot_date" in (model.get("columns") or {}) else ""
    metadata = test.get("test_metadata") or {}
    kwargs = metadata.get("kwargs") or {}
    column = f"`{kwargs.get('column_name') or test.get('column_name')}`"
    name = metadata.get("name")
    if name == "unique":
        text = f"{column} is unique in {relation}{scope}"
    elif name == "not_null":
        text = f"{column} is never null in {relation}{scope}"
    elif name == "accepted_values":
        values = ", ".join(str(v) for v in kwargs.get("values", []))
        text = f"{column} in {relation}{scope} is one of: {values}"
    elif name == "relationships":
        to = kwargs.get("to", "")
        parent = to.split("'")[-2] if to.count("'") >= 2 else to
        text = (f"every {column} of {relation}{scope} exists as `{kwargs.get('field')}` in {parent}")
    elif name == "unique_key":
        text = f"({', '.join(kwargs.get('columns', []))}) identifies one row of {relation}{scope}: its grain"
    elif name:
        args = ", ".join(f"{k}={v}" for k, v in kwargs.items() if k != "model")
        text = f"dbt test {name}({args}) holds on {relation}{scope}"
    else:  # a singular test (dbt_project/tests/*.sql): it returns the rows that break it
        text = f"the singular dbt test {test['name']} returns no row"
    where = (test.get("config") or {}).get("where")
    severity = ((test.get("config") or {}).get("severity") or "error").lower()
    return (text + (f", among rows where {where}" if where else "")
            + (" (warns)" if severity == "warn" else "") + ".")


def source_specs(dbt_assets_def: dg.AssetsDefinition, produced: set[dg.AssetKey]) -> list[dg.AssetSpec]:
    """The dbt sources no asset here produces (the lake: published snapshots read back by the trend
    models) as external assets, with their description, owner and tags instead of bare stubs."""
    from dagster_dbt.asset_utils import get_manifest_and_translator_from_dbt_assets

    manifest, translator, project = get_manifest_and_translator_from_dbt_assets([dbt_assets_def])
    deps = {dep.asset_key for spec in dbt_assets_def.specs for dep in spec.deps}
    specs = []
    for unique_id in manifest.get("sources", {}):
        spec = translator.get_asset_spec(manifest, unique_id, project)
        description = manifest["sources"][unique_id].get("description") or None
        if spec.key in deps and spec.key not in produced and spec.key not in dbt_assets_def.keys:
            specs.append(dg.AssetSpec(
                spec.key, description=description, group_name=spec.group_name, owners=spec.owners,
                tags={k: v for k, v in spec.tags.items() if not k.startswith("dagster/kind/")},
                kinds={"parquet"},
            ))
    return specs
