"""The report's breadth charts (orchestration/lib/report_breadth.py), read from hand-made mart rows in a
small DuckDB file: each plotted value is computed here by hand from those rows."""

import datetime as dt

import duckdb
import pytest

from orchestration.lib import report, report_breadth

SNAPSHOT = "2026-06-05"
OTHER = "2026-05-01"  # rows of another snapshot never reach the charts


@pytest.fixture
def con(tmp_path):
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute("create schema marts")
    con.execute("""create table marts.fct_release_size_mix as select * from (values
        (date '2026-06-05', date '2024-01-01', 'CN', '1-9B', 3),
        (date '2026-06-05', date '2024-05-01', 'CN', '10-49B', 1),
        (date '2026-06-05', date '2024-02-01', 'CN', 'under_1B', 4),
        (date '2026-06-05', date '2024-03-01', 'CN', 'unknown', 10),
        (date '2026-06-05', date '2025-01-01', 'CN', '1-9B', 3),
        (date '2026-06-05', date '2025-02-01', 'CN', '100B+', 1),
        (date '2026-06-05', date '2025-03-01', 'US', '50-99B', 2),
        (date '2026-06-05', date '2025-03-01', 'FR', '1-9B', 9),
        (date '2026-05-01', date '2025-03-01', 'US', '1-9B', 50)
        ) as t(snapshot_date, month, country, size_class, n_releases)""")
    licenses = [("A", "apache-2.0", 6), ("A", "mit", 2), ("A", "rare", 1), ("B", "apache-2.0", 1), ("B", "other", 1),
                ("B", "l3", 1), ("B", "l4", 1), ("B", "l5", 1), ("B", "none", 1)]
    con.execute("create table marts.fct_license_mix (snapshot_date date, provider varchar, year integer,"
                " license varchar, n_releases bigint, share double)")
    for provider, license_, n in licenses:
        # Split over two years, to check the chart sums the years.
        con.execute("insert into marts.fct_license_mix values (?, ?, 2024, ?, ?, null), (?, ?, 2025, ?, ?, null)",
                    [SNAPSHOT, provider, license_, n, SNAPSHOT, provider, license_, n])
    con.execute("insert into marts.fct_license_mix values (?, 'C', 2025, 'mit', 99, 1.0)", [OTHER])
    con.execute("create table marts.fct_modality_mix (snapshot_date date, month date, country varchar,"
                " pipeline_tag varchar, n_releases bigint, share double)")
    # Tags t1..t9 in January: t1 has 9 releases ... t9 has 1; February adds t1 and t9.
    for i in range(1, 10):
        con.execute("insert into marts.fct_modality_mix values (?, date '2025-01-01', 'CN', ?, ?, null)",
                    [SNAPSHOT, f"t{i}", 10 - i])
    con.execute("insert into marts.fct_modality_mix values (?, date '2025-02-01', 'US', 't1', 5, null),"
                " (?, date '2025-02-01', 'CN', 't1', 2, null), (?, date '2025-02-01', 'CN', 't9', 4, null)",
                [SNAPSHOT, SNAPSHOT, SNAPSHOT])
    con.execute("create table marts.fct_provider_top_bases (snapshot_date date, provider varchar, rank bigint,"
                " base_model_id varchar, n_direct bigint, n_descendants bigint, country varchar, is_heatmap_tracked boolean)")
    for rank in range(1, 5):
        con.execute("insert into marts.fct_provider_top_bases values (?, 'Qwen', ?, ?, ?, ?, 'CN', true)",
                    [SNAPSHOT, rank, f"Qwen/b{rank}", rank, 100 - rank])
    con.execute("insert into marts.fct_provider_top_bases values (?, 'Meta', 1, 'meta-llama/x', 5, 50, 'US', false),"
                " (?, 'DeepSeek', 1, 'deepseek-ai/r1', 7, 70, 'CN', true)", [SNAPSHOT, SNAPSHOT])
    yield con
    con.close()


def traces(figure):
    return {trace.name: trace for trace in figure.data}


def test_the_report_lists_the_breadth_charts_after_a1_to_a6():
    charts, breadth = list(report.CHARTS), list(report_breadth.CHARTS)
    start = charts.index(breadth[0])
    assert start > charts.index("a6-derivatives") and charts[start:start + len(breadth)] == breadth


