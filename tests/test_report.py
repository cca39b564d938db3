"""What users see: the report in a real browser, the Dagster UI metadata, exports and the CLI.

Run on the build of the real slice. Each chart's plotted data, as Chromium holds it, is checked against
values computed from the raw file and the seed by tests/reference.py (the documented definitions in
plain Python, not the marts' SQL).
"""

import datetime as dt
import os

import duckdb
import pyarrow.parquet as pq
import pytest

from orchestration.lib import report_trends
from orchestration.lib.report import CHARTS
from tests.conftest import REAL_SNAPSHOT, run_observatory, warehouse


def test_report_renders_every_chart_offline_in_chromium(real_build, real_models_path, chromium, tmp_path_factory):
    from tests.browser import inspect_report

    report = real_build / "reports" / f"report-{REAL_SNAPSHOT}.html"
    assert report.exists(), "the build writes the report"
    screenshot = tmp_path_factory.mktemp("report") / "report.png"
    result = inspect_report(report, screenshot, CHARTS)

    assert result.console_errors == []
    assert result.requests_outside == []  # everything is inlined: works offline
    assert set(result.charts) == set(CHARTS)
    # A trend chart this one snapshot cannot draw shows a note saying what it needs; every other chart draws.
    empty = [chart for chart, marks in result.charts.items()
             if marks == 0 and not (chart in report_trends.CHARTS and result.notes[chart])]
    assert empty == [], f"charts that drew nothing: {empty}"
    assert screenshot.stat().st_size > 10_000


PLOTTED = """() => Object.fromEntries(Array.from(document.querySelectorAll('.plotly-graph-div')).map(d =>
    [d.id, {title: d.layout.title ? d.layout.title.text : null,
            traces: d.data.map(t => ({name: t.name, x: Array.from(t.x || []), y: Array.from(t.y || []),
                                     text: t.text ? Array.from(t.text) : null,
                                     z: t.z ? Array.from(t.z, row => Array.from(row)) : null}))}]))"""
HEADER = "() => Object.fromEntries(Array.from(document.querySelectorAll('tr')).map(r => [r.cells[0].innerText, r.cells[1].innerText]))"
BANNER = "() => Array.from(document.querySelectorAll('.warning'), e => e.innerText)"


def read_page(report):
    """What the page shows once Plotly has drawn: each chart's plotted data, the header and any banner."""
    from tests.browser import open_page

    with open_page() as page:
        page.goto(report.resolve().as_uri())
        for chart_id in CHARTS:
            page.wait_for_selector(f"#{chart_id} .main-svg", timeout=20_000)
        return {"charts": page.evaluate(PLOTTED), "header": page.evaluate(HEADER), "banner": page.evaluate(BANNER)}


@pytest.fixture(scope="module")
def real_page(real_build, chromium):
    return read_page(real_build / "reports" / f"report-{REAL_SNAPSHOT}.html")


@pytest.fixture
def reference(real_reference):
    return real_reference


def by_trace(chart, group):
    """{trace name: {x: y}} for a chart whose traces are the series, or {x: y} of one `group` across traces."""
    series = {t["name"]: dict(zip(t["x"], t["y"])) for t in chart["traces"]}
    return series if group is None else {name: values.get(group) for name, values in series.items()}


def test_report_header_and_no_synthetic_banner_on_real_data(real_page, reference):
    header = real_page["header"]
    assert header["Models"] == f"{len(reference.rows):,}"
    assert header["Snapshot"] == REAL_SNAPSHOT
    assert header["Checks"].endswith("passed") and "failed" not in header["Checks"]
    with_parent = sum(1 for parent in reference.first_parent.values() if parent)
    assert header["With a parent"] == f"{with_parent:,}"
    assert header["With a country label"] == f"{sum(1 for c, _ in reference.label.values() if c):,}"
    assert real_page["banner"] == []


def test_a1_releases_per_provider_and_year(real_page, reference):
    releases = reference.releases_per_provider_year()
    last_full_year = reference.snapshot.year - 1
    mapped = reference.seed.provider_country  # providers with a country in the seed
    top12 = sorted(mapped, key=lambda p: (-releases.get((p, last_full_year), 0), p))[:12]
    plotted = {(provider, int(year)): n for year, values in by_trace(real_page["charts"]["a1-release-growth"], None).items()
               for provider, n in values.items()}
    assert {provider for provider, _ in plotted} == set(top12)
    expected = {(p, y): n for (p, y), n in releases.items() if p in top12}
    assert {key: n for key, n in plotted.items() if n} == expected
    # Years between a provider's first release and the snapshot's year are drawn, as zeros when empty.
    assert all(plotted.get((p, y), 0) == 0 for p, y in plotted if (p, y) not in expected)


