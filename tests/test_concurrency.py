"""Builds take turns on the warehouse, and readers never see a half-built one."""

import os
import subprocess
import sys
import time

from filelock import FileLock

from tests.conftest import PROJECT_ROOT, run_observatory


def test_builds_take_turns_and_readers_never_see_a_half_built_warehouse(built):
    _, data_dir, _ = built
    lock = FileLock(str(data_dir / "locks" / "warehouse.lock"))
    with lock:  # another build is writing the warehouse
        blocked = run_observatory(data_dir, "build", "--sample-rows", "50", "--snapshot-date", "2026-06-01",
                                  env={"LOCK_TIMEOUT_S": "2"})
    assert blocked.returncode == 1
    assert "another build is still writing the warehouse after 2 s" in blocked.stderr

    # The snapshot was stored; the next build completes the refresh while people query.
    env = {**os.environ, "DATA_DIR": str(data_dir), "DAGSTER_HOME": str(data_dir / "dagster_home")}
    build = subprocess.Popen(
        [sys.executable, "-m", "orchestration.cli", "build", "--sample-rows", "50", "--snapshot-date", "2026-06-01"],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    outcomes = set()
    try:
        while build.poll() is None:
            query = run_observatory(
                data_dir, "query", "select count(*) as n from marts.dim_models where snapshot_date = '2026-06-05'"
            )
            if query.returncode == 0:
                assert query.stdout.split() == ["n", "10"]
                outcomes.add("answered")
            else:
                assert "cannot open the warehouse (is a build writing it right now?)" in query.stderr
                outcomes.add("busy")
            time.sleep(0.2)
    finally:
        stdout, stderr = build.communicate(timeout=600)
    assert build.returncode == 0, stderr[-2000:]
    assert "Snapshot 2026-06-01: source sample, 50 models" in stdout
    assert outcomes  # at least one query ran while the build did


def _sha256(path):
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def _wait_for(condition, process, timeout_s=300):
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert process.poll() is None, "the build ended before reaching the point to kill it"
        assert time.monotonic() < deadline, "the build never reached the point to kill it"
        time.sleep(0.05)


def test_a_build_killed_at_any_point_leaves_the_published_warehouse_unchanged(built):
    import signal

    _, data_dir, _ = built
    published = data_dir / "warehouse" / "observatory.duckdb"
    incoming = data_dir / "raw" / ".incoming"
    building = data_dir / "warehouse" / ".building"
    kill_points = {
        "while fetching": lambda: incoming.exists() and any(incoming.iterdir()),
        "while dbt builds": lambda: any(building.glob("*/observatory.duckdb")),
    }
    env = {**os.environ, "DATA_DIR": str(data_dir), "DAGSTER_HOME": str(data_dir / "dagster_home")}
    command = [sys.executable, "-m", "orchestration.cli", "build", "--sample-rows", "5000",
               "--snapshot-date", "2026-06-10"]
    for point, reached in kill_points.items():
        before = _sha256(published)
        build = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, start_new_session=True,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait_for(reached, build)
            if point == "while dbt builds":
                time.sleep(3)  # into the middle of the dbt run
        finally:
            os.killpg(build.pid, signal.SIGKILL)
            build.wait()
        assert _sha256(published) == before, point
        answer = run_observatory(data_dir, "query", "select count(*) as n from marts.dim_models"
                                 " where snapshot_date = '2026-06-10'")
        assert answer.returncode == 0 and answer.stdout.split() == ["n", "0"], point

    # A new run completes the refresh.
    rerun = run_observatory(data_dir, "build", "--sample-rows", "5000", "--snapshot-date", "2026-06-10")
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert "Snapshot 2026-06-10: source sample, 5000 models" in rerun.stdout
