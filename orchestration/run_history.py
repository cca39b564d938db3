"""What the command line reads from Dagster's run history: the checks of a snapshot's last build and
the last refresh, marking a run whose build process is gone as failed (nobody else will)."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

from orchestration.errors import UserError
from orchestration.settings import Settings

JOB = "refresh_snapshot"


def instance(settings: Settings):
    """The Dagster instance the builds record their runs in, or None before the first build."""
    from orchestration.building import BuildRefused, open_instance

    if not (settings.dagster_home / "dagster.yaml").exists():
        return None
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    try:
        return open_instance(settings)
    except BuildRefused as exc:
        raise UserError(str(exc)) from None


def register_stored_dates(settings: Settings) -> None:
    """Every stored snapshot date becomes a partition the UI shows (idempotent, nothing written when
    none is new); skipped before the first build, when there is no run history yet."""
    from orchestration.building import register_partitions

    history = instance(settings)
    if history is None:
        return
    try:
        register_partitions(history, settings)
    except Exception:  # a read-only run history: status still reads, the UI shows the dates at the next build
        pass


def last_check_status(settings: Settings, snapshot_date: str):
    """The checks of the last successful build of the snapshot, or None when none is recorded."""
    import dagster as dg

    from orchestration.defs.report.status import check_status

    history = instance(settings)
    if history is None:
        return None
    runs = history.get_runs(filters=dg.RunsFilter(job_name=JOB, statuses=[dg.DagsterRunStatus.SUCCESS],
                                                  tags={"dagster/partition": snapshot_date}), limit=1)
    return check_status(history, runs[0].run_id) if runs else None


@dataclass
class LastRefresh:
    snapshot_date: str | None
    state: str
    finished: bool
    checks: object  # report.CheckStatus


def last_refresh(settings: Settings) -> LastRefresh | None:
    """The newest refresh run and its checks; a run whose process is gone is recorded as failed."""
    import dagster as dg

    from orchestration.building import PID_TAG
    from orchestration.defs.report.status import check_status

    history = instance(settings)
    if history is None:
        return None
    runs = history.get_runs(filters=dg.RunsFilter(job_name=JOB), limit=1)
    if not runs:
        return None
    run = runs[0]
    interrupted = not run.is_finished and run_process_gone(run)
    if interrupted:
        history.report_run_failed(run, f"interrupted: the build process (pid {run.tags[PID_TAG]}) ended "
                                       "without finishing the run (killed?)")
    record = history.get_run_record_by_id(run.run_id)
    from orchestration.defs.refusal import REFUSED_TAG

    if interrupted:
        state = f"interrupted (its process {run.tags[PID_TAG]} is gone)"
    elif REFUSED_TAG in run.tags:
        state = f"refused, nothing changed: {run.tags[REFUSED_TAG]}"
    elif run.is_finished:
        ended = dt.datetime.fromtimestamp(record.end_time, dt.timezone.utc).isoformat(timespec="seconds")
        state = f"{record.dagster_run.status.value.lower()}, ended {ended}"
    else:
        state = "running"
    return LastRefresh(run.tags.get("dagster/partition"), state, run.is_finished and not interrupted,
                       check_status(history, run.run_id))


def run_process_gone(run) -> bool:
    """True when the run was started by an `observatory build` process that no longer exists."""
    from orchestration.building import PID_TAG, PROCESS_START_TAG
    from orchestration.lib.child import process_start

    pid = run.tags.get(PID_TAG)
    if not pid:
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, ValueError):
        return False
    started = run.tags.get(PROCESS_START_TAG)
    return bool(started) and process_start(int(pid)) != started  # the pid now belongs to another process
