"""The history definitions (period downloads, stalls, shares, concentration, families, relative
adoption), computed in plain Python over a series of raw hub-stats files: an independent reference for
the trend marts.

Nothing here reads the warehouse or reuses the dbt SQL. Single-snapshot facts (org, provider, label
country, first-parent chain) come from tests/reference.py's Snapshot. Dates are UTC.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pyarrow.parquet as pq

from tests.reference import COLUMNS, Seed, Snapshot, is_floor

TREND_COLUMNS = [*COLUMNS, "_id", "downloadsAllTime", "pipeline_tag", "library_name", "safetensors"]
MAX_GAP_DAYS = 35
STALL_RATIO = 0.25
STALL_LOOKBACK = 8
CHECKPOINTS = (7, 14, 30, 60, 90, 180, 365)
ADOPTION_FROM = dt.date(2025, 2, 26)
ADOPTION_PIPELINES = {"text-generation", "image-text-to-text"}
BASELINE_RANK = 10


# --- small pieces, unit-tested on hand examples ------------------------------------------------------
def median(values: list[float]) -> float:
    return statistics.median(values)


def is_stalled(per_day: float, preceding: list[float]) -> bool:
    """Under 25% of the median of the up to 8 preceding periods' per-day sums (never without any)."""
    preceding = preceding[-STALL_LOOKBACK:]
    return bool(preceding) and per_day < STALL_RATIO * median(preceding)


def period_value(now: int | None, before: int | None, present_before: bool, created: dt.datetime | None,
                 prev_date: dt.date) -> int | None:
    """One model's period downloads: the difference, null when negative; from 0 for a model absent before
    and created after the previous snapshot's date; null otherwise."""
    if now is None:
        return None
    if present_before:
        if before is None:
            return None
        diff = now - before
        return diff if diff >= 0 else None
    if created is not None and not is_floor(created) and created.date() > prev_date:
        return now
    return None


def concentration(values: dict[str, float]) -> dict | None:
    """HHI, Gini, top1 and top10 shares over the units with a positive value (None when there is none)."""
    xs = sorted((v for v in values.values() if v and v > 0), reverse=True)
    if not xs:
        return None
    n, total = len(xs), float(sum(xs))
    shares = [x / total for x in xs]
    ascending = xs[::-1]
    # sum_i sum_j |x_i - x_j| = 2 * sum_k (2k - n - 1) x_(k), k = 1..n over the ascending values
    pair_sum = 2 * sum((2 * k - n - 1) * x for k, x in enumerate(ascending, start=1))
    gini = pair_sum / (2 * n * n * (total / n))
    return {"n_units": n, "hhi": sum(s * s for s in shares), "gini": gini,
            "top1_share": shares[0], "top10_share": sum(shares[:10])}


def cumulative_at(points: dict[dt.date, float], target: dt.date, as_of: dt.date) -> float | None:
    """The value at `target` from dated points: the point's value, else the linear interpolation between
    the latest point before and the earliest after; None after `as_of`, with nothing after, or when
    those two points are more than 35 days apart."""
    if target > as_of:
        return None
    if target in points:
        return float(points[target])
    before = [t for t in points if t < target]
    after = [t for t in points if t > target]
    if not before or not after:
        return None
    t0, t1 = max(before), min(after)
    if (t1 - t0).days > MAX_GAP_DAYS:
        return None
    v0, v1 = points[t0], points[t1]
    return v0 + (v1 - v0) * (target - t0).days / (t1 - t0).days


def baselines(values: dict[int, list[float]]) -> dict[int, float]:
    """Checkpoint -> the 10th largest value (the smallest when fewer), made non-decreasing in the
    checkpoint by a running max. Checkpoints without values have none."""
    out, running = {}, None
    for checkpoint in sorted(values):
        if not values[checkpoint]:
            continue
        ranked = sorted(values[checkpoint], reverse=True)
        value = ranked[BASELINE_RANK - 1] if len(ranked) >= BASELINE_RANK else ranked[-1]
        running = value if running is None else max(running, value)
        out[checkpoint] = running
    return out


def size_class(total_params: int | None) -> str | None:
    if total_params is None:
        return None
    for bound, name in ((1e9, "under_1B"), (10e9, "1-9B"), (50e9, "10-49B"), (100e9, "50-99B")):
        if total_params < bound:
            return name
    return "100B+"


# --- a stored snapshot and the series --------------------------------------------------------------
def read_rows(path: Path) -> list[dict]:
    """The rows of a raw file with the columns the definitions use; a column the file lacks is None."""
    available = set(pq.read_schema(path).names)
    rows = pq.read_table(path, columns=[c for c in TREND_COLUMNS if c in available]).to_pylist()
    for row in rows:
        for column in TREND_COLUMNS:
            row.setdefault(column, None)
    return rows


