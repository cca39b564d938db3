"""The breadth marts, their analyses (B1-B4) and the README's table of the series' claims, on the build of
the real slice, compared exactly with the definitions computed in plain Python (tests/reference_breadth.py).

The README table is rendered here from the build's analyses; `python -m tests.test_breadth_realdata` prints
it from the raw file (the reference), which the tests hold equal to the build.
"""

import datetime as dt
import re
from collections import Counter

import pytest

from tests.conftest import PROJECT_ROOT, REAL_MODELS, REAL_SNAPSHOT, warehouse
from tests.reference_breadth import BreadthSnapshot

ANALYSES = PROJECT_ROOT / "dbt_project" / "analyses"
README = PROJECT_ROOT / "README.md"
CLAIMS = re.compile(r"<!-- claims:start -->\n(.*?)<!-- claims:end -->", re.S)
YEARS = (2024, 2025)  # the last two full years before the snapshot (2026-06-05)
GROUPS = ("all", "CN", "US")
QWEN = "Alibaba Qwen"
BLOG_BASE = "Qwen/Qwen1.5-0.5B"


@pytest.fixture(scope="module")
def ref(real_models_path) -> BreadthSnapshot:
    return BreadthSnapshot.read(real_models_path, dt.date.fromisoformat(REAL_SNAPSHOT))


def mart(data_dir, sql: str) -> list[tuple]:
    with warehouse(data_dir) as con:
        return con.execute(sql, [REAL_SNAPSHOT]).fetchall()


def run_analysis(data_dir, prefix: str) -> list[dict]:
    (path,) = ANALYSES.glob(f"{prefix}_*.sql")
    with warehouse(data_dir) as con:
        cursor = con.execute(path.read_text())
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]


def as_date(value) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


# --- the marts, exactly -------------------------------------------------------------------------

def test_release_size_mix(real_build, ref):
    rows = mart(real_build, "select month, country, size_class, n_releases, share from marts.fct_release_size_mix"
                            " where snapshot_date = ?")
    assert {(as_date(m), c, s): (n, share) for m, c, s, n, share in rows} == ref.release_size_mix()
    assert len(rows) == len(ref.release_size_mix())
    assert {r[2] for r in rows} == {"under_1B", "1-9B", "10-49B", "50-99B", "100B+", "unknown"}


def test_modality_mix(real_build, ref):
    rows = mart(real_build, "select month, country, pipeline_tag, n_releases, share from marts.fct_modality_mix"
                            " where snapshot_date = ?")
    assert {(as_date(m), c, t): (n, share) for m, c, t, n, share in rows} == ref.modality_mix()
    assert len(rows) == len(ref.modality_mix())
    assert "none" in {r[2] for r in rows}


def test_license_mix(real_build, ref):
    rows = mart(real_build, "select provider, year, license, n_releases, share from marts.fct_license_mix"
                            " where snapshot_date = ?")
    assert {(p, y, lic): (n, share) for p, y, lic, n, share in rows} == ref.license_mix()
    assert len(rows) == len(ref.license_mix())
    assert {r[0] for r in rows} <= ref.seed.tracked_providers


def test_provider_top_bases(real_build, ref):
    rows = mart(real_build, "select provider, rank, base_model_id, n_direct, n_descendants"
                            " from marts.fct_provider_top_bases where snapshot_date = ?")
    assert {(p, rank): (b, d, n) for p, rank, b, d, n in rows} == ref.provider_top_bases
    assert len(rows) == len(ref.provider_top_bases)


# --- the analyses ---------------------------------------------------------------------------------

def test_b1_small_model_share(real_build, ref):
    expected = ref.small_model_share_by_year()
    rows = run_analysis(real_build, "b1")
    assert {(r["country"], r["year"]): (r["n_small"], r["n_known_size"]) for r in rows} == \
        {key: value[:2] for key, value in expected.items()}
    assert all(r["small_share"] == pytest.approx(expected[(r["country"], r["year"])][2], abs=0.0005) for r in rows)


def test_b2_license_mix_of_chinese_providers(real_build, ref):
    expected = ref.chinese_tracked_licenses()
    rows = run_analysis(real_build, "b2")
    assert [(r["provider"], r["license"], r["n_releases"]) for r in rows] == [
        (provider, lic, n) for provider in sorted(expected)
        for lic, n in sorted(expected[provider].items(), key=lambda kv: (-kv[1], kv[0]))]


def b3_months(snapshot: dt.date) -> tuple[dt.date, dt.date]:
    end = snapshot.replace(day=1)
    return end.replace(year=end.year - 1), end


def test_b3_modality_spread(real_build, ref):
    counts = ref.modality_counts(*b3_months(ref.snapshot))
    rows = run_analysis(real_build, "b3")
    assert [(r["pipeline_tag"], r["n_releases"]) for r in rows] == sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def test_b4_top_bases_of_each_provider(real_build, ref):
    tracked = ref.seed.tracked_providers
    expected = [(p, rank, *ref.provider_top_bases[(p, rank)])
                for p, rank in sorted(ref.provider_top_bases) if p in tracked and rank <= 5]
    rows = run_analysis(real_build, "b4")
    assert [(r["provider"], r["rank"], r["base_model_id"], r["n_direct"], r["n_descendants"]) for r in rows] == expected


# --- the README's table of the series' claims -----------------------------------------------------

