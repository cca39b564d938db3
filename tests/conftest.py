"""Shared fixtures. Everything runs offline: the Hub is a local fake server (HF_ENDPOINT).

Tests are hermetic: every variable the product reads (its settings, the dbt project's env_var()s,
Dagster's home, huggingface_hub's and dbt's own variables) is removed from the environment here,
before any test module is imported, so what a developer exported cannot change a result.
"""

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def setting_variables(root: Path = PROJECT_ROOT) -> set[str]:
    """Every environment variable the product reads, found in its sources rather than listed by hand,
    so a new setting is scrubbed without touching this file."""
    names = set()
    settings = (root / "orchestration" / "settings.py").read_text()
    names |= set(re.findall(r"""environ(?:\.get\(|\[)\s*["']([A-Z][A-Z0-9_]*)["']""", settings))
    names |= set(re.findall(r"""getenv\(\s*["']([A-Z][A-Z0-9_]*)["']""", settings))
    # A setting's field name, upper-cased, is its variable (weekly_top_n -> WEEKLY_TOP_N).
    names |= {field.upper() for field in re.findall(r"^    ([a-z][a-z0-9_]*): ", settings, re.M)}
    # Documented settings, commented or not (# HF_TOKEN=).
    names |= set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", (root / ".env.example").read_text(), re.M))
    # What dbt reads: profiles.yml, sources, macros and models.
    for path in (root / "dbt_project").rglob("*"):
        if path.suffix in (".yml", ".sql") and "target" not in path.relative_to(root / "dbt_project").parts[:1]:
            names |= set(re.findall(r"""env_var\(\s*["']([A-Z][A-Z0-9_]*)["']""", path.read_text()))
    return names | {"DAGSTER_HOME"}


# Tools' own variables: huggingface_hub (HF_*, HUGGINGFACE_*), dbt (DBT_*), Dagster (DAGSTER_*).
TOOL_PREFIXES = ("HF_", "HUGGINGFACE_", "DBT_", "DAGSTER_")
SETTING_VARIABLES = setting_variables()
for _name in list(os.environ):
    if _name in SETTING_VARIABLES or _name.startswith(TOOL_PREFIXES):
        del os.environ[_name]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# huggingface_hub reads these when it is first imported, so they are set before any test module loads.
HUB_PORT = _free_port()
os.environ["HF_ENDPOINT"] = f"http://127.0.0.1:{HUB_PORT}"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
# Short timeouts, so a stalled fake server shows up as a timeout within a test.
os.environ["HF_HUB_ETAG_TIMEOUT"] = "1"
os.environ["HF_HUB_DOWNLOAD_TIMEOUT"] = "1"
os.environ["DO_NOT_TRACK"] = "1"
# What conftest itself sets, and nothing else of the scrubbed kind.
SET_BY_CONFTEST = {"HF_ENDPOINT", "HF_HUB_DISABLE_TELEMETRY", "HF_HUB_ETAG_TIMEOUT", "HF_HUB_DOWNLOAD_TIMEOUT"}

REALDATA = PROJECT_ROOT.parent / "shared" / "realdata"
REAL_MODELS = REALDATA / "eval-card-registry" / "hub_stats_frozen.parquet"
SEED_CSV = PROJECT_ROOT / "dbt_project" / "seeds" / "org_countries.csv"
REAL_SNAPSHOT = "2026-06-05"


@pytest.fixture(scope="session")
def fake_hub():
    from tests.fake_hub import FakeHub

    hub = FakeHub(HUB_PORT).start()
    yield hub
    hub.stop()


@pytest.fixture
def hub(fake_hub):
    fake_hub.reset()
    return fake_hub


@pytest.fixture(scope="session")
def real_models_path() -> Path:
    """The real hub-stats slice; skipped when absent, but CI must have it."""
    if not REAL_MODELS.exists():
        message = f"real data not found at {REAL_MODELS}"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true requires ../shared/realdata)")
        pytest.skip(message)
    return REAL_MODELS


