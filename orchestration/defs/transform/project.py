"""The dbt project handle, built on first use (never at import)."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from orchestration.settings import DBT_PROJECT_DIR


def dbt_executable() -> str:
    """The dbt installed beside this interpreter (the project's virtualenv), not whatever is on PATH."""
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


@functools.cache
def dbt_project() -> DbtProject:
    """The project, with a manifest: parsed under `dagster dev`, or when none exists yet."""
    project = DbtProject(project_dir=DBT_PROJECT_DIR)
    if project.preparer.using_dagster_dev() or not project.manifest_path.exists():
        parse_manifest(project)
    return project


def parse_manifest(project: DbtProject) -> None:
    resource = DbtCliResource(project_dir=project, dbt_executable=dbt_executable())
    resource.cli(["parse", "--quiet"], target_path=project.target_path).wait()


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project(), dbt_executable=dbt_executable())
