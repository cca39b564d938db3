"""Test-only: pause an `observatory build` at a named point, so a test can kill or probe it there.

Loaded by Python at start-up when this folder is on PYTHONPATH (tests/pausing.py does that).
Product code has no hooks: this wraps functions as their modules are imported.

OBSERVATORY_PAUSE_AT   comma-separated points: fetched, dbt_writing, checks, before_rename, after_rename
                       (around the rename that publishes the snapshot's lake folder), catalog (the new
                       catalog is written, before the rename that replaces the old one),
                       dbt_connected (in dbt's process, once it opened DuckDB)
OBSERVATORY_MARKERS    folder: reaching point P writes P (the pid), then waits for P.go (at most 600 s)
OBSERVATORY_DBT_KEEPS_WAL=1   in dbt's process: DuckDB does not checkpoint on close (leaves a .wal)
"""

import functools
import importlib.abc
import importlib.util
import os
import sys
import time
from pathlib import Path

POINTS = {p for p in os.environ.get("OBSERVATORY_PAUSE_AT", "").split(",") if p}
MARKERS = Path(os.environ.get("OBSERVATORY_MARKERS", "."))
IS_DBT = os.path.basename(sys.argv[0] if sys.argv else "") in ("dbt", "observatory-dbt")


def pause(point: str) -> None:
    if point not in POINTS:
        return
    (MARKERS / point).write_text(str(os.getpid()))
    go = MARKERS / f"{point}.go"
    deadline = time.monotonic() + 600
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def _patch_ingest(module):
    # The snapshot has been fetched and is about to be stored (staged, then put in place).
    stage = module.SnapshotStore.stage

    @functools.wraps(stage)
    def fetched(self, *args, **kwargs):
        pause("fetched")
        return stage(self, *args, **kwargs)

    module.SnapshotStore.stage = fetched


def _patch_dbt_invocation(module):
    import dagster as dg

    stream = module.DbtCliInvocation.stream

    def paused_stream(self, *args, **kwargs):
        first = True
        for event in stream(self, *args, **kwargs):
            if first and isinstance(event, dg.Output):  # dbt has written a model and goes on
                first = False
                pause("dbt_writing")
            yield event

    module.DbtCliInvocation.stream = paused_stream


def _patch_metrics(module):
    check = module.rankings_are_dense

    @functools.wraps(check)
    def paused(*args, **kwargs):
        pause("checks")
        return check(*args, **kwargs)

    module.rankings_are_dense = paused


class _Os:
    """The os module as publish.py sees it, with pauses around the renames that publish."""

    def __getattr__(self, name):
        return getattr(os, name)

    @staticmethod
    def replace(src, dst, *args, **kwargs):
        is_snapshot = os.path.basename(str(dst)).startswith("snapshot_date=")
        if is_snapshot:
            pause("before_rename")
        if str(dst).endswith(".duckdb"):
            pause("catalog")
        os.replace(src, dst, *args, **kwargs)
        if is_snapshot:
            pause("after_rename")


def _patch_publish(module):
    module.os = _Os()


def _patch_duckdb(module):
    connect = module.connect
    keep_wal = os.environ.get("OBSERVATORY_DBT_KEEPS_WAL") == "1"

    @functools.wraps(connect)
    def patched_connect(*args, **kwargs):
        con = connect(*args, **kwargs)
        if keep_wal and not kwargs.get("read_only"):
            con.execute("pragma disable_checkpoint_on_shutdown")
            con.execute("set checkpoint_threshold = '10GB'")
        pause("dbt_connected")
        return con

    module.connect = patched_connect


PATCHES = {
    "orchestration.lib.snapshot_store": _patch_ingest,
    "dagster_dbt.core.dbt_cli_invocation": _patch_dbt_invocation,
    "orchestration.defs.checks.metrics": _patch_metrics,
    "orchestration.lib.publish": _patch_publish,
}
if IS_DBT:  # dbt's own process
    PATCHES = {"duckdb": _patch_duckdb} if os.environ.get("OBSERVATORY_DBT_KEEPS_WAL") == "1" or "dbt_connected" in POINTS else {}


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name not in PATCHES:
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_patch(module):
            exec_module(module)
            PATCHES[name](module)

        spec.loader.exec_module = exec_and_patch
        return spec


if PATCHES:
    sys.meta_path.insert(0, _Finder())
