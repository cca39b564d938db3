"""The report's Trends section: how the Hub changes across the stored snapshots up to the report's one.

Each chart reads the trend marts of the published warehouse (the catalog's views over every stored
snapshot), never later than the report's snapshot date. A chart that has nothing to show says why in the
chart itself: a warehouse holding fewer than two snapshots up to that date, or a mart without rows
(one built before the mart existed, or only stalled or far-apart snapshots), gets a note naming the
command that fills it, instead of an empty axis or an error.
"""

import datetime as dt

import plotly.graph_objects as go
from plotly.subplots import make_subplots

# Chart id (also the element id in the page) -> title, in the order the page shows them.
CHARTS = {
    "t1-country-share-trend": "T1. Share of new models' downloads by country over time: 30-day counter vs period downloads",
    "t2-provider-leaderboard": "T2. Provider leaderboard: the top 10 providers by period downloads at each snapshot",
    "t3-concentration": "T3. Concentration of downloads over time: HHI by org and by country",
    "t4-adoption-curves": "T4. Adoption curves: cumulative downloads by days since release, against the baseline",
    "t5-family-derivatives": "T5. Share of each top family's 30-day downloads that goes to derivatives (top 15 families)",
}
COUNTRIES_SHOWN = 8  # T1: countries drawn, by their summed share over every plotted point
LEADERBOARD_TOP = 10  # T2
CONCENTRATION_UNITS = {"org": "by org", "country": "by country", "label_country": "by country"}  # T3
CONCENTRATION_MEASURES = {"downloads_30d": "30-day downloads", "period_downloads": "period downloads"}
ADOPTION_CLASS = "1-9B"  # T4: drawn when the snapshot has it, else the class with most models
ADOPTION_LEADERS = 5  # T4: labelled curves, by RAM at each model's oldest checkpoint
ADOPTION_BACKGROUND = 45  # T4: the next models by the same order, drawn unlabelled
TOP_FAMILIES = 15  # T5
BACKFILL_WEEKS = 13  # the span the note's backfill command suggests


