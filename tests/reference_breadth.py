"""The breadth definitions (release size, modality and licence mixes, each provider's most built-on bases),
computed in plain Python over the rows of a raw hub-stats file and the seed CSV: an independent reference
for the breadth marts, their analyses and the README's table of the series' claims.

Nothing here reads the warehouse or reuses the dbt SQL. It builds on tests/reference.py (orgs, providers,
parents, label countries, derivative counts, the floor).
"""

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pyarrow.parquet as pq

from tests.reference import COLUMNS, Snapshot, org_of_id

# Size classes by total parameters, lower bounds inclusive (units of 1e9).
SIZE_BOUNDS = [(1e9, "under_1B"), (10e9, "1-9B"), (50e9, "10-49B"), (100e9, "50-99B")]
# The classes the README counts as "small models": 1B up to (not including) 50B. The blog's
# "0.5B-30B" has no exact counterpart in these classes; this is the closest union.
SMALL_CLASSES = ("1-9B", "10-49B")
TOP_BASES = 20


def size_class(total_params: int | None) -> str:
    if total_params is None:
        return "unknown"
    return next((name for bound, name in SIZE_BOUNDS if total_params < bound), "100B+")


def first_license(tags: list[str] | None) -> str:
    """The value of the first `license:` tag; 'none' when there is none or its value is empty."""
    value = next((tag[len("license:"):] for tag in tags or [] if tag.startswith("license:")), "")
    return value or "none"


def month_of(created: dt.datetime) -> dt.date:
    return created.date().replace(day=1)


def shares(counts: Counter, group_of) -> dict:
    """key -> (n, n / total of the key's group)."""
    totals = Counter()
    for key, n in counts.items():
        totals[group_of(key)] += n
    return {key: (n, n / totals[group_of(key)]) for key, n in counts.items()}


@dataclass
class BreadthSnapshot(Snapshot):
    @classmethod
    def read(cls, path: Path, snapshot: dt.date) -> "BreadthSnapshot":
        table = pq.read_table(path, columns=[*COLUMNS, "pipeline_tag", "safetensors"])
        rows = table.to_pylist()
        for row in rows:
            row["total_params"] = (row.pop("safetensors") or {}).get("total")
        return cls(rows, snapshot)

    def country(self, row: dict) -> str:
        return self.label[row["id"]][0] or "unknown"

    # --- fct_release_size_mix: (month, country, size_class) -> (n_releases, share) -------------
    def release_size_mix(self) -> dict:
        counts = Counter((month_of(r["createdAt"]), self.country(r), size_class(r["total_params"])) for r in self.released())
        return shares(counts, lambda key: key[:2])

    # --- fct_modality_mix: (month, country, pipeline_tag) -> (n_releases, share) ---------------
    def modality_mix(self) -> dict:
        counts = Counter((month_of(r["createdAt"]), self.country(r), r["pipeline_tag"] or "none") for r in self.released())
        return shares(counts, lambda key: key[:2])

    # --- fct_license_mix: (provider, year, license) -> (n_releases, share) ---------------------
    def license_mix(self) -> dict:
        tracked = self.seed.tracked_providers
        counts = Counter()
        for row in self.released():
            provider = self.seed.provider(self.org(row))
            if provider in tracked:
                counts[(provider, row["createdAt"].year, first_license(row["tags"]))] += 1
        return shares(counts, lambda key: key[:2])

    # --- fct_provider_top_bases: (provider, rank) -> (base_model_id, n_direct, n_descendants) ---
    @cached_property
    def provider_top_bases(self) -> dict:
        with_country = set(self.seed.provider_country)
        per_provider = defaultdict(list)
        for base, counts in self.base_model_derivatives().items():
            org = org_of_id(base)
            if org is None or counts["n_direct"] < 1 or org.lower() not in self.seed.by_org:
                continue
            provider = self.seed.provider(org)
            if provider in with_country:
                per_provider[provider].append((base, counts["n_direct"], counts["n_descendants"]))
        top = {}
        for provider, bases in per_provider.items():
            bases.sort(key=lambda b: (-b[2], -b[1], b[0]))
            for rank, base in enumerate(bases[:TOP_BASES], 1):
                top[(provider, rank)] = base
        return top

    # --- the series' claims (README table) --------------------------------------------------
    def small_model_share_by_year(self, countries=("CN", "US")) -> dict:
        """(country or 'all', year) -> (small releases, releases of known size, share)."""
        small, known = Counter(), Counter()
        for row in self.released():
            size = size_class(row["total_params"])
            if size == "unknown":
                continue
            for group in ("all", self.country(row)):
                if group == "all" or group in countries:
                    known[(group, row["createdAt"].year)] += 1
                    small[(group, row["createdAt"].year)] += size in SMALL_CLASSES
        return {key: (small[key], n, small[key] / n) for key, n in known.items()}

    def chinese_tracked_licenses(self) -> dict[str, Counter]:
        """Heatmap-tracked Chinese provider -> releases per licence, all years."""
        chinese = {p for p, c in self.seed.provider_country.items() if c == "CN"}
        licenses = defaultdict(Counter)
        for (provider, _year, license_), (n, _share) in self.license_mix().items():
            if provider in chinese:
                licenses[provider][license_] += n
        return dict(licenses)

    def modality_counts(self, first_month: dt.date, end_month: dt.date) -> Counter:
        """Releases per pipeline tag ('none' when null) created in the months first_month .. before end_month."""
        return Counter(r["pipeline_tag"] or "none" for r in self.released()
                       if first_month <= month_of(r["createdAt"]) < end_month)
