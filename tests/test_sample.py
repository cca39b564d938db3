"""The synthetic sample: deterministic, in the hub-stats schema, and shaped like the Hub."""

import collections

import pyarrow.compute as pc

from orchestration.lib import sample
from orchestration.lib.raw_schema import check_schema, is_created_at_floor


def test_same_parameters_give_the_same_table():
    assert sample.generate(300, "2026-01-20").equals(sample.generate(300, "2026-01-20"))
    assert not sample.generate(300, "2026-01-20").equals(sample.generate(300, "2026-01-20", seed=1))


def test_shape_of_the_sample():
    table = sample.generate(5000, "2026-01-20")
    rows = table.to_pylist()
    assert check_schema(table.schema) == []
    assert len({r["id"] for r in rows}) == 5000

    created = {r["id"]: r["createdAt"] for r in rows}
    floor = [r for r in rows if is_created_at_floor(r["createdAt"])]
    assert 0 < len(floor) < 0.2 * len(rows)
    # Both values real repos carry; nothing older than the floor.
    assert {str(r["createdAt"]) for r in floor} == {"2022-03-02 23:29:04", "2022-03-02 23:29:05"}
    assert min(created.values()) == min(r["createdAt"] for r in floor)
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


def test_a_daily_series_grows_like_the_hub():
    # One universe seen on two consecutive days: yesterday's models are all there today (by _id), with
    # counts that grow (but for the few that dip), and new models appear.
    day1 = {r["_id"]: r for r in sample.generate(4000, "2026-01-19", universe_date="2026-01-20").to_pylist()}
    day2 = {r["_id"]: r for r in sample.generate(4000, "2026-01-20", universe_date="2026-01-20").to_pylist()}
    assert set(day1) < set(day2)
    assert all(day2[i]["likes"] >= r["likes"] for i, r in day1.items())
    shrunk = [i for i, r in day1.items() if day2[i]["downloadsAllTime"] < r["downloadsAllTime"]]
    assert len(shrunk) == 0  # the universe date is after a dip day: yesterday's dips are caught up
    assert max(r["createdAt"] for r in day1.values()).date().isoformat() <= "2026-01-19"
    # Every parent of a model in a day's snapshot is in that snapshot too.
    for day in (day1, day2):
        ids = {r["id"] for r in day.values()}
        parents = {m["id"] for r in day.values() if r["baseModels"] for m in r["baseModels"]["models"]}
        assert parents <= ids


def _series(days, rows=3000, universe="2026-01-20"):
    return {d: {r["_id"]: r for r in sample.generate(rows, d, universe_date=universe).to_pylist()} for d in days}


def test_a_series_has_renames_dips_a_stall_and_downloads_growing_with_the_30_day_downloads():
    days = [f"2026-01-{d:02d}" for d in range(10, 21)]
    series = _series(days)
    renamed, dipped, grown, pace = set(), 0, {}, {}
    for before, after in zip(days, days[1:]):
        old, new = series[before], series[after]
        assert set(old) <= set(new)  # _id is stable; nothing disappears
        renamed |= {(old[k]["id"], new[k]["id"]) for k in old if old[k]["id"] != new[k]["id"]}
        dipped += sum(new[k]["downloadsAllTime"] < old[k]["downloadsAllTime"] for k in old)
        grown[after] = sum(new[k]["downloadsAllTime"] - old[k]["downloadsAllTime"] for k in old)
        pace[after] = sum(r["downloads"] for r in new.values()) / 30
        # Models created since the day before count from 0 up to today's downloadsAllTime.
        assert all(new[k]["createdAt"].date().isoformat() > before[:10] or new[k]["createdAt"].hour >= 12
                   for k in set(new) - set(old))
    assert renamed and all(new_id + "-preview" == old_id for old_id, new_id in renamed)
    assert 0 < dipped < 0.01 * 3000 * len(days)
    # 2026-01-17 (3 days before the universe date) is a Hub-wide stall; the next day catches up.
    assert all(series["2026-01-17"][k]["downloadsAllTime"] == series["2026-01-16"][k]["downloadsAllTime"]
               for k in series["2026-01-16"])
    assert grown["2026-01-17"] == 0 and grown["2026-01-18"] > 1.5 * grown["2026-01-16"]
    # Outside the stall, the Hub grows by at least the 30-day downloads' daily pace, and not wildly more.
    for day in ("2026-01-12", "2026-01-15", "2026-01-20"):
        assert pace[day] <= grown[day] < 4 * pace[day]
    # Each model's downloadsAllTime grows by at least its 30-day downloads' daily pace (dips aside).
    old, new = series["2026-01-19"], series["2026-01-20"]
    slow = [k for k in old if 0 <= new[k]["downloadsAllTime"] - old[k]["downloadsAllTime"] < new[k]["downloads"] / 30 - 1]
    assert not slow
    # The last day of the series is the universe as built alone (what `observatory build` shows).
    assert sample.generate(3000, "2026-01-20").to_pylist() == list(series["2026-01-20"].values())


def test_the_sample_source_offers_the_days_of_one_universe(capsys):
    from orchestration.lib.sources import SnapshotRequest, get_source
    from orchestration.settings import DEFAULT_SAMPLE_DATE

    source = get_source("sample")
    assert source.history
    request = SnapshotRequest(source="sample", snapshot_date="", sample_rows=300)
    assert source.dates(request, "2026-01-14", "2026-01-16") == ["2026-01-14", "2026-01-15", "2026-01-16"]
    assert source.dates(request, "2026-01-19", "2026-02-02") == ["2026-01-19", DEFAULT_SAMPLE_DATE]
    assert "later dates are left out" in capsys.readouterr().out
    ids = [source.identity(SnapshotRequest(source="sample", snapshot_date=d, sample_rows=300))
           for d in ("2026-01-14", "2026-01-20", "2026-02-01")]
    assert [i["universe_date"] for i in ids] == ["2026-01-20", "2026-01-20", "2026-02-01"]


def test_written_file_is_the_generated_table(tmp_path):
    import pyarrow.parquet as pq

    path = sample.write_parquet(tmp_path / "s.parquet", 500, "2026-01-20", seed=3)
    assert pq.read_table(path).cast(sample.SCHEMA).equals(sample.generate(500, "2026-01-20", seed=3))
    tags_per_model = [len(t) for t in pq.read_table(path, columns=["tags"])["tags"].to_pylist()]
    assert 10 <= sum(tags_per_model) / len(tags_per_model) <= 20
