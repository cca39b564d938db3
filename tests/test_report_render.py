"""The report's own choices, on a hand-made warehouse (no build): which week A2 shows and when the page
says its data is synthetic. The end-to-end checks of every chart against real rows are in test_report.py."""

import datetime as dt
import json
import re

import duckdb
import pytest

from orchestration.lib.report import render
from tests.reference import monday, newest_complete_week

TABLES = """
create schema marts;
create table marts.dim_snapshots (snapshot_date date, snapshot_source varchar, revision varchar, is_synthetic boolean, n_rows bigint);
create table marts.dim_models (snapshot_date date, model_id varchar, parent_model_id varchar, label_source varchar);
create table marts.fct_org_release_growth (snapshot_date date, provider varchar, year bigint, country varchar, n_releases bigint);
create table marts.fct_weekly_new_model_rankings (snapshot_date date, week_start date, metric varchar, rank bigint,
    model_id varchar, metric_value double, label_country varchar, label_source varchar);
create table marts.fct_release_heatmap (snapshot_date date, provider varchar, day date, n_releases bigint);
create table marts.fct_country_download_share (snapshot_date date, cohort varchar, country varchar, share double, rank bigint);
create table marts.fct_top_liked_country_share (snapshot_date date, top_n bigint, country varchar, share double);
create table marts.fct_derivative_share_by_base_country (snapshot_date date, month date, base_country varchar,
    n_new_derivatives bigint);
"""


def hand_made_warehouse(path, snapshot: dt.date, synthetic: bool):
    """One snapshot whose weekly rankings hold every week from four weeks back to the snapshot's own week
    (models created up to the snapshot day), each week's top model named after its Monday."""
    with duckdb.connect(str(path)) as con:
        con.execute(TABLES)
        con.execute("insert into marts.dim_snapshots values (?, 'file', null, ?, 2)", [snapshot, synthetic])
        con.execute("insert into marts.dim_models values (?, 'a/x', null, 'org'), (?, 'b/y', 'a/x', 'base_model')",
                    [snapshot, snapshot])
        con.execute("insert into marts.fct_org_release_growth values (?, 'A', 2026, 'CN', 1)", [snapshot])
        con.execute("insert into marts.fct_release_heatmap values (?, 'A', ?, 1)", [snapshot, snapshot])
        con.execute("insert into marts.fct_country_download_share values (?, 'all', 'CN', 1.0, 1)", [snapshot])
        con.execute("insert into marts.fct_top_liked_country_share values (?, 10, 'CN', 1.0)", [snapshot])
        con.execute("insert into marts.fct_derivative_share_by_base_country values (?, '2026-05-01', 'CN', 1)", [snapshot])
        for back in range(5):
            week = monday(snapshot) - dt.timedelta(weeks=back)
            for metric in ("likes", "downloads_30d"):
                con.execute("insert into marts.fct_weekly_new_model_rankings values (?, ?, ?, 1, ?, 5, 'CN', 'org')",
                            [snapshot, week, metric, f"org/model-of-{week.isoformat()}"])


def plotted(page: str, chart_id: str) -> dict:
    """The data and layout Plotly is given for one chart, from the page's inline script."""
    call = re.search(r'Plotly\.newPlot\(\s*"' + re.escape(chart_id) + r'",\s*', page)
    decoder = json.JSONDecoder()
    data, end = decoder.raw_decode(page, call.end())
    layout, _ = decoder.raw_decode(page, end + page[end:].index("{"))
    return {"data": data, "layout": layout}


# Both sides of a week's end (Saturday, Sunday, Monday) and mid-week.
DAYS = [dt.date(2026, 6, 3), dt.date(2026, 6, 6), dt.date(2026, 6, 7), dt.date(2026, 6, 8)]


@pytest.mark.parametrize("snapshot", DAYS, ids=lambda d: f"{d:%a}-{d}")
def test_a2_shows_the_newest_week_that_has_ended_by_the_snapshot_day(tmp_path, snapshot):
    hand_made_warehouse(tmp_path / "w.duckdb", snapshot, synthetic=False)
    out = tmp_path / "report.html"
    render(tmp_path / "w.duckdb", snapshot.isoformat(), out)
    chart = plotted(out.read_text(), "a2-weekly-top")
    week = newest_complete_week(snapshot)
    assert week + dt.timedelta(days=6) <= snapshot < week + dt.timedelta(days=13)  # its Sunday is past, the next one not
    assert chart["layout"]["title"]["text"] == f"week of {week.isoformat()}"
    assert chart["data"][0]["y"] == [f"1. org/model-of-{week.isoformat()}"]


@pytest.mark.parametrize("synthetic", [True, False])
def test_the_synthetic_banner_follows_the_snapshot(tmp_path, synthetic):
    hand_made_warehouse(tmp_path / "w.duckdb", dt.date(2026, 6, 5), synthetic=synthetic)
    out = tmp_path / "report.html"
    render(tmp_path / "w.duckdb", "2026-06-05", out)
    assert ("Synthetic sample: not real Hub data." in out.read_text()) is synthetic
