"""The dataset card (README.md) of the marts shared on the Hub: what each mart answers and its
columns, the snapshots the repo holds with their source and licence, and how to query it.

`render_card` is a pure function of its inputs; `mart_docs` reads the marts' descriptions from
dbt's parsed manifest (dbt_project/target/builds/manifest.json, from the YAML beside the models).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml

TITLE = "Open Model Observatory marts"
PARTITION = "snapshot_date"
ODBL_SPDX = "ODbL-1.0"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str = ""


@dataclass(frozen=True)
class MartDoc:
    name: str
    description: str = ""
    columns: list[Column] = field(default_factory=list)


@dataclass(frozen=True)
class SnapshotDoc:
    snapshot_date: str
    source: str
    source_repo: str | None = None
    source_license: str | None = None
    is_synthetic: bool = False
    n_rows: int | None = None

    @property
    def is_odbl(self) -> bool:
        return self.source == "hub_weekly" or ODBL_SPDX.lower() in (self.source_license or "").lower()


def mart_docs(manifest_path: Path) -> dict[str, dict]:
    """{mart: {"description", "columns": {column: description}}} of every model under models/marts."""
    manifest = json.loads(Path(manifest_path).read_text())
    docs = {}
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") != "model" or not node.get("original_file_path", "").startswith("models/marts/"):
            continue
        docs[node["name"]] = {
            "description": node.get("description") or "",
            "columns": {name: (column.get("description") or "") for name, column in node.get("columns", {}).items()},
        }
    return docs


def licence_metadata(snapshots: list[SnapshotDoc]) -> dict:
    """The card's `license` field: odbl when any snapshot derives from an ODbL source, else other (the
    card's Licence section then names each snapshot's source licence)."""
    return {"license": "odbl" if any(s.is_odbl for s in snapshots) else "other"}


def _one_line(text: str) -> str:
    return " ".join((text or "").split()).replace("|", "\\|")


def front_matter(marts: list[MartDoc], snapshots: list[SnapshotDoc]) -> dict:
    metadata = licence_metadata(snapshots)
    metadata["pretty_name"] = TITLE
    metadata["tags"] = ["hugging-face-hub", "open-models", "data-warehouse", "dbt"]
    metadata["configs"] = [
        {"config_name": mart.name, "data_files": [{"split": "train", "path": f"{mart.name}/*/*.parquet"}]}
        for mart in sorted(marts, key=lambda m: m.name)
    ]
    return metadata


def render_card(repo_id: str, marts: list[MartDoc], snapshots: list[SnapshotDoc]) -> str:
    """README.md of the dataset repo `repo_id`: YAML front matter (licence, one config per mart) and the card."""
    snapshots = sorted(snapshots, key=lambda s: s.snapshot_date)
    marts = sorted(marts, key=lambda m: m.name)
    header = yaml.safe_dump(front_matter(marts, snapshots), sort_keys=False, allow_unicode=True)
    example = marts[0].name if marts else "dim_models"
    if any(m.name == "dim_models" for m in marts):
        example = "dim_models"
    newest = snapshots[-1].snapshot_date if snapshots else "YYYY-MM-DD"
    lines = [
        "---", header.rstrip("\n"), "---", "",
        f"# {TITLE}", "",
        "The mart tables of the Open Model Observatory, a warehouse that measures the open-model ecosystem on",
        "the Hugging Face Hub (who releases models, from which country, which base models the community",
        "builds on, and how that shifts snapshot by snapshot), built with Dagster and dbt from Hub snapshots.",
        "",
        f"Layout: one folder per mart, one Parquet file per snapshot: `<mart>/{PARTITION}=YYYY-MM-DD/<mart>.parquet`.",
        f"Every file carries its snapshot date as its first column, `{PARTITION}` (a date, the same as the",
        "folder's name), so no reader needs hive partitioning to see it (the dataset viewer, the SQL console,",
        "DuckDB, `datasets`). Each mart is one configuration of this dataset (the dataset viewer's subset).",
        "",
        "## Snapshots",
        "",
        "| snapshot | source | source dataset | source licence | models | synthetic |",
        "|---|---|---|---|---|---|",
    ]
    for s in snapshots:
        lines.append(f"| {s.snapshot_date} | {_one_line(s.source)} | {_one_line(s.source_repo or '')} | "
                     f"{_one_line(s.source_license or 'not recorded')} | "
                     f"{'' if s.n_rows is None else s.n_rows} | {'yes' if s.is_synthetic else 'no'} |")
    if any(s.is_synthetic for s in snapshots):
        lines += ["", "Snapshots marked synthetic are the project's generated sample: they describe no real model."]
    lines += ["", "## Licence", ""]
    odbl = [s.snapshot_date for s in snapshots if s.is_odbl]
    if odbl:
        lines += [
            f"Data derived from the weekly Hub snapshots (`hub_weekly` source: {', '.join(odbl)}) is made available",
            "under the Open Database License (ODbL-1.0): https://opendatacommons.org/licenses/odbl/1-0/ . Any",
            "public use of these files, or of a database derived from them, must keep this notice and share",
            "alike under ODbL-1.0. As the trend marts of a snapshot compare it with earlier ones, this dataset as",
            "a whole is published under ODbL-1.0.",
        ]
    else:
        lines += [
            "The licence of each snapshot is that of its source, listed above (`license: other`): no snapshot",
            "here derives from an ODbL source. Each model's own licence is in its Hub tags.",
        ]
    lines += [
        "",
        "## How to query",
        "",
        "With DuckDB (the `hf://` file system):",
        "",
        "```sql",
        f"select * from read_parquet('hf://datasets/{repo_id}/{example}/*/*.parquet')",
        f"where {PARTITION} = date '{newest}' limit 10;",
        "```",
        "",
        "With the `datasets` library (one configuration per mart):",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        f'rows = load_dataset("{repo_id}", "{example}", split="train")',
        f'newest = rows.filter(lambda row: str(row["{PARTITION}"]) == "{newest}")',
        "```",
        "",
        "## Marts",
    ]
    for mart in marts:
        lines += ["", f"### {mart.name}", "", _one_line(mart.description).replace("\\|", "|") or "(no description)", "",
                  "| column | type | description |", "|---|---|---|",
                  f"| {PARTITION} | date | The snapshot the row describes (first column; also the `{PARTITION}=` folder). |"]
        for column in mart.columns:
            if column.name == PARTITION:
                continue
            lines.append(f"| {_one_line(column.name)} | {_one_line(column.type)} | {_one_line(column.description)} |")
    return "\n".join(lines) + "\n"
