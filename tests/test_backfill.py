"""`observatory backfill` end to end through the CLI, from a local server shaped like the Hub serving
the hub_weekly layout (models/<date>/models.parquet) with files of different schema eras."""

import os
import signal
import subprocess
import sys

from tests.conftest import PROJECT_ROOT, run_observatory, warehouse
from tests.test_sources import FIRST_ERA_DROPS, WEEKLY, era_file

ROWS = 60


def test_backfill_builds_every_era_and_reports_a_failing_date(hub, tmp_path):
    hub.add_weekly_file(WEEKLY, "2024-07-17", era_file(ROWS, "2024-07-17"))  # before the range
    hub.add_weekly_file(WEEKLY, "2024-07-24", era_file(ROWS, "2024-07-24", drop=("_id", *FIRST_ERA_DROPS)))
    hub.add_weekly_file(WEEKLY, "2024-10-30", era_file(ROWS, "2024-10-30", drop=("downloadsAllTime",)))
    hub.add_weekly_file(WEEKLY, "2024-11-06", b"PAR1 this is no parquet file PAR1")  # corrupt
    hub.add_weekly_file(WEEKLY, "2025-03-05", era_file(ROWS, "2025-03-05", extra={"sha": "0" * 40, "gated": "false"}))
    data_dir = tmp_path / "data"

    result = run_observatory(data_dir, "backfill", "--source", "hub_weekly", "--from", "2024-07-20", "--to", "2025-03-31")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-4000:]
    assert "4 dates offered, 0 already stored and built, 4 to build" in result.stdout, output[-4000:]
    assert "1 dates failed: 2024-11-06" in result.stderr
    assert "[3/4] 2024-11-06: FAILED" in result.stdout
    for position, date in (("[1/4]", "2024-07-24"), ("[2/4]", "2024-10-30"), ("[4/4]", "2025-03-05")):
        assert f"{position} {date}: built in" in result.stdout, output[-4000:]

    con = warehouse(data_dir)
    try:
        snapshots = con.execute(
            "select snapshot_date::varchar, snapshot_source, missing_columns, source_license, n_rows"
            " from marts.dim_snapshots order by 1"
        ).fetchall()
        object_ids = dict(con.execute(
            "select snapshot_date::varchar, count(model_object_id) from staging.stg_huggingface__models group by 1"
        ).fetchall())
        downloads_all_time = dict(con.execute(
            "select snapshot_date::varchar, count(downloads_all_time) from marts.dim_models group by 1"
        ).fetchall())
        ranked_metrics = con.execute(
            "select snapshot_date::varchar, list(distinct metric order by metric)"
            " from marts.fct_weekly_new_model_rankings group by 1 order by 1"
        ).fetchall()
    finally:
        con.close()
    assert snapshots == [
        ("2024-07-24", "hub_weekly", "_id, downloadsAllTime, trendingScore, cardData", "ODbL-1.0", ROWS),
        ("2024-10-30", "hub_weekly", "downloadsAllTime", "ODbL-1.0", ROWS),
        ("2025-03-05", "hub_weekly", "", "ODbL-1.0", ROWS),
    ]
    assert object_ids == {"2024-07-24": 0, "2024-10-30": ROWS, "2025-03-05": ROWS}
    # A missing column is null, never a zero.
    assert downloads_all_time["2024-07-24"] == 0 and downloads_all_time["2025-03-05"] > 0
    # A metric whose column the snapshot lacks has no ranking rows (never ranks of zeros or nulls).
    assert ranked_metrics == [
        ("2024-07-24", ["downloads_30d", "likes"]),
        ("2024-10-30", ["downloads_30d", "likes", "trending_score"]),
        ("2025-03-05", ["downloads_30d", "downloads_all_time", "likes", "trending_score"]),
    ]

    exported = run_observatory(data_dir, "export", "--snapshot-date", "2024-10-30", "--out", str(tmp_path / "out"))
    assert exported.returncode == 0, exported.stderr
    assert "Source licence: ODbL-1.0" in exported.stdout
    notice = (tmp_path / "out" / "NOTICE.txt").read_text()
    assert "ODbL-1.0" in notice and WEEKLY in notice and "2024-10-30" in notice


def test_a_killed_backfill_resumes_with_the_same_command(hub, tmp_path):
    for date in ("2024-07-24", "2024-07-31"):
        hub.add_weekly_file(WEEKLY, date, era_file(ROWS, date))
    data_dir = tmp_path / "data"
    command = ["backfill", "--source", "hub_weekly", "--from", "2024-07-24", "--to", "2024-07-31"]
    env = {**os.environ, "DATA_DIR": str(data_dir), "DAGSTER_HOME": str(data_dir / "dagster_home"),
           "PYTHONUNBUFFERED": "1"}
    env.pop("DUCKDB_PATH", None)
    process = subprocess.Popen([sys.executable, "-m", "orchestration.cli", *command], cwd=PROJECT_ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    seen = []
    try:
        for line in process.stdout:  # wait for the first date to be built, then kill the whole group
            seen.append(line)
            if "2024-07-24: built in" in line:
                break
        else:
            raise AssertionError("the backfill ended before building its first date:\n" + "".join(seen)[-4000:])
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL

    resumed = run_observatory(data_dir, *command)
    assert resumed.returncode == 0, (resumed.stdout + resumed.stderr)[-4000:]
    assert "2 dates offered, 1 already stored and built, 1 to build" in resumed.stdout
    assert "[2/2] 2024-07-31: built in" in resumed.stdout
    assert "2024-07-24: ingest" not in resumed.stdout
    con = warehouse(data_dir)
    try:
        built = [d for (d,) in con.execute("select snapshot_date::varchar from marts.dim_snapshots order by 1").fetchall()]
    finally:
        con.close()
    assert built == ["2024-07-24", "2024-07-31"]
