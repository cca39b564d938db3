"""A build of the real hub-stats slice (4,167 models), checked against values computed here
independently from the raw Parquet file and the seed CSV, in plain Python."""

import csv
import datetime as dt
import re

import pyarrow.parquet as pq
import pytest

from tests.conftest import REAL_SNAPSHOT as SNAPSHOT
from tests.conftest import SEED_CSV, warehouse
TYPED_TAG = re.compile(r"^base_model:(adapter|finetune|quantized|merge):(.+)$")
# Any createdAt within this minute (UTC) is the floor, an unknown creation date.
FLOOR_MINUTE = dt.datetime(2022, 3, 2, 23, 29)


def is_floor(created_at):
    return created_at is not None and FLOOR_MINUTE <= created_at < FLOOR_MINUTE + dt.timedelta(minutes=1)


@pytest.fixture(scope="module")
def raw_rows(real_models_path):
    return pq.read_table(real_models_path, columns=["id", "createdAt", "tags", "baseModels"]).to_pylist()


def all_parents(row):
    """(parent, relation) in listed order: baseModels, else typed tags; without blank ids, repeats,
    or the model itself (ids compare case-insensitively on the Hub)."""
    base = row["baseModels"]
    if base and base["models"]:
        listed = [(m["id"], base["relation"]) for m in base["models"]]
    else:
        listed = [(m.group(2), m.group(1)) for m in map(TYPED_TAG.match, row["tags"] or []) if m]
    parents = {}
    for parent, relation in listed:
        if parent and parent.strip() and parent.lower() != row["id"].lower():
            parents.setdefault(parent, relation)
    return list(parents.items())


def first_parent(row):
    parents = all_parents(row)
    return parents[0][0] if parents else None


def lists_itself(row):
    base = row["baseModels"]
    listed = [m["id"] for m in base["models"]] if base and base["models"] else []
    listed += [m.group(2) for m in map(TYPED_TAG.match, row["tags"] or []) if m]
    return any(p and p.lower() == row["id"].lower() for p in listed)


def expected_lineage(raw_rows):
    countries = {}
    with open(SEED_CSV, newline="") as handle:
        for seed in csv.DictReader(handle):
            countries[seed["org"].lower()] = seed["country"]
    parents = {row["id"]: first_parent(row) for row in raw_rows}

    def country_of(model_id):
        return countries.get(model_id.split("/")[0].lower()) if "/" in model_id else None

    expected = {}
    for model_id, parent in parents.items():
        chain = [model_id]
        while len(chain) <= 10 and parents.get(chain[-1]) and parents[chain[-1]] not in chain:
            chain.append(parents[chain[-1]])
        own = country_of(model_id)
        inherited = next((country_of(a) for a in chain[1:] if country_of(a)), None)
        source = "org" if own else ("base_model" if inherited else "unknown")
        expected[model_id] = (parent, chain[-1], len(chain) - 1, own or inherited, source)
    return expected


def test_every_model_is_there_once(real_build, raw_rows):
    with warehouse(real_build) as con:
        n, distinct = con.execute(
            "select count(*), count(distinct model_id) from marts.dim_models where snapshot_date = ?", [SNAPSHOT]
        ).fetchone()
    assert n == distinct == len(raw_rows) == 4167


def test_floor_dates_are_flagged(real_build, raw_rows):
    floor = {r["id"] for r in raw_rows if is_floor(r["createdAt"])}
    with warehouse(real_build) as con:
        flagged = {r[0] for r in con.execute(
            "select model_id from marts.dim_models where snapshot_date = ? and created_at_is_floor", [SNAPSHOT]
        ).fetchall()}
    assert flagged == floor
    seconds = sorted(r["createdAt"].second for r in raw_rows if r["id"] in floor)
    assert seconds == [4] * 9 + [5] * 9  # the slice carries both floor values


