"""The report's chart of every repo type and the Hub's daily papers (marts fct_repo_releases, fct_paper_orgs).

One chart, two panels, so it always draws: releases of models, datasets and Spaces per provider over
the last three calendar years, and daily papers per organization. A snapshot without a datasets,
spaces or papers file shows what it has and says what it lacks.
"""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

CHARTS = {
    "r1-repos-and-papers": "Repository growth: models, datasets and Spaces released per provider and year "
                           "(the 8 mapped providers with most releases), and Hub daily papers per organization",
}
REPO_TYPES = ("model", "dataset", "space")
REPO_COLORS = {"model": "#1f77b4", "dataset": "#ff7f0e", "space": "#2ca02c"}
TOP_PROVIDERS = 8
YEARS = 3
TOP_ORGS = 15


def _has(con, schema: str, table: str) -> bool:
    """Whether the warehouse has the table or view (one published before these marts existed has not)."""
    return con.execute("select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                       [schema, table]).fetchone()[0] > 0


def releases(con, snapshot_date: str) -> list[tuple]:
    """(year, provider, repo_type, n_releases) of the mapped providers (a country in the seed) with most
    releases of every type over the last YEARS calendar years up to the snapshot's."""
    if not (_has(con, "marts", "fct_repo_releases") and _has(con, "reference", "org_countries")):
        return []
    return con.execute(f"""
        with recent as (
            select provider, repo_type, year, n_releases
            from marts.fct_repo_releases
            where snapshot_date = $1 and year > extract(year from cast($1 as date)) - {YEARS}
        ),
        top as (
            select provider from recent
            where provider in (select provider from reference.org_countries where country is not null)
            group by provider order by sum(n_releases) desc, provider limit {TOP_PROVIDERS}
        )
        select year, provider, repo_type, n_releases from recent
        where provider in (select provider from top)
        order by year, provider, repo_type""", [snapshot_date]).fetchall()


def paper_orgs(con, snapshot_date: str) -> tuple[list[tuple], int]:
    """((org, year, n_papers) of the top organizations by papers, papers without an organization)."""
    if not _has(con, "marts", "fct_paper_orgs"):
        return [], 0
    rows = con.execute(f"""
        with top as (
            select org from marts.fct_paper_orgs where snapshot_date = $1 and org <> 'none'
            group by org order by sum(n_papers) desc, org limit {TOP_ORGS}
        )
        select org, year, n_papers from marts.fct_paper_orgs
        where snapshot_date = $1 and org in (select org from top)
        order by year, org""", [snapshot_date]).fetchall()
    (without,) = con.execute("select coalesce(sum(n_papers), 0) from marts.fct_paper_orgs"
                             " where snapshot_date = $1 and org = 'none'", [snapshot_date]).fetchone()
    return rows, int(without)


def figures(con, snapshot_date: str) -> dict[str, go.Figure]:
    """The chart of CHARTS for `snapshot_date`, read from a connection to the warehouse."""
    release_rows = releases(con, snapshot_date)
    paper_rows, without_org = paper_orgs(con, snapshot_date)
    papers_title = "Daily papers per organization (by year of publishedAt)"
    if paper_rows or without_org:
        papers_title += f"; {without_org:,} papers name no organization"
    else:
        papers_title += ": no daily papers file in this snapshot"
    missing = [t for t in REPO_TYPES if not any(r[2] == t for r in release_rows)]
    releases_title = "Releases per provider and year"
    if missing:
        releases_title += f" (no {', '.join(missing)} releases in this snapshot)"
    figure = make_subplots(rows=2, cols=1, subplot_titles=(releases_title, papers_title), vertical_spacing=0.18)
    # x: (year, provider) pairs as a two-level axis, in year then provider order.
    categories = sorted({(r[0], r[1]) for r in release_rows})
    for repo_type in REPO_TYPES:
        counts = {(r[0], r[1]): r[3] for r in release_rows if r[2] == repo_type}
        if not counts:
            continue
        figure.add_bar(name=repo_type, row=1, col=1, marker_color=REPO_COLORS[repo_type],
                       x=[[str(c[0]) for c in categories], [c[1] for c in categories]],
                       y=[counts.get(c, 0) for c in categories], legendgroup="repos")
    orgs = sorted({r[0] for r in paper_rows}, key=lambda o: (-sum(r[2] for r in paper_rows if r[0] == o), o))
    for year in sorted({r[1] for r in paper_rows}):
        counts = {r[0]: r[2] for r in paper_rows if r[1] == year}
        figure.add_bar(name=f"papers {year}", row=2, col=1, x=orgs, y=[counts.get(o, 0) for o in orgs],
                       legendgroup="papers")
    figure.update_layout(barmode="stack", height=760, legend_title="repo type / papers")
    figure.update_yaxes(title_text="repos released", row=1, col=1)
    figure.update_yaxes(title_text="daily papers", row=2, col=1)
    return {"r1-repos-and-papers": figure}
