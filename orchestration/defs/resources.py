"""The warehouse's settings as one Dagster resource, `observatory`.

Assets, checks and the sensor take it as a parameter instead of reading the environment in their
bodies: the Resources page of the UI shows the values a run uses, and a test or a launch can set
them without touching the environment. Its values come from the environment when the code
location loads (orchestration/settings.py documents each variable; defaults work on a fresh clone).
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from orchestration.settings import Settings


class ObservatorySettings(dg.ConfigurableResource):
    """Paths and options of the warehouse (README "Settings"). Built from a Settings (from_settings),
    whose defaults and environment variables are the only ones: no default is repeated here."""

    data_dir: str
    duckdb_path: str
    dagster_home: str
    hub_source: str | None
    hub_file: str | None
    snapshot_date: str | None
    sample_rows: int
    hub_stats_repo: str
    api_authors: list[str]
    hub_weekly_repo: str
    hub_dir: str | None
    schedule_source: str
    hub_poll_minutes: int
    weekly_top_n: int
    label_coverage_min: float
    volume_drift_band: float
    freshness_max_age_days: int
    lock_timeout_s: float
    freshness_warn_hours: float
    freshness_fail_hours: float
    git_url: str | None
    git_branch: str
    engine: str

    @classmethod
    def from_settings(cls, settings: Settings) -> ObservatorySettings:
        values = {}
        for name in cls.model_fields:
            value = getattr(settings, name)
            values[name] = str(value) if isinstance(value, Path) else list(value) if isinstance(value, tuple) else value
        return cls(**values)

    @classmethod
    def from_env(cls) -> ObservatorySettings:
        return cls.from_settings(Settings.from_env())

    def get(self) -> Settings:
        """The settings as the code uses them (paths as Path)."""
        values = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if name in PATH_FIELDS and value is not None:
                value = Path(value)
            values[name] = tuple(value) if name == "api_authors" else value
        return Settings(**values)


PATH_FIELDS = {"data_dir", "duckdb_path", "dagster_home", "hub_file", "hub_dir"}
