"""Synthetic datasets, Spaces and daily papers beside the synthetic models, in the hub-stats shapes.

Deterministic for (rows, snapshot date): real org names (labs of several countries, community
accounts), generated users, ids without a namespace, the createdAt floor, and papers with and
without an organization. Everything it makes is synthetic.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.lib.raw_schema import CREATED_AT_FLOOR

GENERATOR_VERSION = 1

ORGS = ["Qwen", "deepseek-ai", "baidu", "tencent", "ByteDance-Seed", "zai-org", "THUDM", "moonshotai",
        "OpenGVLab", "BAAI", "meta-llama", "google", "microsoft", "nvidia", "allenai", "mistralai",
        "HuggingFaceFW", "HuggingFaceTB", "stabilityai", "openai", "ibm-granite", "CohereLabs"]
PAPER_ORGS = ["Qwen", "deepseek-ai", "google", "meta-llama", "microsoft", "nvidia", "ByteDance-Seed",
              "allenai", "BAAI", "OpenGVLab", "zai-org", "tencent"]
SDKS = ["gradio", "gradio", "streamlit", "docker", "static"]
# Shares of each kind per sample model row (the real Hub: ~2.2M models, ~500k datasets, ~600k Spaces).
SHARE = {"datasets": 0.25, "spaces": 0.3, "papers": 0.05}
START = dt.datetime(2022, 3, 3)  # repos: after the floor minute (earlier ones carry the floor)
PAPERS_START = dt.datetime(2021, 6, 1)
FLOOR = CREATED_AT_FLOOR + dt.timedelta(seconds=4)


def _created(rng: random.Random, end: dt.datetime) -> dt.datetime:
    if rng.random() < 0.06:  # repos older than the Hub's creation dates carry the floor
        return FLOOR
    span = (end - START).total_seconds()
    return START + dt.timedelta(seconds=int(span * rng.random() ** 0.6))  # more repos of late


def _namespace(rng: random.Random, i: int) -> str | None:
    draw = rng.random()
    if draw < 0.35:
        return rng.choice(ORGS)
    if draw < 0.03 + 0.35:
        return None  # a legacy id without namespace: its author is its org
    return f"user{rng.randrange(max(10, i // 3)):05d}"


def _repos(rng: random.Random, n: int, end: dt.datetime, word: str) -> list[dict]:
    rows = []
    for i in range(n):
        namespace = _namespace(rng, i)
        name = f"{word}-{i:06d}"
        author = namespace or f"legacy{i % 50:02d}"
        rows.append({
            "_id": f"{word[:2]}{i:022x}",
            "id": f"{namespace}/{name}" if namespace else name,
            "author": author,
            "createdAt": _created(rng, end),
            "likes": int(rng.paretovariate(1.3)) - 1,
        })
    return rows


def generate(n_rows: int, snapshot_date: str, seed: int = 0) -> dict[str, pa.Table]:
    """The datasets, Spaces and daily papers tables for a sample of `n_rows` models."""
    end = dt.datetime.fromisoformat(snapshot_date) + dt.timedelta(hours=12)
    rng = random.Random(f"{seed}-{n_rows}-{snapshot_date}")
    datasets = _repos(rng, max(4, int(n_rows * SHARE["datasets"])), end, "dataset")
    for row in datasets:
        row["downloads"] = int(rng.paretovariate(1.1) * 10) - 10
        row["downloadsAllTime"] = row["downloads"] * rng.randint(1, 20)
        row["trendingScore"] = float(rng.randrange(0, 50))
        row["lastModified"] = row["createdAt"] if row["createdAt"] != FLOOR else end - dt.timedelta(days=400)
        row["tags"] = [f"task_categories:{rng.choice(['text-generation', 'question-answering', 'translation'])}",
                       f"language:{rng.choice(['en', 'zh', 'fr'])}"]
        row["cardData"] = None
    spaces = _repos(rng, max(4, int(n_rows * SHARE["spaces"])), end, "space")
    for row in spaces:
        row["sdk"] = rng.choice(SDKS)
        row["tags"] = [row["sdk"], "region:us"]
        row["cardData"] = None
    papers = []
    for i in range(max(4, int(n_rows * SHARE["papers"]))):
        published = PAPERS_START + dt.timedelta(days=rng.randrange((end - PAPERS_START).days), hours=rng.randrange(24))
        organization = rng.choice(PAPER_ORGS) if rng.random() < 0.6 else None  # many papers name none
        papers.append({
            "paper_id": f"{published:%y%m}.{i:05d}",
            "paper_title": f"A synthetic paper {i}",
            "paper_upvotes": int(rng.paretovariate(1.2)) - 1,
            "paper_organization.name": organization,
            "publishedAt": published,
            "title": f"A synthetic paper {i}",
        })
    return {kind: pa.Table.from_pylist(rows, schema=SCHEMAS[kind])
            for kind, rows in (("datasets", datasets), ("spaces", spaces), ("papers", papers))}


SCHEMAS = {
    "datasets": pa.schema([
        ("_id", pa.string()), ("id", pa.string()), ("author", pa.string()), ("createdAt", pa.timestamp("us", "UTC")),
        ("lastModified", pa.timestamp("us", "UTC")), ("likes", pa.int64()), ("downloads", pa.int64()),
        ("downloadsAllTime", pa.int64()), ("trendingScore", pa.float64()), ("tags", pa.list_(pa.string())),
        ("cardData", pa.string()),
    ]),
    "spaces": pa.schema([
        ("_id", pa.string()), ("id", pa.string()), ("author", pa.string()), ("createdAt", pa.timestamp("us", "UTC")),
        ("likes", pa.int64()), ("sdk", pa.string()), ("tags", pa.list_(pa.string())), ("cardData", pa.string()),
    ]),
    "papers": pa.schema([
        ("paper_id", pa.string()), ("paper_title", pa.string()), ("paper_upvotes", pa.int64()),
        ("paper_organization.name", pa.string()), ("publishedAt", pa.timestamp("us", "UTC")), ("title", pa.string()),
    ]),
}


def write_files(folder: Path, n_rows: int, snapshot_date: str, seed: int = 0) -> dict[str, Path]:
    """Write datasets.parquet, spaces.parquet and papers.parquet into `folder`; their paths by kind."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for kind, table in generate(n_rows, snapshot_date, seed).items():
        paths[kind] = folder / f"sample-{kind}.parquet"
        pq.write_table(table, paths[kind])
    return paths
