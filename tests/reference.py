"""The documented definitions (README "Definitions"), computed in plain Python over the rows of a raw hub-stats file
and the seed CSV: an independent reference for the marts, the analyses and the report.

Nothing here reads the warehouse or reuses the dbt SQL. Dates are UTC (the raw timestamps are naive UTC).
"""

import csv
import datetime as dt
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pyarrow.parquet as pq

from tests.conftest import SEED_CSV

TYPED_TAG = re.compile(r"^base_model:(adapter|finetune|quantized|merge):(.+)$")
COLUMNS = ["id", "author", "createdAt", "likes", "downloads", "tags", "baseModels"]


def is_floor(created: dt.datetime | None) -> bool:
    """Any createdAt within the minute 2022-03-02 23:29 UTC is the Hub's floor: an unknown date."""
    return created is not None and dt.datetime(2022, 3, 2, 23, 29) <= created.replace(tzinfo=None) < dt.datetime(2022, 3, 2, 23, 30)


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def newest_complete_week(snapshot: dt.date) -> dt.date:
    """The newest Monday whose Sunday is on or before the snapshot day (the week has ended by then)."""
    week = monday(snapshot)
    return week if week + dt.timedelta(days=6) <= snapshot else week - dt.timedelta(days=7)


@dataclass
class Seed:
    rows: list[dict]

    @classmethod
    def read(cls, path: Path = SEED_CSV) -> "Seed":
        with open(path, newline="") as handle:
            return cls(list(csv.DictReader(handle)))

    @cached_property
    def by_org(self) -> dict[str, dict]:
        return {row["org"].lower(): row for row in self.rows}

    def provider(self, org: str) -> str:
        row = self.by_org.get(org.lower())
        return row["provider"] if row else org

    def country(self, org: str | None) -> str | None:
        row = self.by_org.get((org or "").lower())
        return (row["country"] or None) if row else None

    @cached_property
    def tracked_providers(self) -> set[str]:
        return {row["provider"] for row in self.rows if row["is_heatmap_tracked"].strip().lower() == "true"}

    @cached_property
    def provider_country(self) -> dict[str, str]:
        return {row["provider"]: row["country"] for row in self.rows if row["country"]}


def org_of_id(model_id: str) -> str | None:
    return model_id.split("/", 1)[0] if "/" in model_id else None


