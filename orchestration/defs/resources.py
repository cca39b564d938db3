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
    """Paths and options of the warehouse (README "Settings")."""

    data_dir: str
    duckdb_path: str
    dagster_home: str
    hub_source: str | None = None
    hub_file: str | None = None
    snapshot_date: str | None = None
    sample_rows: int = 20_000
    hub_stats_repo: str = "cfahlgren1/hub-stats"
    api_authors: list[str] = []
    hub_weekly_repo: str = "hfmlsoc/hub_weekly_snapshots"
    hub_dir: str | None = None
    schedule_source: str = "hub_stats"
    hub_poll_minutes: int = 30
    weekly_top_n: int = 10
    label_coverage_min: float = 0.5
    volume_drift_band: float = 0.25
    freshness_max_age_days: int = 3
    lock_timeout_s: float = 1800.0

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
