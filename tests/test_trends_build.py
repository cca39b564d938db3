"""The trend marts end to end: three hand-made weekly snapshots built one after the other through the
CLI, each reading the previous one from the lake. Between them a repo is renamed (same _id), a
counter goes backwards, a model is created, and one created long before shows up. Every expected
number below is worked out by hand from the rows written here."""

import datetime as dt

import pytest

from tests.conftest import run_observatory, warehouse
from tests.snapshot_fixture import model, write_fixture
from tests.test_analyses import ANALYSES

DATES = ("2026-01-01", "2026-01-08", "2026-01-15")


def _model(object_id, model_id, created, all_time, downloads_30d, **kw):
    row = model(model_id, created, downloads=downloads_30d, **kw)
    return {**row, "_id": object_id, "downloadsAllTime": all_time}


def _snapshot(deepseek, alice_id, alice, qwen, llama, bob=None, carol=None):
    rows = [
        _model("o1", "deepseek-ai/DeepSeek-V3", dt.datetime(2024, 12, 26), deepseek, 50),
        _model("o2", alice_id, dt.datetime(2025, 2, 1), alice, 30, relation="finetune",
               parents=["deepseek-ai/DeepSeek-V3"]),
        _model("o3", "Qwen/Qwen3-8B", dt.datetime(2025, 4, 29), qwen, 20),
        _model("o4", "meta-llama/Llama-3.1-8B", dt.datetime(2024, 7, 23), llama, 10),
    ]
    if bob is not None:  # created 2026-01-05: between the first and second snapshot
        rows.append(_model("o5", "bob/new", dt.datetime(2026, 1, 5), bob, 5))
    if carol is not None:  # created 2025-06-01, yet absent from the first snapshot
        rows.append(_model("o6", "carol/hidden", dt.datetime(2025, 6, 1), carol, 0))
    return rows


# Two old repos deleted after the first snapshot keep the row count steady (no volume-drift warning).
DELETED = [_model(f"o9{i}", f"zed/deleted-{i}", dt.datetime(2022, 3, 2, 23, 29, 4), 0, 0) for i in (1, 2)]
SNAPSHOTS = (
    _snapshot(1000, "alice/v3-sft", 100, 500, 200) + DELETED,
    _snapshot(1700, "alice/v3-sft", 240, 400, 200, bob=56, carol=90),  # Qwen's counter goes backwards
    _snapshot(2000, "alice/v3-sft-renamed", 310, 1100, 480, bob=70, carol=125),  # alice renamed, same _id
)


@pytest.fixture(scope="session")
def trends_build(tmp_path_factory):
    root = tmp_path_factory.mktemp("trends")
    data_dir = root / "data"
    for date, rows in zip(DATES, SNAPSHOTS):
        path = write_fixture(root / f"models-{date}.parquet", rows)
        result = run_observatory(data_dir, "build", "--source", "file", "--file", str(path), "--snapshot-date", date)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert "Checks:" in result.stdout
        passed, total = result.stdout.split("Checks: ")[1].split(" passed")[0].split(" of ")
        assert passed == total, result.stdout
    return data_dir


def _rows(data_dir, sql):
    with warehouse(data_dir) as con:
        return con.execute(sql).fetchall()


def _d(text):
    return dt.date.fromisoformat(text)


def test_each_snapshot_measures_from_the_one_before(trends_build):
    rows = _rows(trends_build, "select snapshot_date, prev_snapshot_date, hub_period_downloads_per_day, "
                               "stall_baseline_per_day, is_stalled from marts.dim_snapshots order by 1")
    # 2026-01-08: 700 + 140 + 56 = 896 in 7 days; 2026-01-15: 300 + 70 + 700 + 280 + 14 + 35 = 1399.
    assert rows == [
        (_d(DATES[0]), None, None, None, False),
        (_d(DATES[1]), _d(DATES[0]), 128.0, None, False),
        (_d(DATES[2]), _d(DATES[1]), pytest.approx(1399 / 7), 128.0, False),
    ]


def test_period_downloads_follow_the_rename_and_skip_what_is_unknown(trends_build):
    rows = _rows(trends_build, "select snapshot_date, model_id, model_key, prev_snapshot_date, days, downloads, "
                               "downloads_per_day from marts.fct_model_period_downloads order by 1, 2")
    second, third = _d(DATES[1]), _d(DATES[2])
    assert rows == [
        # Qwen went backwards (null), Llama did not move (0), carol was created before 2026-01-01: no rows.
        (second, "alice/v3-sft", "o2", _d(DATES[0]), 7, 140, 20.0),
        (second, "bob/new", "o5", _d(DATES[0]), 7, 56, 8.0),
        (second, "deepseek-ai/DeepSeek-V3", "o1", _d(DATES[0]), 7, 700, 100.0),
        (third, "Qwen/Qwen3-8B", "o3", second, 7, 700, 100.0),
        (third, "alice/v3-sft-renamed", "o2", second, 7, 70, 10.0),
        (third, "bob/new", "o5", second, 7, 14, 2.0),
        (third, "carol/hidden", "o6", second, 7, 35, 5.0),
        (third, "deepseek-ai/DeepSeek-V3", "o1", second, 7, 300, pytest.approx(300 / 7)),
        (third, "meta-llama/Llama-3.1-8B", "o4", second, 7, 280, 40.0),
    ]


