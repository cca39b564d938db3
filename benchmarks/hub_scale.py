"""Hub-scale benchmark: a 2.2M-model snapshot through the whole warehouse, against two references.

    make bench                          # or: .venv/bin/python benchmarks/hub_scale.py [--rows N] [--history 30 100]
    .venv/bin/python benchmarks/hub_scale.py --rows 20000 --history 3 5 --out /tmp/bench.json   # a quick trial
    .venv/bin/python benchmarks/hub_scale.py --ingest-only [--rows N] [--pad-bytes B]

--ingest-only measures just the ingest of one file (SnapshotStore.write: schema check, row checks,
quarantine, normalized copy), the step a 1.1-1.6 GB real file goes through; --pad-bytes adds about B
bytes of incompressible text per row (half to cardData, which is kept, half to an extra column, which
is dropped) to bring the synthetic file to the size of the real ones.

Measures wall time and peak memory (the whole process tree's RSS, sampled) of:
  1. generating the synthetic snapshot (two consecutive days of one growing universe);
  2. the whole `observatory build` of day 1 into an empty warehouse, with its steps (ingest,
     dbt, metric checks, publish) read from the run's Dagster event log;
  3. the whole build of day 2 with 2, 30 and 100 snapshots already stored, each in a copy of the
     first build's data folder: day 1 and older dates (history is seeded by linking day 1's raw file
     and published lake folder under earlier dates and rewriting the catalog: the same files as real
     history, without spending an hour computing them); then the 100 once more after an earlier
     date changed. Every one of these builds is the same work but for the history: the same file,
     the same previous snapshot (day 1, a real period of downloads), and day 2 is taken out of the
     store again after each. Reported: the ratios 100-stored vs empty and vs 2 stored (the first build
     has no previous snapshot, so no period work), and the disk one stored snapshot takes in the
     lake; the seeded copies differ in downloadsAllTime (fewer downloads the older the copy), so the
     trend marts (period downloads, stalls, adoption points) do real work, and each build reports
     their dbt model times (its run_results.json);
  4. `dbt build` (models and tests) and `dbt run` (models only) of day 2, with per-model times;
  5. the floor: the same models' SQL run by plain DuckDB straight from the Parquet, no dbt or
     Dagster (the compiled SQL of each model, executed in dependency order into a fresh file);
  6. a notebook user's pandas for four key metrics, against the same metrics in plain DuckDB;
  7. `import orchestration.definitions`.
  8. the first build's day again with `observatory build --engine spark` into a data folder of its
     own (skipped with --no-spark, or with the reason when the spark extra or Java is missing):
     wall, peak RSS (the JVM included), steps, and where the Spark dbt invocation's time went.
Every whole build (2 and 3) runs --repeat times (default 3), in rounds over the levels, and each
level's fastest run is reported with all wall times beside it: one run's time moves by several
seconds with whatever else the machine does.
Prints the numbers and ratios and writes them to benchmarks/results/hub_scale.json.
"""

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from orchestration.lib.raw_schema import CREATED_AT_FLOOR  # noqa: E402
BIN = Path(sys.executable).parent
RESULTS = ROOT / "benchmarks" / "results" / "hub_scale.json"
DAY_1 = "2026-01-20"
DAY_2 = "2026-01-21"


class PeakRss:
    """Samples the summed RSS of a process and all its descendants every 100 ms."""

    def __init__(self, pid: int):
        self.pid, self.peak_mb, self._stop = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, _tree_rss_mb(self.pid))
            time.sleep(0.1)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return round(self.peak_mb, 1)


def _tree_rss_mb(root: int) -> float:
    parents, rss = {}, {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        pid = int(status.parent.name)
        parents[pid] = int(fields["PPid"])
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0]) / 1024
    total, stack = 0.0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0.0)
        stack += [child for child, parent in parents.items() if parent == pid]
    return total


def measure(label: str, command: list[str], env: dict, cwd: Path = ROOT, required: bool = True) -> dict:
    """Run `command`, returning its wall time and peak tree RSS; fail loudly with its output, or, when
    not `required`, print it and return the result with `failed` set."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sampler = PeakRss(process.pid)
    output, _ = process.communicate()
    peak = sampler.stop()
    wall = round(time.perf_counter() - started, 2)
    if process.returncode != 0:
        message = f"{label} failed ({process.returncode}):\n{output[-4000:]}"
        if required:
            sys.exit(message)
        print(message)
        return {"wall_s": wall, "peak_rss_mb": peak, "output": output, "failed": True}
    print(f"  {label:<48} {wall:>8.1f} s  {peak:>8.0f} MB")
    return {"wall_s": wall, "peak_rss_mb": peak, "output": output}


def build_run(label: str, command: list[str], env: dict, data_dir: Path) -> dict:
    """One whole build with its wall time, peak memory, steps and trend model times."""
    began = time.time()
    run = measure(label, command, env)
    run["steps_s"] = run_steps(data_dir / "dagster_home")
    run["trend_models"] = trend_model_times(ROOT / "dbt_project", began)
    return run


def fastest(runs: list[dict]) -> dict:
    """The fastest of equal runs (the least disturbed by whatever else the machine does), with every
    run's wall time and the highest peak memory of them."""
    best = min(runs, key=lambda run: run["wall_s"])
    return {**best, "walls_s": [run["wall_s"] for run in runs], "peak_rss_mb": max(run["peak_rss_mb"] for run in runs)}