def test_floor_dates_are_no_2022_releases_and_no_week(real_build, raw_rows):
    with open(SEED_CSV, newline="") as handle:
        provider_of = {seed["org"].lower(): seed["provider"] for seed in csv.DictReader(handle)}

    def provider(row):
        org = row["id"].split("/")[0]
        return provider_of.get(org.lower(), org)

    floor_providers = sorted({provider(r) for r in raw_rows if is_floor(r["createdAt"])})
    expected = {}
    for row in raw_rows:
        if row["createdAt"].year == 2022 and not is_floor(row["createdAt"]) and provider(row) in floor_providers:
            expected[provider(row)] = expected.get(provider(row), 0) + 1
    with warehouse(real_build) as con:
        releases_2022 = dict(con.execute(
            "select provider, n_releases from marts.fct_org_release_growth where snapshot_date = ?"
            " and year = 2022 and n_releases > 0 and provider in (select unnest(?))", [SNAPSHOT, floor_providers]
        ).fetchall())
        floor_week = con.execute(
            "select count(*) from marts.fct_weekly_new_model_rankings where snapshot_date = ?"
            " and week_start = date '2022-02-28'", [SNAPSHOT]
        ).fetchone()[0]
    assert releases_2022 == expected
    # Microsoft's and OpenAI's only 2022 "releases" in the slice are floor rows; Google keeps its
    # real 2022 models (flan-t5, switch) but not the four mt5 at 23:29:05.
    assert {"Google", "Microsoft", "OpenAI"} <= set(floor_providers)
    assert "Microsoft" not in releases_2022 and "OpenAI" not in releases_2022 and releases_2022["Google"] == 6
    # Every model created in the week of 2022-02-28 is a floor row: the week has no ranking.
    assert not any(r["createdAt"].date() >= dt.date(2022, 2, 28) and r["createdAt"].date() < dt.date(2022, 3, 7)
                   and not is_floor(r["createdAt"]) for r in raw_rows)
    assert floor_week == 0


def test_parents_roots_depths_and_labels_match_an_independent_walk(real_build, raw_rows):
    expected = expected_lineage(raw_rows)
    with warehouse(real_build) as con:
        actual = {
            r[0]: r[1:]
            for r in con.execute(
                "select model_id, parent_model_id, root_model_id, lineage_depth, label_country, label_source"
                " from marts.dim_models where snapshot_date = ?", [SNAPSHOT]
            ).fetchall()
        }
    mismatches = {k: (expected[k], actual.get(k)) for k in expected if expected[k] != actual.get(k)}
    assert not mismatches, list(mismatches.items())[:5]
    # The slice is rich in derivatives labelled through their base model.
    sources = [v[4] for v in expected.values()]
    assert sources.count("base_model") > 500 and sources.count("org") > 300


def test_known_models(real_build):
    with warehouse(real_build) as con:
        rows = {
            r[0]: r[1:]
            for r in con.execute(
                "select model_id, org, provider, org_country, label_country, label_source, base_relation"
                " from marts.dim_models where model_id in"
                " ('Qwen/Qwen2.5-7B-Instruct', 'deepseek-ai/DeepSeek-R1-Distill-Qwen-7B',"
                "  'Rakuten/RakutenAI-7B-chat', 'ibm-research/merlinite-7b')"
            ).fetchall()
        }
    assert rows["Qwen/Qwen2.5-7B-Instruct"][:5] == ("Qwen", "Alibaba Qwen", "CN", "CN", "org")
    assert rows["deepseek-ai/DeepSeek-R1-Distill-Qwen-7B"] == ("deepseek-ai", "DeepSeek", "CN", "CN", "org", None)
    # A US org's fine-tune of a Mistral base keeps its own org's country.
    assert rows["ibm-research/merlinite-7b"][2:] == ("US", "US", "org", "finetune")
    # Rakuten (unmapped) chat -> Rakuten base -> mistralai/Mistral-7B-v0.1: labelled FR two hops up.
    assert rows["Rakuten/RakutenAI-7B-chat"] == ("Rakuten", "Rakuten", None, "FR", "base_model", "finetune")


