"""What users see: the report in a real browser, the Dagster UI metadata, exports and the CLI.

Run on the build of the real slice. Values are checked against plain DuckDB over the raw file.
"""

import os

import duckdb
import pyarrow.parquet as pq
import pytest

from orchestration.lib.report import CHARTS
from tests.conftest import REAL_SNAPSHOT, run_observatory, warehouse

FLOOR = "2022-03-02 23:29:04"


def test_report_renders_every_chart_offline_in_chromium(real_build, real_models_path, chromium, tmp_path_factory):
    from tests.browser import inspect_report

    report = real_build / "reports" / f"report-{REAL_SNAPSHOT}.html"
    assert report.exists(), "the build writes the report"
    screenshot = tmp_path_factory.mktemp("report") / "report.png"
    result = inspect_report(report, screenshot, CHARTS)

    assert result.console_errors == []
    assert result.requests_outside == []  # everything is inlined: works offline
    assert set(result.charts) == set(CHARTS)
    empty = [chart for chart, marks in result.charts.items() if marks == 0]
    assert empty == [], f"charts that drew nothing: {empty}"
    assert screenshot.stat().st_size > 10_000


def test_report_header_and_weekly_chart_match_the_raw_file(real_build, real_models_path, chromium):
    from tests.browser import open_page

    report = real_build / "reports" / f"report-{REAL_SNAPSHOT}.html"
    with open_page() as page:
        page.goto(report.as_uri())
        page.wait_for_selector("#a2-weekly-top .main-svg")
        header = page.evaluate("() => Object.fromEntries(Array.from(document.querySelectorAll('tr'))"
                               ".map(r => [r.cells[0].innerText, r.cells[1].innerText]))")
        bars = page.evaluate("() => document.getElementById('a2-weekly-top').data[0].y")
        title = page.evaluate("() => document.getElementById('a2-weekly-top').layout.title.text")

    rows = pq.read_table(real_models_path, columns=["id"]).num_rows
    assert header["Models"] == f"{rows:,}"
    assert header["Snapshot"] == REAL_SNAPSHOT
    assert header["Checks"].endswith("passed") and "failed" not in header["Checks"]

    # The newest complete ISO week's top 10 by likes (ties by id), straight from the raw file.
    week = title.removeprefix("week of ")
    expected = duckdb.execute(f"""
        select id from read_parquet('{real_models_path}')
        where createdAt <> timestamp '{FLOOR}' and date_trunc('week', createdAt) = date '{week}'
        order by likes desc, id limit 10""").fetchall()
    assert [bar.split(". ", 1)[1] for bar in bars] == [model_id for (model_id,) in expected]
    # The chosen week is the newest one that had ended by the snapshot day.
    newest = duckdb.execute(f"""
        select max(date_trunc('week', createdAt)) from read_parquet('{real_models_path}')
        where createdAt <> timestamp '{FLOOR}'
          and date_trunc('week', createdAt) + interval 7 day <= date '{REAL_SNAPSHOT}' + interval 1 day""").fetchone()[0]
    assert week == newest.date().isoformat()


def test_dagster_records_row_counts_columns_and_previews(real_build):
    import dagster as dg

    os.environ["DAGSTER_HOME"] = str(real_build / "dagster_home")
    instance = dg.DagsterInstance.get()
    try:
        with warehouse(real_build) as con:
            n_models = con.execute("select count(*) from marts.dim_models where snapshot_date = ?",
                                   [REAL_SNAPSHOT]).fetchone()[0]
            columns = [c[0] for c in con.execute("describe marts.dim_models").fetchall()]
        event = instance.fetch_materializations(dg.AssetKey(["marts", "dim_models"]), limit=1).records[0]
        metadata = event.asset_materialization.metadata
        assert metadata["dagster/row_count"].value == n_models
        assert [c.name for c in metadata["dagster/column_schema"].value.columns] == columns
        assert metadata["preview"].value.startswith("| snapshot_date | model_id |")

        raw = instance.fetch_materializations(dg.AssetKey(["huggingface", "models"]), limit=1).records[0]
        raw_columns = [c.name for c in raw.asset_materialization.metadata["dagster/column_schema"].value.columns]
        assert {"id", "createdAt", "tags", "baseModels"} <= set(raw_columns)

        report = instance.fetch_materializations(dg.AssetKey(["reports", "snapshot_report"]), limit=1).records[0]
        report_metadata = report.asset_materialization.metadata
        assert report_metadata["path"].value.endswith(f"report-{REAL_SNAPSHOT}.html")
        assert f"{n_models:,}" in report_metadata["preview"].value
    finally:
        instance.dispose()
        os.environ.pop("DAGSTER_HOME", None)


@pytest.mark.parametrize("file_format", ["parquet", "csv"])
def test_export_writes_every_mart_of_the_snapshot(real_build, tmp_path, file_format):
    from orchestration.cli import MARTS

    out = tmp_path / "export"
    result = run_observatory(real_build, "export", "--format", file_format, "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{m}.{file_format}" for m in MARTS)
    reader = "read_parquet" if file_format == "parquet" else "read_csv"
    with warehouse(real_build) as con:
        for mart in ("dim_models", "fct_weekly_new_model_rankings", "fct_country_download_share"):
            expected = con.execute(f"select count(*) from marts.{mart} where snapshot_date = ?", [REAL_SNAPSHOT]).fetchone()[0]
            exported = duckdb.execute(f"select count(*) from {reader}('{out / f'{mart}.{file_format}'}')").fetchone()[0]
            assert exported == expected > 0


def test_status_lists_snapshots_and_the_last_refresh(real_build, real_models_path):
    result = run_observatory(real_build, "status")
    assert result.returncode == 0, result.stderr
    rows = pq.read_table(real_models_path, columns=["id"]).num_rows
    line = next(line for line in result.stdout.splitlines() if line.startswith(REAL_SNAPSHOT))
    assert line.split()[1:4] == ["file", str(rows), "yes"]
    assert f"Last refresh: snapshot {REAL_SNAPSHOT}, success" in result.stdout
    assert "FAILED" not in result.stdout


def test_report_command_and_user_mistakes(real_build, tmp_path):
    out = tmp_path / "r.html"
    result = run_observatory(real_build, "report", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert str(out) in result.stdout and out.stat().st_size > 100_000

    missing = run_observatory(real_build, "report", "--snapshot-date", "2020-01-01")
    assert missing.returncode == 2
    assert missing.stderr.splitlines() == [
        f"observatory: snapshot 2020-01-01 is not built (built: {REAL_SNAPSHOT})",
        "hint: build it: observatory build --snapshot-date 2020-01-01",
    ]
    empty = run_observatory(tmp_path / "nothing", "export")
    assert empty.returncode == 2 and "Traceback" not in empty.stderr
    assert empty.stderr.splitlines()[1] == "hint: build it first: observatory build"


@pytest.mark.parametrize("command", [[], ["build"], ["query"], ["report"], ["export"], ["status"]])
def test_every_command_has_help(tmp_path, command):
    result = run_observatory(tmp_path, *command, "--help")
    assert result.returncode == 0 and "usage: observatory" in result.stdout
    assert result.stderr == ""
