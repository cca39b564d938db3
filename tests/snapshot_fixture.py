"""A tiny hand-made snapshot whose lineage and labels are derived by hand below."""

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.lib.sample import SCHEMA

FLOOR = dt.datetime(2022, 3, 2, 23, 29, 4)


def model(model_id, created, likes=0, downloads=0, relation=None, parents=(), tags=(), base_models=True):
    typed = [t for p in parents for t in (f"base_model:{p}", f"base_model:{relation}:{p}")]
    return {
        "_id": None, "id": model_id, "author": model_id.split("/")[0], "createdAt": created,
        "lastModified": created, "downloads": downloads, "downloadsAllTime": downloads * 3, "likes": likes,
        "trendingScore": 0.0, "tags": ["transformers", *typed, *tags, "license:mit"], "cardData": "{}",
        "safetensors": None, "gguf": None,
        "baseModels": {"relation": relation, "models": [{"_id": None, "id": p} for p in parents]}
        if parents and base_models else None,
        "pipeline_tag": "text-generation", "library_name": "transformers",
    }


FIXTURE = [
    model("deepseek-ai/DeepSeek-V3", dt.datetime(2024, 12, 26), likes=4000, downloads=900),
    model("alice/v3-sft", dt.datetime(2025, 2, 1), relation="finetune", parents=["deepseek-ai/DeepSeek-V3"]),
    model("bob/v3-sft-GGUF", dt.datetime(2025, 2, 3), relation="quantized", parents=["alice/v3-sft"]),
    model("deepcogito/cogito-v2.1", dt.datetime(2025, 11, 19), likes=300, downloads=50, relation="finetune",
          parents=["deepseek-ai/DeepSeek-V3"]),
    model("carol/merge", dt.datetime(2025, 3, 1), relation="merge",
          parents=["meta-llama/Llama-3.1-8B", "alice/v3-sft"]),
    model("dave/tag-only", dt.datetime(2025, 4, 1), relation="adapter", parents=["Qwen/Qwen3-8B"],
          base_models=False),
    model("old/legacy", FLOOR, likes=5),
    model("erin/cycle-a", dt.datetime(2025, 5, 1), relation="finetune", parents=["erin/cycle-b"]),
    model("erin/cycle-b", dt.datetime(2025, 7, 2), downloads=25, relation="finetune", parents=["erin/cycle-a"]),
    model("qwen/lowercase-org", dt.datetime(2025, 6, 1)),
]

# model_id -> (parent, root, depth, base_relation, org_country, label_country, label_source, provider)
EXPECTED = {
    "deepseek-ai/DeepSeek-V3": (None, "deepseek-ai/DeepSeek-V3", 0, None, "CN", "CN", "org", "DeepSeek"),
    "alice/v3-sft": ("deepseek-ai/DeepSeek-V3", "deepseek-ai/DeepSeek-V3", 1, "finetune", None, "CN", "base_model", "alice"),
    "bob/v3-sft-GGUF": ("alice/v3-sft", "deepseek-ai/DeepSeek-V3", 2, "quantized", None, "CN", "base_model", "bob"),
    "deepcogito/cogito-v2.1": ("deepseek-ai/DeepSeek-V3", "deepseek-ai/DeepSeek-V3", 1, "finetune", "US", "US", "org", "Deep Cogito"),
    "carol/merge": ("meta-llama/Llama-3.1-8B", "meta-llama/Llama-3.1-8B", 1, "merge", None, "US", "base_model", "carol"),
    "dave/tag-only": ("Qwen/Qwen3-8B", "Qwen/Qwen3-8B", 1, "adapter", None, "CN", "base_model", "dave"),
    "old/legacy": (None, "old/legacy", 0, None, None, None, "unknown", "old"),
    "erin/cycle-a": ("erin/cycle-b", "erin/cycle-b", 1, "finetune", None, None, "unknown", "erin"),
    "erin/cycle-b": ("erin/cycle-a", "erin/cycle-a", 1, "finetune", None, None, "unknown", "erin"),
    "qwen/lowercase-org": (None, "qwen/lowercase-org", 0, None, "CN", "CN", "org", "Alibaba Qwen"),
}


def write_fixture(path, rows):
    pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), path)
    return path