def test_a2_top_ten_of_the_newest_complete_week(real_page, reference):
    from tests.reference import monday, newest_complete_week

    chart = real_page["charts"]["a2-weekly-top"]
    complete = newest_complete_week(reference.snapshot)
    weeks_with_models = {monday(row["createdAt"].date()) for row in reference.released()}
    week = max(w for w in weeks_with_models if w <= complete)
    assert chart["title"] == f"week of {week.isoformat()}"
    top = reference.weekly_top(week)
    (bars,) = chart["traces"]
    assert bars["y"] == [f"{rank}. {model_id}" for rank, (model_id, _) in enumerate(top, 1)]
    assert bars["x"] == [likes for _, likes in top]
    labels = [reference.label[model_id] for model_id, _ in top]
    assert bars["text"] == [f"{country or 'unknown'}{' (via base model)' if source == 'base_model' else ''}"
                            for country, source in labels]


def test_a3_heatmap_of_the_tracked_providers_over_364_days(real_page, reference):
    (heatmap,) = real_page["charts"]["a3-release-heatmap"]["traces"]
    days = [day.isoformat() for day in reference.heatmap_days()]
    assert [x[:10] for x in heatmap["x"]] == days
    expected = reference.heatmap()
    assert sorted(heatmap["y"]) == sorted(expected)
    plotted = {provider: dict(zip(days, row)) for provider, row in zip(heatmap["y"], heatmap["z"])}
    assert {p: sum(row.values()) for p, row in plotted.items()} == {p: sum(c.values()) for p, c in expected.items()}
    assert {p: {d: n for d, n in row.items() if n} for p, row in plotted.items()} == {
        p: {d.isoformat(): n for d, n in c.items()} for p, c in expected.items()}


@pytest.mark.parametrize("cohort", ["new_365d", "all"])
def test_a4_download_share_by_country(real_page, reference, cohort):
    plotted = by_trace(real_page["charts"]["a4-download-share"], cohort)
    expected = reference.download_shares(cohort)
    assert {c: v for c, v in plotted.items() if v} == pytest.approx({c: v for c, v in expected.items() if v}, abs=1e-9)
    if cohort == "new_365d":
        assert max(plotted, key=plotted.get) == "CN"  # the blog's A4 finding holds on this slice


@pytest.mark.parametrize("top_n", [10, 50, 100])
def test_a5_countries_of_the_most_liked_models(real_page, reference, top_n):
    plotted = by_trace(real_page["charts"]["a5-top-liked"], f"top {top_n}")
    expected = {country: n / top_n for country, n in reference.top_liked_countries(top_n).items()}
    assert {c: v for c, v in plotted.items() if v} == pytest.approx(expected, abs=1e-9)


def test_a6_new_derivatives_per_month_by_base_country(real_page, reference):
    expected = reference.derivatives_per_month()
    shown = sorted(expected, key=lambda c: (-sum(expected[c].values()), c))[:8]
    plotted = by_trace(real_page["charts"]["a6-derivatives"], None)
    assert sorted(plotted) == sorted(shown)
    for country in shown:
        months = {dt.date.fromisoformat(x[:10]): n for x, n in plotted[country].items() if n}
        assert months == dict(expected[country]), country


def test_a_sample_build_report_says_it_is_synthetic(sample_build, chromium):
    page = read_page(sample_build / "reports" / "latest.html")
    assert len(page["banner"]) == 1 and page["banner"][0].startswith("Synthetic sample: not real Hub data.")


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
        assert [c.name for c in metadata["preview"].schema.columns][:2] == ["snapshot_date", "model_id"]

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
    out = tmp_path / "export"
    result = run_observatory(real_build, "export", "--format", file_format, "--out", str(out))
    assert result.returncode == 0, result.stderr
    published = real_build / "warehouse" / "lake" / f"snapshot_date={REAL_SNAPSHOT}"
    marts = [p.stem for p in published.glob("*.parquet")]
    assert len(marts) > 10
    assert sorted(p.name for p in out.iterdir()) == sorted([f"{m}.{file_format}" for m in marts] + ["NOTICE.txt"])
    assert "licence: unknown" in (out / "NOTICE.txt").read_text()  # a local file's licence is not known
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