def test_organizations(real_build, raw_rows):
    per_org = {}
    for row in raw_rows:
        org = row["id"].split("/")[0]
        per_org[org.lower()] = per_org.get(org.lower(), 0) + 1
    with warehouse(real_build) as con:
        orgs = dict(con.execute("select lower(org), n_models from marts.dim_organizations").fetchall())
        qwen = con.execute(
            "select provider, country, is_heatmap_tracked from marts.dim_organizations where org = 'Qwen'"
        ).fetchone()
    assert {k: v for k, v in orgs.items() if v} == per_org
    assert qwen == ("Alibaba Qwen", "CN", True)


def test_direct_derivatives_of_popular_bases(real_build, raw_rows):
    bases = ["Qwen/Qwen2.5-7B", "Qwen/Qwen2.5-14B", "meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Meta-Llama-3-8B"]
    expected = {b: {"finetune": 0, "adapter": 0, "quantized": 0, "merge": 0, "direct": 0} for b in bases}
    for row in raw_rows:
        for parent, relation in all_parents(row):
            if parent in expected:
                expected[parent][relation] += 1
                expected[parent]["direct"] += 1
    with warehouse(real_build) as con:
        actual = {
            r[0]: dict(zip(["direct", "finetune", "adapter", "quantized", "merge"], r[1:]))
            for r in con.execute(
                "select base_model_id, n_direct, n_finetune, n_adapter, n_quantized, n_merge"
                " from marts.fct_base_model_derivatives where snapshot_date = ? and base_model_id in (?, ?, ?, ?)",
                [SNAPSHOT, *bases],
            ).fetchall()
        }
    assert actual == expected
    assert expected["Qwen/Qwen2.5-7B"]["direct"] > 20


def test_lineage_closure_is_acyclic_and_bounded(real_build, raw_rows):
    direct_edges = sum(len(all_parents(row)) for row in raw_rows)
    with warehouse(real_build) as con:
        self_ancestors, max_depth, depth_one = con.execute(
            "select count(*) filter (where model_id = ancestor_model_id), max(depth), count(*) filter (where depth = 1)"
            " from marts.fct_model_lineage where snapshot_date = ?", [SNAPSHOT]
        ).fetchone()
    assert self_ancestors == 0 and max_depth <= 10
    assert depth_one == direct_edges


def test_releases_per_provider_and_year(real_build, raw_rows):
    with open(SEED_CSV, newline="") as handle:
        provider_of = {seed["org"].lower(): seed["provider"] for seed in csv.DictReader(handle)}
    expected = {}
    for row in raw_rows:
        if is_floor(row["createdAt"]):
            continue
        provider = provider_of.get(row["id"].split("/")[0].lower())
        if provider in ("Alibaba Qwen", "DeepSeek", "Meta", "Google"):
            key = (provider, row["createdAt"].year)
            expected[key] = expected.get(key, 0) + 1
    with warehouse(real_build) as con:
        actual = {
            (p, y): n
            for p, y, n in con.execute(
                "select provider, year, n_releases from marts.fct_org_release_growth"
                " where snapshot_date = ? and provider in ('Alibaba Qwen', 'DeepSeek', 'Meta', 'Google')"
                " and n_releases > 0", [SNAPSHOT]
            ).fetchall()
        }
        ratio = con.execute(
            "select growth_ratio from marts.fct_org_release_growth"
            " where snapshot_date = ? and provider = 'DeepSeek' and year = 2024", [SNAPSHOT]
        ).fetchone()[0]
    assert actual == expected
    assert ratio == pytest.approx(expected[("DeepSeek", 2024)] / expected[("DeepSeek", 2023)])


def test_weekly_top_ten_by_likes(real_build, real_models_path):
    rows = pq.read_table(real_models_path, columns=["id", "createdAt", "likes"]).to_pylist()
    weeks = {}
    for row in rows:
        if is_floor(row["createdAt"]):
            continue
        day = row["createdAt"].date()
        weeks.setdefault(day - dt.timedelta(days=day.weekday()), []).append((-(row["likes"] or 0), row["id"]))
    chosen = sorted(weeks)[-3:] + [dt.date(2025, 1, 20), dt.date(2022, 2, 28)]
    with warehouse(real_build) as con:
        for week in chosen:
            expected = [model_id for _, model_id in sorted(weeks.get(week, []))[:10]]
            actual = [r[0] for r in con.execute(
                "select model_id from marts.fct_weekly_new_model_rankings where snapshot_date = ?"
                " and metric = 'likes' and week_start = ? order by rank", [SNAPSHOT, week]
            ).fetchall()]
            assert actual == expected, week


