"""A build of the real hub-stats slice (4,167 models), checked against values computed here
independently from the raw Parquet file and the seed CSV, in plain Python."""

import csv
import re

import pyarrow.parquet as pq
import pytest

from tests.conftest import SEED_CSV, run_observatory, warehouse

SNAPSHOT = "2026-06-05"
TYPED_TAG = re.compile(r"^base_model:(adapter|finetune|quantized|merge):(.+)$")


@pytest.fixture(scope="module")
def real_build(real_models_path, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("real") / "data"
    result = run_observatory(data_dir, "build", "--source", "file", "--file", str(real_models_path),
                             "--snapshot-date", SNAPSHOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return data_dir


@pytest.fixture(scope="module")
def raw_rows(real_models_path):
    return pq.read_table(real_models_path, columns=["id", "createdAt", "tags", "baseModels"]).to_pylist()


def first_parent(row):
    base = row["baseModels"]
    if base and base["models"]:
        return next((m["id"] for m in base["models"] if m["id"] and m["id"].strip()), None)
    for tag in row["tags"] or []:
        match = TYPED_TAG.match(tag)
        if match:
            return match.group(2)
    return None


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
    floor = sum(1 for r in raw_rows if str(r["createdAt"]) == "2022-03-02 23:29:04")
    with warehouse(real_build) as con:
        flagged = con.execute("select count(*) from marts.dim_models where created_at_is_floor").fetchone()[0]
    assert flagged == floor == 9


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