def figures(con, snapshot_date: str) -> dict[str, go.Figure]:
    """Every Trends chart of `snapshot_date`, keyed by chart id (the order of CHARTS)."""
    from orchestration.lib.report import COUNTRY_COLORS  # report.py imports this module first

    marts = {r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_schema = 'marts'").fetchall()}
    stored = 0
    if "dim_snapshots" in marts:
        stored = con.execute("select count(*) from marts.dim_snapshots where snapshot_date <= $1",
                             [snapshot_date]).fetchone()[0]
    reader = _Reader(con, marts, snapshot_date)
    history_note = None
    if stored < 2:
        start = dt.date.fromisoformat(snapshot_date) - dt.timedelta(weeks=BACKFILL_WEEKS)
        history_note = (f"needs at least two stored snapshots ({stored} stored up to {snapshot_date});<br>"
                        f"backfill with observatory backfill --source hub_weekly --from {start} --to {snapshot_date}")
    return {
        "t1-country-share-trend": _note_only(history_note) if history_note else _country_share(reader, COUNTRY_COLORS),
        "t2-provider-leaderboard": _note_only(history_note) if history_note else _leaderboard(reader),
        "t3-concentration": _note_only(history_note) if history_note else _concentration(reader),
        "t4-adoption-curves": _note_only(history_note) if history_note else _adoption(reader),
        "t5-family-derivatives": _family_derivatives(reader, COUNTRY_COLORS),  # one snapshot is enough
    }


class _Reader:
    """Rows of a mart up to the report's snapshot date; no rows when the warehouse lacks the mart."""

    def __init__(self, con, marts: set[str], snapshot_date: str):
        self.con, self.marts, self.snapshot_date = con, marts, snapshot_date

    def rows(self, mart: str, sql: str) -> list[tuple]:
        if mart not in self.marts:
            return []
        return self.con.execute(sql, [self.snapshot_date]).fetchall()

    def no_rows(self, mart: str, why: str, span: str = "up to") -> str:
        return f"no rows in marts.{mart} {span} {self.snapshot_date}:<br>{why}"


REBUILD = "snapshots built before this mart existed get it with observatory build --full-refresh"
NO_PERIODS = ("period downloads need two non-stalled snapshots at most 35 days apart;<br>"
              "backfill with observatory backfill --every week")


def _note(figure: go.Figure, text: str, **where) -> go.Figure:
    place = {"xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5} | where
    return figure.add_annotation(text=text, showarrow=False, font={"size": 14, "color": "#6b5200"},
                                 bgcolor="#fff3cd", bordercolor="#e0c060", borderpad=8, **place)


def _note_only(text: str) -> go.Figure:
    """A chart with nothing to draw: the note, no axes."""
    figure = _note(go.Figure(), text)
    return figure.update_xaxes(visible=False).update_yaxes(visible=False).update_layout(height=220)


def _country_share(reader: _Reader, colors: dict) -> go.Figure:
    query = ("select snapshot_date, country, share from marts.{} where snapshot_date <= $1 and cohort = 'new_365d'"
             " order by snapshot_date, country")
    sides = [("fct_country_download_share", "30-day downloads (the Hub's counter)"),
             ("fct_country_period_download_share", "period downloads (between snapshots)")]
    data = [reader.rows(mart, query.format(mart)) for mart, _ in sides]
    totals: dict[str, float] = {}
    for rows in data:
        for _, country, share in rows:
            totals[country] = totals.get(country, 0.0) + (share or 0.0)
    shown = sorted(totals, key=lambda c: (-totals[c], c))[:COUNTRIES_SHOWN]
    figure = make_subplots(rows=1, cols=2, shared_xaxes="all", shared_yaxes="all", horizontal_spacing=0.06,
                           subplot_titles=[title for _, title in sides])
    for col, ((mart, _), rows) in enumerate(zip(sides, data), start=1):
        if not rows:
            why = NO_PERIODS if mart == "fct_country_period_download_share" else REBUILD
            axis = "" if col == 1 else col
            _note(figure, reader.no_rows(mart, why), xref=f"x{axis} domain", yref=f"y{axis} domain")
            continue
        dates = sorted({r[0] for r in rows})
        shares = {(r[0], r[1]): r[2] for r in rows}
        for country in shown:
            figure.add_scatter(row=1, col=col, name=country, legendgroup=country, showlegend=col == 1,
                               x=dates, y=[shares.get((d, country), 0.0) for d in dates], mode="lines+markers",
                               line_color=colors.get(country))
    figure.update_yaxes(tickformat=".0%", rangemode="tozero")
    return figure.update_layout(yaxis_title="share of new models' downloads (created in the last 365 days)",
                                legend_title="label country", height=420)


def _leaderboard(reader: _Reader) -> go.Figure:
    rows = reader.rows("fct_provider_period_downloads", f"""
        select snapshot_date, provider, rank, downloads, share from marts.fct_provider_period_downloads
        where snapshot_date <= $1 and rank <= {LEADERBOARD_TOP} order by snapshot_date, rank""")
    if not rows:
        return _note_only(reader.no_rows("fct_provider_period_downloads", NO_PERIODS))
    dates = sorted({r[0] for r in rows})
    at = {(r[0], r[1]): r for r in rows}
    newest = {r[1]: r[2] for r in rows if r[0] == dates[-1]}
    best = {}
    for r in rows:
        best[r[1]] = min(best.get(r[1], r[2]), r[2])
    # Today's top 10 first, in today's order, then providers that left the top 10, by their best rank.
    providers = sorted(best, key=lambda p: (p not in newest, newest.get(p, best[p]), p))
    figure = go.Figure()
    for provider in providers:
        points = [at.get((d, provider)) for d in dates]
        figure.add_scatter(
            name=provider, x=dates, y=[p[2] if p else None for p in points], mode="lines+markers",
            customdata=[[p[3], p[4]] if p else [None, None] for p in points],
            hovertemplate=provider + "<br>%{x}: rank %{y}<br>%{customdata[0]:,} downloads (%{customdata[1]:.1%})<extra></extra>",
        )
    figure.update_yaxes(autorange=False, range=[LEADERBOARD_TOP + 0.5, 0.5], dtick=1, title_text="rank by period downloads")
    return figure.update_layout(legend_title="provider", height=460)


def _concentration(reader: _Reader) -> go.Figure:
    units = ", ".join(f"'{u}'" for u in CONCENTRATION_UNITS)
    measures = ", ".join(f"'{m}'" for m in CONCENTRATION_MEASURES)
    rows = reader.rows("fct_concentration", f"""
        select snapshot_date, measure, unit, hhi from marts.fct_concentration
        where snapshot_date <= $1 and unit in ({units}) and measure in ({measures})
        order by measure, unit, snapshot_date""")
    if not rows:
        return _note_only(reader.no_rows("fct_concentration", REBUILD))
    figure = go.Figure()
    colors = {"by org": "#1f77b4", "by country": "#d62728"}
    for measure, measure_label in CONCENTRATION_MEASURES.items():
        for unit, unit_label in CONCENTRATION_UNITS.items():
            points = [r for r in rows if r[1] == measure and r[2] == unit]
            if points:
                figure.add_scatter(name=f"{unit_label}, {measure_label}", x=[r[0] for r in points],
                                   y=[r[3] for r in points], mode="lines+markers", line_color=colors[unit_label],
                                   line_dash="solid" if measure == "downloads_30d" else "dash")
    return figure.update_layout(yaxis_title="HHI (sum of squared shares, 0-1)", yaxis_rangemode="tozero",
                                legend_title="units, measure")


def _adoption(reader: _Reader) -> go.Figure:
    classes = reader.rows("fct_relative_adoption", """
        select size_class, count(distinct model_id) from marts.fct_relative_adoption
        where snapshot_date = $1 group by size_class""")
    if not classes:
        return _note_only(reader.no_rows("fct_relative_adoption", "no model of the adoption universe has reached "
                                         "a checkpoint, or " + REBUILD, span="at"))
    counts = dict(classes)
    size_class = ADOPTION_CLASS if ADOPTION_CLASS in counts else min(counts, key=lambda c: (-counts[c], c))
    rows = reader.con.execute("""
        select model_id, checkpoint_days, cumulative_downloads, baseline, ram from marts.fct_relative_adoption
        where snapshot_date = $1 and size_class = $2 order by model_id, checkpoint_days""",
                              [reader.snapshot_date, size_class]).fetchall()
    curves: dict[str, list[tuple]] = {}
    for r in rows:
        curves.setdefault(r[0], []).append(r)
    # Leaders: the highest RAM at each model's oldest checkpoint (then cumulative downloads, then id).
    order = sorted(curves, key=lambda m: (curves[m][-1][4] is None, -(curves[m][-1][4] or 0),
                                          -(curves[m][-1][2] or 0), m))
    leaders, background = order[:ADOPTION_LEADERS], order[ADOPTION_LEADERS:ADOPTION_LEADERS + ADOPTION_BACKGROUND]
    figure = go.Figure()
    if background:
        x, y = [], []
        for model in background:
            x += [r[1] for r in curves[model]] + [None]
            y += [r[2] for r in curves[model]] + [None]
        figure.add_scatter(name=f"next {len(background)} models", x=x, y=y, mode="lines", hoverinfo="skip",
                           line={"color": "#cccccc", "width": 1})
    baseline = sorted({(r[1], r[3]) for r in rows if r[3] is not None})
    figure.add_scatter(name="baseline (10th largest of the class)", x=[b[0] for b in baseline],
                       y=[b[1] for b in baseline], mode="lines+markers", line={"color": "#222222", "dash": "dash", "width": 3})
    for model in leaders:
        points = curves[model]
        figure.add_scatter(name=model, x=[r[1] for r in points], y=[r[2] for r in points], mode="lines+markers+text",
                           text=[""] * (len(points) - 1) + [model], textposition="middle right",
                           customdata=[r[4] for r in points],
                           hovertemplate=model + "<br>day %{x}: %{y:,} (RAM %{customdata:.2f})<extra></extra>")
    figure.update_xaxes(type="log", title_text="days since release (log)", tickvals=sorted({r[1] for r in rows}))
    return figure.update_layout(yaxis_type="log", yaxis_title="cumulative downloads (log)", height=480,
                                title_text=f"size class {size_class}: {counts[size_class]:,} models", title_font_size=13)


def _family_derivatives(reader: _Reader, colors: dict) -> go.Figure:
    rows = reader.rows("fct_family_downloads", f"""
        select root_model_id, root_country, n_models, downloads_30d, derivative_share from marts.fct_family_downloads
        where snapshot_date = $1 order by downloads_30d desc nulls last, root_model_id limit {TOP_FAMILIES}""")
    if not rows:
        return _note_only(reader.no_rows("fct_family_downloads", REBUILD, span="at"))
    figure = go.Figure(go.Bar(
        x=[r[4] for r in rows], y=[r[0] for r in rows], orientation="h",
        text=[f"{r[3] or 0:,} downloads, {r[2] or 0:,} models" for r in rows], textposition="auto",
        marker_color=[colors.get(r[1] or "unknown", "#2ca02c") for r in rows],
    ))
    return figure.update_layout(yaxis={"autorange": "reversed"}, xaxis_title="share of the family's 30-day downloads "
                                "going to derivatives", xaxis_tickformat=".0%", xaxis_range=[0, 1],
                                height=max(300, 26 * len(rows) + 120))