def test_download_share_of_new_models(real_build, raw_rows, real_models_path):
    labels = expected_lineage(raw_rows)
    columns = pq.read_table(real_models_path, columns=["id", "downloads"]).to_pydict()
    downloads = dict(zip(columns["id"], columns["downloads"]))
    first_day = dt.date(2026, 6, 5) - dt.timedelta(days=364)
    totals = {}
    for row in raw_rows:
        if first_day <= row["createdAt"].date() <= dt.date(2026, 6, 5):
            country = labels[row["id"]][3] or "unknown"
            totals[country] = totals.get(country, 0) + (downloads[row["id"]] or 0)
    grand = sum(totals.values())
    with warehouse(real_build) as con:
        actual = dict(con.execute(
            "select country, share from marts.fct_country_download_share"
            " where snapshot_date = ? and cohort = 'new_365d'", [SNAPSHOT]
        ).fetchall())
    assert actual == pytest.approx({c: v / grand for c, v in totals.items()}, abs=1e-12)
    assert max(actual, key=actual.get) == "CN"  # the blog's A4 finding holds on this slice


def test_models_that_list_themselves_are_no_derivatives_of_themselves(real_build, raw_rows):
    listing_themselves = {r["id"]: first_parent(r) for r in raw_rows if lists_itself(r)}
    # 5 models name only themselves as base model; one merge lists itself among nine others.
    assert len(listing_themselves) == 6 and sum(p is None for p in listing_themselves.values()) == 5
    n_direct = {}
    for row in raw_rows:
        for parent, _ in all_parents(row):
            if parent in listing_themselves:
                n_direct[parent] = n_direct.get(parent, 0) + 1
    with warehouse(real_build) as con:
        models = {r[0]: r[1:] for r in con.execute(
            "select model_id, parent_model_id, base_relation, root_model_id, lineage_depth from marts.dim_models"
            " where snapshot_date = ? and model_id in (select unnest(?))", [SNAPSHOT, list(listing_themselves)]
        ).fetchall()}
        derivatives = dict(con.execute(
            "select base_model_id, n_direct from marts.fct_base_model_derivatives"
            " where snapshot_date = ? and base_model_id in (select unnest(?))", [SNAPSHOT, list(listing_themselves)]
        ).fetchall())
        self_parents = con.execute(
            "select count(*) from marts.dim_models where lower(parent_model_id) = lower(model_id)"
        ).fetchone()[0]
    for model_id, parent in listing_themselves.items():
        if parent is None:
            assert models[model_id] == (None, None, model_id, 0), model_id
        else:
            assert models[model_id][0] == parent != model_id
    assert derivatives == n_direct and self_parents == 0


def test_new_derivatives_per_month_and_base_country(real_build, raw_rows):
    """A6 from the raw file: models with a parent other than themselves, floor dates excluded,
    by month of creation and the country of their root's org."""
    with open(SEED_CSV, newline="") as handle:
        countries = {seed["org"].lower(): seed["country"] for seed in csv.DictReader(handle)}
    lineage = expected_lineage(raw_rows)
    expected = {}
    for row in raw_rows:
        parent, root = lineage[row["id"]][:2]
        if parent is None or is_floor(row["createdAt"]):
            continue
        month = row["createdAt"].date().replace(day=1)
        country = countries.get(root.split("/")[0].lower(), "unknown") if "/" in root else "unknown"
        expected[(month, country)] = expected.get((month, country), 0) + 1
    with warehouse(real_build) as con:
        actual = {(m, c): n for m, c, n in con.execute(
            "select month, base_country, n_new_derivatives from marts.fct_derivative_share_by_base_country"
            " where snapshot_date = ?", [SNAPSHOT]
        ).fetchall()}
    assert actual == expected
    assert sum(expected.values()) == 2581  # 2,586 models list a base model; 5 list only themselves
