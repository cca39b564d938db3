"""Backfill: build every date a history source offers in a range, one date at a time, resumable.

Dates already stored and built are skipped, so a killed backfill resumes by running the same
command again. A failing date is reported and the others still build.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable

from orchestration.building import BuildRefused, BuildResult, built_dates, open_instance, prepare_environment, \
    register_partitions, run_build
from orchestration.lib.snapshot_store import SnapshotStore
from orchestration.lib.sources import SnapshotRequest, check_request, get_source
from orchestration.settings import Settings

EVERY = ("day", "week")


def build_one_date(settings: Settings, request: SnapshotRequest) -> BuildResult:
    """The one place a backfill builds a date: what `observatory build` does for that date."""
    check_request(request)
    return run_build(settings, request, log_level="WARNING")


def one_per_week(dates: list[str]) -> list[str]:
    """The last date of each ISO week (Monday-start) among `dates`."""
    last: dict[tuple[int, int], str] = {}
    for date in sorted(dates):
        year, week, _ = dt.date.fromisoformat(date).isocalendar()
        last[(year, week)] = date
    return sorted(last.values())


def plan(settings: Settings, template: SnapshotRequest, start: str, end: str, every: str) -> tuple[list[str], list[str]]:
    """(dates to build, dates skipped as already stored and built), both ascending."""
    source = get_source(template.source)
    dates = source.dates(template, start, end)
    if every == "week":
        dates = one_per_week(dates)
    store = SnapshotStore(settings.raw_models_dir)
    built = built_dates(settings)
    done = [d for d in dates if d in built and store.get(d) is not None]
    return [d for d in dates if d not in done], done


def backfill(settings: Settings, template: SnapshotRequest, start: str, end: str, every: str = "day",
             out: Callable[[str], None] = print) -> list[str]:
    """Build each remaining date from `start` to `end`; returns the dates that failed."""
    todo, done = plan(settings, template, start, end, every)
    total = len(todo) + len(done)
    try:  # every date of the range is a partition from the start: the UI shows what is still to build
        prepare_environment(settings)
        register_partitions(open_instance(settings), settings, *todo, *done)
    except BuildRefused:
        pass  # the first date's build says why, in its line
    out(f"backfill {template.source} {start}..{end} (every {every}): {total} dates offered, "
        f"{len(done)} already stored and built, {len(todo)} to build")
    failed: list[str] = []
    started = time.monotonic()
    durations: list[float] = []
    for i, date in enumerate(todo, start=1):
        position = f"[{len(done) + i}/{total}]"
        elapsed = time.monotonic() - started
        eta = _clock(sum(durations) / len(durations) * (len(todo) - i + 1)) if durations else "?"
        out(f"{position} {date}: ingest and build (elapsed {_clock(elapsed)}, ETA {eta})")
        began = time.monotonic()
        try:
            result = build_one_date(settings, dataclasses.replace(template, snapshot_date=date))
        except Exception as exc:  # one date's failure never stops the others
            result = BuildResult(date, False, errors=[f"{type(exc).__name__}: {exc}"])
        durations.append(time.monotonic() - began)
        if result.success:
            out(f"{position} {date}: built in {durations[-1]:.0f} s")
        else:
            failed.append(date)
            for line in result.errors or ["failed"]:
                out(f"{position} {date}: FAILED {line.splitlines()[0] if line else ''}")
    built = len(todo) - len(failed)
    out(f"backfill done in {_clock(time.monotonic() - started)}: {built} built, {len(done)} skipped, "
        f"{len(failed)} failed{': ' + ', '.join(failed) if failed else ''}")
    return failed


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