def test_providers_and_countries_split_the_period_downloads(trends_build):
    providers = _rows(trends_build, "select provider, country, downloads, share, rank from "
                                    f"marts.fct_provider_period_downloads where snapshot_date = '{DATES[2]}' order by rank")
    assert providers == [
        ("Alibaba Qwen", "CN", 700, pytest.approx(700 / 1399), 1),
        ("DeepSeek", "CN", 300, pytest.approx(300 / 1399), 2),
        ("Meta", "US", 280, pytest.approx(280 / 1399), 3),
        ("alice", None, 70, pytest.approx(70 / 1399), 4),
        ("carol", None, 35, pytest.approx(35 / 1399), 5),
        ("bob", None, 14, pytest.approx(14 / 1399), 6),
    ]
    countries = _rows(trends_build, "select cohort, country, downloads, share from "
                                    f"marts.fct_country_period_download_share where snapshot_date = '{DATES[2]}' order by 1, 2")
    # alice's fine-tune is labelled CN through its base; new_365d: created from 2025-01-16 (alice, Qwen, bob, carol).
    assert countries == [
        ("all", "CN", 1070, pytest.approx(1070 / 1399)),
        ("all", "US", 280, pytest.approx(280 / 1399)),
        ("all", "unknown", 49, pytest.approx(49 / 1399)),
        ("new_365d", "CN", 770, pytest.approx(770 / 819)),
        ("new_365d", "unknown", 49, pytest.approx(49 / 819)),
    ]
    first = f"where snapshot_date = '{DATES[0]}'"
    assert _rows(trends_build, f"select count(*) from marts.fct_provider_period_downloads {first}") == [(0,)]


def _concentration(values):
    """hhi, gini (pairwise definition), top1 and top10 shares of the positive values, computed plainly."""
    xs = [x for x in values if x > 0]
    n, total = len(xs), sum(xs)
    gini = sum(abs(a - b) for a in xs for b in xs) / (2 * n * n * (total / n))
    shares = sorted((x / total for x in xs), reverse=True)
    return n, sum(s * s for s in shares), gini, shares[0], sum(shares[:10])


def test_concentration_matches_a_plain_computation(trends_build):
    rows = {
        (measure, unit): values
        for measure, unit, *values in _rows(
            trends_build, "select measure, unit, n_units, hhi, gini, top1_share, top10_share "
                          f"from marts.fct_concentration where snapshot_date = '{DATES[2]}'")
    }
    expected = {
        ("period_downloads", "provider"): _concentration([700, 300, 280, 70, 35, 14]),
        ("period_downloads", "country"): _concentration([1070, 280]),
        ("downloads_30d", "org"): _concentration([50, 30, 20, 10, 5, 0]),
        ("downloads_30d", "country"): _concentration([50 + 30 + 20, 10]),
        ("releases_365d", "org"): _concentration([1, 1, 1, 1]),  # alice, Qwen, bob, carol
        ("releases_365d", "country"): _concentration([2]),  # CN: alice (through its base) and Qwen
    }
    for key, values in expected.items():
        assert rows[key] == pytest.approx(list(values)), key
    assert len(rows) == 9


def test_a_family_credits_the_root(trends_build):
    assert _rows(trends_build, "select snapshot_date, root_model_id, root_org, root_country, n_models, downloads_30d, "
                               "downloads_30d_root, derivative_share from marts.fct_family_downloads order by 1") == [
        (_d(date), "deepseek-ai/DeepSeek-V3", "deepseek-ai", "CN", 2, 80, 50, 0.375) for date in DATES
    ]


def test_the_trend_analyses_run(trends_build):
    results = {}
    with warehouse(trends_build) as con:
        for path in sorted(ANALYSES.glob("t*.sql")):
            results[path.name[:2]] = con.execute(path.read_text()).fetchall()
    assert sorted(results) == ["t1", "t2", "t3", "t4", "t5"]  # t5 (relative adoption): its rows are tested elsewhere
    assert [row[2] for row in results["t1"]][:3] == ["Alibaba Qwen", "DeepSeek", "Meta"]
    assert len(results["t2"]) == 3 + 2 + 3  # downloads_30d and releases_365d at each date, period_downloads twice
    assert results["t3"] == [("deepseek-ai/DeepSeek-V3", "deepseek-ai", "CN", 2, 80, 50, 0.375)]
    assert [(row[0], row[1], row[2]) for row in results["t4"]] == [
        (_d(DATES[1]), "CN", 140), (_d(DATES[1]), "unknown", 56),
        (_d(DATES[2]), "CN", 770), (_d(DATES[2]), "unknown", 49),
    ]