def data_env(env: dict, data_dir: Path) -> dict:
    return {**env, "DATA_DIR": str(data_dir), "DAGSTER_HOME": str(data_dir / "dagster_home"),
            "DUCKDB_PATH": str(data_dir / "warehouse" / "observatory.duckdb")}


def copy_data_folder(source: Path, target: Path) -> None:
    """A data folder's copy: Parquet files hard-linked (never written in place: publishing, seeding and
    restamping write new files), everything else (catalog, run history, manifests) copied."""
    def link_or_copy(src, dst):
        if src.endswith(".parquet"):
            os.link(src, dst)
        else:
            shutil.copy2(src, dst)
    shutil.copytree(source, target, symlinks=True, copy_function=link_or_copy)


def run_steps(dagster_home: Path) -> dict:
    """Durations of the last run's steps, from the Dagster event log."""
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    import dagster as dg

    instance = dg.DagsterInstance.get()
    run = instance.get_runs(limit=1)[0]
    starts, durations = {}, {}
    for record in instance.all_logs(run.run_id):
        event = record.dagster_event
        if event is None or not record.step_key:
            continue
        if event.event_type_value == "STEP_START":
            starts[record.step_key] = record.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            durations[record.step_key] = record.timestamp - starts[record.step_key]
    steps = {"ingest": 0.0, "dbt": 0.0, "checks": 0.0, "publish": 0.0}
    for key, seconds in durations.items():
        name = ("ingest" if key == "ingest_snapshot" else "dbt" if key == "observatory_dbt"
                else "publish" if "published" in key else "checks")
        steps[name] += seconds
    instance.dispose()
    return {name: round(seconds, 2) for name, seconds in steps.items()}


# dbt models that exist for the history (period downloads, stalls, concentration, families, adoption).
TREND_MODELS = ("int_period_", "int_model_period_downloads", "fct_model_period_downloads",
                "fct_provider_period_downloads", "fct_country_period_download_share", "fct_concentration",
                "fct_family_downloads", "fct_adoption_points", "fct_relative_adoption", "dim_snapshots")
PERIOD_WINDOW_DAYS = 35  # a snapshot's previous one is at most this far back


def perturb_copy(source: Path, target: Path, days_before: int, per_day: float | None) -> bool:
    """Write `source` (a published mart of the seeded date) to `target` as it would be `days_before`
    days earlier: downloadsAllTime lower by about that many days of 30-day downloads (adoption
    points: 1% less per day), dim_snapshots with a plausible Hub-wide per-day sum. False when the
    mart has nothing to perturb (the caller links the file instead)."""
    import duckdb

    con = duckdb.connect()
    try:
        columns = {name for (name,) in con.execute(f"select name from parquet_schema('{source}')").fetchall()}
        name, k = source.stem, days_before
        if name == "dim_models" and k <= PERIOD_WINDOW_DAYS and {"downloads_all_time", "downloads_30d"} <= columns:
            change = (f"greatest(downloads_all_time - {k} * (coalesce(downloads_30d, 0) // 30 + 1), 0)"
                      " as downloads_all_time")
        elif name == "fct_adoption_points" and "downloads_all_time" in columns:
            change = f"cast(downloads_all_time * greatest(1 - {k} / 100, 0) as bigint) as downloads_all_time"
        elif name == "dim_snapshots" and "hub_period_downloads_per_day" in columns and per_day:
            change = f"{per_day * (1 + (k % 5) / 20)}::double as hub_period_downloads_per_day"
        else:
            return False
        con.execute(f"copy (select * replace ({change}) from read_parquet('{source}')) to '{target}' "
                    "(format parquet, compression zstd)")
        return True
    finally:
        con.close()


def hub_per_day(published_source: Path) -> float | None:
    """The Hub's downloads per day by the 30-day counter of the seeded date: a plausible per-day sum."""
    import duckdb

    path = published_source / "dim_models.parquet"
    if not path.exists():
        return None
    con = duckdb.connect()
    try:
        return con.execute(f"select sum(downloads_30d) / 30.0 from read_parquet('{path}')").fetchone()[0]
    finally:
        con.close()


