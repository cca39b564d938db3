"""Paths and options, read from environment variables in one place.

Every setting has a default that works on a fresh clone. Nothing is read at import time: the
command line asks for `Settings.from_env()` when it starts, and Dagster assets, checks and the
sensor get the same values as the resource `observatory` (orchestration/defs/resources.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

# The bundled sample describes a fixed day, so re-running the default build changes nothing.
DEFAULT_SAMPLE_DATE = "2026-01-20"
DEFAULT_SAMPLE_ROWS = 20_000
HUB_STATS_REPO = "cfahlgren1/hub-stats"
HUB_WEEKLY_REPO = "hfmlsoc/hub_weekly_snapshots"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    duckdb_path: Path
    hub_source: str | None
    hub_file: Path | None
    snapshot_date: str | None
    sample_rows: int
    hub_stats_repo: str
    api_authors: tuple[str, ...]
    hub_weekly_repo: str = HUB_WEEKLY_REPO
    hub_dir: Path | None = None
    schedule_source: str = "hub_stats"
    hub_poll_minutes: int = 30
    weekly_top_n: int = 10
    label_coverage_min: float = 0.5
    volume_drift_band: float = 0.25
    freshness_max_age_days: int = 3
    lock_timeout_s: float = 1800.0
    dagster_home: Path | None = None  # DAGSTER_HOME, else DATA_DIR/dagster_home (see __post_init__)
    freshness_warn_hours: float = 36.0
    freshness_fail_hours: float = 72.0
    git_url: str | None = None  # OBSERVATORY_GIT_URL: the UI links each asset's code to this repository
    git_branch: str = "main"
    engine: str = "duckdb"  # ENGINE: what dbt builds on, duckdb or spark (lib/engines.py); checked when a build starts

    def __post_init__(self):
        if self.dagster_home is None:
            object.__setattr__(self, "dagster_home", self.data_dir / "dagster_home")

    @classmethod
    def from_env(cls) -> "Settings":
        data_dir = _abs_path(os.environ.get("DATA_DIR") or PROJECT_ROOT / "data")
        duckdb_path = _abs_path(
            os.environ.get("DUCKDB_PATH") or data_dir / "warehouse" / "observatory.duckdb"
        )
        hub_file = os.environ.get("HUB_FILE")
        authors = os.environ.get("API_AUTHORS", "")
        hub_dir = os.environ.get("HUB_DIR")
        return cls(
            data_dir=data_dir,
            duckdb_path=duckdb_path,
            hub_source=os.environ.get("HUB_SOURCE") or None,  # never the synthetic sample unless asked
            hub_file=_abs_path(hub_file) if hub_file else None,
            snapshot_date=os.environ.get("SNAPSHOT_DATE") or None,
            sample_rows=int(os.environ.get("SAMPLE_ROWS") or DEFAULT_SAMPLE_ROWS),
            hub_stats_repo=os.environ.get("HUB_STATS_REPO") or HUB_STATS_REPO,
            api_authors=tuple(a.strip() for a in authors.split(",") if a.strip()),
            hub_weekly_repo=os.environ.get("HUB_WEEKLY_REPO") or HUB_WEEKLY_REPO,
            hub_dir=_abs_path(hub_dir) if hub_dir else None,
            schedule_source=os.environ.get("SCHEDULE_SOURCE") or "hub_stats",
            hub_poll_minutes=int(os.environ.get("HUB_POLL_MINUTES") or 30),
            weekly_top_n=int(os.environ.get("WEEKLY_TOP_N") or 10),
            label_coverage_min=float(os.environ.get("LABEL_COVERAGE_MIN") or 0.5),
            volume_drift_band=float(os.environ.get("VOLUME_DRIFT_BAND") or 0.25),
            freshness_max_age_days=int(os.environ.get("FRESHNESS_MAX_AGE_DAYS") or 3),
            lock_timeout_s=float(os.environ.get("LOCK_TIMEOUT_S") or 1800),
            # Where Dagster keeps run history: the same place the UI (make dev) reads.
            dagster_home=_abs_path(os.environ["DAGSTER_HOME"]) if os.environ.get("DAGSTER_HOME") else None,
            freshness_warn_hours=float(os.environ.get("FRESHNESS_WARN_HOURS") or 36),
            freshness_fail_hours=float(os.environ.get("FRESHNESS_FAIL_HOURS") or 72),
            git_url=os.environ.get("OBSERVATORY_GIT_URL") or None,
            git_branch=os.environ.get("OBSERVATORY_GIT_BRANCH") or "main",
            engine=(os.environ.get("ENGINE") or "duckdb").strip().lower(),
        )

    @property
    def raw_models_dir(self) -> Path:
        return self.data_dir / "raw" / "models"

    def raw_dir(self, kind: str) -> Path:
        """The raw snapshots of one kind of file: models, datasets, spaces or papers."""
        return self.data_dir / "raw" / kind

    @property
    def lake_dir(self) -> Path:
        """The published marts: one folder per snapshot date, beside the catalog (lib/publish.py)."""
        return self.duckdb_path.parent / "lake"

    def snapshot_lock(self, snapshot_date: str) -> Path:
        """Held by a build of `snapshot_date` from its dbt step to its publication: one build per date."""
        return self.data_dir / "locks" / f"snapshot-{snapshot_date}.lock"

    @property
    def dbt_lock(self) -> Path:
        """Held while dbt runs: dbt writes the scratch warehouse through one fixed path (see
        lib/publish.py scratch_link_path), so dbt runs take turns; checks and publishing do not."""
        return self.data_dir / "locks" / "dbt.lock"

    @property
    def raw_lock(self) -> Path:
        """Held while a snapshot is fetched and stored."""
        return self.data_dir / "locks" / "raw.lock"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    def report_path(self, snapshot_date: str) -> Path:
        return self.reports_dir / f"report-{snapshot_date}.html"

    @property
    def instance_lock(self) -> Path:
        """Held while the Dagster instance (its SQLite run history) is opened, created or migrated."""
        return self.data_dir / "locks" / "instance.lock"

    def dbt_env(self) -> dict[str, str]:
        """The variables profiles.yml and the sources file read, as absolute paths."""
        return {"DATA_DIR": str(self.data_dir), "DUCKDB_PATH": str(self.duckdb_path), "LAKE_DIR": str(self.lake_dir)}


def _abs_path(value: str | Path) -> Path:
    return Path(value).expanduser().resolve()
