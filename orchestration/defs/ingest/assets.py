"""The raw snapshot asset: one immutable Parquet snapshot of Hub models per snapshot date."""

import shutil
import tempfile
from pathlib import Path
from typing import Literal

import dagster as dg
from pydantic import Field

from orchestration.defs.catalog import OWNERS
from orchestration.defs.engine import unavailable_engine
from orchestration.lib.sources import SnapshotRequest, check_request
from orchestration.defs.partitions import snapshot_partitions
from orchestration.defs.refusal import refuse
from orchestration.lib.locks import exclusive
from orchestration.defs.resources import ObservatorySettings
from orchestration.lib.raw_schema import REPO_KINDS
from orchestration.lib.snapshot_store import SnapshotExistsError, SnapshotStore, StoredSnapshot, discard
from orchestration.settings import Settings


# The launchpad's choices for `source`; a test holds them equal to lib.sources.SOURCE_NAMES.
SourceName = Literal["hub_stats", "hub_weekly", "dir", "file", "api", "sample"]


class IngestConfig(dg.Config):
    """Where this date's snapshot comes from: `source` is required (none is assumed; synthetic data only when named)."""

    # Internal: the sensor and the command line always pass `source`; a UI launch without it is
    # refused by Dagster's config check before any run exists.
    source: SourceName = Field(description=(
        "hub_stats: the dataset cfahlgren1/hub-stats, the last revision of the date (or `revision`); "
        "hub_weekly: the weekly copy of the date in hfmlsoc/hub_weekly_snapshots (ODbL-1.0); "
        "dir: the file models-<date>.parquet in the folder `dir`; "
        "file: the hub-stats Parquet file `file` (with datasets_file, spaces_file, papers_file if you have them); "
        "api: the Hub's models API now (only for today's date); "
        "sample: SYNTHETIC data (`sample_rows` models), to try the warehouse, never mixed with real dates."))
    file: str | None = Field(default=None, description="source file: path of the models Parquet file (default HUB_FILE).")
    dir: str | None = Field(default=None, description=(
        "source dir: folder holding models-YYYY-MM-DD.parquet files (default HUB_DIR)."))
    revision: str | None = Field(default=None, description=(
        "source hub_stats: the dataset commit to ingest (default: the last one of the date)."))
    sample_rows: int | None = Field(default=None, description="source sample: number of models (default SAMPLE_ROWS).")
    replace: bool = Field(default=False, description=(
        "DESTRUCTIVE: overwrite the snapshot already stored for this date when the input differs. The "
        "previous raw snapshot is deleted and cannot be fetched again if its source has moved on. A stored "
        "real snapshot is never replaced by the synthetic sample. Leave false: a date already stored from "
        "the same input is simply rebuilt."))
    datasets_file: str | None = Field(default=None, description="source file: the hub-stats datasets.parquet of the date.")
    spaces_file: str | None = Field(default=None, description="source file: the hub-stats spaces.parquet of the date.")
    papers_file: str | None = Field(default=None, description="source file: the hub-stats daily_papers.parquet of the date.")


def ingest(request: SnapshotRequest, settings: Settings, replace: bool, log) -> tuple[StoredSnapshot, str]:
    """Fetch and store one snapshot. Returns it and what happened: stored, replaced or unchanged."""
    source = check_request(request)
    store = SnapshotStore(settings.raw_models_dir)
    store.recover()  # a replacement killed half-way: its previous snapshot comes back first
    resolved = source.resolve(request)
    if resolved is not None:
        log.info(source.describe(resolved))
    wanted = source.identity(request, resolved)
    existing = store.get(request.snapshot_date)
    if existing and replace and source.name == "sample" and not existing.manifest.get("synthetic"):
        raise SnapshotExistsError(
            f"snapshot {request.snapshot_date} is stored from {existing.manifest.get('source')} (real data); "
            "it is never replaced by the synthetic sample"
        )
    if existing and not replace:
        if wanted is not None and existing.manifest.get("identity") == wanted:
            log.info(f"snapshot {request.snapshot_date} is already stored from the same input; nothing to do")
            return existing, "unchanged"
        raise SnapshotExistsError(
            f"a different snapshot for {request.snapshot_date} is already stored "
            f"(source {existing.manifest.get('source')}); nothing was changed. Only to overwrite it (destructive: "
            "the stored snapshot is deleted) set config replace: true (CLI --replace)"
        )

    store.incoming.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="fetch-", dir=store.incoming))
    staged = []
    try:
        fetched = source.fetch(request, workdir, resolved)
        others = source.fetch_repo_files(request, workdir, resolved)
        # Every file is checked and written to the scratch folder before any is put in place: a
        # refused datasets file leaves the models (and every other kind) as they were.
        staged.append((store, store.stage(
            fetched.path, request.snapshot_date, {**fetched.provenance, "identity": wanted}, replace=replace)))
        for kind in REPO_KINDS:
            if kind in others:
                other_store = SnapshotStore(settings.raw_dir(kind), kind)
                staged.append((other_store, other_store.stage(
                    others[kind].path, request.snapshot_date, {**others[kind].provenance, "identity": wanted},
                    replace=True)))
        stored = store.place(staged[0][1])
        for other_store, other in staged[1:]:
            placed = other_store.place(other)
            log.info(f"stored {placed.manifest['rows']:,} {other_store.kind.name} rows at {placed.path}")
        for kind in REPO_KINDS:
            if kind not in others and SnapshotStore(settings.raw_dir(kind), kind).remove(request.snapshot_date):
                log.info(f"removed the {kind} of the replaced snapshot {request.snapshot_date}: the new input has none")
    finally:
        for _, other in staged:
            discard(other)
        shutil.rmtree(workdir, ignore_errors=True)
    manifest = stored.manifest
    log.info(f"stored {manifest['rows']:,} rows ({manifest['bytes'] / 1e6:.1f} MB, source {manifest.get('source')}"
             f"{', revision ' + manifest['revision'] if manifest.get('revision') else ''}) at {stored.path}")
    return stored, "replaced" if existing else "stored"


