"""Start `observatory build` in its own process group, paused at named points (tests/killpoints)."""

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import PROJECT_ROOT

KILLPOINTS = PROJECT_ROOT / "tests" / "killpoints"


def cli_env(data_dir: Path, markers: Path | None = None, pause_at: tuple[str, ...] = (), **extra: str) -> dict:
    env = {**os.environ, "DATA_DIR": str(data_dir), "DAGSTER_HOME": str(data_dir / "dagster_home"), **extra}
    env.pop("DUCKDB_PATH", None)
    if markers is not None:
        markers.mkdir(parents=True, exist_ok=True)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(KILLPOINTS), env.get("PYTHONPATH")]))
        env["OBSERVATORY_MARKERS"] = str(markers)
        env["OBSERVATORY_PAUSE_AT"] = ",".join(pause_at)
    return env


def start_build(data_dir: Path, *args: str, markers: Path | None = None, pause_at: tuple[str, ...] = (),
                **extra: str) -> subprocess.Popen:
    """The CLI build as a user starts it, in a new session (its own process group)."""
    return subprocess.Popen(
        [sys.executable, "-m", "orchestration.cli", "build", *args],
        cwd=PROJECT_ROOT, env=cli_env(data_dir, markers, pause_at, **extra), start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def wait_for(condition, what: str, process: subprocess.Popen | None = None, timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if process is not None and process.poll() is not None:
            out, err = process.communicate()
            raise AssertionError(f"the build ended (exit {process.returncode}) before {what}:\n{(err or '')[-3000:]}")
        assert time.monotonic() < deadline, f"timed out after {timeout_s} s waiting for {what}"
        time.sleep(0.05)


def wait_paused(markers: Path, point: str, process: subprocess.Popen, timeout_s: float = 300) -> None:
    wait_for(lambda: (markers / point).exists(), f"the build paused at {point}", process, timeout_s)


def resume(markers: Path, point: str) -> None:
    (markers / f"{point}.go").write_text("")
