"""The synthetic sample: deterministic, in the hub-stats schema, and shaped like the Hub."""

import collections

import pyarrow.compute as pc

from orchestration.lib import sample
from orchestration.lib.raw_schema import CREATED_AT_FLOOR, check_schema


def test_same_parameters_give_the_same_table():
    assert sample.generate(300, "2026-01-20").equals(sample.generate(300, "2026-01-20"))
    assert not sample.generate(300, "2026-01-20").equals(sample.generate(300, "2026-01-20", seed=1))


def test_shape_of_the_sample():
    table = sample.generate(5000, "2026-01-20")
    rows = table.to_pylist()
    assert check_schema(table.schema) == []
    assert len({r["id"] for r in rows}) == 5000

    created = {r["id"]: r["createdAt"] for r in rows}
    floor = [r for r in rows if str(r["createdAt"]) == CREATED_AT_FLOOR]
    assert 0 < len(floor) < 0.2 * len(rows)
    assert max(created.values()).date().isoformat() <= "2026-01-20"

    with_base = [r for r in rows if r["baseModels"]]
    relations = collections.Counter(r["baseModels"]["relation"] for r in with_base)
    shares = {k: v / len(with_base) for k, v in relations.items()}
    assert abs(shares["adapter"] - 0.43) < 0.05 and abs(shares["finetune"] - 0.36) < 0.05
    assert abs(shares["quantized"] - 0.19) < 0.05 and 0 < shares["merge"] < 0.06
    merges = [r for r in with_base if r["baseModels"]["relation"] == "merge"]
    assert any(len(r["baseModels"]["models"]) >= 2 for r in merges)

    # Parents exist in the snapshot and are never younger than their children.
    for r in with_base:
        for parent in r["baseModels"]["models"]:
            assert created[parent["id"]] <= r["createdAt"]
    # Chains go several levels deep.
    first_parent = {r["id"]: r["baseModels"]["models"][0]["id"] for r in with_base}
    def depth(model_id):
        hops = 0
        while model_id in first_parent:
            model_id, hops = first_parent[model_id], hops + 1
        return hops
    assert max(depth(m) for m in first_parent) >= 3

    # Some derivatives only carry typed base_model tags (the fallback path).
    tag_only = [r for r in rows if not r["baseModels"] and any(t.startswith("base_model:") for t in r["tags"])]
    assert tag_only
    # Downloads are heavy-tailed: most models have none, a few have very many.
    downloads = table["downloads"]
    assert pc.sum(pc.equal(downloads, 0)).as_py() > 0.4 * len(rows)
    assert pc.max(downloads).as_py() > 100 * max(1, pc.approximate_median(downloads).as_py())
    orgs = collections.Counter(r["id"].split("/")[0] for r in rows)
    assert {"Qwen", "deepseek-ai", "meta-llama", "mistralai"} <= set(orgs)
    assert sum(1 for org in orgs if org.startswith("user-")) > 50
