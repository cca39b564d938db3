"""One writer at a time: file locks around what writes a snapshot's lake folder or the raw store.

`exclusive` holds a lock for a block (dbt's run on the fixed scratch path). `hold_for_run` holds
the lock of a snapshot date for a whole run: from its dbt step to its publication (or the run's
end), across steps. The refresh job runs in one process (in_process_executor), so the lock taken
by the dbt step is still held by the publish step; the operating system releases it if the
process dies. Builds of different dates hold different locks and publish concurrently.
"""

import atexit
import contextlib
import threading
import time
from pathlib import Path

from filelock import FileLock, Timeout


class Busy(RuntimeError):
    """Another build held the lock for longer than we were willing to wait."""


def _acquire(lock: FileLock, lock_path: Path, what: str, timeout_s: float, log=None) -> None:
    try:
        lock.acquire(timeout=0)
        return
    except Timeout:
        pass
    if log:
        log.info(f"another build is writing the {what}; waiting up to {timeout_s:g} s for it to finish")
    started = time.monotonic()
    try:
        lock.acquire(timeout=timeout_s)
    except Timeout:
        raise Busy(
            f"another build is still writing the {what} after {timeout_s:g} s (lock {lock_path}); "
            "try again when it has finished"
        ) from None
    if log:
        log.info(f"the other build finished after {time.monotonic() - started:.0f} s; going on")


@contextlib.contextmanager
def exclusive(lock_path: Path, what: str, timeout_s: float, log=None):
    """Hold `lock_path` while writing; wait up to `timeout_s` for another holder, saying so."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(lock_path))
    _acquire(lock, lock_path, what, timeout_s, log)
    try:
        yield
    finally:
        lock.release()


_run_locks: dict[tuple[str, str], FileLock] = {}
_run_locks_guard = threading.Lock()


def hold_for_run(lock_path: Path, run_id: str, what: str, timeout_s: float, log=None) -> None:
    """Take `lock_path` for run `run_id` until `release_for_run` (or this process ends).

    Taking it again for the same run is a no-op, so every step of a run can ask for it.
    """
    key = (str(lock_path), run_id)
    with _run_locks_guard:
        if key in _run_locks:
            return
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(lock_path))
    _acquire(lock, lock_path, what, timeout_s, log)
    with _run_locks_guard:
        _run_locks[key] = lock


def release_for_run(lock_path: Path, run_id: str) -> None:
    with _run_locks_guard:
        lock = _run_locks.pop((str(lock_path), run_id), None)
    if lock is not None:
        lock.release(force=True)


def release_all() -> None:
    with _run_locks_guard:
        held = list(_run_locks.values())
        _run_locks.clear()
    for lock in held:
        lock.release(force=True)


atexit.register(release_all)
