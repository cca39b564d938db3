"""The trend marts against the plain-Python reference (tests/reference_trends.py), at every date of a
realistic synthetic series: a 36-day gap, a Hub-wide stall and its catch-up, renamed repos, counters
going backwards, models created between snapshots. Built once, through `observatory backfill`."""

import datetime as dt
import math

import pytest

from orchestration.lib import sample
from tests.conftest import run_observatory, warehouse
from tests.reference_trends import CHECKPOINTS, Series

UNIVERSE = "2026-01-20"
# 12-10 is 36 days before 01-15 (no period downloads); 01-17 is the sample's stalled day (U - 3);
# 01-18 measures from 01-16, 01-20 from 01-18.
DATES = ["2025-12-10", "2026-01-15", "2026-01-16", "2026-01-17", "2026-01-18", "2026-01-20"]
ROWS = 1500  # enough for adoption checkpoints to fall on the stalled day
REL = 1e-9


@pytest.fixture(scope="session")
def trend_series(tmp_path_factory):
    root = tmp_path_factory.mktemp("trends")
    folder = root / "series"
    folder.mkdir()
    files = {}
    for date in DATES:
        files[date] = sample.write_parquet(folder / f"models-{date}.parquet", ROWS, date, universe_date=UNIVERSE)
    data_dir = root / "data"
    # Two halves, each within run_observatory's time limit on a loaded machine; the second resumes
    # the same backfill (the first half's dates are skipped as already built).
    for last in (DATES[2], DATES[-1]):
        result = run_observatory(data_dir, "backfill", "--source", "dir", "--dir", str(folder),
                                 "--from", DATES[0], "--to", last)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return data_dir, Series.read(files)


def test_the_series_has_what_the_marts_must_survive(trend_series):
    _, series = trend_series
    days = [s.date for s in series.stored]
    renamed = backwards = created_between = 0
    for before, after in zip(series.stored, series.stored[1:]):
        old, new = before.keyed(True), after.keyed(True)
        renamed += sum(1 for k, row in new.items() if k in old and old[k]["id"] != row["id"])
        backwards += sum(1 for k, row in new.items() if k in old and row["downloadsAllTime"] < old[k]["downloadsAllTime"])
        created_between += len(set(new) - set(old))
    assert renamed and backwards and created_between
    assert (days[1] - days[0]).days == 36
    assert [series.periods[d].stalled for d in days] == [False, False, False, True, False, False]
    assert series.periods[days[4]].prev == days[2]
    assert all(series.relative_adoption(d) for d in days[1:])  # adoption rows at every date but the first
    # Models whose checkpoint is the stalled day itself: the stalled snapshot is not one of their points.
    stalled = series.at(days[3])
    assert any(Series.in_adoption_universe(stalled.snapshot, row)
               and row["createdAt"].date() + dt.timedelta(days=d) == days[3]
               for row in stalled.snapshot.rows for d in CHECKPOINTS)


def _catalog(data_dir) -> set[str]:
    con = warehouse(data_dir)
    try:
        return {name for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'").fetchall()}
    finally:
        con.close()


def _rows(data_dir, mart: str, date: dt.date) -> list[dict]:
    con = warehouse(data_dir)
    try:
        cursor = con.execute(f"select * from marts.{mart} where snapshot_date = ?", [date])
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]
    finally:
        con.close()


def _same(expected, got) -> bool:
    if isinstance(expected, float) or isinstance(got, float):
        if expected is None or got is None:
            return expected is got
        return math.isclose(float(expected), float(got), rel_tol=REL, abs_tol=1e-12)
    return expected == got


def _differences(mart: str, date: dt.date, expected: dict, got: dict, columns: list[str]) -> list[str]:
    out = []
    for key in sorted(set(expected) | set(got), key=str):
        if key not in got:
            out.append(f"{mart} {date} {key}: missing, expected {expected[key]}")
        elif key not in expected:
            out.append(f"{mart} {date} {key}: unexpected row {got[key]}")
        else:
            for column in columns:
                if not _same(expected[key][column], got[key][column]):
                    out.append(f"{mart} {date} {key} {column}: expected {expected[key][column]!r}, "
                               f"got {got[key][column]!r}")
    return out


# mart -> (key columns after snapshot_date, compared columns, reference method)
MARTS = {
    "fct_model_period_downloads": (["model_id"], ["model_key", "prev_snapshot_date", "days", "downloads",
                                                  "downloads_per_day"], "model_period_downloads"),
    "fct_provider_period_downloads": (["provider"], ["country", "downloads", "downloads_per_day", "share", "rank"],
                                      "provider_period_downloads"),
    "fct_country_period_download_share": (["cohort", "country"], ["downloads", "share"],
                                          "country_period_download_share"),
    "fct_concentration": (["measure", "unit"], ["n_units", "hhi", "gini", "top1_share", "top10_share"],
                          "concentration"),
    "fct_family_downloads": (["root_model_id"], ["root_org", "root_country", "n_models", "downloads_30d",
                                                 "downloads_30d_root", "derivative_share"], "family_downloads"),
    "fct_relative_adoption": (["model_id", "checkpoint_days"], ["size_class", "cumulative_downloads", "baseline",
                                                               "ram"], "relative_adoption"),
}


@pytest.mark.parametrize("mart", list(MARTS))
def test_trend_mart_equals_the_reference_at_every_date(trend_series, mart):
    data_dir, series = trend_series
    if mart not in _catalog(data_dir):
        pytest.skip(f"marts.{mart} is not in the catalog of this build")
    keys, columns, method = MARTS[mart]
    differences = []
    for stored in series.stored:
        expected = getattr(series, method)(stored.date)
        got = {}
        for row in _rows(data_dir, mart, stored.date):
            key = row[keys[0]] if len(keys) == 1 else tuple(row[k] for k in keys)
            assert key not in got, f"{mart} {stored.date}: two rows for {key}"
            got[key] = row
        differences += _differences(mart, stored.date, expected, got, columns)
    assert not differences, f"{len(differences)} differences:\n" + "\n".join(differences[:40])


def test_dim_snapshots_flags_the_stall_and_names_the_previous_snapshot(trend_series):
    data_dir, series = trend_series
    con = warehouse(data_dir)
    try:
        names = [c for (c,) in con.execute("select column_name from information_schema.columns "
                                           "where table_schema = 'marts' and table_name = 'dim_snapshots'").fetchall()]
        if not {"is_stalled", "prev_snapshot_date"} <= set(names):
            pytest.skip("marts.dim_snapshots has no is_stalled / prev_snapshot_date in this build")
        got = {d: (s, p) for d, s, p in con.execute(
            "select snapshot_date, is_stalled, prev_snapshot_date from marts.dim_snapshots").fetchall()}
    finally:
        con.close()
    expected = {d: (p.stalled, p.prev) for d, p in series.periods.items()}
    assert got == expected