def claim_values_from_build(data_dir) -> dict:
    b1 = {(r["country"], r["year"]): (r["n_small"], r["n_known_size"]) for r in run_analysis(data_dir, "b1")}
    b2: dict[str, Counter] = {}
    for r in run_analysis(data_dir, "b2"):
        b2.setdefault(r["provider"], Counter())[r["license"]] = r["n_releases"]
    b3 = [(r["pipeline_tag"], r["n_releases"]) for r in run_analysis(data_dir, "b3")]
    qwen = [(b, d, n) for _, _, b, d, n in sorted(mart(
        data_dir, "select provider, rank, base_model_id, n_direct, n_descendants from marts.fct_provider_top_bases"
                  f" where snapshot_date = ? and provider = '{QWEN}'"))]
    blog_base = mart(data_dir, "select n_direct, n_descendants from marts.fct_base_model_derivatives"
                               f" where snapshot_date = ? and base_model_id = '{BLOG_BASE}'")
    return {"small": {k: b1[k] for k in ((g, y) for g in GROUPS for y in YEARS) if k in b1},
            "licenses": b2, "modalities": b3, "qwen": qwen, "blog_base": blog_base[0] if blog_base else None}


def claim_values_from_reference(ref: BreadthSnapshot) -> dict:
    small = ref.small_model_share_by_year()
    counts = ref.modality_counts(*b3_months(ref.snapshot))
    qwen = [ref.provider_top_bases[(p, rank)] for p, rank in sorted(ref.provider_top_bases) if p == QWEN]
    blog_base = ref.base_model_derivatives().get(BLOG_BASE)
    return {"blog_base": (blog_base["n_direct"], blog_base["n_descendants"]) if blog_base else None,
            "small": {(g, y): small[(g, y)][:2] for g in GROUPS for y in YEARS if (g, y) in small},
            "licenses": ref.chinese_tracked_licenses(),
            "modalities": sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])), "qwen": qwen}


def pct(n: int, total: int) -> str:
    return f"{100 * n / total:.1f}%"


def render_claims(values: dict) -> str:
    small = values["small"]

    def share(group, year):
        return pct(*small[(group, year)])

    first, last = YEARS
    ratio = {year: small[("all", year)][0] / small[("all", year)][1] for year in YEARS}
    trend = "grows" if ratio[last] > ratio[first] else "falls"
    small_text = (f"1-9B + 10-49B (1e9 up to 50e9 parameters: the nearest size classes to the blog's 0.5B-30B, "
                  f"without 0.5-1B and with 30-50B) are "
                  f"{share('all', first)} of the {first} releases of known size and {share('all', last)} in {last} "
                  f"(CN {share('CN', first)} -> {share('CN', last)}, US {share('US', first)} -> {share('US', last)}): "
                  f"they dominate; their share {trend}")

    licenses = values["licenses"]
    pooled = Counter()
    for counts in licenses.values():
        pooled.update(counts)
    total = sum(pooled.values())
    top = sorted(pooled.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    apache_first = sorted(p for p, c in licenses.items() if c.get("apache-2.0", 0) == max(c.values()))
    license_text = (f"over the {len(licenses)} tracked Chinese providers with releases ({total} releases): "
                    + ", ".join(f"{lic} {pct(n, total)}" for lic, n in top)
                    + f"; apache-2.0 is the most common licence (ties included) of {len(apache_first)} of them"
                    + f" ({', '.join(apache_first)})")

    modalities = values["modalities"]
    n_all = sum(n for _, n in modalities)
    tags = [t for t, _ in modalities if t != "none"]
    modality_text = (f"{n_all} releases in the 12 full months before the snapshot carry {len(tags)} pipeline tags: "
                     + ", ".join(f"{t} {pct(n, n_all)}" for t, n in modalities[:3]))

    qwen = values["qwen"]
    top_base, top_direct, top_desc = qwen[0]
    most_direct = max(qwen, key=lambda b: (b[1], b[0]))
    blog_rank = next((i for i, b in enumerate(qwen, 1) if b[0] == BLOG_BASE), None)
    blog_base = values["blog_base"]
    if blog_rank:
        blog_text = f"{BLOG_BASE} is rank {blog_rank} of the provider's bases"
    elif blog_base:
        blog_text = f"{BLOG_BASE} is outside the provider's top 20 ({blog_base[1]} descendants, {blog_base[0]} direct)"
    else:
        blog_text = f"no model of the slice derives from {BLOG_BASE}"
    qwen_text = (f"{top_base} leads ({top_desc} descendants, {top_direct} direct); most direct derivatives: "
                 f"{most_direct[0]} ({most_direct[1]}); {blog_text}")

    rows = [
        ("Small models dominate releases and their share grows", "`fct_release_size_mix`, `b1_small_model_share.sql`", small_text),
        ("Apache-2.0 is near default among the tracked Chinese providers",
         "`fct_license_mix`, `b2_license_mix_of_chinese_providers.sql`", license_text),
        ("Releases spread across modalities", "`fct_modality_mix`, `b3_modality_spread.sql`", modality_text),
        ("Among the Qwen series, Qwen1.5-0.5B has the most derivative models",
         "`fct_provider_top_bases`, `b4_top_bases_of_each_provider.sql`", qwen_text),
    ]
    lines = ["| claim | mart / analysis | what the bundled real slice says |", "|---|---|---|"]
    lines += [f"| {claim} | {where} | {text} |" for claim, where, text in rows]
    return "\n".join(lines) + "\n"


def test_the_claims_table_in_the_readme_is_the_real_build(real_build, ref):
    values = claim_values_from_build(real_build)
    assert values == claim_values_from_reference(ref)
    (table,) = CLAIMS.findall(README.read_text())
    assert table == render_claims(values)


if __name__ == "__main__":
    print(render_claims(claim_values_from_reference(
        BreadthSnapshot.read(REAL_MODELS, dt.date.fromisoformat(REAL_SNAPSHOT)))), end="")