def trend_model_times(dbt_dir: Path, since: float) -> dict:
    """The trend models' execution times in the newest dbt run_results.json written after `since`
    (a build's dbt invocation writes its own target folder)."""
    found = [p for p in (dbt_dir / "target").rglob("run_results.json") if p.stat().st_mtime >= since]
    if not found:
        return {}
    results = json.loads(max(found, key=lambda p: p.stat().st_mtime).read_text())["results"]
    times = {r["unique_id"].split(".")[-1]: round(r["execution_time"], 2) for r in results
             if r["unique_id"].startswith("model.") and r["unique_id"].split(".")[-1].startswith(TREND_MODELS)}
    return {"total_s": round(sum(times.values()), 2), "per_model_s": times}


def seed_history(data_dir: Path, source_date: str, dates: list[str]) -> None:
    """Store `source_date`'s raw snapshot and published lake folder under each of `dates` (hard
    links: the same files, one folder per date, as a real history has; the marts the history reads
    are rewritten with fewer downloads, see perturb_copy), then rewrite the catalog."""
    sys.path.insert(0, str(ROOT))
    from orchestration.lib.publish import lake_path, snapshot_folder, write_catalog

    published = data_dir / "warehouse" / "observatory.duckdb"
    raw = data_dir / "raw" / "models"
    source = raw / f"snapshot_date={source_date}"
    manifest = json.loads((source / "_manifest.json").read_text())
    published_source = snapshot_folder(published, source_date)
    per_day = hub_per_day(published_source)
    for day in dates:
        days_before = (dt.date.fromisoformat(source_date) - dt.date.fromisoformat(day)).days
        target = raw / f"snapshot_date={day}"
        target.mkdir()
        os.link(source / "models.parquet", target / "models.parquet")
        shutil.copy(source / "_quarantine.parquet", target / "_quarantine.parquet")
        (target / "_manifest.json").write_text(json.dumps({**manifest, "snapshot_date": day, "benchmark_copy": True}))
        version = lake_path(published) / ".versions" / f"{day}-benchmark"
        version.mkdir()
        for file in published_source.glob("*.parquet"):
            if not perturb_copy(file, version / file.name, days_before, per_day):
                os.link(file, version / file.name)
        os.symlink(f".versions/{version.name}", snapshot_folder(published, day))
    write_catalog(published)


def restamp_history(data_dir: Path, day: str, stale: bool = False) -> None:
    """Give `day`'s published dim_snapshots the history_fingerprint of the snapshots now stored before
    it, as if it had been built after the seeded history (a daily refresh's steady state: relative
    adoption carries its curves over); with `stale`, one that matches nothing (the first build after
    an earlier date was backfilled or rebuilt: every curve is read from the stored snapshots)."""
    import duckdb

    sys.path.insert(0, str(ROOT))
    from orchestration.lib.publish import lake_path, snapshot_folder

    published = data_dir / "warehouse" / "observatory.duckdb"
    target = snapshot_folder(published, day) / "dim_snapshots.parquet"
    pattern = lake_path(published) / "snapshot_date=*" / "dim_snapshots.parquet"
    con = duckdb.connect()
    try:
        fingerprint = "stale" if stale else con.execute(
            "select md5(coalesce(string_agg(entry, ',' order by entry), '')) from ("
            "  select cast(snapshot_date as varchar) || '@' || coalesce(cast(built_at as varchar), '-') as entry"
            f"  from read_parquet('{pattern}', hive_partitioning = true, union_by_name = true)"
            f"  where snapshot_date < '{day}')").fetchone()[0]
        scratch = target.with_name("dim_snapshots.restamped")
        con.execute(f"copy (select * replace ('{fingerprint}' as history_fingerprint) from read_parquet('{target}'))"
                    f" to '{scratch}' (format parquet, compression zstd)")
    finally:
        con.close()
    os.replace(scratch, target)


def unpublish(data_dir: Path, day: str) -> None:
    """Take `day` out of the store (raw folder, lake folder and its version) and rewrite the catalog."""
    sys.path.insert(0, str(ROOT))
    from orchestration.lib.publish import snapshot_folder, write_catalog

    published = data_dir / "warehouse" / "observatory.duckdb"
    link = snapshot_folder(published, day)
    shutil.rmtree(link.resolve())
    link.unlink()
    shutil.rmtree(data_dir / "raw" / "models" / f"snapshot_date={day}")
    write_catalog(published)


def published_rows(data_dir: Path, day: str, mart: str) -> int:
    """Rows of `mart` published for `day` (0 when its file is absent)."""
    import duckdb

    path = data_dir / "warehouse" / "lake" / f"snapshot_date={day}" / f"{mart}.parquet"
    if not path.exists():
        return 0
    con = duckdb.connect()
    try:
        return con.execute(f"select count(*) from read_parquet('{path}')").fetchone()[0]
    finally:
        con.close()


