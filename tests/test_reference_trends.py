"""The history reference (tests/reference_trends.py) on hand-computed examples, before anything is
compared with it."""

import datetime as dt

import pytest

from tests.reference import Seed, Snapshot
from tests.reference_trends import (
    Series,
    Stored,
    baselines,
    concentration,
    cumulative_at,
    is_stalled,
    period_value,
    size_class,
)

D = dt.date.fromisoformat


def test_concentration_of_three_units_one_of_them_empty():
    # Shares 3/4 and 1/4 (the unit at 0 is not a unit): HHI 9/16 + 1/16; Gini |3-1| * 2 / (2 * 2^2 * 2).
    result = concentration({"a": 3, "b": 1, "c": 0})
    assert result == {"n_units": 2, "hhi": 0.625, "gini": 0.25, "top1_share": 0.75, "top10_share": 1.0}
    assert concentration({"a": 0}) is None
    assert concentration({"a": 5})["gini"] == 0 and concentration({"a": 5})["hhi"] == 1
    # Twelve equal units: top10 = 10/12, HHI = 1/12, Gini 0.
    equal = concentration({str(i): 2 for i in range(12)})
    assert equal["top10_share"] == pytest.approx(10 / 12) and equal["hhi"] == pytest.approx(1 / 12)
    assert equal["gini"] == 0
    # Gini by the definition's double sum on uneven values.
    values = {"a": 1, "b": 2, "c": 7}
    double_sum = sum(abs(x - y) for x in values.values() for y in values.values())
    assert concentration(values)["gini"] == pytest.approx(double_sum / (2 * 9 * (10 / 3)))


def test_cumulative_downloads_at_a_checkpoint():
    points = {D("2025-03-01"): 0, D("2025-03-11"): 100, D("2025-04-30"): 400}
    as_of = D("2025-04-30")
    assert cumulative_at(points, D("2025-03-08"), as_of) == 70  # interpolated 7/10 of the way
    assert cumulative_at(points, D("2025-03-11"), as_of) == 100  # a point on the day
    assert cumulative_at(points, D("2025-03-31"), as_of) is None  # its points are 50 days apart
    assert cumulative_at(points, D("2025-05-01"), D("2025-06-01")) is None  # no point after it
    assert cumulative_at(points, D("2025-03-08"), D("2025-03-07")) is None  # after the snapshot
    assert cumulative_at({D("2025-03-01"): 0, D("2025-04-05"): 35}, D("2025-03-31"), as_of) == 30  # 35 days: kept


def test_baselines_take_the_tenth_largest_then_a_running_max():
    values = {7: list(range(1, 13)), 14: [5.0, 1.0], 30: [2.0], 60: []}
    # 10th largest of 1..12 is 3; at 14 the smallest of two (1) is raised to 3; at 30, 2 -> 3.
    assert baselines(values) == {7: 3, 14: 3, 30: 3}
    assert baselines({7: [4.0], 14: [9.0, 8.0]}) == {7: 4.0, 14: 8.0}


def test_stall_rule_and_period_values():
    assert is_stalled(24, [100, 100, 0]) and not is_stalled(25, [100, 100, 0])
    assert not is_stalled(0, [])  # nothing to compare with
    # Only the 8 latest preceding periods count: median of eight 10s is 10.
    assert not is_stalled(3, [1000] * 5 + [10] * 8) and is_stalled(2, [1000] * 5 + [10] * 8)
    prev = D("2026-01-10")
    assert period_value(15, 10, True, None, prev) == 5
    assert period_value(9, 10, True, None, prev) is None  # the counter went backwards
    assert period_value(9, None, True, None, prev) is None
    assert period_value(7, None, False, dt.datetime(2026, 1, 11, 1), prev) == 7  # created after the previous date
    assert period_value(7, None, False, dt.datetime(2026, 1, 10, 23), prev) is None  # created that day, absent
    assert [size_class(v) for v in (None, 999_999_999, 1e9, 9.99e9, 10e9, 50e9, 99e9, 100e9)] == [
        None, "under_1B", "1-9B", "1-9B", "10-49B", "50-99B", "50-99B", "100B+"]


