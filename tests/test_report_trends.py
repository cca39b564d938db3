"""The report's Trends charts on a hand-made warehouse (no build): each chart's plotted values against the
hand-made rows, what a chart says when the warehouse cannot show it yet, and the section in Chromium.

The warehouse holds five snapshots: 2026-05-15, 05-22, 05-29 (stalled: no period downloads), 06-05 (the
report's) and 06-12, whose rows must never reach a report of 06-05.
"""

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration.lib import report_trends
from orchestration.lib.report import CHARTS, render
from tests.test_report_render import hand_made_warehouse

D = dt.date.fromisoformat
REPORT = "2026-06-05"
LATER = "2026-06-12"
SNAPSHOTS = ["2026-05-15", "2026-05-22", "2026-05-29", REPORT, LATER]

TREND_TABLES = """
alter table marts.dim_snapshots add column is_stalled boolean;
alter table marts.dim_snapshots add column prev_snapshot_date date;
create table marts.fct_country_period_download_share (snapshot_date date, cohort varchar, country varchar,
    downloads bigint, share double);
create table marts.fct_provider_period_downloads (snapshot_date date, provider varchar, country varchar,
    downloads bigint, downloads_per_day double, share double, rank bigint);
create table marts.fct_concentration (snapshot_date date, measure varchar, unit varchar, n_units bigint,
    hhi double, gini double, top1_share double, top10_share double);
create table marts.fct_family_downloads (snapshot_date date, root_model_id varchar, root_org varchar,
    root_country varchar, n_models bigint, downloads_30d bigint, downloads_30d_root bigint, derivative_share double);
create table marts.fct_relative_adoption (snapshot_date date, model_id varchar, checkpoint_days integer,
    size_class varchar, cumulative_downloads double, baseline double, ram double);
"""

# T1: share of new models' (new_365d) downloads by country; the 30-day counter every snapshot, period
# downloads only where a period exists (not 05-15, the first; not 05-29, stalled).
COUNTER_SHARES = {
    "2026-05-15": {"CN": 0.5, "US": 0.3, "FR": 0.2},
    "2026-05-29": {"CN": 0.6, "US": 0.4},
    REPORT: {"CN": 0.5, "US": 0.2, "DE": 0.1, "FR": 0.05, "GB": 0.04, "KR": 0.03, "JP": 0.03, "IN": 0.02,
             "IL": 0.02, "unknown": 0.01},
    LATER: {"US": 1.0},
}
PERIOD_SHARES = {"2026-05-22": {"US": 0.5, "CN": 0.5}, REPORT: {"CN": 0.8, "IL": 0.2}, LATER: {"US": 1.0}}
# Summed share over every plotted point: CN 2.9, US 1.4, FR .25, IL .22, DE .1, GB .04, JP .03, KR .03
# (tied: by name), then IN .02 and unknown .01, which the top 8 leaves out.
T1_COUNTRIES = ["CN", "US", "FR", "IL", "DE", "GB", "JP", "KR"]

# T2: period-download ranks (rank 11 and the later snapshot are not drawn).
RANKS = {
    "2026-05-22": ["Alpha", "Beta", "Gamma"],
    REPORT: ["Beta", "Delta", "Alpha", "P4", "P5", "P6", "P7", "P8", "P9", "P10", "P11"],
    LATER: ["Zeta"],
}

# T3: HHI per (measure, unit, snapshot); provider units and releases_365d are not drawn.
HHI = {
    ("downloads_30d", "org"): {"2026-05-15": 0.10, "2026-05-22": 0.12, "2026-05-29": 0.11, REPORT: 0.15, LATER: 0.9},
    ("downloads_30d", "country"): {"2026-05-15": 0.40, "2026-05-22": 0.42, "2026-05-29": 0.41, REPORT: 0.45},
    ("period_downloads", "org"): {"2026-05-22": 0.20, REPORT: 0.25},
    ("period_downloads", "country"): {"2026-05-22": 0.50, REPORT: 0.55},
    ("downloads_30d", "provider"): {REPORT: 0.3},
    ("releases_365d", "org"): {REPORT: 0.05},
}

# T4: cumulative downloads per checkpoint; baseline 100/150/200 at 7/14/30 days. RAM at each model's oldest
# checkpoint orders them: m3 10, m1 6, m2 4, m4 2, m5 1 (labelled), then m6 .15, m7 0.
BASELINE = {7: 100.0, 14: 150.0, 30: 200.0}
CURVES_1_9B = {
    "a/m1": [500, 900, 1200], "a/m2": [300, 600], "a/m3": [1000], "a/m4": [50, 100, 400],
    "a/m5": [100, 150, 200], "a/m6": [10, 20, 30], "a/m7": [0],
}
CURVES_OTHER = {"10-49B": {"b/big1": [5], "b/big2": [7], "b/big3": [9], "b/big4": [1]},
                "under_1B": {"c/tiny1": [3], "c/tiny2": [4]}}