def snapshot_bytes(data_dir: Path, snapshot_date: str) -> int:
    folder = data_dir / "warehouse" / "lake" / f"snapshot_date={snapshot_date}"
    return sum(p.stat().st_size for p in folder.glob("*.parquet"))


def per_model_times(dbt_dir: Path) -> dict:
    results = json.loads((dbt_dir / "target" / "run_results.json").read_text())["results"]
    models = [r for r in results if r["unique_id"].startswith("model.")]
    return {r["unique_id"].split(".")[-1]: round(r["execution_time"], 2)
            for r in sorted(models, key=lambda r: -r["execution_time"])}


def floor(dbt_dir: Path, data_dir: Path, workdir: Path) -> dict:
    """The models' compiled SQL, executed by plain DuckDB in dependency order into a fresh file."""
    import duckdb

    manifest = json.loads((dbt_dir / "target" / "manifest.json").read_text())
    results = json.loads((dbt_dir / "target" / "run_results.json").read_text())["results"]
    compiled = {r["unique_id"]: r["compiled_code"] for r in results if r["unique_id"].startswith("model.")}
    nodes = manifest["nodes"]
    order, seen = [], set()

    def visit(uid):
        if uid in seen or uid not in compiled:
            return
        seen.add(uid)
        for parent in nodes[uid]["depends_on"]["nodes"]:
            visit(parent)
        order.append(uid)

    for uid in compiled:
        visit(uid)
    folder = workdir / "floor"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    con = duckdb.connect(str(folder / "observatory.duckdb"))  # same catalog name as the warehouse
    started = time.perf_counter()
    timings = {}
    try:
        con.execute("set TimeZone = 'UTC'")
        for schema in ("staging", "intermediate", "marts", "reference"):
            con.execute(f"create schema {schema}")
        seed = dbt_dir / "seeds" / "org_countries.csv"
        con.execute(f"create table reference.org_countries as select * from read_csv('{seed}', header = true)")
        for uid in order:
            node = nodes[uid]
            kind = "view" if node["config"]["materialized"] in ("view", "ephemeral") else "table"
            t0 = time.perf_counter()
            con.execute(f"create {kind} {node['schema']}.{node['name']} as {compiled[uid]}")
            timings[node["name"]] = round(time.perf_counter() - t0, 2)
    finally:
        con.close()
    return {"wall_s": round(time.perf_counter() - started, 2), "per_model_s": timings}


PANDAS_METRICS = '''
import sys, time
import pandas as pd
path, seed, day = sys.argv[1], sys.argv[2], pd.Timestamp(sys.argv[3])
t0 = time.perf_counter()
models = pd.read_parquet(path, columns=["id", "createdAt", "downloads", "likes", "baseModels", "tags"])
countries = pd.read_csv(seed)
countries["key"] = countries["org"].str.lower()
models["org"] = models["id"].str.split("/").str[0]
models = models.merge(countries[["key", "provider", "country"]], left_on=models["org"].str.lower(),
                      right_on="key", how="left")
models["provider"] = models["provider"].fillna(models["org"])
dated = models[models["createdAt"].dt.floor("min") != pd.Timestamp("__FLOOR__")]
releases = dated.groupby(["provider", dated["createdAt"].dt.year]).size()
weeks = dated.assign(week=dated["createdAt"].dt.to_period("W-SUN").dt.start_time)
top = (weeks.sort_values(["likes", "id"], ascending=[False, True]).groupby("week").head(10))
new = models[(models["createdAt"] >= day - pd.Timedelta(days=364)) & (models["createdAt"] < day + pd.Timedelta(days=1))]
share = new.groupby(new["country"].fillna("unknown"))["downloads"].sum() / new["downloads"].sum()
parents = models["baseModels"].map(lambda b: [m["id"] for m in b["models"]] if b is not None else [])
direct = parents.explode().dropna().value_counts()
print(time.perf_counter() - t0, len(releases), len(top), len(share), len(direct))
'''

DUCKDB_METRICS = '''
import sys, time, duckdb
path, seed, day = sys.argv[1], sys.argv[2], sys.argv[3]
t0 = time.perf_counter()
con = duckdb.connect()
con.execute(f"""create view m as select r.*, split_part(id, '/', 1) as org, c.provider, c.country
    from read_parquet('{path}') r left join read_csv('{seed}') c on lower(c.org) = lower(split_part(r.id, '/', 1))""")
releases = con.execute("""select coalesce(provider, org), year(createdAt), count(*) from m
    where date_trunc('minute', createdAt) <> timestamp '__FLOOR__' group by all""").fetchall()
top = con.execute("""select * from (select date_trunc('week', createdAt) w, id, row_number() over
    (partition by w order by likes desc, id) rk from m where date_trunc('minute', createdAt) <> timestamp '__FLOOR__')
    where rk <= 10""").fetchall()
share = con.execute(f"""select coalesce(country, 'unknown'), sum(downloads) / sum(sum(downloads)) over () from m
    where createdAt >= date '{day}' - interval 364 day and createdAt < date '{day}' + interval 1 day group by 1""").fetchall()
direct = con.execute("select p.id, count(*) from (select unnest(baseModels.models) p from m) group by 1").fetchall()
print(time.perf_counter() - t0, len(releases), len(top), len(share), len(direct))
'''


