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


def dbt_main() -> None:
    die_with_parent()
    dbt = Path(sys.executable).parent / "dbt"
    os.execv(str(dbt), [str(dbt), *sys.argv[1:]])
