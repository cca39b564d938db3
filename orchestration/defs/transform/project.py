"""The dbt project handle, built on first use (never at import)."""

import functools
import hashlib
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from orchestration.settings import DBT_PROJECT_DIR

DBT_SOURCE_FOLDERS = ("models", "macros", "seeds", "tests", "analyses")
DBT_SOURCE_FILES = ("dbt_project.yml", "profiles.yml")


def dbt_executable() -> str:
    """The dbt installed beside this interpreter (the project's virtualenv), not whatever is on PATH."""
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


@functools.cache
def dbt_project() -> DbtProject:
    """The project with a manifest that matches its files: parsed again only when they changed."""
    project = DbtProject(project_dir=DBT_PROJECT_DIR)
    digest_path = project.project_dir / project.target_path / "observatory_source_digest"
    digest = dbt_source_digest()
    stored = digest_path.read_text() if digest_path.exists() else None
    if stored != digest or not project.manifest_path.exists():
        resource = DbtCliResource(project_dir=project, dbt_executable=dbt_executable())
        resource.cli(["parse", "--quiet"], target_path=project.target_path).wait()
        digest_path.write_text(digest)
    return project


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


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project(), dbt_executable=dbt_executable())
