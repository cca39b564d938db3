"""What a developer exported never reaches the tests: results do not depend on the shell they ran in."""

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import PROJECT_ROOT, SET_BY_CONFTEST, SETTING_VARIABLES, TOOL_PREFIXES

# Values that would each change a result if they leaked (a different source, top N, date, folder...).
POLLUTED = {
    "WEEKLY_TOP_N": "3", "HUB_SOURCE": "api", "SNAPSHOT_DATE": "1999-01-01", "OBSERVATORY_SNAPSHOT_DATE": "1999-01-01",
    "DATA_DIR": "/nonexistent/data", "DUCKDB_PATH": "/nonexistent/w.duckdb", "HUB_FILE": "/nonexistent/m.parquet",
    "SAMPLE_ROWS": "7", "HUB_STATS_REPO": "someone/else", "API_AUTHORS": "x,y", "LABEL_COVERAGE_MIN": "0.99",
    "VOLUME_DRIFT_BAND": "0.01", "FRESHNESS_MAX_AGE_DAYS": "0", "LOCK_TIMEOUT_S": "0.1",
    "DAGSTER_HOME": "/nonexistent/dagster", "HF_TOKEN": "hf_leaked", "HF_HUB_OFFLINE": "1", "DBT_TARGET_PATH": "/nonexistent",
}


def test_every_documented_and_read_setting_is_known_to_the_scrubber():
    assignments = [line.lstrip("# ").split("=", 1)[0] for line in (PROJECT_ROOT / ".env.example").read_text().splitlines()]
    documented = {name for name in assignments if name and name.replace("_", "").isalnum() and name.isupper()}
    assert {"WEEKLY_TOP_N", "HUB_SOURCE", "SNAPSHOT_DATE", "HF_TOKEN"} <= documented
    from orchestration.settings import Settings

    fields = {name.upper() for name in Settings.__dataclass_fields__}
    assert documented <= SETTING_VARIABLES
    assert fields <= SETTING_VARIABLES
    assert {"OBSERVATORY_SNAPSHOT_DATE", "DAGSTER_HOME"} <= SETTING_VARIABLES


def test_no_setting_is_in_the_environment_and_settings_are_the_defaults():
    leaked = sorted(name for name in os.environ
                    if (name in SETTING_VARIABLES or name.startswith(TOOL_PREFIXES)) and name not in SET_BY_CONFTEST)
    assert leaked == []
    from orchestration.settings import Settings

    settings = Settings.from_env()
    assert settings.data_dir == PROJECT_ROOT / "data"
    assert settings.duckdb_path == PROJECT_ROOT / "data" / "warehouse" / "observatory.duckdb"
    assert (settings.hub_source, settings.hub_file, settings.snapshot_date) == (None, None, None)
    assert (settings.sample_rows, settings.hub_stats_repo, settings.api_authors) == (20_000, "cfahlgren1/hub-stats", ())
    assert (settings.weekly_top_n, settings.label_coverage_min, settings.volume_drift_band) == (10, 0.5, 0.25)
    assert (settings.freshness_max_age_days, settings.lock_timeout_s) == (3, 1800.0)


def test_exported_settings_do_not_reach_the_tests(tmp_path):
    """The check above, run by a pytest whose shell exported a value for every setting."""
    env = {**os.environ, **POLLUTED}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(PROJECT_ROOT),
         f"{Path(__file__)}::test_no_setting_is_in_the_environment_and_settings_are_the_defaults"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout
