"""`observatory-dbt`: dbt, tied to the build that starts it.

The build runs dbt as a child process. If the build dies (killed, even with SIGKILL), dbt must
not go on writing alone: this launcher asks Linux to kill it when its parent dies
(PR_SET_PDEATHSIG, kept across exec), then becomes dbt.
"""

import ctypes
import os
import signal
import sys
from pathlib import Path

PR_SET_PDEATHSIG = 1
PARENT_ENV = "OBSERVATORY_PARENT_PID"
# The folder dbt runs in, when the build gives one (see start_in).
WORKDIR_ENV = "OBSERVATORY_DBT_WORKDIR"
# dbt's paths that dagster-dbt may give relative to the folder dbt was started in.
DBT_PATH_VARIABLES = ("DBT_TARGET_PATH", "DBT_LOG_PATH", "DBT_PROJECT_DIR", "DBT_PROFILES_DIR")


def die_with_parent() -> None:
    """Be killed when the parent process ends; exit now if it already has."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    expected = os.environ.get(PARENT_ENV)
    if expected and os.getppid() != int(expected):
        sys.exit("observatory-dbt: the build that started dbt has ended; not starting it")


def process_start(pid: int) -> str | None:
    """When process `pid` started (clock ticks since boot), or None if there is no such process.
    With the pid, it tells a live process from a later one that reuses its pid."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except OSError:
        return None


def start_in(workdir: str) -> None:
    """Move to `workdir`, dbt's project, profile and artifact paths kept pointing where they did.

    dbt parses the whole project again (~3-4 s more per build) when its profile changed, and the
    profile holds the warehouse path: run in the warehouse's folder with a relative path, every
    data folder has the same profile and builds reuse the last parse (dbt_workarounds.py, 6)."""
    here = Path.cwd()
    for name in DBT_PATH_VARIABLES:
        if os.environ.get(name):
            os.environ[name] = str(here / os.environ[name])
    os.environ.setdefault("DBT_PROJECT_DIR", str(here))
    if "DBT_PROFILES_DIR" not in os.environ and (here / "profiles.yml").exists():
        os.environ["DBT_PROFILES_DIR"] = str(here)
    os.makedirs(workdir, exist_ok=True)
    os.chdir(workdir)


def dbt_main() -> None:
    die_with_parent()
    workdir = os.environ.pop(WORKDIR_ENV, None)
    if workdir:
        start_in(workdir)
    dbt = Path(sys.executable).parent / "dbt"
    os.execv(str(dbt), [str(dbt), *sys.argv[1:]])