@pytest.fixture(scope="session")
def real_reference(real_models_path):
    """The documented definitions computed in plain Python over the real slice (tests/reference.py)."""
    import datetime as dt

    from tests.reference import Snapshot

    return Snapshot.read(real_models_path, dt.date.fromisoformat(REAL_SNAPSHOT))


def dbt_marts() -> set[str]:
    """The marts the dbt project defines (one .sql file each under models/marts): every build publishes them all."""
    return {path.stem for path in (PROJECT_ROOT / "dbt_project" / "models" / "marts").glob("*.sql")}


def run_observatory(data_dir: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the CLI in its own process with its own data folder, as a user would."""
    full_env = {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "DAGSTER_HOME": str(data_dir / "dagster_home"),
        **(env or {}),
    }
    full_env.pop("DUCKDB_PATH", None)
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", *args],
        cwd=PROJECT_ROOT, env=full_env, capture_output=True, text=True, timeout=600,
    )


def warehouse(data_dir: Path):
    import duckdb

    return duckdb.connect(str(data_dir / "warehouse" / "observatory.duckdb"), read_only=True)


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """The hand-made snapshot built end to end once through the CLI: (root, data_dir, result)."""
    from tests.snapshot_fixture import FIXTURE, write_fixture

    root = tmp_path_factory.mktemp("e2e")
    data_dir = root / "data"
    snapshot = write_fixture(root / "models.parquet", FIXTURE)
    result = run_observatory(data_dir, "build", "--source", "file", "--file", str(snapshot),
                             "--snapshot-date", "2026-06-05")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return root, data_dir, result


@pytest.fixture(scope="session")
def real_build(real_models_path, tmp_path_factory) -> Path:
    """The real slice built end to end once through the CLI, with datasets, Spaces and papers files
    generated in the hub-stats shape beside it (tests/repo_fixture.py, in the data folder's parent);
    returns its data folder."""
    from tests.repo_fixture import repo_file_args, write_repo_files

    root = tmp_path_factory.mktemp("real")
    data_dir = root / "data"
    files = write_repo_files(root, REAL_SNAPSHOT)
    result = run_observatory(data_dir, "build", "--source", "file", "--file", str(real_models_path),
                             "--snapshot-date", REAL_SNAPSHOT, *repo_file_args(files))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return data_dir


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory) -> Path:
    """A small build of the bundled synthetic sample through the CLI; returns its data folder."""
    data_dir = tmp_path_factory.mktemp("sample") / "data"
    result = run_observatory(data_dir, "build", "--sample-rows", "300", "--snapshot-date", "2026-01-20")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (data_dir.parent / "build.stdout").write_text(result.stdout)
    return data_dir


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium for browser tests; skipped when absent, but CI must have it (.ci/run installs it)."""
    from tests.browser import chromium_path

    path = chromium_path()
    if path is None:
        message = "chromium is not installed (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; CI=true requires it")
        pytest.skip(message)
    return path


# Tests that build a warehouse end to end (through the CLI or the Dagster job), read the real slice or
# drive a browser. `make test-fast` leaves them out (-m "not e2e"); `make test` runs everything.
# Found by what they use, so a new test is classified without a decorator: one of these fixtures, or a
# body (of the test or of any fixture it uses) that starts `observatory build` or `backfill` or runs a Dagster job.
E2E_FIXTURES = {"built", "real_build", "sample_build", "real_models_path", "chromium"}
E2E_CALLS = re.compile(
    r"""run_observatory\([^()]*["']build["']|start_build\(|["']orchestration\.cli["'],\s*["']build["']|\.execute_in_process\("""
    r"""|["']backfill["']"""
)


def _runs_a_build(function) -> bool:
    import inspect

    try:
        return bool(E2E_CALLS.search(inspect.getsource(function)))
    except (OSError, TypeError):
        return False


def _is_e2e(item) -> bool:
    names = set(getattr(item, "fixturenames", ()))
    if names & E2E_FIXTURES or _runs_a_build(getattr(item, "function", None)):
        return True
    definitions = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
    return any(_runs_a_build(d.func) for name in names for d in definitions.get(name, ()))


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _is_e2e(item):
            item.add_marker(pytest.mark.e2e)
