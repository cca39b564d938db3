"""The snapshot report: one self-contained HTML page with a chart per analysis (A1-A6), then the
trends over the stored snapshots (report_trends.py), architecture and breadth (report_breadth.py) and
repositories and papers (report_repos.py).

Charts are Plotly figures; plotly.js is inlined once, so the page works offline with no CDN.
Everything is read from the published warehouse (read-only) for one snapshot date.
"""

import datetime as dt
import html
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from orchestration.lib import report_breadth, report_repos, report_trends

# The analyses, A1-A6 in order; each id is also the chart's element id in the page.
CHARTS = {
    "a1-release-growth": "A1. Releases per provider and year (the 12 mapped providers with most releases last full year)",
    "a2-weekly-top": "A2. Top new models of the last complete week, by likes, with their country label",
    "a3-release-heatmap": "A3. Daily releases of the tracked providers, last 364 days",
    "a4-download-share": "A4. Share of 30-day downloads by country: new models (last 365 days) vs all",
    "a5-top-liked": "A5. Countries of the most liked models (top 10, 50, 100)",
    "a6-derivatives": "A6. New derivatives per month by the country of their base model",
}
CHARTS.update(report_trends.CHARTS)  # the Trends section, after A1-A6
CHARTS.update(report_breadth.CHARTS)
CHARTS.update(report_repos.CHARTS)
COUNTRY_COLORS = {"CN": "#d62728", "US": "#1f77b4", "FR": "#9467bd", "DE": "#8c564b", "unknown": "#bbbbbb"}


@dataclass
class CheckStatus:
    passed: int = 0
    failed: list[str] = field(default_factory=list)
    warned: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.passed + len(self.failed) + len(self.warned)


