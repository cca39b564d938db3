"""The Dagster UI (`dagster dev`) on a free port with its own data folder, for browser tests.

    with dagster_dev(tmp_path / "data") as ui:
        page.goto(ui.url + "/jobs")
        ui.wait_for_run(run_id)

`dagster dev` runs the webserver, the daemon and a code server as its children, and each run in a
process of its own: all of them are started in one new process group, stopped together on exit,
and checked gone.
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the project's .venv/bin: dagster, and dbt for the runs

RUN_DONE = {"SUCCESS", "FAILURE", "CANCELED"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def group_members(pgid: int) -> list[int]:
    """Live processes of a process group (zombies excluded), read from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...: comm may hold spaces, so split after its closing parenthesis.
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def processes_with_env(name: str, value: str) -> list[int]:
    """Live processes (of this user) whose environment sets `name` to `value`: what a stopped
    `dagster dev` must not leave behind, even if something left its process group."""
    wanted = f"{name}={value}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and wanted in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


@dataclass
class DagsterUI:
    url: str
    process: subprocess.Popen
    log: Path

    def graphql(self, query: str, variables: dict | None = None, timeout: float = 30) -> dict:
        """One GraphQL request to the webserver; returns `data`, raises on errors."""
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(self.url + "/graphql", body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = json.load(response)
        if answer.get("errors"):
            raise RuntimeError(f"GraphQL errors: {answer['errors']}")
        return answer["data"]

    def run_status(self, run_id: str) -> str | None:
        data = self.graphql("query($id: ID!) { runOrError(runId: $id) { __typename ... on Run { status } } }",
                            {"id": run_id})
        return data["runOrError"].get("status")

    def wait_for_run(self, run_id: str, timeout: float) -> str:
        """Poll the run's status until it is done; returns SUCCESS, FAILURE or CANCELED, raises TimeoutError."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.run_status(run_id)
            if status in RUN_DONE:
                return status
            time.sleep(1)
        raise TimeoutError(f"run {run_id} not done after {timeout:.0f} s (last status {status})")

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


def _wait_until_up(ui: DagsterUI, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ui.process.poll() is not None:
            raise RuntimeError(f"dagster dev exited with {ui.process.returncode}:\n{ui.log_tail()}")
        try:
            with urllib.request.urlopen(ui.url + "/server_info", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise TimeoutError(f"the Dagster UI did not answer at {ui.url}/server_info within {timeout:.0f} s:\n{ui.log_tail()}")


def stop(process: subprocess.Popen, grace: float = 20) -> list[int]:
    """Stop `dagster dev` and everything in its process group: SIGINT to the group, as Ctrl+C in its
    terminal would (it shuts its services down), then SIGKILL for what is left after `grace` seconds.
    Returns the processes that outlived both (none expected)."""
    pgid = process.pid  # started with start_new_session: the group's id is its leader's pid
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGINT)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and (process.poll() is None or group_members(pgid)):
        time.sleep(0.2)
    if group_members(pgid):
        print(f"dagster dev: still running after {grace:.0f} s, killed: {group_members(pgid)}")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        time.sleep(1)
    process.wait(timeout=10)
    return group_members(pgid)


def _interruptible() -> None:
    """In the child before exec: a parent started in the background (nohup, `cmd &` in a script) may
    ignore SIGINT, and ignored signals stay ignored across exec; dagster dev would then ignore the
    SIGINT and SIGTERM it is stopped with (it maps SIGTERM to its SIGINT handler)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@contextlib.contextmanager
def dagster_dev(data_dir: Path, env: dict | None = None, startup_timeout: float = 120):
    """`dagster dev` on the project's code location, DATA_DIR `data_dir` and DAGSTER_HOME inside it,
    telemetry off; yields a DagsterUI once /server_info answers, stops the whole group on exit."""
    home = data_dir / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    port = free_port()
    full_env = {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "DAGSTER_HOME": str(home),
        "DO_NOT_TRACK": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # dbt of the project's virtualenv
        **(env or {}),
    }
    full_env.pop("DUCKDB_PATH", None)
    log = data_dir / "dagster-dev.log"
    started = time.monotonic()
    with open(log, "wb") as out:
        process = subprocess.Popen(
            # As `make dev`: no -m, so the code location is pyproject's `observatory`, the one CLI runs name.
            [str(BIN / "dagster"), "dev", "-h", "127.0.0.1", "-p", str(port)],
            cwd=PROJECT_ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, preexec_fn=_interruptible,
        )
    ui = DagsterUI(f"http://127.0.0.1:{port}", process, log)
    try:
        _wait_until_up(ui, startup_timeout)
        print(f"dagster dev answered after {time.monotonic() - started:.1f} s")
        yield ui
    finally:
        stopping = time.monotonic()
        left = stop(process)
        print(f"dagster dev stopped in {time.monotonic() - stopping:.1f} s")
        if left:
            raise RuntimeError(f"processes of dagster dev still running after SIGKILL: {left}")
