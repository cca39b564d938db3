"""Builds of different dates run and publish side by side, builds of one date take turns, readers
are never blocked nor see half a snapshot, and a build killed at any point leaves every published
snapshot whole (and no dbt behind).

Builds run through the CLI in their own process groups; tests/killpoints pauses one at a named
point (fetched, dbt_writing, checks, before_rename, after_rename, catalog) so a test can probe or kill it there.
"""

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import run_observatory
from tests.pausing import resume, start_build, wait_for, wait_paused

ROWS = 60


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _published(data_dir: Path) -> Path:
    return data_dir / "warehouse" / "observatory.duckdb"


def _lake_state(data_dir: Path) -> dict[str, tuple[str, dict[str, str]]]:
    """Every published date: the version its folder points to and the sha256 of each of its files."""
    lake = data_dir / "warehouse" / "lake"
    return {
        folder.name: (os.readlink(folder), {f.name: _sha256(f) for f in sorted(folder.glob("*.parquet"))})
        for folder in sorted(lake.glob("snapshot_date=*"))
    }


def _rows(data_dir: Path, snapshot_date: str) -> tuple[int, int]:
    """(rows in dim_snapshots, rows in dim_models) of a snapshot, read through `observatory query`."""
    sql = ("select (select count(*) from marts.dim_snapshots where snapshot_date = date '{d}') as s,"
           " (select count(*) from marts.dim_models where snapshot_date = date '{d}') as m").format(d=snapshot_date)
    answer = run_observatory(data_dir, "query", sql)
    assert answer.returncode == 0, answer.stderr
    s, m = answer.stdout.split()[2:4]
    return int(s), int(m)


def _counts(data_dir: Path) -> str:
    """Rows per published date in dim_snapshots and dim_models, through `observatory query`."""
    answer = run_observatory(data_dir, "query", "select snapshot_date, count(*) as models,"
                             " (select count(*) from marts.dim_snapshots s where s.snapshot_date = m.snapshot_date) as s"
                             " from marts.dim_models m group by all order by 1", "--max-rows", "1000")
    assert answer.returncode == 0, answer.stderr
    return answer.stdout


def _finish(build: subprocess.Popen, timeout_s: float = 600) -> tuple[str, str]:
    out, err = build.communicate(timeout=timeout_s)
    assert build.returncode == 0, err[-3000:]
    return out, err


def _sample(snapshot_date: str) -> tuple[str, ...]:
    return ("--sample-rows", str(ROWS), "--snapshot-date", snapshot_date)


@pytest.fixture(scope="module")
def two_fresh_builds(tmp_path_factory):
    """Two builds of different dates started at the same moment on a data folder that does not exist yet."""
    data_dir = tmp_path_factory.mktemp("concurrent") / "data"
    builds = [start_build(data_dir, *_sample(day)) for day in ("2026-06-01", "2026-06-02")]
    results = [(b.wait(timeout=900), *b.communicate()) for b in builds]
    return data_dir, results


@pytest.fixture
def data_dir(two_fresh_builds):
    """A data folder with a published warehouse (the fresh-builds test checks how it got there)."""
    data_dir, results = two_fresh_builds
    assert _published(data_dir).exists(), [err[-2000:] for _, _, err in results]
    return data_dir


def test_two_builds_started_together_on_a_fresh_data_dir_both_publish(two_fresh_builds):
    data_dir, results = two_fresh_builds
    assert [code for code, _, _ in results] == [0, 0], [err[-2000:] for _, _, err in results]
    assert all("Traceback" not in err for _, _, err in results)
    assert _rows(data_dir, "2026-06-01") == (1, ROWS)
    assert _rows(data_dir, "2026-06-02") == (1, ROWS)


def test_a_build_of_another_date_publishes_while_the_first_is_still_in_its_checks(data_dir, tmp_path):
    markers = tmp_path / "markers"
    # The first build is stopped in its checks, after dbt built its scratch warehouse.
    first = start_build(data_dir, *_sample("2026-06-03"), markers=markers, pause_at=("checks",))
    wait_paused(markers, "checks", first)
    # The second, of another date, runs its whole span (dbt, checks, publication) meanwhile.
    second = start_build(data_dir, *_sample("2026-06-04"))
    out, err = _finish(second)
    assert "waiting" not in err
    assert first.poll() is None  # still paused in its checks
    assert _rows(data_dir, "2026-06-04") == (1, ROWS)
    assert _rows(data_dir, "2026-06-03") == (0, 0)
    resume(markers, "checks")
    _finish(first)
    assert _rows(data_dir, "2026-06-03") == (1, ROWS)
    assert _rows(data_dir, "2026-06-04") == (1, ROWS)


