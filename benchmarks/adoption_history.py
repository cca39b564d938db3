"""How fct_relative_adoption scales with the history stored: its dbt model time with 0, 30 and 100 older
snapshots in the lake, and what reading the series from every stored dim_models would cost instead.

    .venv/bin/python benchmarks/adoption_history.py [--universe 200000] [--hub-rows 2200000] [--history 0 30 100]

The lake is seeded cheaply: a few generated fct_adoption_points files (one universe, downloads perturbed
per file) linked under weekly dates before the snapshot, with a dim_snapshots file beside each (one in ten
stalled). The run's own snapshot (its universe and dim_snapshots row) is a scratch DuckDB, as in a build;
dbt runs only fct_relative_adoption against it. The comparison reads a 2.2M-row dim_models-shaped file
linked under the same dates, keeping only the universe's rows (a lower bound: the tags are not even there).
Prints the numbers as JSON.
"""

import argparse
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SNAPSHOT = dt.date(2026, 11, 30)
VARIANTS = 4


def write_points(path: Path, universe: int, scale: float) -> None:
    with duckdb.connect() as con:
        con.execute(f"""
            copy (
                select
                    'org-' || (i % 5000) || '/model-' || i as model_id,
                    substr(md5(cast(i as varchar)), 1, 24) as model_object_id,
                    cast(date '2025-02-26' + cast(i % 640 as integer) as date) as created_date,
                    ['under_1B', '1-9B', '10-49B', '50-99B', '100B+'][1 + cast(i % 5 as integer)] as size_class,
                    cast(floor((hash(i) % 100000) * {scale}) as bigint) as downloads_all_time
                from range({universe}) as t(i)
            ) to '{path}' (format parquet, compression zstd)
        """)


def write_dim_models(path: Path, rows: int) -> None:
    with duckdb.connect() as con:
        con.execute(f"""
            copy (
                select
                    'org-' || (i % 50000) || '/model-' || i as model_id,
                    substr(md5(cast(i as varchar)), 1, 24) as model_object_id,
                    timestamp '2022-03-02 23:29:04' + to_days(cast(i % 1735 as integer)) as created_at,
                    ['text-generation', 'image-text-to-text', 'text-to-image', 'feature-extraction', null,
                     'text-classification', 'automatic-speech-recognition', 'image-classification'][1 + cast(i % 8 as integer)]
                        as pipeline_tag,
                    ['transformers', 'gguf', 'mlx', 'diffusers', null][1 + cast(i % 5 as integer)] as library_name,
                    case when i % 3 = 0 then null else (i % 200) * 1e9 end as total_params,
                    ['finetune', 'adapter', 'quantized', 'merge', null, null, null][1 + cast(i % 7 as integer)] as base_relation,
                    cast(hash(i) % 100000 as bigint) as downloads_all_time,
                    cast(hash(i) % 1000 as bigint) as likes
                from range({rows}) as t(i)
            ) to '{path}' (format parquet, compression zstd)
        """)


def seed_lake(lake: Path, files: list[Path], mart: str, n: int) -> None:
    for k in range(1, n + 1):
        folder = lake / f"snapshot_date={SNAPSHOT - dt.timedelta(days=7 * k)}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{mart}.parquet").symlink_to(files[k % len(files)])
        snapshots = folder / "dim_snapshots.parquet"
        if not snapshots.exists():
            with duckdb.connect() as con:
                con.execute(f"copy (select {k % 10 == 0} as is_stalled) to '{snapshots}' (format parquet)")


def time_model(work: Path, lake: Path, own_points: Path) -> dict:
    scratch = work / "scratch.duckdb"
    scratch.unlink(missing_ok=True)
    with duckdb.connect(str(scratch)) as con:
        con.execute("create schema marts")
        con.execute(f"create table marts.fct_adoption_points as select date '{SNAPSHOT}' as snapshot_date, *"
                    f" from read_parquet('{own_points}')")
        con.execute(f"create table marts.dim_snapshots as select date '{SNAPSHOT}' as snapshot_date, false as is_stalled")
    env = {**os.environ, "DUCKDB_PATH": str(scratch), "LAKE_DIR": str(lake), "DATA_DIR": str(work / "data"),
           "OBSERVATORY_SNAPSHOT_DATE": str(SNAPSHOT)}
    dbt_dir = ROOT / "dbt_project"
    started = time.perf_counter()
    result = subprocess.run(
        ["/usr/bin/time", "-f", "maxrss_kb=%M", str(BIN / "dbt"), "run", "--select", "fct_relative_adoption",
         "--project-dir", str(dbt_dir), "--profiles-dir", str(dbt_dir),
         "--target-path", str(work / "target"), "--log-path", str(work / "logs")],
        cwd=dbt_dir, env=env, capture_output=True, text=True,
    )
    wall = time.perf_counter() - started
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    model_s = float(re.search(r"OK created sql table model marts\.fct_relative_adoption .* in ([0-9.]+)s", result.stdout).group(1))
    with duckdb.connect(str(scratch), read_only=True) as con:
        rows = con.execute("select count(*) from marts.fct_relative_adoption").fetchone()[0]
    return {"model_s": model_s, "dbt_run_wall_s": round(wall, 1), "rows": rows,
            "peak_rss_mb": int(re.search(r"maxrss_kb=(\d+)", result.stderr).group(1)) // 1024}


def time_dim_models_read(lake: Path) -> float:
    started = time.perf_counter()
    with duckdb.connect() as con:
        con.execute(f"""
            select count(*), sum(downloads_all_time)
            from read_parquet('{lake}/*/dim_models.parquet', hive_partitioning = true)
            where pipeline_tag in ('text-generation', 'image-text-to-text')
                and created_at >= timestamp '2025-02-26' and total_params is not null
                and coalesce(base_relation, '') <> 'quantized' and coalesce(library_name, '') not in ('gguf', 'mlx')
        """).fetchall()
    return round(time.perf_counter() - started, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--universe", type=int, default=200_000)
    parser.add_argument("--hub-rows", type=int, default=2_200_000)
    parser.add_argument("--history", type=int, nargs="+", default=[0, 30, 100])
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="adoption-bench-"))
    try:
        files = [work / f"points-{v}.parquet" for v in range(VARIANTS)]
        for v, path in enumerate(files):
            write_points(path, args.universe, 1 - 0.1 * v)
        hub = work / "dim_models.parquet"
        write_dim_models(hub, args.hub_rows)
        results = {"universe": args.universe, "hub_rows": args.hub_rows, "history": {}}
        for n in args.history:
            lake = work / f"lake-{n}"
            seed_lake(lake, list(reversed(files)), "fct_adoption_points", n)
            seed_lake(lake, [hub], "dim_models", n)
            results["history"][n] = {**time_model(work, lake, files[0]),
                                     "read_dim_models_s": time_dim_models_read(lake) if n else 0.0}
            print(n, results["history"][n], flush=True)
        print(json.dumps(results, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