INGEST_SCRIPT = """
import sys, time
from pathlib import Path
from orchestration.lib.snapshot_store import SnapshotStore
started = time.perf_counter()
stored = SnapshotStore(Path(sys.argv[2])).write(Path(sys.argv[1]), sys.argv[3], {"source": "file"})
print(stored.manifest["rows"], stored.manifest["bytes"], round(time.perf_counter() - started, 2))
"""


def pad(source: Path, target: Path, pad_bytes: int) -> None:
    """`source` with about `pad_bytes` of incompressible hex text per row: half appended to cardData,
    half in an extra `config` column (the full files carry many such columns; ingest drops them)."""
    import duckdb

    hashes = max(1, pad_bytes // 64)  # two md5 hex strings (32 bytes each) per step, one per column
    card = " || ".join(f"md5(id || '{i}c')" for i in range(hashes))
    config = " || ".join(f"md5(id || '{i}f')" for i in range(hashes))
    con = duckdb.connect()
    con.execute("set preserve_insertion_order = false")
    con.execute(f"copy (select * replace (coalesce(cardData, '') || {card} as cardData), {config} as config"
                f" from read_parquet('{source}')) to '{target}' (format parquet, compression zstd)")
    con.close()


def ingest_only(args, env: dict, python: str) -> None:
    raw = args.workdir / "file.parquet"
    measure("generate snapshot", [python, "-m", "orchestration.lib.sample", "--rows", str(args.rows),
                                  "--date", DAY_1, "--out", str(raw)], env)
    path = raw
    if args.pad_bytes:
        path = args.workdir / "padded.parquet"
        started = time.perf_counter()
        pad(raw, path, args.pad_bytes)
        print(f"  {'pad to real-file size':<48} {time.perf_counter() - started:>8.1f} s")
    size = path.stat().st_size
    run = measure(f"ingest {size / 1e9:.2f} GB ({args.rows:,} rows)",
                  [python, "-c", INGEST_SCRIPT, str(path), str(args.workdir / "raw" / "models"), DAY_1], env)
    rows, stored_bytes, wall = run.pop("output").split()[-3:]
    result = {"rows": args.rows, "pad_bytes_per_row": args.pad_bytes, "input_bytes": size,
              "stored_bytes": int(stored_bytes), "ingest_s": float(wall), **run,
              "machine": {"cpus": os.cpu_count()}}
    out = RESULTS.with_name("ingest_only.json")
    out.write_text(json.dumps(result, indent=2))
    print(f"Results: {out.relative_to(ROOT)}")


# --- The Spark engine, next to DuckDB: the same day built with `observatory build --engine spark`. ---

def spark_dbt_times(dbt_dir: Path, since: float) -> dict:
    """Where the Spark dbt invocation's time went, from its run_results.json (the newest one written
    after `since` by a `--target spark` invocation: a build's dbt step writes its own target folder):
    seconds per model, the sums per kind of node (models, data tests, seeds), and the rest of its
    elapsed time (JVM and Spark session start, dbt's parse and per-node bookkeeping; one thread)."""
    found = []
    for path in (dbt_dir / "target").rglob("run_results.json"):
        if path.stat().st_mtime >= since:
            results = json.loads(path.read_text())
            if results.get("args", {}).get("target") == "spark":
                found.append((path.stat().st_mtime, results))
    if not found:
        return {}
    results = max(found, key=lambda item: item[0])[1]
    kinds: dict = {}
    for r in results["results"]:
        kind = r["unique_id"].split(".")[0]
        count, seconds = kinds.get(kind, (0, 0.0))
        kinds[kind] = (count + 1, seconds + r["execution_time"])
    models = sorted((r for r in results["results"] if r["unique_id"].startswith("model.")),
                    key=lambda r: -r["execution_time"])
    elapsed = results["elapsed_time"]
    return {
        "elapsed_s": round(elapsed, 2),
        "nodes": {kind: {"count": count, "total_s": round(seconds, 2)} for kind, (count, seconds) in kinds.items()},
        "outside_nodes_s": round(elapsed - sum(seconds for _, seconds in kinds.values()), 2),
        "per_model_s": {r["unique_id"].split(".")[-1]: round(r["execution_time"], 2) for r in models},
    }


def hand_over_message(dagster_home: Path) -> str | None:
    """The dbt step's line on loading Spark's tables into the run's DuckDB (rows, seconds), from the event log."""
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    import dagster as dg

    instance = dg.DagsterInstance.get()
    try:
        run = instance.get_runs(limit=1)[0]
        return next((r.user_message for r in instance.all_logs(run.run_id)
                     if r.user_message and r.user_message.startswith("handed over from Spark")), None)
    finally:
        instance.dispose()


def spark_stage(workdir: Path, snapshot_file: Path, results: dict) -> dict:
    """`observatory build --engine spark` of DAY_1 into an empty warehouse of its own (the same file
    and date as the first DuckDB build): wall time, peak RSS (dbt and Spark's JVM included), steps,
    where the Spark dbt invocation's time went, next to the DuckDB build's numbers."""
    from orchestration.lib.engines import engine_problem

    problem = engine_problem("spark")
    if problem:
        print(f"\nSpark stage skipped: {problem}")
        return {"skipped": problem}
    data_dir = workdir / "spark" / "data"
    env = {**os.environ, "DATA_DIR": str(data_dir), "DAGSTER_HOME": str(data_dir / "dagster_home"),
           "DUCKDB_PATH": str(data_dir / "warehouse" / "observatory.duckdb"),
           "DO_NOT_TRACK": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}
    env.pop("OBSERVATORY_SNAPSHOT_DATE", None)
    settings = {name: env.get(name, default) for name, default in
                (("SPARK_MASTER", "local[*]"), ("SPARK_DRIVER_MEMORY", "4g"), ("SPARK_SHUFFLE_PARTITIONS", "4"),
                 ("SPARK_THREADS", "1"))}
    print(f"\nSpark engine, the same day ({settings}):")
    began = time.time()
    run = measure("observatory build --engine spark, empty", [str(BIN / "observatory"), "build", "--engine", "spark",
                  "--source", "file", "--file", str(snapshot_file), "--snapshot-date", DAY_1], env, required=False)
    output = run.pop("output")
    if run.get("failed"):  # the DuckDB numbers above are kept; the failure is the Spark result
        return {**run, "output_tail": output[-3000:], "settings": settings}
    run["settings"] = settings
    run["steps_s"] = run_steps(data_dir / "dagster_home")
    run["hand_over"] = hand_over_message(data_dir / "dagster_home")
    run["spark_dbt"] = spark_dbt_times(ROOT / "dbt_project", began)
    duckdb_run = results.get("build_first", {})
    if duckdb_run.get("wall_s"):
        run["vs_duckdb"] = {"wall": round(run["wall_s"] / duckdb_run["wall_s"], 2),
                            "dbt_step": round(run["steps_s"]["dbt"] / max(duckdb_run["steps_s"]["dbt"], 0.01), 2)}
    spark_dbt, duckdb_models = run["spark_dbt"], results.get("dbt_run", {}).get("per_model_s", {})
    print(f"Steps on Spark (s): {run['steps_s']}; DuckDB, same day: {duckdb_run.get('steps_s')}")
    print(f"Spark vs DuckDB: {run.get('vs_duckdb')}")
    if spark_dbt:
        print(f"Spark's dbt invocation: {spark_dbt['elapsed_s']} s, of which {spark_dbt['nodes']}; "
              f"outside the nodes (JVM and session start, parse): {spark_dbt['outside_nodes_s']} s")
        slowest = list(spark_dbt["per_model_s"].items())[:6]
        print("Slowest models on Spark (s, DuckDB's dbt run beside): "
              + ", ".join(f"{name} {seconds} ({duckdb_models.get(name, '-')})" for name, seconds in slowest))
    print(f"Hand-over: {run['hand_over']}")
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=2_200_000, help="models in the universe (default 2,200,000)")
    parser.add_argument("--history", type=int, nargs="+", default=[2, 30, 100],
                        help="snapshots stored before each further build (default 2 30 100)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each whole build, the fastest reported (default 3)")
    parser.add_argument("--out", type=Path, default=RESULTS,
                        help="results file (default benchmarks/results/hub_scale.json; give another for trial runs)")
    parser.add_argument("--workdir", type=Path, default=ROOT / "data" / "benchmark", help="scratch folder (deleted first)")
    parser.add_argument("--ingest-only", action="store_true", help="measure only the ingest of one file")
    parser.add_argument("--pad-bytes", type=int, default=0, help="with --ingest-only: extra bytes per row")
    parser.add_argument("--no-spark", action="store_true",
                        help="leave out the Spark stage (the same day built with --engine spark; skipped anyway "
                             "without the spark extra or Java)")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error(f"--repeat must be at least 1, got {args.repeat}")

    shutil.rmtree(args.workdir, ignore_errors=True)
    args.workdir.mkdir(parents=True)
    data_dir = args.workdir / "data"
    dbt_dir = ROOT / "dbt_project"
    env = {**os.environ, "DATA_DIR": str(data_dir), "DAGSTER_HOME": str(data_dir / "dagster_home"),
           "DUCKDB_PATH": str(data_dir / "warehouse" / "observatory.duckdb"),
           "DO_NOT_TRACK": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}
    files = {day: args.workdir / f"models-{day}.parquet" for day in (DAY_1, DAY_2)}
    python = str(BIN / "python")
    if args.ingest_only:
        return ingest_only(args, env, python)
    results: dict = {"rows": args.rows, "history": args.history,
                     "machine": {"cpus": os.cpu_count(), "load_average_at_start": os.getloadavg()}}

    print(f"Hub-scale benchmark: {args.rows:,} models, builds with 0 and {args.history} stored snapshots\n")
    for day, path in files.items():
        results[f"generate_{day}"] = measure(
            f"generate snapshot {day}",
            [python, "-m", "orchestration.lib.sample", "--rows", str(args.rows), "--date", day,
             "--universe-date", DAY_2, "--out", str(path)], env)
        results[f"generate_{day}"]["bytes"] = path.stat().st_size

    # The dbt project is parsed once per change of its files, by whichever build comes first; the
    # builds below are timed as every later build runs, and the parse is reported on its own.
    results["dbt_parse"] = measure("dbt parse (once per change of the project)", [
        python, "-c", "from orchestration.defs.transform.project import dbt_project; dbt_project()"], env)
    build = [str(BIN / "observatory"), "build", "--source", "file"]
    first_build = build + ["--file", str(files[DAY_1]), "--snapshot-date", DAY_1]
    later_build = build + ["--file", str(files[DAY_2]), "--snapshot-date", DAY_2]
    empty_dir = data_dir / "empty"
    runs: dict[str, list] = {"empty": [build_run(f"observatory build, empty warehouse (round 1/{args.repeat})",
                                                 first_build, data_env(env, empty_dir), empty_dir)]}
    results["snapshot_bytes"] = snapshot_bytes(empty_dir, DAY_1)

    # Every further build is of day 2 (ingest included) into a copy of the first build's data folder
    # holding 2, 30 or 100 snapshots: day 1 and older dates seeded before it (seed_history), day 1
    # restamped as built after them (restamp_history). Each of them is the same work but for the
    # history: the same file and the same previous snapshot (day 1, a real period of downloads).
    # Last, the largest history once more with day 1's fingerprint stale: the first build after an
    # earlier date changed. The builds go in rounds (empty, 2, 30, 100, changed; --repeat rounds),
    # each build's snapshot taken out again after it, so a slower spell of the machine, or run history
    # piling up, weighs on every level alike; each level's fastest run is reported.
    day_1 = dt.date.fromisoformat(DAY_1)
    levels = []  # (label, data folder, snapshots stored, stale)
    for history in args.history:
        folder = data_dir / f"stored_{history}"
        copy_data_folder(empty_dir, folder)
        seed_history(folder, DAY_1, [(day_1 - dt.timedelta(days=k)).isoformat() for k in range(1, history)])
        stored = len(list((folder / "warehouse" / "lake").glob("snapshot_date=*")))
        levels.append((str(stored), folder, stored, False))
    label, folder, stored, _ = levels[-1]
    levels.append((f"{label}_history_changed", folder, stored, True))  # the same folder, day 1 stamped stale
    for label, *_ in levels:
        runs[label] = []
    for round_ in range(1, args.repeat + 1):
        rounds = f"round {round_}/{args.repeat}"
        if round_ > 1:
            unpublish(empty_dir, DAY_1)
            runs["empty"].append(build_run(f"observatory build, empty warehouse ({rounds})", first_build,
                                           data_env(env, empty_dir), empty_dir))
        for n, (label, folder, stored, stale) in enumerate(levels):
            restamp_history(folder, DAY_1, stale=stale)  # each round: the last two levels share a folder
            run = build_run(f"observatory build, {stored} stored" + (" (history changed)" if stale else "")
                            + f" ({rounds})", later_build, data_env(env, folder), folder)
            run["stored_snapshots"] = stored
            run["period_rows"] = published_rows(folder, DAY_2, "fct_model_period_downloads")
            runs[label].append(run)
            if round_ < args.repeat or n < len(levels) - 1:
                unpublish(folder, DAY_2)
    results["build_first"] = fastest(runs["empty"])
    results["build_with_history"] = {label: fastest(runs[label]) for label, *_ in levels}
    data_dir = levels[-1][1]  # day 2 stays built there, for dbt by hand below
    env = data_env(env, data_dir)
    results["catalog_bytes"] = (data_dir / "warehouse" / "observatory.duckdb").stat().st_size

    # dbt by hand writes its own scratch file, never the catalog.
    env["DUCKDB_PATH"] = str(args.workdir / "dbt_scratch" / "observatory.duckdb")
    (args.workdir / "dbt_scratch").mkdir()
    dbt = [str(BIN / "dbt"), "--no-use-colors"]
    dbt_vars = []  # the snapshot comes from the environment, as in a build
    env["OBSERVATORY_SNAPSHOT_DATE"] = DAY_2
    results["dbt_build"] = measure("dbt build (models + tests)", dbt + ["build"] + dbt_vars, env, cwd=dbt_dir)
    results["dbt_run"] = measure("dbt run (models only)", dbt + ["run"] + dbt_vars, env, cwd=dbt_dir)
    results["dbt_run"]["per_model_s"] = per_model_times(dbt_dir)
    results["dbt_startup"] = measure("dbt start-up (dbt ls of one node)", dbt + ["ls", "-s", "dim_snapshots"] + dbt_vars,
                                     env, cwd=dbt_dir)
    floor_result = floor(dbt_dir, data_dir, args.workdir)
    results["floor"] = floor_result
    print(f"  {'floor: plain DuckDB, same SQL':<48} {floor_result['wall_s']:>8.1f} s")

    seed = str(dbt_dir / "seeds" / "org_countries.csv")
    for name, script in (("pandas_metrics", PANDAS_METRICS), ("duckdb_metrics", DUCKDB_METRICS)):
        script = script.replace("__FLOOR__", CREATED_AT_FLOOR.isoformat(sep=" "))  # the floor minute
        run = measure(f"{name.replace('_', ' ')} (4 key metrics)", [python, "-c", script, str(files[DAY_2]), seed, DAY_2], env)
        run["compute_s"] = round(float(run["output"].split()[0]), 2)
        results[name] = run

    imports = [measure("import orchestration.definitions", [python, "-c", "import orchestration.definitions"], env)
               for _ in range(3)]
    results["import_definitions_s"] = min(r["wall_s"] for r in imports)
    results["import_dagster_s"] = min(measure("import dagster", [python, "-c", "import dagster"], env)["wall_s"]
                                      for _ in range(3))

    first, later = results["build_first"], results["build_with_history"]
    results["ratios"] = {
        **{f"build_with_{k}_stored_vs_empty": round(run["wall_s"] / first["wall_s"], 2) for k, run in later.items()},
        "dbt_run_vs_floor": round(results["dbt_run"]["wall_s"] / floor_result["wall_s"], 2),
        "dbt_run_minus_startup_vs_floor": round(
            (results["dbt_run"]["wall_s"] - results["dbt_startup"]["wall_s"]) / floor_result["wall_s"], 2),
        "pandas_vs_duckdb_metrics": round(results["pandas_metrics"]["wall_s"] / results["duckdb_metrics"]["wall_s"], 2),
    }
    # The empty warehouse's build has no previous snapshot, so no period work; against the fewest
    # stored snapshots, the ratios show what more history costs.
    fewest = min((k for k in later if k.isdigit()), key=int, default=None)
    for k, run in later.items():
        if k != fewest:
            results["ratios"][f"build_with_{k}_stored_vs_{fewest}"] = round(run["wall_s"] / later[fewest]["wall_s"], 2)
    results["spark"] = {"skipped": "--no-spark"} if args.no_spark else spark_stage(args.workdir, files[DAY_1], results)
    results["machine"]["load_average_at_end"] = os.getloadavg()
    for run in [*results.values(), *later.values()]:
        if isinstance(run, dict):
            run.pop("output", None)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(f"\nSteps of the first build (s): {first['steps_s']}")
    for k, run in later.items():
        print(f"Steps with {k} stored (s): {run['steps_s']}")
    print(f"Trend models, empty warehouse (s): {first['trend_models'].get('total_s')}")
    for k, run in later.items():
        print(f"Trend models with {k} stored (s): {run['trend_models'].get('total_s')} "
              f"{dict(list(sorted(run['trend_models'].get('per_model_s', {}).items(), key=lambda i: -i[1]))[:4])}")
    print(f"Disk per stored snapshot (lake folder): {results['snapshot_bytes'] / 2**20:.1f} MiB; "
          f"catalog {results['catalog_bytes'] / 2**10:.0f} KiB")
    print(f"Slowest models in dbt run (s): {dict(list(results['dbt_run']['per_model_s'].items())[:6])}")
    print(f"Ratios: {json.dumps(results['ratios'])}")
    print(f"Results: {args.out}")


if __name__ == "__main__":
    main()
