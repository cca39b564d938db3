"""Builds work wherever the data and the run history live: odd characters in DATA_DIR, DAGSTER_HOME elsewhere."""

import pytest

from tests.conftest import run_observatory

ROWS = 60


@pytest.fixture(scope="module")
def odd_places(tmp_path_factory):
    """One sample build with a quote and a space in DATA_DIR, and DAGSTER_HOME outside the data folder."""
    root = tmp_path_factory.mktemp("places")
    data_dir = root / "it's a data dir"
    home = root / "run history elsewhere"
    result = run_observatory(data_dir, "build", "--sample-rows", str(ROWS), "--snapshot-date", "2026-06-05",
                             env={"DAGSTER_HOME": str(home)})
    return data_dir, home, result


def test_a_data_dir_whose_path_has_a_quote_and_a_space_builds(odd_places):
    data_dir, _, result = odd_places
    assert result.returncode == 0, result.stderr[-3000:]
    answer = run_observatory(data_dir, "query", "select count(*) as n from marts.dim_models"
                             " where snapshot_date = date '2026-06-05'")
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.split() == ["n", str(ROWS)]


def test_status_and_report_read_the_run_history_in_dagster_home(odd_places):
    data_dir, home, result = odd_places
    assert result.returncode == 0, result.stderr[-3000:]
    checks = next(line for line in result.stdout.splitlines() if line.startswith("Checks: "))
    passed = checks.split()[1]
    assert (home / "dagster.yaml").exists() and not (data_dir / "dagster_home").exists()

    status = run_observatory(data_dir, "status", env={"DAGSTER_HOME": str(home)})
    assert status.returncode == 0, status.stderr
    assert "Last refresh: snapshot 2026-06-05, success, ended " in status.stdout
    assert f"Checks: {passed} of {passed} passed" in status.stdout

    out = data_dir / "again.html"
    report = run_observatory(data_dir, "report", "--out", str(out), env={"DAGSTER_HOME": str(home)})
    assert report.returncode == 0, report.stderr
    assert f"<th>Checks</th><td>{passed} of {passed} passed</td>" in out.read_text()