def test_two_builds_of_the_same_date_take_turns(data_dir, tmp_path):
    markers = tmp_path / "markers"
    first = start_build(data_dir, *_sample("2026-06-11"), markers=markers, pause_at=("checks",))
    wait_paused(markers, "checks", first)
    err_file = tmp_path / "second.err"
    with err_file.open("w") as err:
        second = subprocess.Popen(
            [sys.executable, "-m", "orchestration.cli", "build", *_sample("2026-06-11"), "--force"],
            cwd=Path(__file__).resolve().parent.parent, stdout=subprocess.DEVNULL, stderr=err,
            env={**os.environ, "DATA_DIR": str(data_dir), "DAGSTER_HOME": str(data_dir / "dagster_home")},
            start_new_session=True,
        )
        wait_for(lambda: "another build is writing the snapshot 2026-06-11; waiting" in err_file.read_text(),
                 "the second build to wait for the first one of its date", second)
        resume(markers, "checks")
        _finish(first)
        assert second.wait(timeout=600) == 0, err_file.read_text()[-3000:]
    assert _rows(data_dir, "2026-06-11") == (1, ROWS)


def test_replacing_an_old_date_changes_only_that_dates_folder(data_dir):
    old = "2026-05-30"
    assert run_observatory(data_dir, "build", *_sample(old)).returncode == 0
    before = _lake_state(data_dir)
    replaced = run_observatory(data_dir, "build", "--sample-rows", str(ROWS + 7), "--snapshot-date", old, "--replace")
    assert replaced.returncode == 0, replaced.stderr[-3000:]
    after = _lake_state(data_dir)
    key = f"snapshot_date={old}"
    assert {k: v for k, v in after.items() if k != key} == {k: v for k, v in before.items() if k != key}
    assert after[key] != before[key]
    assert _rows(data_dir, old) == (1, ROWS + 7)
    # --force of a stored date also swaps that folder only.
    forced = run_observatory(data_dir, "build", "--sample-rows", str(ROWS + 7), "--snapshot-date", old, "--force")
    assert forced.returncode == 0, forced.stderr[-3000:]
    again = _lake_state(data_dir)
    assert {k: v for k, v in again.items() if k != key} == {k: v for k, v in before.items() if k != key}
    assert again[key][0] != after[key][0]
    assert _rows(data_dir, old) == (1, ROWS + 7)


READER = textwrap.dedent("""
    import sys, time, duckdb
    path, day, log, stop = sys.argv[1:]
    sql = ("select (select count(*) from marts.dim_snapshots where snapshot_date = date '%s'),"
           " (select count(*) from marts.dim_models where snapshot_date = date '%s')" % (day, day))
    with open(log, "a", buffering=1) as out:
        while True:
            try:
                con = duckdb.connect(path, read_only=True)
                try:
                    out.write("%d %d\\n" % con.execute(sql).fetchone())
                finally:
                    con.close()
            except Exception as exc:
                out.write("ERROR " + str(exc).splitlines()[0] + "\\n")
            import os
            if os.path.exists(stop):
                break
            time.sleep(0.02)
""")


def test_readers_are_never_blocked_and_see_a_snapshot_whole_or_not_at_all(data_dir, tmp_path):
    import duckdb

    day = "2026-06-05"
    published = _published(data_dir)
    held = duckdb.connect(str(published), read_only=True)  # a reader that was already there
    count = ("select (select count(*) from marts.dim_snapshots where snapshot_date = date '2026-06-05'),"
             " (select count(*) from marts.dim_models where snapshot_date = date '2026-06-05')")
    log, stop = tmp_path / "reader.log", tmp_path / "reader.stop"
    log.write_text("")
    reader = subprocess.Popen([sys.executable, "-c", READER, str(published), day, str(log), str(stop)])

    def answers() -> list[str]:
        return log.read_text().splitlines()

    def a_new_answer():
        seen = len(answers())
        wait_for(lambda: len(answers()) > seen, "the reader to answer again", reader, 60)

    markers = tmp_path / "markers"
    try:
        build = start_build(data_dir, *_sample(day), markers=markers, pause_at=("before_rename", "after_rename"))
        wait_paused(markers, "before_rename", build)
        a_new_answer()
        assert _rows(data_dir, day) == (0, 0)  # dbt and every check are done; nothing is published yet
        assert held.execute(count).fetchone() == (0, 0)
        resume(markers, "before_rename")
        wait_paused(markers, "after_rename", build)
        a_new_answer()
        assert _rows(data_dir, day) == (1, ROWS)
        # The reader that kept its connection open sees the new snapshot, whole.
        assert held.execute(count).fetchone() == (1, ROWS)
        resume(markers, "after_rename")
        _finish(build)
        a_new_answer()
    finally:
        stop.write_text("")
        reader.wait(timeout=60)
    assert held.execute(count).fetchone() == (1, ROWS)  # also once the catalog was rewritten under it
    held.close()
    seen = answers()
    assert set(seen) <= {"0 0", f"1 {ROWS}"}, [a for a in seen if a not in {"0 0", f"1 {ROWS}"}][:5]
    # Nothing, then everything: never back, never half.
    flipped = seen.index(f"1 {ROWS}")
    assert set(seen[:flipped]) == {"0 0"} and set(seen[flipped:]) == {f"1 {ROWS}"}


def _processes_in_session(sid: int) -> dict[int, str]:
    found = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if os.getsid(int(proc.name)) != sid:
                continue
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ProcessLookupError):
            continue
        if state != "Z":
            found[int(proc.name)] = cmdline
    return found