# T5: 17 families at the report's snapshot; the top 15 by downloads_30d (ties by root id) are drawn.
FAMILIES = [(f"org/root-{i:02d}", "CN" if i % 2 else "US", 2 + i, 10_000 - 500 * i, 1.0 - i / 20) for i in range(17)]
FAMILIES[3] = ("org/root-03", "FR", 9, FAMILIES[2][3], 0.25)  # tied with root-02 on downloads
FAMILIES[15] = ("org/root-15", "DE", 4, FAMILIES[14][3], 0.5)  # tied with root-14, the last one drawn


def add_trend_rows(path):
    """The hand-made trend marts (above) in the warehouse of tests/test_report_render.py."""
    with duckdb.connect(str(path)) as con:
        con.execute(TREND_TABLES)
        con.execute("update marts.dim_snapshots set is_stalled = false")
        for date in SNAPSHOTS:
            if date != REPORT:
                con.execute("insert into marts.dim_snapshots values (?, 'file', null, false, 2, ?, null)",
                            [date, date == "2026-05-29"])
        con.execute("delete from marts.fct_country_download_share")
        for date, shares in COUNTER_SHARES.items():
            for country, share in shares.items():
                con.execute("insert into marts.fct_country_download_share values (?, 'new_365d', ?, ?, 1)",
                            [date, country, share])
        con.execute("insert into marts.fct_country_download_share values (?, 'all', 'DE', 1.0, 1)", [REPORT])
        for date, shares in PERIOD_SHARES.items():
            for country, share in shares.items():
                con.execute("insert into marts.fct_country_period_download_share values (?, 'new_365d', ?, 1, ?)",
                            [date, country, share])
        con.execute("insert into marts.fct_country_period_download_share values (?, 'all', 'DE', 1, 1.0)", [REPORT])
        for date, providers in RANKS.items():
            for rank, provider in enumerate(providers, 1):
                con.execute("insert into marts.fct_provider_period_downloads values (?, ?, 'CN', ?, 1.0, ?, ?)",
                            [date, provider, 1000 // rank, 0.5 / rank, rank])
        for (measure, unit), values in HHI.items():
            for date, hhi in values.items():
                con.execute("insert into marts.fct_concentration values (?, ?, ?, 3, ?, 0.5, 0.5, 1.0)",
                            [date, measure, unit, hhi])
        curves = {"1-9B": CURVES_1_9B} | CURVES_OTHER
        for date in ("2026-05-22", REPORT, LATER):
            for size_class, models in curves.items():
                for model, points in models.items():
                    for days, cumulative in zip(BASELINE, points):
                        bump = 0 if date == REPORT else 7  # other snapshots' curves differ
                        con.execute("insert into marts.fct_relative_adoption values (?, ?, ?, ?, ?, ?, ?)",
                                    [date, model, days, size_class, cumulative + bump, BASELINE[days],
                                     (cumulative + bump) / BASELINE[days]])
        for root, country, n_models, downloads, share in reversed(FAMILIES):  # ties broken by id, not by chance
            con.execute("insert into marts.fct_family_downloads values (?, ?, 'org', ?, ?, ?, 0, ?)",
                        [REPORT, root, country, n_models, downloads, share])
        con.execute("insert into marts.fct_family_downloads values (?, 'org/later', 'org', 'US', 2, 99999999, 0, 0.5)",
                    [LATER])


@pytest.fixture(scope="module")
def built_once(tmp_path_factory):
    path = tmp_path_factory.mktemp("trends") / "w.duckdb"
    hand_made_warehouse(path, D(REPORT), synthetic=False)
    add_trend_rows(path)
    return path


@pytest.fixture
def trend_warehouse(built_once, tmp_path):
    """A copy of the hand-made warehouse, which a test may change."""
    return Path(shutil.copyfile(built_once, tmp_path / "w.duckdb"))


def trend_figures(path, snapshot_date=REPORT):
    with duckdb.connect(str(path), read_only=True) as con:
        return report_trends.figures(con, snapshot_date)


def dates(values):
    return [d.isoformat() if isinstance(d, dt.date) else d for d in values]


def notes(figure):
    return [a.text for a in figure.layout.annotations]


def test_the_report_lists_the_trend_charts_after_a1_to_a6():
    assert list(CHARTS)[6:6 + len(report_trends.CHARTS)] == list(report_trends.CHARTS)
    assert list(CHARTS)[:6] == ["a1-release-growth", "a2-weekly-top", "a3-release-heatmap", "a4-download-share",
                                "a5-top-liked", "a6-derivatives"]


def test_t1_country_share_of_new_models_from_the_counter_and_from_period_downloads(trend_warehouse):
    figure = trend_figures(trend_warehouse)["t1-country-share-trend"]
    left = {t.name: t for t in figure.data if t.xaxis == "x"}
    right = {t.name: t for t in figure.data if t.xaxis == "x2"}
    assert list(left) == list(right) == T1_COUNTRIES
    counter_dates = ["2026-05-15", "2026-05-29", REPORT]  # no new_365d counter rows on 05-22
    for country in T1_COUNTRIES:
        assert dates(left[country].x) == counter_dates
        assert list(left[country].y) == [COUNTER_SHARES[d].get(country, 0.0) for d in counter_dates], country
        assert dates(right[country].x) == ["2026-05-22", REPORT]
        assert list(right[country].y) == [PERIOD_SHARES[d].get(country, 0.0) for d in ["2026-05-22", REPORT]]
    assert figure.layout.xaxis2.matches == "x"  # one time axis for both sides
    assert notes(figure) == ["30-day downloads (the Hub's counter)", "period downloads (between snapshots)"]  # titles


def test_t2_provider_leaderboard_ranks_per_snapshot(trend_warehouse):
    figure = trend_figures(trend_warehouse)["t2-provider-leaderboard"]
    order = ["Beta", "Delta", "Alpha", "P4", "P5", "P6", "P7", "P8", "P9", "P10", "Gamma"]
    assert [t.name for t in figure.data] == order  # today's top 10 in today's order, then those that left
    ranks = {t.name: dict(zip(dates(t.x), t.y)) for t in figure.data}
    assert ranks["Beta"] == {"2026-05-22": 2, REPORT: 1}
    assert ranks["Alpha"] == {"2026-05-22": 1, REPORT: 3}
    assert ranks["Gamma"] == {"2026-05-22": 3, REPORT: None}
    assert ranks["Delta"] == {"2026-05-22": None, REPORT: 2}
    assert ranks["P10"] == {"2026-05-22": None, REPORT: 10}
    beta = next(t for t in figure.data if t.name == "Beta")
    assert [list(c) for c in beta.customdata] == [[500, 0.25], [1000, 0.5]]  # downloads, share
    assert list(figure.layout.yaxis.range) == [10.5, 0.5]  # rank 1 on top


def test_t3_hhi_by_org_and_by_country_for_both_download_measures(trend_warehouse):
    figure = trend_figures(trend_warehouse)["t3-concentration"]
    assert len(figure.data) == 4
    plotted = {t.name: dict(zip(dates(t.x), t.y)) for t in figure.data}
    drop_later = {k: {d: v for d, v in values.items() if d <= REPORT} for k, values in HHI.items()}
    assert plotted == {
        "by org, 30-day downloads": drop_later[("downloads_30d", "org")],
        "by country, 30-day downloads": drop_later[("downloads_30d", "country")],
        "by org, period downloads": drop_later[("period_downloads", "org")],
        "by country, period downloads": drop_later[("period_downloads", "country")],
    }


def test_t4_adoption_curves_of_1_9b_with_the_baseline_and_the_leaders_labelled(trend_warehouse):
    with duckdb.connect(str(trend_warehouse)) as con:  # 1-9B is drawn even where another class has more models
        for i in range(8):
            con.execute("insert into marts.fct_relative_adoption values (?, ?, 7, 'under_1B', 1e6, 1.0, 1e6)",
                        [REPORT, f"c/many{i}"])
    figure = trend_figures(trend_warehouse)["t4-adoption-curves"]
    assert figure.layout.title.text == "size class 1-9B: 7 models"
    traces = {t.name: t for t in figure.data}
    leaders = ["a/m3", "a/m1", "a/m2", "a/m4", "a/m5"]
    assert list(traces) == ["next 2 models", "baseline (10th largest of the class)", *leaders]
    baseline = traces["baseline (10th largest of the class)"]
    assert dict(zip(baseline.x, baseline.y)) == BASELINE
    for model in leaders:
        points = CURVES_1_9B[model]
        assert list(traces[model].x) == list(BASELINE)[:len(points)]
        assert list(traces[model].y) == points
        assert list(traces[model].text) == [""] * (len(points) - 1) + [model]  # labelled at its newest point
        assert list(traces[model].customdata) == [c / BASELINE[d] for d, c in zip(BASELINE, points)]
    background = traces["next 2 models"]
    assert list(background.x) == [7, 14, 30, None, 7, None]
    assert list(background.y) == [10, 20, 30, None, 0, None]


def test_t4_without_1_9b_draws_the_class_with_most_models(trend_warehouse):
    with duckdb.connect(str(trend_warehouse)) as con:
        con.execute("delete from marts.fct_relative_adoption where size_class = '1-9B'")
    figure = trend_figures(trend_warehouse)["t4-adoption-curves"]
    assert figure.layout.title.text == "size class 10-49B: 4 models"
    labelled = [(t.name, list(t.y)) for t in figure.data if t.mode == "lines+markers+text"]
    assert labelled == [("b/big3", [9]), ("b/big2", [7]), ("b/big1", [5]), ("b/big4", [1])]


def test_t5_derivative_share_of_the_top_15_families(trend_warehouse):
    (bars,) = trend_figures(trend_warehouse)["t5-family-derivatives"].data
    top = FAMILIES[:15]  # ties (root-02 and 03, root-14 and 15) go by root id
    assert list(bars.y) == [root for root, *_ in top]
    assert list(bars.x) == [share for *_, share in top]
    assert list(bars.text) == [f"{downloads:,} downloads, {n:,} models" for _, _, n, downloads, _ in top]


def test_a_warehouse_with_one_snapshot_says_what_the_trends_need(tmp_path):
    path = tmp_path / "w.duckdb"
    hand_made_warehouse(path, D(REPORT), synthetic=False)  # A1-A6 only: no trend marts, one snapshot
    figures = trend_figures(path)
    for chart_id in ["t1-country-share-trend", "t2-provider-leaderboard", "t3-concentration", "t4-adoption-curves"]:
        assert list(figures[chart_id].data) == []
        assert notes(figures[chart_id]) == [
            f"needs at least two stored snapshots (1 stored up to {REPORT});<br>"
            f"backfill with observatory backfill --source hub_weekly --from 2026-03-06 --to {REPORT}"]
    assert list(figures["t5-family-derivatives"].data) == []
    assert notes(figures["t5-family-derivatives"])[0].startswith(f"no rows in marts.fct_family_downloads at {REPORT}")


def test_trends_read_nothing_after_the_report_date(trend_warehouse):
    # The first snapshot's report: one snapshot stored up to it, although five are stored.
    figures = trend_figures(trend_warehouse, "2026-05-15")
    assert notes(figures["t2-provider-leaderboard"])[0].startswith("needs at least two stored snapshots (1 stored")
    # 05-22: two snapshots; its own period rows exist, but no family rows at that date.
    figures = trend_figures(trend_warehouse, "2026-05-22")
    assert [t.name for t in figures["t2-provider-leaderboard"].data] == ["Alpha", "Beta", "Gamma"]
    assert notes(figures["t5-family-derivatives"])[0].startswith("no rows in marts.fct_family_downloads at 2026-05-22")


def test_two_snapshots_without_period_downloads_say_why(trend_warehouse):
    with duckdb.connect(str(trend_warehouse)) as con:
        con.execute("delete from marts.fct_country_period_download_share")
        con.execute("delete from marts.fct_provider_period_downloads")
    figures = trend_figures(trend_warehouse)
    t1 = figures["t1-country-share-trend"]
    assert {t.xaxis for t in t1.data} == {"x"}  # the counter side is still drawn
    (note,) = [a for a in t1.layout.annotations if a.text.startswith("no rows")]
    assert note.xref == "x2 domain" and "fct_country_period_download_share" in note.text
    assert "two non-stalled snapshots at most 35 days apart" in note.text
    assert list(figures["t2-provider-leaderboard"].data) == []
    assert notes(figures["t2-provider-leaderboard"])[0].startswith(
        f"no rows in marts.fct_provider_period_downloads up to {REPORT}")


def test_the_trends_section_renders_in_chromium(trend_warehouse, tmp_path, chromium):
    from tests.browser import inspect_report

    out = tmp_path / "report.html"
    summary = render(trend_warehouse, REPORT, out)
    assert summary["charts"] == len(CHARTS)
    page = out.read_text()
    assert page.index('id="a6-derivatives"') < page.index('<h2 id="trends" class="part">Trends</h2>') < page.index(
        'id="t1-country-share-trend"')
    result = inspect_report(out, tmp_path / "report.png", CHARTS)
    assert result.console_errors == [] and result.requests_outside == []
    empty = [chart for chart in report_trends.CHARTS if result.charts[chart] == 0]
    assert empty == [], f"trend charts that drew nothing: {empty}"

    # One snapshot: the notes are drawn where the charts would be.
    single = tmp_path / "single.duckdb"
    hand_made_warehouse(single, D(REPORT), synthetic=False)
    render(single, REPORT, out)
    result = inspect_report(out, tmp_path / "single.png", CHARTS)
    assert result.console_errors == []
    assert all(result.notes[chart] for chart in report_trends.CHARTS)
    assert result.notes["t1-country-share-trend"][0].startswith("needs at least two stored snapshots")
