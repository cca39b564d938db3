"""A refresh launched and verified the way a user does it in the Dagster UI: `dagster dev` on a small
hand-made snapshot, the `refresh_snapshot` launchpad in Chromium (partition picked or added, config
typed into the editor), the run followed to success, then the dim_models asset page of that partition:
its row count and its checks."""

import datetime as dt
import os
import time

import duckdb
import pytest
import yaml

from tests.browser import open_page, playwright_missing
from tests.dagster_ui import PROJECT_ROOT, dagster_dev, processes_with_env
from tests.snapshot_fixture import FIXTURE, model, write_fixture

SNAPSHOT = "2026-06-05"
LOCATION = "observatory"  # pyproject [tool.dagster] code_location_name, as make dev loads it
RUN_TIMEOUT_S = 180
# The floor minute: createdAt before it is impossible (README: Real data).
FLOOR_MINUTE = dt.datetime(2022, 3, 2, 23, 29)

# Beside the hand-made models, two rows the ingest quarantines: created after the snapshot date, and
# before the floor minute. The mart holds neither.
INPUT = [*FIXTURE, model("zed/from-the-future", dt.datetime(2026, 7, 1)), model("zed/too-old", dt.datetime(2020, 1, 1))]


def models_in_mart(path, snapshot: str) -> int:
    """dim_models holds one row per model of the snapshot: every id of the file created between the
    floor minute and the end of the snapshot day (README: quarantined rows go elsewhere)."""
    end = dt.datetime.fromisoformat(snapshot) + dt.timedelta(days=1)
    with duckdb.connect() as con:
        return con.execute(
            "select count(distinct id) from read_parquet(?) where createdAt >= ? and createdAt < ?",
            [str(path), FLOOR_MINUTE, end],
        ).fetchone()[0]


def dim_models_data_tests() -> int:
    """The dbt data tests declared on dim_models (model-level and per column): one asset check each."""
    for path in sorted((PROJECT_ROOT / "dbt_project" / "models" / "marts").glob("*.yml")):
        for entry in (yaml.safe_load(path.read_text()) or {}).get("models", []):
            if entry["name"] == "dim_models":
                return len(entry.get("data_tests", [])) + sum(
                    len(column.get("data_tests", [])) for column in entry.get("columns", []))
    raise LookupError("dim_models is not declared in dbt_project/models/marts")


def add_partition(page, job_url: str, date: str) -> None:
    """Register a date of a dynamic partitions definition the way the UI offers it: the job's
    Partitions tab, Materialize…, "Add a partition"; the materialize dialog is then cancelled."""
    page.goto(f"{job_url}/partitions")
    page.get_by_role("button", name="Materialize…").click()
    launch = page.get_by_role("dialog").filter(has_text="Partition selection")
    launch.get_by_text("Add a partition", exact=True).click()
    name = page.get_by_role("dialog").get_by_placeholder("name")
    name.fill(date)
    name.press("Enter")
    name.wait_for(state="hidden")
    launch.get_by_role("button", name="Cancel").click()
    try:
        launch.wait_for(state="hidden", timeout=10_000)
    except Exception:  # playwright's TimeoutError: a click landing while the dialog re-renders is lost
        launch.get_by_role("button", name="Cancel").click()
        launch.wait_for(state="hidden")


def pick_partition(page, job_url: str, date: str) -> None:
    """Open the job's launchpad and choose the date in its partition picker. A date not offered (a
    dynamic partitions definition registers dates as they come) is added first through the UI."""
    for attempt in range(2):
        page.goto(f"{job_url}/playground")
        picker = page.get_by_placeholder("Partition")
        picker.click()
        picker.fill(date)
        offered = page.get_by_role("menuitem", name=date, exact=True)
        try:
            offered.wait_for(timeout=10_000)
            break
        except Exception:  # playwright's TimeoutError: the picker does not offer the date
            if attempt:
                raise
            add_partition(page, job_url, date)
    offered.click()
    # The partition's tag appears above the editor once the launchpad has taken it.
    page.get_by_text(f"partition: {date}").wait_for()


