"""Every workaround for dagster-dbt's and dbt's start-up costs, in one place, with what each saves
per build, measured on this 2-core machine (a build of a 300-model sample takes ~24 s).

1. `ObservatoryDbtCli._cli_version`: dagster-dbt runs `dbt --version` in a subprocess to learn the
   version; the installed dbt-core is that version.
2. `ObservatoryDbtCli._initialize_dbt_core_adapter`: dagster-dbt loads a dbt adapter in this process
   to fetch row counts and columns while dbt runs; with DuckDB those reads contend with the dbt
   process for the file. The build reads them itself once dbt is done (table_metadata.py).
   Together with 1: ~10 s per build.
3. Parse once per change of the dbt files (`parsed`, `dbt_source_digest`, used by project.py's
   dbt_project): a build reuses the manifest of the last parse unless a file under models, macros,
   seeds, tests or analyses changed. Saves a full parse (~8 s) per build.
4. The snapshot date reaches dbt as an environment variable read at execution
   (macro requested_snapshot_date), not `--vars`: a changed var makes dbt re-parse the whole
   project. Saves ~4 s per build (`environment` sets it for the dbt process).
5. dbt always opens one fixed warehouse path, a link to the run's scratch (lib/publish.py
   scratch_link_path): a profile path per run would also force a full re-parse (8.3 s instead of
   4-5.6 s of partial parse).
6. That path is given relative, and dbt started in the warehouse's folder (project.py
   warehouse_env, lib/child.py start_in): the profile is then the same for every data folder, so
   the parse made for one (3.) serves builds into any other instead of a full parse each (the test
   suite's builds each have their own data folder; so does a benchmark).
7. Builds keep their parse and artifacts in a folder of their own (dbt_project/target/builds,
   project.py BUILD_TARGET; each run in a subfolder, starting from the parse's partial_parse.msgpack):
   a dbt command run by hand in dbt_project (default target folder) leaves the builds' parse alone,
   where it used to replace it with one of another profile and cost every later build a full parse.

The private members in 1 and 2 belong to the pinned dagster-dbt; tests/test_definitions.py fails
loudly if they move.
"""

import contextlib
import functools
import hashlib
import importlib.metadata
import os
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from packaging import version

from orchestration.settings import DBT_PROJECT_DIR

DBT_SOURCE_FOLDERS = ("models", "macros", "seeds", "tests", "analyses")
DBT_SOURCE_FILES = ("dbt_project.yml", "profiles.yml")
# How the parse sees the profile (6 above): changing it must make the next build parse again.
PARSE_PROFILE = b"warehouse path relative to the warehouse folder\0"


class ObservatoryDbtCli(DbtCliResource):
    """DbtCliResource without its two start-up costs (workarounds 1 and 2 above)."""

    @functools.cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):
        return None


def parsed(project: DbtProject, digest_path: Path, digest: str) -> bool:
    return digest_path.exists() and digest_path.read_text() == digest and project.manifest_path.exists()


def dbt_source_digest() -> str:
    """A checksum of every file that shapes the dbt project: same digest, same manifest."""
    digest = hashlib.sha256(PARSE_PROFILE)
    paths = [DBT_PROJECT_DIR / name for name in DBT_SOURCE_FILES]
    for folder in DBT_SOURCE_FOLDERS:
        paths += sorted(p for p in (DBT_PROJECT_DIR / folder).rglob("*") if p.is_file())
    for path in paths:
        digest.update(path.relative_to(DBT_PROJECT_DIR).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


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