@dataclass
class Stored:
    date: dt.date
    snapshot: Snapshot

    @cached_property
    def has_object_id(self) -> bool:
        return any(row["_id"] for row in self.snapshot.rows)

    def keyed(self, by_object_id: bool) -> dict[str, dict]:
        return self._by_object_id if by_object_id else self.snapshot.by_id

    @cached_property
    def _by_object_id(self) -> dict[str, dict]:
        return {row["_id"]: row for row in self.snapshot.rows}


@dataclass
class Period:
    """What the series says about one snapshot S."""

    date: dt.date
    prev: dt.date | None  # the newest stored snapshot before S that is not stalled
    stalled: bool = False
    days: int | None = None
    per_day_sum: float | None = None  # the Hub-wide positive period downloads per day (before the stall rule)
    # model key -> (model id at S, period downloads or None); None when S has no period downloads
    downloads: dict[str, tuple[str, int | None]] | None = None


def both_have_object_id(a: Stored, b: Stored) -> bool:
    return a.has_object_id and b.has_object_id


@dataclass
class Series:
    stored: list[Stored]
    seed: Seed = field(default_factory=Seed.read)

    @classmethod
    def read(cls, files: dict[str, Path]) -> "Series":
        seed = Seed.read()
        stored = [Stored(dt.date.fromisoformat(d), Snapshot(read_rows(p), dt.date.fromisoformat(d), seed))
                  for d, p in sorted(files.items())]
        return cls(stored, seed)

    def at(self, date: dt.date) -> Stored:
        return next(s for s in self.stored if s.date == date)

    # --- previous snapshot, stall, period downloads ---------------------------------------------------
    @cached_property
    def periods(self) -> dict[dt.date, Period]:
        out: dict[dt.date, Period] = {}
        per_day_history: list[float] = []
        for i, current in enumerate(self.stored):
            earlier = [s for s in self.stored[:i] if not out[s.date].stalled]
            prev = earlier[-1] if earlier else None
            period = Period(current.date, prev.date if prev else None)
            out[current.date] = period
            if prev is None or (current.date - prev.date).days > MAX_GAP_DAYS:
                continue
            period.days = (current.date - prev.date).days
            by_object_id = both_have_object_id(current, prev)
            before = prev.keyed(by_object_id)
            values = {}
            for key, row in current.keyed(by_object_id).items():
                old = before.get(key)
                values[key] = (row["id"], period_value(row["downloadsAllTime"], old["downloadsAllTime"] if old else None,
                                                       old is not None, row["createdAt"], prev.date))
            period.per_day_sum = sum(v for _, v in values.values() if v and v > 0) / period.days
            if is_stalled(period.per_day_sum, per_day_history):
                period.stalled = True
                continue
            per_day_history.append(period.per_day_sum)
            period.downloads = values
        return out

    def model_period_downloads(self, date: dt.date) -> dict[str, dict]:
        """fct_model_period_downloads at `date`: model id -> row (downloads > 0 only)."""
        period = self.periods[date]
        if period.downloads is None:
            return {}
        return {model_id: {"model_key": key, "prev_snapshot_date": period.prev, "days": period.days,
                           "downloads": value, "downloads_per_day": value / period.days}
                for key, (model_id, value) in period.downloads.items() if value and value > 0}

    def _positive(self, date: dt.date) -> list[tuple[dict, int]]:
        """(row at `date`, period downloads) of the models with positive period downloads."""
        rows = self.at(date).snapshot.by_id
        return [(rows[model_id], r["downloads"]) for model_id, r in self.model_period_downloads(date).items()]

    # --- provider and country shares of the period downloads -------------------------------------------
    def provider_period_downloads(self, date: dt.date) -> dict[str, dict]:
        snapshot, days = self.at(date).snapshot, self.periods[date].days
        totals: dict[str, int] = defaultdict(int)
        for row, value in self._positive(date):
            totals[self.seed.provider(snapshot.org(row))] += value
        grand = sum(totals.values())
        ranked = sorted(totals, key=lambda p: (-totals[p], p))
        return {p: {"country": self.seed.provider_country.get(p), "downloads": totals[p],
                    "downloads_per_day": totals[p] / days, "share": totals[p] / grand, "rank": rank}
                for rank, p in enumerate(ranked, start=1)}

    def country_period_download_share(self, date: dt.date) -> dict[tuple[str, str], dict]:
        snapshot = self.at(date).snapshot
        totals: dict[tuple[str, str], int] = defaultdict(int)
        for row, value in self._positive(date):
            country = snapshot.label[row["id"]][0] or "unknown"
            totals[("all", country)] += value
            if self._released_within_365(row, date):
                totals[("new_365d", country)] += value
        grand = defaultdict(int)
        for (cohort, _), value in totals.items():
            grand[cohort] += value
        return {k: {"downloads": v, "share": v / grand[k[0]]} for k, v in totals.items()}

    @staticmethod
    def _released_within_365(row: dict, date: dt.date) -> bool:
        created = row["createdAt"]
        return created is not None and not is_floor(created) and date - dt.timedelta(days=364) <= created.date() <= date

    # --- concentration --------------------------------------------------------------------------------
    def concentration(self, date: dt.date) -> dict[tuple[str, str], dict]:
        snapshot = self.at(date).snapshot
        measures: dict[str, list[tuple[dict, float]]] = {
            "downloads_30d": [(row, row["downloads"] or 0) for row in snapshot.rows],
            "releases_365d": [(row, 1) for row in snapshot.rows if self._released_within_365(row, date)],
        }
        if self.periods[date].downloads is not None:
            measures["period_downloads"] = self._positive(date)
        units = {
            "org": snapshot.org,
            "provider": lambda row: self.seed.provider(snapshot.org(row)),
            "country": lambda row: snapshot.label[row["id"]][0],
        }
        out = {}
        for measure, pairs in measures.items():
            for unit, unit_of in units.items():
                values: dict[str, float] = defaultdict(float)
                for row, value in pairs:
                    name = unit_of(row)
                    if name is not None:
                        values[name] += value
                result = concentration(values)
                if result is not None:
                    out[(measure, unit)] = result
        return out

    # --- families -------------------------------------------------------------------------------------
    def family_downloads(self, date: dt.date) -> dict[str, dict]:
        """Roots with at least one derivative; root_country 'unknown' when the root's org is unmapped (as
        the root country of A6)."""
        snapshot = self.at(date).snapshot
        members: dict[str, list[dict]] = defaultdict(list)
        for row in snapshot.rows:
            members[snapshot.chain(row["id"])[-1]].append(row)
        out = {}
        for root, rows in members.items():
            if not any(row["id"] != root for row in rows):
                continue
            total = sum(row["downloads"] or 0 for row in rows)
            root_row = snapshot.by_id.get(root)
            own = (root_row["downloads"] or 0) if root_row else 0
            out[root] = {"root_org": snapshot.org(root_row) if root_row else (root.split("/", 1)[0] if "/" in root else root),
                         "root_country": snapshot.country_of_id(root) or "unknown", "n_models": len(rows),
                         "downloads_30d": total, "downloads_30d_root": own,
                         "derivative_share": (1 - own / total) if total else None}
        return out

    # --- relative adoption ----------------------------------------------------------------------------
    @staticmethod
    def in_adoption_universe(snapshot: Snapshot, row: dict) -> bool:
        created = row["createdAt"]
        if row["pipeline_tag"] not in ADOPTION_PIPELINES or created is None or is_floor(created):
            return False
        if created.date() < ADOPTION_FROM or total_params(row) is None:
            return False
        parents = snapshot.parents(row)
        if parents and parents[0][1] == "quantized":
            return False
        tags = set(row["tags"] or [])
        return row["library_name"] not in ("gguf", "mlx") and not tags & {"gguf", "mlx"}

    def adoption_points(self, current: Stored, row: dict) -> dict[dt.date, float]:
        """(date, downloadsAllTime) of every stored, non-stalled snapshot up to S holding the model (by
        model key), plus (createdAt date, 0) unless one of them is dated that day."""
        points = {}
        for other in self.stored:
            if other.date > current.date or self.periods[other.date].stalled:
                continue
            by_object_id = both_have_object_id(current, other)
            key = row["_id"] if by_object_id else row["id"]
            held = other.keyed(by_object_id).get(key)
            if held is not None and held["downloadsAllTime"] is not None:
                points[other.date] = held["downloadsAllTime"]
        points.setdefault(row["createdAt"].date(), 0)
        return points

    def relative_adoption(self, date: dt.date) -> dict[tuple[str, int], dict]:
        current = self.at(date)
        snapshot = current.snapshot
        cumulative: dict[tuple[str, int], float] = {}
        classes: dict[str, str] = {}
        for row in snapshot.rows:
            if not self.in_adoption_universe(snapshot, row):
                continue
            classes[row["id"]] = size_class(total_params(row))
            points = self.adoption_points(current, row)
            for d in CHECKPOINTS:
                value = cumulative_at(points, row["createdAt"].date() + dt.timedelta(days=d), date)
                if value is not None:
                    cumulative[(row["id"], d)] = value
        by_class: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
        for (model_id, d), value in cumulative.items():
            by_class[classes[model_id]][d].append(value)
        base = {c: baselines(v) for c, v in by_class.items()}
        out = {}
        for (model_id, d), value in cumulative.items():
            b = base[classes[model_id]][d]
            out[(model_id, d)] = {"size_class": classes[model_id], "cumulative_downloads": value,
                                  "baseline": b, "ram": value / b if b else None}
        return out


def total_params(row: dict) -> int | None:
    return (row["safetensors"] or {}).get("total")