@dataclass
class Snapshot:
    rows: list[dict]
    snapshot: dt.date
    seed: Seed = field(default_factory=Seed.read)

    @classmethod
    def read(cls, path: Path, snapshot: dt.date) -> "Snapshot":
        return cls(pq.read_table(path, columns=COLUMNS).to_pylist(), snapshot)

    # --- models, orgs, parents -------------------------------------------------------------
    @cached_property
    def by_id(self) -> dict[str, dict]:
        return {row["id"]: row for row in self.rows}

    def org(self, row: dict) -> str:
        """The id's namespace; the author for an id without one (the id itself when there is no author)."""
        return org_of_id(row["id"]) or row["author"] or row["id"]

    def parents(self, row: dict) -> list[tuple[str, str | None]]:
        """(parent id, relation) in listing order: baseModels, else typed base_model tags; blank ids, repeats
        and the model's own id dropped."""
        base = row["baseModels"]
        if base and base["models"]:
            listed = [(m["id"], base["relation"]) for m in base["models"]]
        else:
            listed = [(m.group(2), m.group(1)) for m in map(TYPED_TAG.match, row["tags"] or []) if m]
        seen, out = set(), []
        for parent, relation in listed:
            parent = (parent or "").strip()
            if parent and parent != row["id"] and parent not in seen:
                seen.add(parent)
                out.append((parent, relation))
        return out

    @cached_property
    def first_parent(self) -> dict[str, str | None]:
        return {row["id"]: next((p for p, _ in self.parents(row)), None) for row in self.rows}

    def chain(self, model_id: str) -> list[str]:
        """The model, its first parent, that parent's first parent ... (no repeats, at most 10 hops)."""
        chain = [model_id]
        while len(chain) <= 10:
            parent = self.first_parent.get(chain[-1])
            if not parent or parent in chain:
                break
            chain.append(parent)
        return chain

    def country_of_id(self, model_id: str) -> str | None:
        row = self.by_id.get(model_id)
        return self.seed.country(self.org(row) if row else org_of_id(model_id))

    @cached_property
    def label(self) -> dict[str, tuple[str | None, str]]:
        """model id -> (label country, label source)."""
        labels = {}
        for row in self.rows:
            own = self.seed.country(self.org(row))
            if own:
                labels[row["id"]] = (own, "org")
                continue
            inherited = next((c for c in map(self.country_of_id, self.chain(row["id"])[1:]) if c), None)
            labels[row["id"]] = (inherited, "base_model") if inherited else (None, "unknown")
        return labels

    def released(self) -> list[dict]:
        """Rows with a real creation date (not the floor)."""
        return [row for row in self.rows if row["createdAt"] is not None and not is_floor(row["createdAt"])]

    # --- A1 ----------------------------------------------------------------------------------
    def releases_per_provider_year(self) -> Counter:
        return Counter((self.seed.provider(self.org(row)), row["createdAt"].year) for row in self.released())

    # --- A2 ----------------------------------------------------------------------------------
    def weekly_top(self, week: dt.date, n: int = 10, metric: str = "likes") -> list[tuple[str, int]]:
        rows = [row for row in self.released() if monday(row["createdAt"].date()) == week and row[metric] is not None]
        rows.sort(key=lambda row: (-row[metric], row["id"]))
        return [(row["id"], row[metric]) for row in rows[:n]]

    # --- A3 ----------------------------------------------------------------------------------
    def heatmap_days(self) -> list[dt.date]:
        return [self.snapshot - dt.timedelta(days=363 - i) for i in range(364)]

    def heatmap(self) -> dict[str, Counter]:
        """Tracked provider -> releases per day over the 364 days ending at the snapshot (every tracked
        provider present, even without a release)."""
        first = self.snapshot - dt.timedelta(days=363)
        days = {provider: Counter() for provider in self.seed.tracked_providers}
        for row in self.released():
            provider, day = self.seed.provider(self.org(row)), row["createdAt"].date()
            if provider in days and first <= day <= self.snapshot:
                days[provider][day] += 1
        return days

    # --- A4 ----------------------------------------------------------------------------------
    def download_totals(self, cohort: str) -> Counter:
        """Label country ('unknown' when none) -> 30-day downloads; cohort new_365d or all."""
        first = self.snapshot - dt.timedelta(days=364)
        totals = Counter()
        for row in self.rows:
            if cohort == "new_365d":
                if row["createdAt"] is None or is_floor(row["createdAt"]):
                    continue
                if not first <= row["createdAt"].date() <= self.snapshot:
                    continue
            totals[self.label[row["id"]][0] or "unknown"] += row["downloads"] or 0
        return totals

    def download_shares(self, cohort: str) -> dict[str, float]:
        totals = self.download_totals(cohort)
        grand = sum(totals.values())
        return {country: value / grand for country, value in totals.items()}

    # --- A5 ----------------------------------------------------------------------------------
    def top_liked_countries(self, n: int) -> Counter:
        ranked = sorted((row for row in self.rows if row["likes"] is not None), key=lambda row: (-row["likes"], row["id"]))[:n]
        return Counter(self.label[row["id"]][0] or "unknown" for row in ranked)

    # --- A6 ----------------------------------------------------------------------------------
    def derivatives_per_month(self) -> dict[str, Counter]:
        """Root country ('unknown' when unmapped) -> new derivatives per month (first day of the month)."""
        months = defaultdict(Counter)
        for row in self.released():
            if self.first_parent[row["id"]] is None:
                continue
            root = self.chain(row["id"])[-1]
            month = row["createdAt"].date().replace(day=1)
            months[self.country_of_id(root) or "unknown"][month] += 1
        return months

    def base_model_derivatives(self) -> dict[str, dict]:
        """Base model id -> direct children (total and by relation) and distinct descendants through
        any parent (at most 10 hops)."""
        children = defaultdict(list)
        for row in self.rows:
            for parent, relation in self.parents(row):
                children[parent].append((row["id"], relation))
        out = {}
        for base, direct in children.items():
            seen, frontier = set(), [base]
            for _ in range(10):
                frontier = [c for node in frontier for c, _ in children.get(node, ()) if c not in seen and c != base]
                seen.update(frontier)
                if not frontier:
                    break
            relations = Counter(relation for _, relation in direct)
            out[base] = {"n_direct": len(direct), "n_descendants": len(seen),
                         **{f"n_{r}": relations.get(r, 0) for r in ("finetune", "adapter", "quantized", "merge")}}
        return out
