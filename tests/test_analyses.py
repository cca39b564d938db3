"""The analyses users run (dbt_project/analyses/a1-a6), executed on the build of the real slice and
compared row by row with values computed from the raw file and the seed (tests/reference.py)."""

import datetime as dt
from collections import Counter

import pytest

from tests.conftest import PROJECT_ROOT, warehouse
from tests.reference import monday

ANALYSES = PROJECT_ROOT / "dbt_project" / "analyses"


def run_analysis(data_dir, prefix: str) -> list[dict]:
    (path,) = ANALYSES.glob(f"{prefix}_*.sql")
    with warehouse(data_dir) as con:
        cursor = con.execute(path.read_text())
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]


def as_date(value) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def test_there_are_six_analyses():
    assert sorted(p.name[:2] for p in ANALYSES.glob("a*.sql")) == ["a1", "a2", "a3", "a4", "a5", "a6"]


def test_a1_release_growth_of_chinese_providers(real_build, real_reference):
    ref = real_reference
    releases = ref.releases_per_provider_year()
    first_year = {}
    for (provider, year), n in releases.items():
        first_year[provider] = min(year, first_year.get(provider, year))
    chinese = {p for p, country in ref.seed.provider_country.items() if country == "CN"}
    expected = []
    for provider in sorted(chinese & set(first_year)):
        for year in range(max(first_year[provider], 2024), ref.snapshot.year + 1):
            n, prev = releases.get((provider, year), 0), releases.get((provider, year - 1), 0)
            expected.append((provider, year, n, prev, n / prev if prev else None))
    rows = run_analysis(real_build, "a1")
    assert [(r["provider"], r["year"], r["n_releases"], r["n_releases_prev_year"]) for r in rows] == [e[:4] for e in expected]
    for row, (*_, ratio) in zip(rows, expected):
        assert (row["growth_ratio"] is None) == (ratio is None), row
        if ratio is not None:
            assert row["growth_ratio"] == pytest.approx(ratio, abs=0.005 + 1e-9), row
    assert any(r["n_releases"] for r in rows)


def test_a2_top_new_models_of_the_last_eight_weeks(real_build, real_reference):
    ref = real_reference
    first_week = ref.snapshot - dt.timedelta(days=56)
    weeks = sorted({monday(r["createdAt"].date()) for r in ref.released()}, reverse=True)
    expected = []
    for week in (w for w in weeks if w >= first_week):
        for rank, (model_id, likes) in enumerate(ref.weekly_top(week), 1):
            country, source = ref.label[model_id]
            expected.append((week, rank, model_id, likes, country, source, ref.first_parent[model_id]))
    rows = run_analysis(real_build, "a2")
    assert expected, "the slice has new models in the last eight weeks"
    assert [(as_date(r["week_start"]), r["rank"], r["model_id"], r["likes"], r["label_country"], r["label_source"],
             r["parent_model_id"]) for r in rows] == expected


def test_a3_weekly_releases_of_the_tracked_providers(real_build, real_reference):
    ref = real_reference
    expected = Counter()
    for provider, days in ref.heatmap().items():
        for day in ref.heatmap_days():
            expected[(provider, monday(day))] += days.get(day, 0)
    rows = run_analysis(real_build, "a3")
    assert [(r["provider"], as_date(r["week_start"])) for r in rows] == sorted(expected)
    assert {(r["provider"], as_date(r["week_start"])): r["n_releases"] for r in rows} == dict(expected)
    assert sum(expected.values()) > 0


def test_a4_download_share_of_new_models(real_build, real_reference):
    totals = real_reference.download_totals("new_365d")
    grand = sum(totals.values())
    rows = run_analysis(real_build, "a4")
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    assert [(r["country"], r["downloads_30d"]) for r in rows] == sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
    assert [r["share"] for r in rows] == pytest.approx([totals[r["country"]] / grand for r in rows], abs=0.00005 + 1e-12)
    assert rows[0]["country"] == "CN"  # the blog's finding holds on this slice


def test_a5_country_share_of_the_most_liked(real_build, real_reference):
    expected = [(n, country, count, count / n)
                for n in (10, 50, 100)
                for country, count in sorted(real_reference.top_liked_countries(n).items(), key=lambda kv: (-kv[1], kv[0]))]
    rows = run_analysis(real_build, "a5")
    assert [(r["top_n"], r["country"], r["n_models"]) for r in rows] == [e[:3] for e in expected]
    assert [r["share"] for r in rows] == pytest.approx([e[3] for e in expected], abs=0.0005 + 1e-12)


def test_a6_most_derived_base_models(real_build, real_reference):
    ref = real_reference
    bases = ref.base_model_derivatives()
    top = sorted(bases, key=lambda b: (-bases[b]["n_descendants"], b))[:20]
    columns = ["n_direct", "n_finetune", "n_adapter", "n_quantized", "n_merge", "n_descendants"]
    expected = [(b, ref.country_of_id(b), *(bases[b][c] for c in columns)) for b in top]
    rows = run_analysis(real_build, "a6")
    assert [(r["base_model_id"], r["base_country"], *(r[c] for c in columns)) for r in rows] == expected
