"""The dbt project handle and resource, built on first use (never at import).

How they avoid dagster-dbt's and dbt's start-up costs: dbt_workarounds.py."""

import functools
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from orchestration.defs.transform.dbt_workarounds import ObservatoryDbtCli, dbt_source_digest, environment, parsed
from orchestration.lib.child import WORKDIR_ENV
from orchestration.lib.publish import scratch_link_path
from orchestration.settings import DBT_PROJECT_DIR, Settings


def dbt_executable() -> str:
    """The dbt installed beside this interpreter (the project's virtualenv), not whatever is on PATH.

    Started through `observatory-dbt` (orchestration/lib/child.py), which dies with the build.
    """
    for name in ("observatory-dbt", "dbt"):
        candidate = Path(sys.executable).parent / name
        if candidate.exists():
            return str(candidate)
    return "dbt"


def warehouse_env(link: Path) -> dict[str, str]:
    """The warehouse path dbt opens (the fixed link, lib/publish.py scratch_link_path), relative to
    the folder observatory-dbt starts dbt in (dbt_workarounds.py, 6)."""
    if Path(dbt_executable()).name != "observatory-dbt":
        return {"DUCKDB_PATH": str(link)}  # a plain dbt starts where it is told: the absolute path
    workdir = link.parent.parent
    return {"DUCKDB_PATH": str(link.relative_to(workdir)), WORKDIR_ENV: str(workdir)}


# Builds' dbt artifacts, apart from dbt's default `target` (dbt_workarounds.py, 7).
BUILD_TARGET = Path("target") / "builds"


@functools.cache
def dbt_project() -> DbtProject:
    """The project with a manifest that matches its files: parsed again only when they changed."""
    from filelock import FileLock

    project = DbtProject(project_dir=DBT_PROJECT_DIR, target_path=BUILD_TARGET)
    target = project.project_dir / project.target_path
    digest_path = target / "observatory_source_digest"
    digest = dbt_source_digest()
    if parsed(project, digest_path, digest):
        return project
    target.mkdir(parents=True, exist_ok=True)
    # Two builds starting together on changed dbt files: one parses, the other waits and reuses it.
    with FileLock(str(target / "parse.lock")):
        if not parsed(project, digest_path, digest):
            resource = ObservatoryDbtCli(project_dir=project, dbt_executable=dbt_executable())
            # Parse with the profile builds use, so their partial parse starts from this one.
            settings = Settings.from_env()
            with environment({**settings.dbt_env(), **warehouse_env(scratch_link_path(settings.duckdb_path))}):
                resource.cli(["parse", "--quiet"], target_path=project.target_path).wait()
            digest_path.write_text(digest)
    return project


def dbt_resource() -> DbtCliResource:
    return ObservatoryDbtCli(project_dir=dbt_project(), dbt_executable=dbt_executable())