@pytest.mark.parametrize("point", ["fetched", "dbt_writing", "checks", "before_rename"])
def test_a_build_killed_before_publishing_leaves_every_published_snapshot_unchanged(data_dir, tmp_path, point):
    day = "2026-06-06"
    before, catalog, counts = _lake_state(data_dir), _sha256(_published(data_dir)), _counts(data_dir)
    assert len(before) >= 2
    markers = tmp_path / "markers"
    build = start_build(data_dir, *_sample(day), "--force", markers=markers, pause_at=(point,))
    wait_paused(markers, point, build)
    if point == "dbt_writing":
        # dbt has written a model and is still going: the kill lands in the middle of its writes.
        assert any("observatory-dbt" in c or "/dbt " in c for c in _processes_in_session(build.pid).values())
    os.killpg(build.pid, signal.SIGKILL)
    build.wait(timeout=60)
    wait_for(lambda: not _processes_in_session(build.pid), "every process of the killed build to end", timeout_s=30)
    assert _lake_state(data_dir) == before
    assert _sha256(_published(data_dir)) == catalog
    assert not (_published(data_dir).parent / "observatory.duckdb.wal").exists()
    assert _rows(data_dir, day) == (0, 0)
    assert _counts(data_dir) == counts  # every published snapshot still reads whole


@pytest.mark.parametrize("point", ["after_rename", "catalog"])
def test_a_build_killed_after_the_rename_has_published_whole_and_a_rerun_completes(data_dir, tmp_path, point):
    day = "2026-06-12"
    before, counts = _lake_state(data_dir), _counts(data_dir)
    markers = tmp_path / "markers"
    build = start_build(data_dir, *_sample(day), "--force", markers=markers, pause_at=(point,))
    wait_paused(markers, point, build)
    os.killpg(build.pid, signal.SIGKILL)
    build.wait(timeout=60)
    after = _lake_state(data_dir)
    key = f"snapshot_date={day}"
    assert {k: v for k, v in after.items() if k != key} == {k: v for k, v in before.items() if k != key}
    assert _rows(data_dir, day) == (1, ROWS)  # the old catalog's views already read the new folder
    assert [line for line in _counts(data_dir).splitlines() if day not in line] == [
        line for line in counts.splitlines() if day not in line]

    rerun = run_observatory(data_dir, "build", *_sample(day))
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert f"Snapshot {day}: source sample, {ROWS} models" in rerun.stdout
    assert _rows(data_dir, day) == (1, ROWS)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_killing_only_the_build_process_leaves_no_dbt_running(data_dir, tmp_path, sig):
    markers = tmp_path / "markers"
    # dbt itself stops once it opened the warehouse copy, and writes its pid.
    build = start_build(data_dir, *_sample("2026-06-08"), "--force", markers=markers, pause_at=("dbt_connected",))
    wait_paused(markers, "dbt_connected", build)
    dbt_pid = int((markers / "dbt_connected").read_text())
    assert "dbt" in Path(f"/proc/{dbt_pid}/cmdline").read_bytes().decode(errors="replace")
    os.kill(build.pid, sig)  # the CLI alone, not its process group
    build.wait(timeout=60)

    def dbt_gone() -> bool:
        try:
            return Path(f"/proc/{dbt_pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
        except OSError:
            return True

    try:
        wait_for(dbt_gone, f"dbt (pid {dbt_pid}) to end with the build", timeout_s=30)
    finally:
        resume(markers, "dbt_connected")  # an orphan of the old behaviour goes on and ends
    assert _rows(data_dir, "2026-06-08") == (0, 0)


def test_status_reports_a_killed_build_as_interrupted(data_dir, tmp_path):
    markers = tmp_path / "markers"
    build = start_build(data_dir, *_sample("2026-06-09"), markers=markers, pause_at=("checks",))
    wait_paused(markers, "checks", build)
    os.killpg(build.pid, signal.SIGKILL)
    build.wait(timeout=60)
    status = run_observatory(data_dir, "status")
    assert status.returncode == 0, status.stderr
    last = status.stdout.split("Last refresh:")[1]
    assert last.splitlines()[0].strip().startswith(f"snapshot 2026-06-09, interrupted (its process {build.pid} is gone)")
    assert "passed so far" in last
    # The run history says so too, so the UI does not show it running forever.
    again = run_observatory(data_dir, "status")
    assert "snapshot 2026-06-09, failure, ended" in again.stdout


def test_rows_dbt_left_in_the_write_ahead_log_are_published(data_dir, tmp_path):
    # dbt's DuckDB does not checkpoint when it closes: what it built is in the candidate's .wal.
    build = start_build(data_dir, *_sample("2026-06-07"), markers=tmp_path / "markers",
                        OBSERVATORY_DBT_KEEPS_WAL="1")
    _finish(build)
    assert _rows(data_dir, "2026-06-07") == (1, ROWS)
    assert not (_published(data_dir).parent / "observatory.duckdb.wal").exists()
