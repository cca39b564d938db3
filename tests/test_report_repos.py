"""The report's chart of repo types and daily papers, read from hand-made mart rows in a small DuckDB."""

import duckdb
import pytest

from orchestration.lib import report_repos
from orchestration.lib.report import CHARTS

DATE = "2026-06-05"


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("create schema marts; create schema reference")
    con.execute("create table reference.org_countries (org varchar, provider varchar, country varchar)")
    con.execute("insert into reference.org_countries values ('Qwen', 'Alibaba Qwen', 'CN'), ('Wan-AI', 'Alibaba Qwen', 'CN'),"
                " ('google', 'Google', 'US'), ('nocountry', 'No Country', null)")
    con.execute("create table marts.fct_repo_releases (snapshot_date date, provider varchar, repo_type varchar,"
                " year integer, n_releases bigint)")
    con.execute("""insert into marts.fct_repo_releases values
        ('2026-06-05', 'Alibaba Qwen', 'model', 2026, 5), ('2026-06-05', 'Alibaba Qwen', 'dataset', 2025, 2),
        ('2026-06-05', 'Alibaba Qwen', 'model', 2023, 100),   -- before the last three years: not shown
        ('2026-06-05', 'Google', 'space', 2024, 3), ('2026-06-05', 'Google', 'model', 2026, 1),
        ('2026-06-05', 'someuser', 'model', 2026, 50),        -- unmapped provider: not shown
        ('2026-06-05', 'No Country', 'model', 2026, 40),      -- a group without a country: not shown
        ('2026-05-01', 'Google', 'dataset', 2026, 9)          -- another snapshot
    """)
    con.execute("create table marts.fct_paper_orgs (snapshot_date date, org varchar, year integer,"
                " n_papers bigint, upvotes bigint)")
    con.execute("""insert into marts.fct_paper_orgs values
        ('2026-06-05', 'Qwen', 2025, 3, 30), ('2026-06-05', 'Qwen', 2026, 1, 4), ('2026-06-05', 'google', 2026, 4, 8),
        ('2026-06-05', 'none', 2025, 6, 1), ('2026-06-05', 'none', 2026, 1, 0), ('2026-05-01', 'meta', 2026, 7, 7)
    """)
    yield con
    con.close()


def traces(figure):
    return {trace.name: trace for trace in figure.data}


def test_the_chart_is_in_the_report():
    assert set(report_repos.CHARTS) <= set(CHARTS)


def test_releases_per_mapped_provider_year_and_repo_type(con):
    figure = report_repos.figures(con, DATE)["r1-repos-and-papers"]
    bars = traces(figure)
    # (year, provider) categories of the last three years 2024-2026, mapped providers with a country only.
    expected_x = [["2024", "2025", "2026", "2026"], ["Google", "Alibaba Qwen", "Alibaba Qwen", "Google"]]
    assert [list(level) for level in bars["model"].x] == expected_x
    assert list(bars["model"].y) == [0, 0, 5, 1]
    assert list(bars["dataset"].y) == [0, 2, 0, 0]
    assert list(bars["space"].y) == [3, 0, 0, 0]
    assert "no " not in figure.layout.annotations[0].text  # every repo type is there


def test_papers_per_org_and_year_with_those_naming_none_counted_apart(con):
    figure = report_repos.figures(con, DATE)["r1-repos-and-papers"]
    bars = traces(figure)
    # Orgs by papers: google 4, Qwen 4 (tie: by name, uppercase first); 'none' is not an org.
    assert list(bars["papers 2025"].x) == ["Qwen", "google"] and list(bars["papers 2025"].y) == [3, 0]
    assert list(bars["papers 2026"].y) == [1, 4]
    assert "7 papers name no organization" in figure.layout.annotations[1].text


def test_a_snapshot_without_datasets_spaces_or_papers_says_so(con):
    con.execute("delete from marts.fct_paper_orgs")
    con.execute("delete from marts.fct_repo_releases where repo_type <> 'model'")
    figure = report_repos.figures(con, DATE)["r1-repos-and-papers"]
    assert set(traces(figure)) == {"model"}
    assert "(no dataset, space releases in this snapshot)" in figure.layout.annotations[0].text
    assert "no daily papers file in this snapshot" in figure.layout.annotations[1].text


def test_a_warehouse_published_before_these_marts_draws_the_chart_empty():
    con = duckdb.connect()
    figure = report_repos.figures(con, DATE)["r1-repos-and-papers"]
    assert list(figure.data) == []
    assert "no daily papers file in this snapshot" in figure.layout.annotations[1].text