def _row(object_id, model_id, all_time, created="2025-06-01", downloads=0, parent=None, relation="finetune",
         pipeline="text-generation", params=7_000_000_000, library="transformers", tags=()):
    return {"_id": object_id, "id": model_id, "author": model_id.split("/")[0],
            "createdAt": dt.datetime.fromisoformat(created), "likes": 0, "downloads": downloads,
            "downloadsAllTime": all_time, "tags": list(tags),
            "baseModels": {"relation": relation, "models": [{"_id": "", "id": parent}]} if parent else None,
            "pipeline_tag": pipeline, "library_name": library, "safetensors": {"total": params} if params else None}


def _series(days: dict[str, list[dict]]) -> Series:
    seed = Seed([{"org": "Qwen", "provider": "Alibaba Qwen", "country": "CN", "org_type": "lab",
                  "is_heatmap_tracked": "true"},
                 {"org": "Wan-AI", "provider": "Alibaba Qwen", "country": "CN", "org_type": "lab",
                  "is_heatmap_tracked": "true"},
                 {"org": "google", "provider": "google", "country": "US", "org_type": "lab",
                  "is_heatmap_tracked": "true"}])
    return Series([Stored(D(d), Snapshot(rows, D(d), seed)) for d, rows in sorted(days.items())], seed)


def test_a_small_series_with_a_rename_a_dip_a_stall_and_a_gap():
    series = _series({
        "2026-01-01": [_row("a", "Qwen/A", 100), _row("b", "google/B", 50), _row("c", "user/c", 10)],
        # a renamed (same _id); c goes backwards; d is new (created after 01-01) and counts from 0.
        "2026-01-02": [_row("a", "Qwen/A-2", 160), _row("b", "google/B", 70), _row("c", "user/c", 8),
                       _row("d", "Wan-AI/D", 30, created="2026-01-02T05:00:00")],
        # Stalled: 1 download in a day against a median of 100 per day.
        "2026-01-03": [_row("a", "Qwen/A-2", 160), _row("b", "google/B", 71), _row("c", "user/c", 8),
                       _row("d", "Wan-AI/D", 30)],
        # Measured from 01-02 (two days): e is older than 01-02 but absent then: no period downloads.
        "2026-01-04": [_row("a", "Qwen/A-2", 260), _row("b", "google/B", 90, created="2024-06-01"), _row("c", "user/c", 9),
                       _row("d", "Wan-AI/D", 30), _row("e", "user/e", 5, created="2025-12-01")],
        # 36 days after 01-04: no period downloads.
        "2026-02-09": [_row("a", "Qwen/A-2", 900)],
    })
    periods = series.periods
    assert [periods[D(d)].stalled for d in ("2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04", "2026-02-09")] == [
        False, False, True, False, False]
    assert periods[D("2026-01-04")].prev == D("2026-01-02") and periods[D("2026-02-09")].prev == D("2026-01-04")
    assert series.model_period_downloads(D("2026-01-01")) == {}
    jan2 = series.model_period_downloads(D("2026-01-02"))
    assert {m: r["downloads"] for m, r in jan2.items()} == {"Qwen/A-2": 60, "google/B": 20, "Wan-AI/D": 30}
    assert jan2["Qwen/A-2"]["model_key"] == "a" and jan2["Qwen/A-2"]["prev_snapshot_date"] == D("2026-01-01")
    assert series.model_period_downloads(D("2026-01-03")) == {}
    jan4 = series.model_period_downloads(D("2026-01-04"))
    assert {m: (r["downloads"], r["days"], r["downloads_per_day"]) for m, r in jan4.items()} == {
        "Qwen/A-2": (100, 2, 50.0), "google/B": (20, 2, 10.0), "user/c": (1, 2, 0.5)}
    assert series.model_period_downloads(D("2026-02-09")) == {}

    providers = series.provider_period_downloads(D("2026-01-02"))
    assert providers == {
        "Alibaba Qwen": {"country": "CN", "downloads": 90, "downloads_per_day": 90.0, "share": 90 / 110, "rank": 1},
        "google": {"country": "US", "downloads": 20, "downloads_per_day": 20.0, "share": 20 / 110, "rank": 2}}
    shares = series.country_period_download_share(D("2026-01-04"))
    assert shares[("all", "CN")] == {"downloads": 100, "share": 100 / 121}
    assert shares[("all", "unknown")]["downloads"] == 1 and ("new_365d", "US") not in shares

    conc = series.concentration(D("2026-01-04"))
    assert conc[("period_downloads", "country")]["n_units"] == 2  # unknown is not a unit
    assert conc[("period_downloads", "org")]["hhi"] == pytest.approx((100 / 121) ** 2 + (20 / 121) ** 2 + (1 / 121) ** 2)
    assert ("period_downloads", "org") not in series.concentration(D("2026-01-03"))
    assert ("downloads_30d", "org") not in conc  # every downloads_30d is 0 here


