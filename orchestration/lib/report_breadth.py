"""The report's "Architecture and breadth" charts: release size mix, licence mix, modality mix and each
tracked provider's most built-on bases, read from the breadth marts of one snapshot."""

import plotly.graph_objects as go

CHARTS = {
    "b1-small-model-share": "B1. Share of small models (1-9B and 10-49B parameters) among releases of known size, per year: CN vs US",
    "b2-license-mix": "B2. Licences of the tracked providers' releases (first license tag), all years",
    "b3-modality-mix": "B3. Releases per month by pipeline tag (the 8 most common tags)",
    "b4-top-bases": "B4. The 3 most built-on base models of each tracked provider (all descendants)",
}
SMALL_CLASSES = ("1-9B", "10-49B")
SIZE_COUNTRIES = ("CN", "US")
TOP_LICENSES = 6
TOP_TAGS = 8
TOP_BASES = 3
REST = "(rest)"


# The mart each chart reads.
SOURCES = {
    "b1-small-model-share": "fct_release_size_mix",
    "b2-license-mix": "fct_license_mix",
    "b3-modality-mix": "fct_modality_mix",
    "b4-top-bases": "fct_provider_top_bases",
}


def figures(con, snapshot_date: str) -> dict[str, go.Figure]:
    """One figure per chart; a chart whose mart the warehouse lacks (a catalog published before the
    breadth marts existed) is an empty figure that says so."""
    present = {row[0] for row in con.execute(
        "select table_name from information_schema.tables where table_schema = 'marts'").fetchall()}
    draw = {
        "b1-small-model-share": _small_model_share,
        "b2-license-mix": _license_mix,
        "b3-modality-mix": _modality_mix,
        "b4-top-bases": _top_bases,
    }
    return {chart_id: draw[chart_id](con, snapshot_date) if SOURCES[chart_id] in present else _missing(SOURCES[chart_id])
            for chart_id in CHARTS}


def _missing(mart: str) -> go.Figure:
    return go.Figure().add_annotation(text=f"marts.{mart} is not in this warehouse: build the snapshot again",
                                      showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)


def _rows(con, sql: str, snapshot_date: str) -> list[tuple]:
    return con.execute(sql, [snapshot_date]).fetchall()


def _small_model_share(con, snapshot_date: str) -> go.Figure:
    rows = _rows(con, f"""
        select country, cast(extract(year from month) as integer) as year,
               sum(n_releases) filter (where size_class in {SMALL_CLASSES}) as n_small, sum(n_releases) as n_known
        from marts.fct_release_size_mix
        where snapshot_date = $1 and size_class <> 'unknown' and country in {SIZE_COUNTRIES}
        group by all order by country, year""", snapshot_date)
    figure = go.Figure()
    for country in SIZE_COUNTRIES:
        points = [r for r in rows if r[0] == country]
        figure.add_scatter(name=country, x=[r[1] for r in points], y=[(r[2] or 0) / r[3] for r in points],
                           mode="lines+markers", text=[f"{r[2] or 0} of {r[3]}" for r in points])
    return figure.update_layout(yaxis_title="share of releases of known size", yaxis_tickformat=".0%",
                                xaxis_title="year", xaxis_dtick=1)


def _license_mix(con, snapshot_date: str) -> go.Figure:
    rows = _rows(con, "select provider, license, sum(n_releases) from marts.fct_license_mix"
                      " where snapshot_date = $1 group by all", snapshot_date)
    totals: dict[str, int] = {}
    for _, license_, n in rows:
        totals[license_] = totals.get(license_, 0) + n
    shown = sorted(totals, key=lambda lic: (-totals[lic], lic))[:TOP_LICENSES]
    per_provider: dict[str, dict[str, int]] = {}
    for provider, license_, n in rows:
        group = license_ if license_ in shown else REST
        per_provider.setdefault(provider, {})
        per_provider[provider][group] = per_provider[provider].get(group, 0) + n
    providers = sorted(per_provider)
    figure = go.Figure()
    for group in shown + ([REST] if len(totals) > len(shown) else []):
        figure.add_bar(name=group, y=providers, orientation="h",
                       x=[per_provider[p].get(group, 0) / sum(per_provider[p].values()) for p in providers])
    return figure.update_layout(barmode="stack", xaxis_title="share of the provider's releases", xaxis_tickformat=".0%",
                                yaxis={"autorange": "reversed"}, height=max(300, 24 * len(providers) + 120))


def _modality_mix(con, snapshot_date: str) -> go.Figure:
    rows = _rows(con, "select month, pipeline_tag, sum(n_releases) from marts.fct_modality_mix"
                      " where snapshot_date = $1 group by all order by month", snapshot_date)
    totals: dict[str, int] = {}
    for _, tag, n in rows:
        totals[tag] = totals.get(tag, 0) + n
    shown = sorted(totals, key=lambda tag: (-totals[tag], tag))[:TOP_TAGS]
    months = sorted({r[0] for r in rows})
    series: dict[str, dict] = {tag: {} for tag in shown + [REST]}
    for month, tag, n in rows:
        group = series[tag if tag in shown else REST]
        group[month] = group.get(month, 0) + n
    figure = go.Figure()
    for tag, points in series.items():
        if points:
            figure.add_scatter(name=tag, x=months, y=[points.get(m, 0) for m in months], mode="lines", stackgroup="all")
    return figure.update_layout(yaxis_title="releases per month")


def _top_bases(con, snapshot_date: str) -> go.Figure:
    rows = _rows(con, f"""
        select provider, rank, base_model_id, n_descendants, n_direct from marts.fct_provider_top_bases
        where snapshot_date = $1 and is_heatmap_tracked and rank <= {TOP_BASES}
        order by provider, rank""", snapshot_date)
    figure = go.Figure(go.Bar(
        y=[f"{r[0]} #{r[1]}: {r[2]}" for r in rows], x=[r[3] for r in rows], orientation="h",
        text=[f"{r[4]} direct" for r in rows],
    ))
    return figure.update_layout(yaxis={"autorange": "reversed"}, xaxis_title="descendants (any depth)",
                                height=max(300, 22 * len(rows) + 120))
