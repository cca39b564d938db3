"""The dbt project handle, built on first use (never at import)."""

import contextlib
import functools
import hashlib
import importlib.metadata
import os
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from packaging import version

from orchestration.lib.publish import scratch_link_path
from orchestration.settings import DBT_PROJECT_DIR, Settings

DBT_SOURCE_FOLDERS = ("models", "macros", "seeds", "tests", "analyses")
DBT_SOURCE_FILES = ("dbt_project.yml", "profiles.yml")


def dbt_executable() -> str:
    """The dbt installed beside this interpreter (the project's virtualenv), not whatever is on PATH.

    Started through `observatory-dbt` (orchestration/lib/child.py), which dies with the build.
    """
    for name in ("observatory-dbt", "dbt"):
        candidate = Path(sys.executable).parent / name
        if candidate.exists():
            return str(candidate)
    return "dbt"


@functools.cache
def dbt_project() -> DbtProject:
    """The project with a manifest that matches its files: parsed again only when they changed."""
    from filelock import FileLock

    project = DbtProject(project_dir=DBT_PROJECT_DIR)
    target = project.project_dir / project.target_path
    digest_path = target / "observatory_source_digest"
    digest = dbt_source_digest()
    if _parsed(project, digest_path, digest):
        return project
    target.mkdir(parents=True, exist_ok=True)
    # Two builds starting together on changed dbt files: one parses, the other waits and reuses it.
    with FileLock(str(target / "parse.lock")):
        if not _parsed(project, digest_path, digest):
            resource = ObservatoryDbtCli(project_dir=project, dbt_executable=dbt_executable())
            # Parse with the profile builds use, so their partial parse starts from this one.
            settings = Settings.from_env()
            with environment({**settings.dbt_env(), "DUCKDB_PATH": str(scratch_link_path(settings.duckdb_path))}):
                resource.cli(["parse", "--quiet"], target_path=project.target_path).wait()
            digest_path.write_text(digest)
    return project


def _parsed(project: DbtProject, digest_path: Path, digest: str) -> bool:
    return digest_path.exists() and digest_path.read_text() == digest and project.manifest_path.exists()


def dbt_source_digest() -> str:
    """A checksum of every file that shapes the dbt project: same digest, same manifest."""
    digest = hashlib.sha256()
    paths = [DBT_PROJECT_DIR / name for name in DBT_SOURCE_FILES]
    for folder in DBT_SOURCE_FOLDERS:
        paths += sorted(p for p in (DBT_PROJECT_DIR / folder).rglob("*") if p.is_file())
    for path in paths:
        digest.update(path.relative_to(DBT_PROJECT_DIR).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


class ObservatoryDbtCli(DbtCliResource):
    """DbtCliResource without its two start-up costs, ~10 s per build on this machine.

    - It runs `dbt --version` to learn the version: the installed dbt-core is that version.
    - It loads a dbt adapter in this process to fetch row counts and columns while dbt runs; with
      DuckDB those reads would contend with the dbt process for the file. The build attaches
      row counts and columns itself once dbt is done (transform/assets.py).
    Both are private methods of the pinned dagster-dbt; tests/test_definitions.py checks they exist.
    """

    @functools.cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):
        return None


def dbt_resource() -> DbtCliResource:
    return ObservatoryDbtCli(project_dir=dbt_project(), dbt_executable=dbt_executable())


@contextlib.contextmanager
def environment(values: dict[str, str]):
    """Set environment variables for what starts inside the block (dbt inherits them)."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