@pytest.fixture
def browser(chromium):
    """Chromium (the shared fixture: skipped when absent, failing under CI=true) and Playwright, alike."""
    message = playwright_missing()
    if message:
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; CI=true requires it")
        pytest.skip(message)
    return chromium


@pytest.mark.e2e
def test_a_refresh_launched_from_the_launchpad_shows_its_rows_and_passed_checks(tmp_path, browser):
    from playwright.sync_api import expect

    started = time.monotonic()
    models = write_fixture(tmp_path / "models.parquet", INPUT)
    expected_rows = models_in_mart(models, SNAPSHOT)
    expected_checks = dim_models_data_tests()
    assert expected_rows == len(FIXTURE) == 10 and expected_checks > 0

    data_dir = tmp_path / "data"
    with dagster_dev(data_dir) as ui, open_page() as page:
        page.set_default_timeout(30_000)
        # A first visit may be greeted by Dagster's newsletter dialog: dismiss it whenever it shows.
        page.add_locator_handler(page.get_by_text("Join the Dagster community"),
                                 lambda: page.get_by_role("button", name="Skip").click())
        try:
            pick_partition(page, f"{ui.url}/locations/{LOCATION}/jobs/refresh_snapshot", SNAPSHOT)
            # What a user types into the config editor: where this snapshot comes from.
            page.locator(".CodeMirror").click()
            page.keyboard.press("Control+A")
            page.keyboard.type(f"ops: {{ingest_snapshot: {{config: {{source: file, file: {models}}}}}}}")
            expect(page.get_by_text("No errors")).to_be_visible()
            page.get_by_role("button", name="Launch Run").click()

            page.wait_for_url("**/runs/*")
            run_id = page.url.rstrip("/").rsplit("/", 1)[-1]
            status = ui.wait_for_run(run_id, RUN_TIMEOUT_S)
            assert status == "SUCCESS", f"run {run_id} ended {status}"
            # The run page says so too (it polls; no reload needed). Hidden copies of a text (tooltips,
            # collapsed panels) may come first in the page: only visible ones count.
            expect(page.get_by_text("Success", exact=True).filter(visible=True).first).to_be_visible()
            expect(page.get_by_text(f"partition: {SNAPSHOT}").filter(visible=True).first).to_be_visible()

            # The mart's page for that partition: its materialization by this run, with its row count.
            page.goto(f"{ui.url}/assets/marts/dim_models?view=partitions&partition={SNAPSHOT}")
            row_count = page.get_by_role("row").filter(has_text="dagster/row_count")
            expect(row_count).to_be_visible()
            cells = [text.strip() for text in row_count.get_by_role("cell").all_inner_texts() if text.strip()]
            assert cells == ["dagster/row_count", f"{expected_rows:,}"] or cells == ["dagster/row_count", str(expected_rows)]
            expect(page.get_by_role("link", name=run_id[:8])).to_be_visible()

            # Its checks: every dbt test on dim_models, each shown as passed.
            page.goto(f"{ui.url}/assets/marts/dim_models?view=checks")
            expect(page.get_by_text(f"Checks ({expected_checks})")).to_be_visible()
            expect(page.get_by_text("Succeeded", exact=True)).to_have_count(expected_checks)
            for verdict in ("Failed", "Warning", "Skipped", "Not evaluated"):
                expect(page.get_by_text(verdict, exact=True)).to_have_count(0)
        except Exception:
            page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
            print(f"screenshot: {tmp_path / 'failure.png'}\ndagster dev log:\n{ui.log_tail()}")
            raise
    # dagster dev, its webserver, daemon, code server and the run's process are all gone.
    assert processes_with_env("DAGSTER_HOME", str(data_dir / "dagster_home")) == []
    print(f"UI refresh test took {time.monotonic() - started:.1f} s")