def test_small_model_share_per_year_cn_vs_us(con):
    figure = report_breadth.figures(con, SNAPSHOT)["b1-small-model-share"]
    plotted = {name: dict(zip(t.x, t.y)) for name, t in traces(figure).items()}
    # CN 2024: small = 3 (1-9B) + 1 (10-49B) of 8 of known size (the 10 unknown left out); 2025: 3 of 4.
    # US 2025: 0 of 2. FR is not drawn; the other snapshot's US rows are not counted.
    assert plotted == {"CN": {2024: 0.5, 2025: 0.75}, "US": {2025: 0.0}}


def test_license_mix_of_the_tracked_providers(con):
    figure = report_breadth.figures(con, SNAPSHOT)["b2-license-mix"]
    bars = traces(figure)
    # Totals over both providers and years: apache-2.0 14, mit 4, then rare, other, l3, l4, l5, none at 2 each:
    # the top 6 are apache-2.0, mit, then l3, l4, l5, none (ties by name); other and rare go to (rest).
    assert list(bars) == ["apache-2.0", "mit", "l3", "l4", "l5", "none", "(rest)"]
    assert all(list(bar.y) == ["A", "B"] for bar in bars.values())
    share = {name: dict(zip(bar.y, bar.x)) for name, bar in bars.items()}
    assert share["apache-2.0"] == {"A": pytest.approx(12 / 18), "B": pytest.approx(2 / 12)}
    assert share["mit"] == {"A": pytest.approx(4 / 18), "B": 0.0}
    assert share["(rest)"] == {"A": pytest.approx(2 / 18), "B": pytest.approx(2 / 12)}
    assert share["none"] == {"A": 0.0, "B": pytest.approx(2 / 12)}


def test_modality_mix_per_month_with_the_rest_grouped(con):
    figure = report_breadth.figures(con, SNAPSHOT)["b3-modality-mix"]
    lines = traces(figure)
    # Totals: t1 9 + 5 + 2 = 16, t2 8, ..., t5 5, t6 4, t7 3, t8 2, t9 1 + 4 = 5: the top 8 are t1..t5, t9 (tied
    # with t5, after it by name), t6, t7; t8 is the rest.
    assert list(lines) == ["t1", "t2", "t3", "t4", "t5", "t9", "t6", "t7", "(rest)"]
    months = [dt.date(2025, 1, 1), dt.date(2025, 2, 1)]
    assert all(list(line.x) == months for line in lines.values())
    assert list(lines["t1"].y) == [9, 7]  # countries summed
    assert list(lines["t9"].y) == [1, 4]
    assert list(lines["t7"].y) == [3, 0]
    assert list(lines["(rest)"].y) == [2, 0]


def test_top_bases_of_each_tracked_provider(con):
    (bars,) = report_breadth.figures(con, SNAPSHOT)["b4-top-bases"].data
    # Meta is not tracked; Qwen keeps ranks 1-3.
    assert list(bars.y) == ["DeepSeek #1: deepseek-ai/r1", "Qwen #1: Qwen/b1", "Qwen #2: Qwen/b2", "Qwen #3: Qwen/b3"]
    assert list(bars.x) == [70, 99, 98, 97]
    assert list(bars.text) == ["7 direct", "1 direct", "2 direct", "3 direct"]


def test_a_warehouse_without_the_breadth_marts_gets_empty_charts_that_say_so(tmp_path):
    with duckdb.connect(str(tmp_path / "old.duckdb")) as old:
        old.execute("create schema marts")
        old.execute("create table marts.fct_license_mix (snapshot_date date, provider varchar, year integer,"
                    " license varchar, n_releases bigint, share double)")
        result = report_breadth.figures(old, SNAPSHOT)
    assert list(result) == list(report_breadth.CHARTS)
    assert result["b2-license-mix"].data == ()  # present but without rows for the snapshot
    for chart_id in ("b1-small-model-share", "b3-modality-mix", "b4-top-bases"):
        (note,) = result[chart_id].layout.annotations
        assert result[chart_id].data == () and "is not in this warehouse" in note.text
