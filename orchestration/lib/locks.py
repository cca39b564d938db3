"""One writer at a time: a file lock around every step that writes the warehouse or raw store."""

import contextlib
import time
from pathlib import Path

from filelock import FileLock, Timeout


class Busy(RuntimeError):
    """Another build held the lock for longer than we were willing to wait."""


@contextlib.contextmanager
def exclusive(lock_path: Path, what: str, timeout_s: float, log=None):
    """Hold `lock_path` while writing; wait up to `timeout_s` for another holder, saying so."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(lock_path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
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
    try:
        yield
    finally:
        lock.release()
