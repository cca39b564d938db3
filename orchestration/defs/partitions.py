"""One partition per snapshot date, shared by the raw snapshot, every dbt model, check and the report.

The partitions are the dates stored or asked for, never a calendar: `observatory build` adds its
date before the run and `backfill` its range, any CLI build or status adds the dates already stored,
the refresh sensor adds the date it requests, and the job `register_snapshot_dates` adds a range
from the UI (then "Materialize -> missing" backfills exactly those dates).
"""

from __future__ import annotations

import datetime as dt
import warnings

import dagster as dg

# Every asset module imports this one before its decorator runs: one run per date (backfill_policy)
# is a beta Dagster parameter used on purpose, and its warning would be printed by every CLI build.
warnings.filterwarnings("ignore", category=dg.BetaWarning, message=".*backfill_policy.*")

PARTITIONS_NAME = "snapshot_date"

snapshot_partitions = dg.DynamicPartitionsDefinition(name=PARTITIONS_NAME)

# A range registered at once, at most: ten years of days. More is surely a typo in a date.
MAX_REGISTERED = 3660


def dates_between(start: str, end: str, every: str = "day") -> list[str]:
    """Every date from `start` to `end` (inclusive), or every seventh one from `start` (`every` week)."""
    first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    if first > last:
        raise ValueError(f"from {start} is after to {end}")
    step = {"day": 1, "week": 7}[every]
    count = (last - first).days // step + 1
    if count > MAX_REGISTERED:
        raise ValueError(f"{count} dates from {start} to {end}: at most {MAX_REGISTERED} at once")
    return [(first + dt.timedelta(days=step * i)).isoformat() for i in range(count)]


def register_dates(instance, dates) -> list[str]:
    """Add the dates that are not partitions yet; returns those added (none: nothing is written)."""
    wanted = sorted(set(dates))
    if not wanted:
        return []
    known = set(instance.get_dynamic_partitions(PARTITIONS_NAME))
    new = [d for d in wanted if d not in known]
    if new:
        instance.add_dynamic_partitions(PARTITIONS_NAME, new)
    return new