def test_families_credit_the_root():
    series = _series({"2026-01-01": [
        _row("r", "Qwen/Base", 0, downloads=10), _row("f", "user/ft", 0, downloads=30, parent="Qwen/Base"),
        _row("g", "user/ft2", 0, downloads=0, parent="user/ft"), _row("x", "user/orphan", 0, parent="gone/Base"),
        _row("y", "user/alone", 0, downloads=4)]})
    families = series.family_downloads(D("2026-01-01"))
    assert families["Qwen/Base"] == {"root_org": "Qwen", "root_country": "CN", "n_models": 3, "downloads_30d": 40,
                                     "downloads_30d_root": 10, "derivative_share": 0.75}
    assert families["gone/Base"] == {"root_org": "gone", "root_country": "unknown", "n_models": 1, "downloads_30d": 0,
                                     "downloads_30d_root": 0, "derivative_share": None}
    assert set(families) == {"Qwen/Base", "gone/Base"}


def test_relative_adoption_on_a_hand_series():
    big = 20_000_000_000
    days = {
        "2026-01-01": [_row("a", "Qwen/A", 50, created="2025-12-25T10:00:00"),
                       _row("b", "google/B", 0, created="2026-01-01T08:00:00", params=big),
                       _row("q", "user/q", 10, created="2025-12-25", parent="Qwen/A", relation="quantized"),
                       _row("g", "user/g", 10, created="2025-12-25", library="gguf"),
                       _row("m", "user/m", 10, created="2025-12-25", tags=("mlx",)),
                       _row("o", "user/o", 10, created="2025-01-25"),
                       _row("n", "user/n", 10, created="2025-12-25", params=None),
                       _row("p", "user/p", 10, created="2025-12-25", pipeline="text-to-image")],
        "2026-01-11": [_row("a", "Qwen/A-new", 150, created="2025-12-25T10:00:00"),
                       _row("b", "google/B", 40, created="2026-01-01T08:00:00", params=big)],
    }
    # Outside the universe (quantized, gguf, mlx, too old, no size, another pipeline): seen on both days.
    days["2026-01-11"] += [{**row, "downloadsAllTime": 90} for row in days["2026-01-01"][2:]]
    series = _series(days)
    # As of 01-01, A's day 7 is the snapshot's own point; B's is after the snapshot.
    assert series.relative_adoption(D("2026-01-01")) == {
        ("Qwen/A", 7): {"size_class": "1-9B", "cumulative_downloads": 50.0, "baseline": 50.0, "ram": 1.0}}
    ram = series.relative_adoption(D("2026-01-11"))
    # A (renamed; same _id): points 12-25 -> 0, 01-01 -> 50, 01-11 -> 150; day 7 = 01-01 exactly, day 14 =
    # 01-08 = 50 + 100 * 7/10. B: its creation day has a snapshot (0), day 7 = 01-08 -> 28 by interpolation.
    assert ram == {
        ("Qwen/A-new", 7): {"size_class": "1-9B", "cumulative_downloads": 50.0, "baseline": 50.0, "ram": 1.0},
        ("Qwen/A-new", 14): {"size_class": "1-9B", "cumulative_downloads": 120.0, "baseline": 120.0, "ram": 1.0},
        ("google/B", 7): {"size_class": "10-49B", "cumulative_downloads": 28.0, "baseline": 28.0, "ram": 1.0},
    }
