"""Which engine a run's dbt step builds on: its launch config (`ops.observatory_dbt.config.engine`),
else the setting ENGINE. Read here by every step that needs it, so the ingest step can refuse an
engine that cannot run before anything is fetched or stored."""

from enum import Enum

import dagster as dg

from orchestration.lib.engines import engine_problem
from orchestration.settings import Settings

# The dbt step's op name (and step key) in the refresh job.
DBT_STEP = "observatory_dbt"


class EngineName(str, Enum):
    """The launchpad's choices for the dbt step's `engine` (an enum: Dagster's config takes an optional
    enum, not an optional Literal); a test holds them equal to lib.engines.ENGINES."""

    duckdb = "duckdb"
    spark = "spark"


def requested_engine(run: dg.DagsterRun, settings: Settings) -> str:
    """The engine the run's dbt step uses: the run's config for it, else the setting."""
    ops = (run.run_config or {}).get("ops") or {}
    config = (ops.get(DBT_STEP) or {}).get("config") or {}
    return config.get("engine") or settings.engine


def dbt_step_planned(run: dg.DagsterRun) -> bool:
    steps = run.step_keys_to_execute
    return steps is None or DBT_STEP in steps


def unavailable_engine(run: dg.DagsterRun, settings: Settings) -> str | None:
    """Why the run's dbt step could not build on its engine here (None: it can, or the run has no dbt step)."""
    if not dbt_step_planned(run):
        return None
    return engine_problem(requested_engine(run, settings))
