"""Datasets, Spaces and daily papers files in the hub-stats shape for a snapshot date, with edge rows
whose counts the tests derive by hand: a floor-dated dataset (never a release), an id without
namespace or author (its own org), a Wan-AI dataset on Jan 1 (provider Alibaba Qwen), and an extra
column the readers must tolerate."""

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.lib import sample_repos

UTC = dt.timezone.utc


def write_repo_files(root: Path, snapshot_date: str, n_rows: int = 300) -> dict[str, Path]:
    tables = sample_repos.generate(n_rows, snapshot_date)
    floor = dt.datetime(2022, 3, 2, 23, 29, 5, tzinfo=UTC)
    edge_datasets = [
        {"id": "edge/floor", "author": "edge", "createdAt": floor},
        {"id": "orphan-dataset", "author": None, "createdAt": dt.datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC)},
        {"id": "wan-ai/set", "author": "Wan-AI", "createdAt": dt.datetime(2026, 1, 1, tzinfo=UTC)},
    ]
    datasets = pa.concat_tables([tables["datasets"], pa.Table.from_pylist(
        edge_datasets, schema=pa.schema([tables["datasets"].schema.field(n) for n in ("id", "author", "createdAt")]))],
        promote_options="default")
    datasets = datasets.append_column("gated", pa.array(["false"] * datasets.num_rows))  # an extra column
    files = {kind: root / f"{kind}.parquet" for kind in ("datasets", "spaces", "papers")}
    pq.write_table(datasets, files["datasets"])
    pq.write_table(tables["spaces"], files["spaces"])
    pq.write_table(tables["papers"], files["papers"])
    return files


def repo_file_args(files: dict[str, Path]) -> list[str]:
    return [arg for kind, path in files.items() for arg in (f"--{kind}-file", str(path))]
