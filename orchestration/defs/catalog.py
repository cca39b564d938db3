"""What the Dagster catalog shows about every asset beyond its data: owner, tags, code, freshness.

- Owner: the team `team:observatory` owns every asset (dbt models through the translator).
- Tags: `layer` (raw, staging, intermediate, marts, reports, reference) on every asset, and `analysis`
  (a1..a6, trends, breadth, repos, core...) on the dbt models that serve one, from their YAML `meta`,
  so the catalog filters by either.
- Code references: each Python asset links to its function, each dbt model to its SQL file; with
  OBSERVATORY_GIT_URL set they open in the repository (branch OBSERVATORY_GIT_BRANCH), else they
  are local paths.
- Freshness: the raw models and the published warehouse carry a Dagster freshness policy, so the UI
  shows them fresh, late (warn) or stale (fail) against the daily refresh.
"""

import datetime as dt
import warnings
from collections.abc import Sequence

import dagster as dg

from orchestration.settings import PROJECT_ROOT, Settings

# Code references are a beta Dagster feature, used on purpose.
warnings.filterwarnings("ignore", category=dg.BetaWarning, message=".*(code_references|CodeReference).*")

OWNERS = ["team:observatory"]

# The group each asset lives in -> its layer tag (dbt models get theirs from the translator).
LAYER_BY_GROUP = {
    "ingest": "raw", "staging": "staging", "intermediate": "intermediate", "marts": "marts",
    "reports": "reports", "reference": "reference",
}

# What a user reads late or stale when the daily refresh stops: the raw models and the published warehouse.
FRESH_KEYS = {dg.AssetKey(["huggingface", "models"]), dg.AssetKey(["warehouse", "published"])}


def daily_freshness(settings: Settings) -> dg.FreshnessPolicy:
    """The sensor refreshes once a day when the day's Hub data is out (~13:00 UTC, sometimes hours
    late): by default a day and a half without a new snapshot is late, three days is stale."""
    return dg.FreshnessPolicy.time_window(fail_window=dt.timedelta(hours=settings.freshness_fail_hours),
                                          warn_window=dt.timedelta(hours=settings.freshness_warn_hours))


def with_freshness(assets_def: dg.AssetsDefinition, settings: Settings) -> dg.AssetsDefinition:
    policy = daily_freshness(settings)
    return assets_def.map_asset_specs(
        lambda spec: spec.replace_attributes(freshness_policy=policy) if spec.key in FRESH_KEYS else spec)


def layer_tags(spec: dg.AssetSpec) -> dict[str, str]:
    layer = LAYER_BY_GROUP.get(spec.group_name or "")
    return {"layer": layer} if layer else {}


def with_owner_and_layer(assets_def: dg.AssetsDefinition) -> dg.AssetsDefinition:
    """Every spec of a Python asset gets the owner and its layer tag, keeping what it already has."""
    return assets_def.map_asset_specs(lambda spec: spec.replace_attributes(
        owners=list(dict.fromkeys([*spec.owners, *OWNERS])),
        tags={**layer_tags(spec), **spec.tags},
    ))


def with_code_references(python_assets: Sequence, dbt_assets: Sequence, settings: Settings) -> list:
    """Python assets point at their function; dbt models already point at their SQL file. Linked to
    the repository when OBSERVATORY_GIT_URL is set (a fresh clone may have no remote: local paths)."""
    assets = [*dg.with_source_code_references(list(python_assets)), *dbt_assets]
    if not settings.git_url:
        return assets
    return list(dg.link_code_references_to_git(
        assets, git_url=settings.git_url, git_branch=settings.git_branch,
        file_path_mapping=dg.AnchorBasedFilePathMapping(
            local_file_anchor=PROJECT_ROOT / "pyproject.toml", file_anchor_path_in_repository="pyproject.toml"),
    ))