def render(warehouse: Path, snapshot_date: str, out: Path, checks: CheckStatus | None = None) -> dict:
    """Write the report of `snapshot_date` to `out`; returns a summary (also for Dagster metadata)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        header = _header(con, snapshot_date)
        figures = {
            "a1-release-growth": _release_growth(con, snapshot_date),
            "a2-weekly-top": _weekly_top(con, snapshot_date),
            "a3-release-heatmap": _heatmap(con, snapshot_date),
            "a4-download-share": _download_share(con, snapshot_date),
            "a5-top-liked": _top_liked(con, snapshot_date),
            "a6-derivatives": _derivatives(con, snapshot_date),
        }
        figures.update(report_trends.figures(con, snapshot_date))
        figures.update(report_breadth.figures(con, snapshot_date))
        figures.update(report_repos.figures(con, snapshot_date))
    finally:
        con.close()
    page = _page(snapshot_date, header, figures, checks)
    out.parent.mkdir(parents=True, exist_ok=True)
    staged = out.with_name(out.name + ".tmp")
    staged.write_text(page, encoding="utf-8")
    staged.replace(out)  # readers never see half a page
    return {"path": str(out), "charts": len(figures), **header}


def _rows(con, sql: str, snapshot_date: str) -> list[tuple]:
    return con.execute(sql, [snapshot_date]).fetchall()


def _header(con, snapshot_date: str) -> dict:
    found = _rows(con, "select snapshot_source, revision, is_synthetic, n_rows from marts.dim_snapshots"
                       " where snapshot_date = $1", snapshot_date)
    if not found:
        raise LookupError(f"snapshot {snapshot_date} is not in the warehouse; build it first (observatory build)")
    source, revision, synthetic, n_rows = found[0]
    n_derivatives, n_labelled = _rows(
        con, "select count(parent_model_id), count(*) filter (where label_source <> 'unknown')"
             " from marts.dim_models where snapshot_date = $1", snapshot_date)[0]
    return {"snapshot_date": snapshot_date, "source": source, "revision": revision or "",
            "synthetic": bool(synthetic), "models": n_rows, "derivatives": n_derivatives, "labelled": n_labelled}


def _release_growth(con, snapshot_date: str) -> go.Figure:
    rows = _rows(con, """
        with last_year as (select max(year) - 1 as year from marts.fct_org_release_growth where snapshot_date = $1)
        select g.provider, g.year, g.n_releases
        from marts.fct_org_release_growth g
        where g.snapshot_date = $1 and g.provider in (
            select provider from marts.fct_org_release_growth, last_year
            where snapshot_date = $1 and fct_org_release_growth.year = last_year.year and country is not null
            order by n_releases desc, provider limit 12)
        order by g.year, g.provider""", snapshot_date)
    figure = go.Figure()
    for year in sorted({r[1] for r in rows}):
        points = [r for r in rows if r[1] == year]
        figure.add_bar(name=str(year), x=[r[0] for r in points], y=[r[2] for r in points])
    return figure.update_layout(barmode="group", yaxis_title="models released", legend_title="year")


def _weekly_top(con, snapshot_date: str) -> go.Figure:
    rows = _rows(con, """
        select rank, model_id, metric_value, label_country, label_source, week_start
        from marts.fct_weekly_new_model_rankings
        where snapshot_date = $1 and metric = 'likes'
          and week_start = (select max(week_start) from marts.fct_weekly_new_model_rankings
                            where snapshot_date = $1 and metric = 'likes'
                              and week_start + 7 <= cast($1 as date) + 1)
        order by rank""", snapshot_date)
    labels = [f"{r[3] or 'unknown'}{' (via base model)' if r[4] == 'base_model' else ''}" for r in rows]
    figure = go.Figure(go.Bar(
        x=[r[2] for r in rows], y=[f"{r[0]}. {r[1]}" for r in rows], orientation="h", text=labels,
        marker_color=[COUNTRY_COLORS.get(r[3] or "unknown", "#2ca02c") for r in rows],
    ))
    week = rows[0][5].isoformat() if rows else "none"
    return figure.update_layout(yaxis={"autorange": "reversed"}, xaxis_title="likes",
                                title_text=f"week of {week}", title_font_size=13)


def _heatmap(con, snapshot_date: str) -> go.Figure:
    rows = _rows(con, "select provider, day, n_releases from marts.fct_release_heatmap where snapshot_date = $1"
                      " order by provider, day", snapshot_date)
    providers = sorted({r[0] for r in rows})
    days = sorted({r[1] for r in rows})
    index = {(r[0], r[1]): r[2] for r in rows}
    z = [[index.get((p, d), 0) for d in days] for p in providers]
    figure = go.Figure(go.Heatmap(z=z, x=days, y=providers, colorscale="Greens", colorbar_title="releases"))
    return figure.update_layout(height=max(300, 22 * len(providers) + 120))


def _download_share(con, snapshot_date: str) -> go.Figure:
    rows = _rows(con, "select cohort, country, share from marts.fct_country_download_share"
                      " where snapshot_date = $1 order by cohort, rank", snapshot_date)
    return _stacked_shares(rows, "share of 30-day downloads")


def _top_liked(con, snapshot_date: str) -> go.Figure:
    rows = _rows(con, "select 'top ' || top_n, country, share from marts.fct_top_liked_country_share"
                      " where snapshot_date = $1 order by top_n, share desc", snapshot_date)
    return _stacked_shares(rows, "share of models")


def _stacked_shares(rows: list[tuple], axis_title: str) -> go.Figure:
    groups = list(dict.fromkeys(r[0] for r in rows))
    countries = list(dict.fromkeys(r[1] for r in rows))
    figure = go.Figure()
    for country in countries:
        shares = {r[0]: r[2] for r in rows if r[1] == country}
        figure.add_bar(name=country, x=groups, y=[shares.get(g, 0) for g in groups],
                       marker_color=COUNTRY_COLORS.get(country))
    return figure.update_layout(barmode="stack", yaxis_title=axis_title, yaxis_tickformat=".0%")


def _derivatives(con, snapshot_date: str) -> go.Figure:
    rows = _rows(con, "select month, base_country, n_new_derivatives from marts.fct_derivative_share_by_base_country"
                      " where snapshot_date = $1 order by month", snapshot_date)
    totals: dict[str, int] = {}
    for _, country, n in rows:
        totals[country] = totals.get(country, 0) + n
    shown = sorted(totals, key=lambda c: -totals[c])[:8]
    figure = go.Figure()
    for country in shown:
        points = [r for r in rows if r[1] == country]
        figure.add_scatter(name=country, x=[r[0] for r in points], y=[r[2] for r in points], mode="lines",
                           stackgroup="all", line_color=COUNTRY_COLORS.get(country))
    return figure.update_layout(yaxis_title="new derivatives per month")


def _page(snapshot_date: str, header: dict, figures: dict, checks: CheckStatus | None) -> str:
    synthetic = ('<p class="warning">Synthetic sample: not real Hub data. Build from a real snapshot '
                 'to see the Hub (observatory build --source hub_stats).</p>' if header["synthetic"] else "")
    check_line = "not recorded (report built outside a warehouse build)"
    if checks is not None:
        check_line = f"{checks.passed} of {checks.total} passed"
        if checks.failed:
            check_line += "; failed: " + ", ".join(checks.failed)
        if checks.warned:
            check_line += "; warnings: " + ", ".join(checks.warned)
    sections = []
    for chart_id, figure in figures.items():
        if chart_id == next(iter(report_breadth.CHARTS)):
            sections.append('<h2 class="part">Architecture and breadth</h2>')
        figure.update_layout(template="plotly_white", margin={"t": 40, "l": 60, "r": 20, "b": 50})
        body = figure.to_html(full_html=False, include_plotlyjs=False, div_id=chart_id,
                              config={"displaylogo": False, "responsive": True})
        if chart_id == next(iter(report_trends.CHARTS)):
            sections.append('<h2 id="trends" class="part">Trends</h2><p>Change across the stored snapshots up to this one.</p>')
        sections.append(f'<section><h2>{html.escape(CHARTS[chart_id])}</h2>{body}</section>')
    facts = [("Snapshot", snapshot_date), ("Source", header["source"] + (f" @ {header['revision']}" if header["revision"] else "")),
             ("Models", f"{header['models']:,}"), ("With a parent", f"{header['derivatives']:,}"),
             ("With a country label", f"{header['labelled']:,}"), ("Checks", check_line)]
    fact_rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in facts)
    generated = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Open Model Observatory - snapshot {html.escape(snapshot_date)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; padding: 0 1rem; }}
table {{ border-collapse: collapse; margin-bottom: 1rem; }}
th {{ text-align: left; padding: 2px 16px 2px 0; color: #555; font-weight: 600; }}
.warning {{ background: #fff3cd; border: 1px solid #e0c060; padding: .6rem 1rem; }}
section {{ margin-top: 2rem; }} h2 {{ font-size: 1.1rem; }}
h2.part {{ font-size: 1.5rem; margin-top: 3rem; border-top: 1px solid #ddd; padding-top: 1rem; }}
footer {{ margin-top: 2rem; color: #777; font-size: .85rem; }}
</style>
<script>{get_plotlyjs()}</script>
</head><body>
<h1>Open Model Observatory</h1>
{synthetic}
<table>{fact_rows}</table>
{''.join(sections)}
<footer>Generated {generated} from the published warehouse. Definitions: the README and the marts docs (make docs).</footer>
</body></html>
"""
