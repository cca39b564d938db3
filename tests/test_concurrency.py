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
