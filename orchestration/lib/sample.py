"""A deterministic synthetic snapshot in the exact hub-stats models schema.

Real Hub organization names (Chinese, US, European and other labs, plus community
quantizers and many generated individual users), a model tree built by preferential
attachment (finetunes of finetunes, quantizations of both, multi-parent merges), the
createdAt floor, heavy-tailed downloads and likes, license and base_model tags.
Vectorized with numpy so that millions of rows stay cheap. Everything it makes is synthetic.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pyarrow as pa

GENERATOR_VERSION = 1

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
RELATIONS = np.array(["adapter", "finetune", "quantized", "merge"])
# Shares of relations among models with a parent on the full Hub (SPEC section 2).
RELATION_SHARES = np.array([0.43, 0.36, 0.19, 0.02])
PIPELINES = np.array(
    ["text-generation", "text-generation", "text-generation", "image-text-to-text",
     "feature-extraction", "text-to-image", "automatic-speech-recognition", "text-classification"]
)
LIBRARIES = np.array(["transformers", "transformers", "peft", "gguf", "diffusers", "sentence-transformers", "mlx"])
LICENSES = np.array(["apache-2.0", "mit", "llama3.1", "gemma", "other", "cc-by-nc-4.0", "openrail"])
SIZES_B = np.array([0.5, 1.5, 3, 7, 8, 14, 32, 70])
FLOOR = dt.datetime(2022, 3, 2, 23, 29, 4)
START = dt.datetime(2021, 1, 1)


def generate(n_rows: int, snapshot_date: str, seed: int = 0) -> pa.Table:
    """A synthetic hub-stats models table with `n_rows` rows describing `snapshot_date`."""
    if n_rows < 10:
        raise ValueError("a sample needs at least 10 rows")
    rng = np.random.default_rng(seed)
    end = dt.datetime.fromisoformat(snapshot_date) + dt.timedelta(hours=12)

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

    family = np.array([f for _, _, f in LABS])[lab_pick]
    for i in np.flatnonzero(has_parent):  # a derivative is named after its first parent's family
        family[i] = family[parents[i][0]]
    size_b = rng.choice(SIZES_B, size=n_rows)
    names = _names(rng, n_rows, family, size_b, relation_idx, has_parent)
    ids = np.char.add(np.char.add(orgs, "/"), names)

    downloads_30d = _heavy_tail(rng, n_rows, zero_share=0.6, scale=40, boost=is_lab, boost_by=60)
    growth = 1 + rng.gamma(2.0, 6.0, n_rows)
    downloads_all = (downloads_30d * growth).astype(np.int64) + _heavy_tail(rng, n_rows, 0.7, 5)
    likes = _heavy_tail(rng, n_rows, zero_share=0.75, scale=2, boost=is_lab, boost_by=80)
    age_days = (np.datetime64(end) - created).astype("timedelta64[D]").astype(np.int64)
    trending = np.where(age_days < 30, likes / (1 + age_days) + rng.random(n_rows) * 3, 0.0).round(0)

    pipeline = rng.choice(PIPELINES, size=n_rows)
    library = np.where(relation_idx == 2, "gguf", rng.choice(LIBRARIES, size=n_rows))
    license_ = rng.choice(LICENSES, size=n_rows)
    params = np.round(size_b * 1e9 * rng.uniform(0.95, 1.05, n_rows)).astype(np.int64)
    has_safetensors = (library != "gguf") & (rng.random(n_rows) < 0.7)
    # A few derivatives only carry typed base_model tags, as on the Hub when baseModels is missing.
    base_models_missing = has_parent & (rng.random(n_rows) < 0.05)

    created_out = np.where(created < np.datetime64(FLOOR), np.datetime64(FLOOR), created)
    rows = {
        "_id": [f"{seed:02x}{i:022x}" for i in range(n_rows)],
        "id": ids.tolist(),
        "author": orgs.tolist(),
        "createdAt": created_out.astype("datetime64[us]"),
        "lastModified": (created + (np.datetime64(end) - created) * rng.random(n_rows)).astype("datetime64[us]"),
        "downloads": downloads_30d,
        "downloadsAllTime": downloads_all,
        "likes": likes,
        "trendingScore": trending,
    }
    tags, card, safetensors, gguf, base_models = [], [], [], [], []
    for i in range(n_rows):
        parent_ids = [ids[p] for p in parents[i]]
        relation = RELATIONS[relation_idx[i]] if parent_ids else None
        tags.append(_tags(library[i], pipeline[i], license_[i], relation, parent_ids))
        card.append(json.dumps({"license": license_[i], "base_model": parent_ids or None,
                                "pipeline_tag": pipeline[i]}))
        safetensors.append({"parameters": {"BF16": int(params[i])}, "total": int(params[i])}
                           if has_safetensors[i] else None)
        gguf.append(json.dumps({"total": int(params[i]), "architecture": "llama"})
                    if library[i] == "gguf" else None)
        base_models.append(
            {"relation": relation, "models": [{"_id": rows["_id"][p], "id": ids[p]} for p in parents[i]]}
            if parent_ids and not base_models_missing[i] else None
        )
    rows.update(tags=tags, cardData=card, safetensors=safetensors, gguf=gguf, baseModels=base_models,
                pipeline_tag=pipeline.tolist(), library_name=library.tolist())
    return pa.Table.from_pydict(rows, schema=SCHEMA)


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


def _creation_times(rng, n: int, end: dt.datetime) -> np.ndarray:
    # Releases accelerate: sample ages from an exponential so recent months hold most models.
    span_s = (end - START).total_seconds()
    age = np.sort(rng.exponential(span_s / 3.5, n))[::-1]
    age = np.minimum(age, span_s)
    return np.datetime64(end, "s") - age.astype("timedelta64[s]")


def _orgs(rng, n, is_lab, lab_pick) -> np.ndarray:
    lab_names = np.array([o for o, _, _ in LABS])
    n_users = max(20, n // 25)
    # Log-normal activity: a few prolific users, a long tail of occasional ones.
    user_pick = np.minimum(np.exp(rng.normal(np.log(n_users) / 2, 2.0, n)), n_users - 1).astype(int)
    users = np.char.add("user-", np.char.zfill(user_pick.astype(str), 5))
    community = rng.random(n) < 0.12
    non_lab = np.where(community, np.array(COMMUNITY)[rng.integers(0, len(COMMUNITY), n)], users)
    return np.where(is_lab, lab_names[lab_pick], non_lab)


def _parents(rng, n, is_lab, has_parent, relation_idx) -> list[list[int]]:
    """Parent row indices per row: preferential to lab models, otherwise any older model."""
    lab_rows = np.flatnonzero(is_lab)
    parents: list[list[int]] = [[] for _ in range(n)]
    for i in np.flatnonzero(has_parent):
        n_parents = int(rng.integers(2, 5)) if relation_idx[i] == 3 else 1
        labs_before = lab_rows[: np.searchsorted(lab_rows, i)]
        chosen: list[int] = []
        for _ in range(n_parents):
            if len(labs_before) and rng.random() < 0.55:
                # Popular bases attract most derivatives: favour the first lab releases drawn.
                p = int(labs_before[min(int(rng.zipf(1.3)) - 1, len(labs_before) - 1)])
                p = int(labs_before[rng.integers(0, len(labs_before))]) if rng.random() < 0.5 else p
            else:
                p = int(rng.integers(0, i))
            if p not in chosen:
                chosen.append(p)
        parents[i] = chosen
    return parents


def _names(rng, n, family, size_b, relation_idx, has_parent) -> np.ndarray:
    suffix = np.array(["lora", "sft", "GGUF", "merge"])[relation_idx]
    size = np.char.add(np.char.mod("%g", size_b), "B")
    base = np.char.add(np.char.add(family, "-"), size)
    tail = np.where(has_parent, suffix, "Instruct")
    numbered = np.char.add(np.char.add(np.char.add(base, "-"), tail), "-")
    return np.char.add(numbered, np.arange(n).astype(str))


def _heavy_tail(rng, n, zero_share, scale, boost=None, boost_by=1) -> np.ndarray:
    values = np.floor(rng.pareto(1.2, n) * scale).astype(np.int64)
    if boost is not None:
        values = np.where(boost, values * boost_by, values)
    values[rng.random(n) < zero_share] = 0
    return values


def _tags(library, pipeline, license_, relation, parent_ids) -> list[str]:
    tags = [str(library), str(pipeline)]
    for parent in parent_ids:
        tags.append(f"base_model:{parent}")
        tags.append(f"base_model:{relation}:{parent}")
    tags += [f"license:{license_}", "endpoints_compatible", "region:us"]
    return tags
