"""A deterministic synthetic snapshot in the exact hub-stats models schema.

Real Hub organization names (Chinese, US, European and other labs, plus community
quantizers and many generated individual users), a model tree built by preferential
attachment (finetunes of finetunes, quantizations of both, multi-parent merges), the
createdAt floor, heavy-tailed downloads and likes, 10-20 tags per model, cardData JSON,
safetensors structs and base_model tags. Everything it makes is synthetic.

Scalar columns are drawn with numpy; the heavy nested ones (tags, cardData, baseModels) are
composed by DuckDB from them and streamed to Parquet, so a Hub-sized snapshot (2.2M models)
takes seconds and little memory. A daily series is one "universe" seen on successive dates:
`generate(n, day, universe_date=last_day)` holds the models created by `day`, with counts
that grow from one day to the next. Days before the universe date look like the Hub's own
history: downloadsAllTime grows at the pace of the 30-day downloads, one model in RENAME_EVERY
was renamed in the last 60 days (same `_id`, the old id ends in `-preview`), on each earlier day
one model in DIP_EVERY shows a downloadsAllTime below the day before's, and the Hub-wide counters
stall (downloadsAllTime as the day before, for every model) STALL_OFFSET days before the universe
date and every STALL_EVERY days before that. The universe date itself is unchanged by all this.

    python -m orchestration.lib.sample --rows 2200000 --date 2026-01-20 --out models.parquet
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.lib.raw_schema import CREATED_AT_FLOOR
from orchestration.lib.sql import literal

GENERATOR_VERSION = 3
# The realistic history of a series (see the module docstring).
RENAME_EVERY = 100
RENAME_WINDOW_DAYS = 60
DIP_EVERY = 400
STALL_EVERY = 30
STALL_OFFSET = 3

# (org, weight among lab releases, model family)
LABS = [
    ("Qwen", 9, "Qwen3"), ("deepseek-ai", 4, "DeepSeek-V3"), ("baidu", 3, "ERNIE-4.5"),
    ("PaddlePaddle", 1, "PP-OCR"), ("tencent", 3, "Hunyuan"), ("ByteDance-Seed", 2, "Seed-OSS"),
    ("bytedance-research", 1, "UI-TARS"), ("zai-org", 2, "GLM-4.6"), ("THUDM", 1, "glm-4"),
    ("moonshotai", 1, "Kimi-K2"), ("MiniMaxAI", 1, "MiniMax-M2"), ("stepfun-ai", 1, "Step3"),
    ("openbmb", 1, "MiniCPM"), ("internlm", 1, "internlm3"), ("OpenGVLab", 1, "InternVL3"),
    ("BAAI", 2, "bge"), ("XiaomiMiMo", 1, "MiMo"), ("Wan-AI", 1, "Wan2.2"),
    ("meta-llama", 6, "Llama-3.1"), ("google", 6, "gemma-3"), ("microsoft", 4, "Phi-4"),
    ("nvidia", 4, "Nemotron"), ("openai", 1, "gpt-oss"), ("allenai", 2, "OLMo-2"),
    ("ibm-granite", 2, "granite-3.3"), ("apple", 1, "OpenELM"), ("NousResearch", 1, "Hermes-3"),
    ("mistralai", 4, "Mistral-Small"), ("black-forest-labs", 1, "FLUX.1"),
    ("stabilityai", 1, "stable-diffusion-3.5"), ("tiiuae", 1, "Falcon3"),
    ("CohereLabs", 1, "aya-expanse"), ("LGAI-EXAONE", 1, "EXAONE-4.0"), ("upstage", 1, "solar"),
]
COMMUNITY = ["unsloth", "bartowski", "mradermacher", "TheBloke", "mlx-community", "lmstudio-community"]
RELATIONS = ["adapter", "finetune", "quantized", "merge"]
# Shares of relations among models with a parent on the full Hub (measured on the full Hub file).
RELATION_SHARES = np.array([0.43, 0.36, 0.19, 0.02])
PIPELINES = ["text-generation", "text-generation", "text-generation", "image-text-to-text",
             "feature-extraction", "text-to-image", "automatic-speech-recognition", "text-classification"]
LIBRARIES = ["transformers", "transformers", "peft", "gguf", "diffusers", "sentence-transformers", "mlx"]
GGUF = LIBRARIES.index("gguf")
LICENSES = ["apache-2.0", "mit", "llama3.1", "gemma", "other", "cc-by-nc-4.0", "openrail"]
SIZES = ["0.5B", "1.5B", "3B", "7B", "8B", "14B", "32B", "70B"]
SIZES_B = np.array([0.5, 1.5, 3, 7, 8, 14, 32, 70])
# Common tags beyond library, pipeline, license and base_model; each model takes a run of them.
EXTRA_TAGS = [
    "safetensors", "pytorch", "llama", "qwen2", "mistral", "gemma3", "text-generation-inference",
    "conversational", "endpoints_compatible", "autotrain_compatible", "region:us", "en", "zh", "fr",
    "de", "arxiv:2407.10671", "arxiv:2412.15115", "dataset:HuggingFaceH4/ultrachat_200k",
    "dataset:teknium/OpenHermes-2.5", "4-bit", "bitsandbytes", "trl", "sft", "unsloth", "mlx",
    "custom_code", "imatrix", "deploy:azure",
]
# Models older than the floor carry 23:29:04, as most such repos on the Hub, or 23:29:05 (as a few
# do) for those of the floor's last 60 days.
FLOOR_VALUES = [np.datetime64(CREATED_AT_FLOOR + dt.timedelta(seconds=s), "s") for s in (4, 5)]
LATE_FLOOR_FROM = FLOOR_VALUES[0] - np.timedelta64(60, "D")
START = dt.datetime(2021, 1, 1)

SCHEMA = pa.schema([
    ("_id", pa.string()), ("id", pa.string()), ("author", pa.string()),
    ("createdAt", pa.timestamp("us")), ("lastModified", pa.timestamp("us")),
    ("downloads", pa.int64()), ("downloadsAllTime", pa.int64()), ("likes", pa.int64()),
    ("trendingScore", pa.float64()), ("tags", pa.list_(pa.string())), ("cardData", pa.string()),
    ("safetensors", pa.struct([("parameters", pa.struct([("BF16", pa.int64())])), ("total", pa.int64())])),
    ("gguf", pa.string()),
    ("baseModels", pa.struct([
        ("relation", pa.string()),
        ("models", pa.list_(pa.struct([("_id", pa.string()), ("id", pa.string())]))),
    ])),
    ("pipeline_tag", pa.string()), ("library_name", pa.string()),
])

# Composes the hub-stats columns from the scalar draws in `draws` (one row per model).
_COMPOSE_SQL = """
select
  printf('%02x%022x', {seed}, i) as _id,
  id, author, createdAt, lastModified, downloads, downloadsAllTime, likes, trendingScore,
  list_concat(
    [library_name, pipeline_tag],
    flatten(list_transform(parent_ids, lambda p: ['base_model:' || p, 'base_model:' || relation || ':' || p])),
    ['license:' || license],
    list_slice({extra_tags}, extra_start, extra_start + n_extra - 1)
  ) as tags,
  to_json(struct_pack(
    model_name := id,
    license := license,
    base_model := case when len(parent_ids) > 0 then parent_ids end,
    pipeline_tag := pipeline_tag,
    library_name := library_name,
    language := list_slice(['en', 'zh', 'fr', 'de', 'es', 'ja'], 1, 1 + extra_start % 4),
    tags := list_slice({extra_tags}, extra_start, extra_start + 3),
    datasets := case when n_extra > 8 then ['HuggingFaceH4/ultrachat_200k', 'teknium/OpenHermes-2.5'] end,
    widget := [struct_pack(text := 'Hello, I am ' || author || '''s ' || pipeline_tag || ' model ' || i)]
  ))::varchar as cardData,
  case when has_safetensors then struct_pack(parameters := struct_pack(BF16 := params), total := params) end
    as safetensors,
  case when library_name = 'gguf' then
    to_json(struct_pack(total := params, architecture := 'llama', context_length := 32768))::varchar end as gguf,
  case when len(parent_ids) > 0 and not tags_only then struct_pack(
    relation := relation,
    models := list_transform(parent_rows, lambda p, k: struct_pack(_id := printf('%02x%022x', {seed}, p),
                                                                   id := parent_ids[k]))
  ) end as baseModels,
  pipeline_tag, library_name
from draws
"""


def generate(n_rows: int, snapshot_date: str, seed: int = 0, universe_date: str | None = None) -> pa.Table:
    """A synthetic hub-stats models table describing `snapshot_date`, in memory (for small samples)."""
    con = duckdb.connect()
    try:
        draws = _draws(n_rows, snapshot_date, seed, universe_date)  # noqa: F841 (read by DuckDB by name)
        return con.sql(_compose_sql(seed)).to_arrow_table().cast(SCHEMA)
    finally:
        con.close()


def write_parquet(path: Path, n_rows: int, snapshot_date: str, seed: int = 0, universe_date: str | None = None) -> Path:
    """Write the snapshot to `path` as zstd Parquet, streamed (memory stays near the draws' size)."""
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        draws = _draws(n_rows, snapshot_date, seed, universe_date)  # noqa: F841 (read by DuckDB by name)
        con.execute(f"copy ({_compose_sql(seed)}) to {literal(path)} (format parquet, compression zstd)")
    finally:
        con.close()
    return path


def _compose_sql(seed: int) -> str:
    extra = "[" + ", ".join(f"'{t}'" for t in EXTRA_TAGS) + "]"
    return _COMPOSE_SQL.format(seed=int(seed), extra_tags=extra)


def _draws(n_rows: int, snapshot_date: str, seed: int, universe_date: str | None) -> pa.Table:
    """One row per model with every random choice made; heavy columns are composed from it."""
    if n_rows < 10:
        raise ValueError("a sample needs at least 10 rows")
    universe_date = universe_date or snapshot_date
    if snapshot_date > universe_date:
        raise ValueError(f"snapshot date {snapshot_date} is after the universe date {universe_date}")
    rng = np.random.default_rng(seed)
    end = dt.datetime.fromisoformat(universe_date) + dt.timedelta(hours=12)

    # Row order is creation order, so every parent is older than its children.
    created = _creation_times(rng, n_rows, end)
    is_lab = rng.random(n_rows) < 0.08
    is_lab[:20] = True  # the oldest models are lab releases, so early derivatives have a base
    lab_weights = np.array([w for _, w, _ in LABS], dtype=float)
    lab_pick = rng.choice(len(LABS), size=n_rows, p=lab_weights / lab_weights.sum())
    orgs = _orgs(rng, n_rows, is_lab, lab_pick)

    has_parent = np.where(is_lab, rng.random(n_rows) < 0.3, rng.random(n_rows) < 0.6)
    has_parent[0] = False
    relation_idx = rng.choice(4, size=n_rows, p=RELATION_SHARES)
    relation_idx[is_lab & (relation_idx == 3)] = 1  # labs do not publish merges
    parents = _parents(rng, n_rows, is_lab, has_parent, relation_idx)
    has_parent = parents[:, 0] >= 0
    family = _inherit(lab_pick, parents[:, 0])  # a derivative is named after its first parent's family

    size_idx = rng.integers(0, len(SIZES), n_rows)
    tail = np.where(has_parent, relation_idx, 4)
    names = pc.binary_join_element_wise(
        _take([f for _, _, f in LABS], family), _take(SIZES, size_idx),
        _take(["lora", "sft", "GGUF", "merge", "Instruct"], tail), pc.cast(pa.array(np.arange(n_rows)), pa.string()),
        "-",
    )
    ids = pc.binary_join_element_wise(orgs, names, "/")

    downloads_30d = _heavy_tail(rng, n_rows, zero_share=0.6, scale=40, boost=is_lab, boost_by=60)
    growth = 1 + rng.gamma(2.0, 6.0, n_rows)
    downloads_all = (downloads_30d * growth).astype(np.int64) + _heavy_tail(rng, n_rows, 0.7, 5)
    likes = _heavy_tail(rng, n_rows, zero_share=0.75, scale=2, boost=is_lab, boost_by=80)
    modified = created + ((np.datetime64(end) - created) * rng.random(n_rows)).astype("timedelta64[s]")

    library_idx = np.where(relation_idx == 2, GGUF, rng.integers(0, len(LIBRARIES), n_rows))
    params = np.round(SIZES_B[size_idx] * 1e9 * rng.uniform(0.95, 1.05, n_rows)).astype(np.int64)
    n_extra = rng.integers(5, 15, n_rows)
    draws = {
        "i": np.arange(n_rows),
        "id": ids,
        "author": orgs,
        "created": created,
        "modified": modified,
        "downloads": downloads_30d,
        "downloadsAllTime": downloads_all,
        "likes": likes,
        "pipeline_tag": _take(PIPELINES, rng.integers(0, len(PIPELINES), n_rows)),
        "library_name": _take(LIBRARIES, library_idx),
        "license": _take(LICENSES, rng.integers(0, len(LICENSES), n_rows)),
        "relation": pa.array(np.array(RELATIONS + [None], dtype=object)[np.where(has_parent, relation_idx, 4)]),
        "parent_rows": _lists(parents, np.arange(n_rows)),
        "parent_ids": _lists(parents, ids),
        "params": params,
        "has_safetensors": (library_idx != GGUF) & (rng.random(n_rows) < 0.7),
        # A few derivatives only carry typed base_model tags, as on the Hub when baseModels is missing.
        "tags_only": has_parent & (rng.random(n_rows) < 0.05),
        "n_extra": n_extra,
        "extra_start": rng.integers(1, len(EXTRA_TAGS) - n_extra + 2),
    }
    return _as_of(pa.table(draws), snapshot_date, end)


def _as_of(draws: pa.Table, snapshot_date: str, end: dt.datetime) -> pa.Table:
    """The universe as seen on `snapshot_date`: models created by then, counts grown to that day."""
    day = dt.date.fromisoformat(snapshot_date)
    days_before_end = (end.date() - day).days
    seen = np.datetime64(dt.datetime.fromisoformat(snapshot_date) + dt.timedelta(hours=12), "s")
    created = draws["created"].to_numpy()
    keep = created <= seen
    ratio = _age_ratio(created, seen, end)
    likes = (draws["likes"].to_numpy() * ratio).astype(np.int64)
    all_time = _all_time(draws, day, end)
    downloads = np.minimum(draws["downloads"].to_numpy(), all_time)
    age_days = (seen - created).astype(np.float64) / 86400
    trending = np.where(age_days < 30, likes / (1 + age_days) + draws["i"].to_numpy() % 3, 0.0).round(0)
    # Monotone in the creation time, so a parent is never younger than its children.
    created_out = np.where(created < LATE_FLOOR_FROM, FLOOR_VALUES[0], np.maximum(created, FLOOR_VALUES[1]))
    modified = np.minimum(draws["modified"].to_numpy(), seen)
    ids = draws["id"]
    if days_before_end > 0:
        ids = pc.if_else(pa.array(_renamed_after(draws, days_before_end)),
                         pc.binary_join_element_wise(ids, "preview", "-"), ids)
    table = draws.drop_columns(["id", "created", "modified", "downloads", "downloadsAllTime", "likes"]).append_column(
        "createdAt", pa.array(created_out.astype("datetime64[us]"))
    ).append_column("lastModified", pa.array(modified.astype("datetime64[us]"))).append_column("id", ids)
    for name, values in {"downloads": downloads, "downloadsAllTime": all_time, "likes": likes,
                         "trendingScore": trending}.items():
        table = table.append_column(name, pa.array(values))
    return table.filter(pa.array(keep))


def _age_ratio(created: np.ndarray, seen: np.datetime64, end: dt.datetime) -> np.ndarray:
    """A model's age on the day over its age at the universe date, in [0, 1]."""
    age_then = (seen - created).astype(np.float64)
    age_end = (np.datetime64(end, "s") - created).astype(np.float64)
    return np.clip(age_then / np.maximum(age_end, 1.0), 0.0, 1.0)


def _all_time(draws: pa.Table, day: dt.date, end: dt.datetime) -> np.ndarray:
    """downloadsAllTime of every model of the universe on `day` (0 before its creation)."""
    days_before_end = (end.date() - day).days
    if days_before_end > 0 and days_before_end % STALL_EVERY == STALL_OFFSET:
        return _all_time(draws, day - dt.timedelta(days=1), end)  # stalled: the day before's counters
    seen = np.datetime64(dt.datetime.combine(day, dt.time(12)), "s")
    final = draws["downloadsAllTime"].to_numpy()
    # Grown with the model's age, but never faster than the 30-day downloads' pace before the end.
    by_age = final * _age_ratio(draws["created"].to_numpy(), seen, end)
    at_pace = final - draws["downloads"].to_numpy() / 30 * days_before_end
    values = np.maximum(np.minimum(by_age, at_pace), 0).astype(np.int64)
    if days_before_end > 0:
        i = draws["i"].to_numpy()
        dips = (i * 7919 + days_before_end * 104729) % DIP_EVERY == 0
        values = np.where(dips, values - values // 10 - 1, values).clip(0)
    return values


def _renamed_after(draws: pa.Table, days_before_end: int) -> np.ndarray:
    """Models that still carried their old id `days_before_end` days before the universe date: one in
    RENAME_EVERY, never a parent (a child's baseModels names its parent's current id)."""
    i = draws["i"].to_numpy()
    parents = pc.list_flatten(draws["parent_rows"]).to_numpy()
    renamed = (i % RENAME_EVERY == RENAME_EVERY // 2) & ~np.isin(i, parents)
    rename_day = 1 + (i // RENAME_EVERY) % RENAME_WINDOW_DAYS  # days before the end the new id appeared
    return renamed & (days_before_end >= rename_day)


def _creation_times(rng, n: int, end: dt.datetime) -> np.ndarray:
    # Releases accelerate: sample ages from an exponential so recent months hold most models.
    span_s = (end - START).total_seconds()
    age = np.sort(rng.exponential(span_s / 3.5, n))[::-1]
    age = np.minimum(age, span_s)
    return np.datetime64(end, "s") - age.astype("timedelta64[s]")


def _orgs(rng, n, is_lab, lab_pick) -> pa.Array:
    n_users = max(20, n // 25)
    # Log-normal activity: a few prolific users, a long tail of occasional ones.
    user_pick = np.minimum(np.exp(rng.normal(np.log(n_users) / 2, 2.0, n)), n_users - 1).astype(int)
    community = rng.random(n) < 0.12
    names = [o for o, _, _ in LABS] + COMMUNITY + [f"user-{u:05d}" for u in range(n_users)]
    pick = np.where(community, len(LABS) + rng.integers(0, len(COMMUNITY), n), len(LABS) + len(COMMUNITY) + user_pick)
    return _take(names, np.where(is_lab, lab_pick, pick))


def _parents(rng, n, is_lab, has_parent, relation_idx) -> np.ndarray:
    """Parent row indices, shape (n, 4), -1 padded: preferential to lab models, else any older model."""
    lab_rows = np.flatnonzero(is_lab)
    rows = np.arange(n)
    labs_before = np.searchsorted(lab_rows, rows)
    n_parents = np.where(relation_idx == 3, rng.integers(2, 5, n), 1) * has_parent
    parents = np.full((n, 4), -1, dtype=np.int64)
    for slot in range(4):
        # Popular bases attract most derivatives: favour the first lab releases drawn.
        zipf = np.minimum(rng.zipf(1.3, n) - 1, np.maximum(labs_before - 1, 0))
        uniform = (rng.random(n) * labs_before).astype(np.int64)
        lab = lab_rows[np.minimum(np.where(rng.random(n) < 0.5, uniform, zipf), len(lab_rows) - 1)]
        older = (rng.random(n) * rows).astype(np.int64)
        pick = np.where((labs_before > 0) & (rng.random(n) < 0.55), lab, older)
        pick[slot >= n_parents] = -1
        for earlier in range(slot):
            pick[pick == parents[:, earlier]] = -1
        parents[:, slot] = pick
    # Keep the chosen parents first, in the order drawn.
    order = np.argsort(parents < 0, axis=1, kind="stable")
    return np.take_along_axis(parents, order, axis=1)


def _inherit(values: np.ndarray, first_parent: np.ndarray) -> np.ndarray:
    """Each row takes the value of its root along first parents (parents come before children)."""
    has = first_parent >= 0
    for _ in range(len(values)):
        inherited = np.where(has, values[np.where(has, first_parent, 0)], values)
        if np.array_equal(inherited, values):
            return values
        values = inherited
    return values


def _lists(parents: np.ndarray, values) -> pa.ListArray:
    """Per row, the list of `values` at its parent rows."""
    counts = (parents >= 0).sum(axis=1)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    chosen = parents[parents >= 0]
    flat = pa.array(values[chosen]) if isinstance(values, np.ndarray) else values.take(pa.array(chosen))
    return pa.ListArray.from_arrays(pa.array(offsets), flat)


def _take(vocabulary: list[str], codes: np.ndarray) -> pa.Array:
    return pa.array(vocabulary, pa.string()).take(pa.array(codes))


def _heavy_tail(rng, n, zero_share, scale, boost=None, boost_by=1) -> np.ndarray:
    values = np.floor(rng.pareto(1.2, n) * scale).astype(np.int64)
    if boost is not None:
        values = np.where(boost, values * boost_by, values)
    values[rng.random(n) < zero_share] = 0
    return values


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write a synthetic hub-stats models snapshot as Parquet.")
    parser.add_argument("--rows", type=int, required=True, help="models in the universe")
    parser.add_argument("--date", required=True, help="snapshot date YYYY-MM-DD")
    parser.add_argument("--universe-date", help="last date of a daily series (default: --date)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    write_parquet(args.out, args.rows, args.date, args.seed, args.universe_date)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