MODELS_KEY = dg.AssetKey(["huggingface", "models"])
MANIFESTS_KEY = dg.AssetKey(["huggingface", "snapshot_manifests"])
QUARANTINE_KEY = dg.AssetKey(["huggingface", "quarantine"])
# Files of other kinds stored beside the models when the input has them (raw/<kind>/snapshot_date=D/).
REPO_KEYS = {kind: dg.AssetKey(["huggingface", kind]) for kind in REPO_KINDS}


@dg.multi_asset(
    name="ingest_snapshot",
    partitions_def=snapshot_partitions,
    backfill_policy=dg.BackfillPolicy.multi_run(1),
    group_name="ingest",
    specs=[
        dg.AssetSpec(
            MODELS_KEY,
            kinds={"parquet", "python"},
            owners=OWNERS,
            tags={"layer": "raw"},
            description=(
                "One snapshot of Hub model metadata (hub-stats schema), stored as immutable Parquet under "
                "raw/models/snapshot_date=YYYY-MM-DD/. Sources: sample (synthetic), file, hub_stats "
                "(dataset cfahlgren1/hub-stats at a revision), api (HfApi.list_models), hub_weekly "
                "(hfmlsoc/hub_weekly_snapshots, ODbL-1.0) or dir (a folder of dated files)."
            ),
        ),
        dg.AssetSpec(
            MANIFESTS_KEY,
            kinds={"json"},
            description="The manifest written beside each snapshot: source, revision, sha256, rows, ingested_at.",
        ),
        dg.AssetSpec(
            QUARANTINE_KEY,
            kinds={"parquet"},
            description="Rows of each snapshot set aside at ingest (createdAt after the snapshot, oversized ids).",
        ),
        *[
            dg.AssetSpec(
                key,
                kinds={"parquet"},
                description=(
                    f"The snapshot's {kind} (hub-stats {'daily papers' if kind == 'papers' else kind} file), stored "
                    f"as immutable Parquet under raw/{kind}/snapshot_date=YYYY-MM-DD/ when the input has one "
                    "(materialized with 0 rows and stored: false when it has none)."
                ),
            )
            for kind, key in REPO_KEYS.items()
        ],
    ],
)
def ingest_snapshot(context: dg.AssetExecutionContext, config: IngestConfig, observatory: ObservatorySettings):
    settings = observatory.get()
    problem = unavailable_engine(context.run, settings)  # nothing fetched for a build that cannot run
    if problem:
        refuse(context, problem)
    source = config.source
    request = SnapshotRequest(
        source=source,
        snapshot_date=context.partition_key,
        file=Path(config.file) if config.file else settings.hub_file,
        revision=config.revision,
        sample_rows=config.sample_rows or settings.sample_rows,
        repo_id=settings.hub_stats_repo,
        api_authors=settings.api_authors,
        weekly_repo=settings.hub_weekly_repo,
        dir=Path(config.dir) if config.dir else settings.hub_dir,
        repo_files={kind: Path(path) for kind, path in (
            ("datasets", config.datasets_file), ("spaces", config.spaces_file), ("papers", config.papers_file)) if path},
    )
    try:
        with exclusive(settings.raw_lock, "raw snapshot store", settings.lock_timeout_s, context.log):
            stored, outcome = ingest(request, settings, config.replace, context.log)
    except SnapshotExistsError as exc:
        refuse(context, str(exc))
    manifest = stored.manifest
    yield dg.MaterializeResult(
        asset_key=MODELS_KEY,
        metadata={
            "outcome": outcome,
            "source": manifest.get("source"),
            "synthetic": bool(manifest.get("synthetic")),
            "revision": manifest.get("revision") or "",
            "dagster/row_count": manifest["rows"],
            "sha256": manifest["sha256"],
            "bytes": manifest["bytes"],
            "path": dg.MetadataValue.path(str(stored.data_path)),
            "dagster/column_schema": _column_schema(stored.data_path),
            "rows_repaired": sum(manifest.get("repaired", {}).values()),
            "license": manifest.get("license") or "",
            "missing_columns": ", ".join(manifest.get("missing_columns") or []),
        },
    )
    quarantined = manifest.get("quarantined", {})
    yield dg.MaterializeResult(
        asset_key=QUARANTINE_KEY,
        metadata={"dagster/row_count": sum(quarantined.values()), "by_reason": dg.MetadataValue.json(quarantined)},
    )
    for kind, key in REPO_KEYS.items():
        other = SnapshotStore(settings.raw_dir(kind), kind).get(context.partition_key)
        # Always reported (the dbt step waits for every output): a snapshot without the file has 0 rows.
        yield dg.MaterializeResult(asset_key=key, metadata={"stored": False, "dagster/row_count": 0} if other is None else {
            "stored": True, "dagster/row_count": other.manifest["rows"], "sha256": other.manifest["sha256"],
            "path": dg.MetadataValue.path(str(other.data_path)),
            "quarantined": dg.MetadataValue.json(other.manifest.get("quarantined", {}))})
    yield dg.MaterializeResult(
        asset_key=MANIFESTS_KEY,
        metadata={"manifest": dg.MetadataValue.json(manifest), "ingested_at": manifest["ingested_at"]},
    )


def _column_schema(path: Path) -> dg.TableSchema:
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    return dg.TableSchema(columns=[dg.TableColumn(name=f.name, type=str(f.type)) for f in schema])
