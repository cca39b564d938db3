"""The raw snapshot asset: one immutable Parquet snapshot of Hub models per snapshot date."""

import shutil
import tempfile
from pathlib import Path

import dagster as dg

from orchestration.defs.ingest import hub
from orchestration.defs.ingest.sources import SnapshotRequest, check_request, fetch, identity
from orchestration.defs.partitions import snapshot_partitions
from orchestration.lib.locks import exclusive
from orchestration.lib.snapshot_store import SnapshotExistsError, SnapshotStore, StoredSnapshot
from orchestration.settings import Settings


class IngestConfig(dg.Config):
    """Where the snapshot comes from. Unset fields fall back to HUB_SOURCE, HUB_FILE, SAMPLE_ROWS."""

    source: str | None = None
    file: str | None = None
    revision: str | None = None
    sample_rows: int | None = None
    replace: bool = False


def ingest(request: SnapshotRequest, settings: Settings, replace: bool, log) -> tuple[StoredSnapshot, str]:
    """Fetch and store one snapshot. Returns it and what happened: stored, replaced or unchanged."""
    check_request(request)
    store = SnapshotStore(settings.raw_models_dir)
    store.recover()  # a replacement killed half-way: its previous snapshot comes back first
    revision = None
    if request.source == "hub_stats":
        revision = hub.resolve_revision(request.repo_id, request.snapshot_date, request.revision)
        if revision.snapshot_date != request.snapshot_date:
            raise ValueError(
                f"revision {revision.sha} of {request.repo_id} is dated {revision.snapshot_date}, "
                f"not {request.snapshot_date}"
            )
        log.info(f"hub_stats: {request.repo_id} at revision {revision.sha} ({revision.committed_at})")

    wanted = identity(request, revision)
    existing = store.get(request.snapshot_date)
    if existing and not replace:
        if wanted is not None and existing.manifest.get("identity") == wanted:
            log.info(f"snapshot {request.snapshot_date} is already stored from the same input; nothing to do")
            return existing, "unchanged"
        raise SnapshotExistsError(
            f"a different snapshot for {request.snapshot_date} is already stored "
            f"(source {existing.manifest.get('source')}); replace it explicitly (config replace: true, CLI --replace)"
        )

    store.incoming.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="fetch-", dir=store.incoming))
    try:
        fetched = fetch(request, workdir, revision)
        stored = store.write(
            fetched.path, request.snapshot_date, {**fetched.provenance, "identity": wanted}, replace=replace
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    manifest = stored.manifest
    log.info(f"stored {manifest['rows']:,} rows ({manifest['bytes'] / 1e6:.1f} MB, source {manifest.get('source')}"
             f"{', revision ' + manifest['revision'] if manifest.get('revision') else ''}) at {stored.path}")
    return stored, "replaced" if existing else "stored"


MODELS_KEY = dg.AssetKey(["huggingface", "models"])
MANIFESTS_KEY = dg.AssetKey(["huggingface", "snapshot_manifests"])
QUARANTINE_KEY = dg.AssetKey(["huggingface", "quarantine"])


@dg.multi_asset(
    name="ingest_snapshot",
    partitions_def=snapshot_partitions,
    backfill_policy=dg.BackfillPolicy.multi_run(1),
    group_name="ingest",
    specs=[
        dg.AssetSpec(
            MODELS_KEY,
            kinds={"parquet", "python"},
            description=(
                "One snapshot of Hub model metadata (hub-stats schema), stored as immutable Parquet under "
                "raw/models/snapshot_date=YYYY-MM-DD/. Sources: sample (synthetic), file, hub_stats "
                "(dataset cfahlgren1/hub-stats at a revision) or api (HfApi.list_models)."
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
    ],
)
def ingest_snapshot(context: dg.AssetExecutionContext, config: IngestConfig):
    settings = Settings.from_env()
    request = SnapshotRequest(
        source=config.source or settings.hub_source,
        snapshot_date=context.partition_key,
        file=Path(config.file) if config.file else settings.hub_file,
        revision=config.revision,
        sample_rows=config.sample_rows or settings.sample_rows,
        repo_id=settings.hub_stats_repo,
        api_authors=settings.api_authors,
    )
    with exclusive(settings.raw_lock, "raw snapshot store", settings.lock_timeout_s, context.log):
        stored, outcome = ingest(request, settings, config.replace, context.log)
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
        },
    )
    quarantined = manifest.get("quarantined", {})
    yield dg.MaterializeResult(
        asset_key=QUARANTINE_KEY,
        metadata={"dagster/row_count": sum(quarantined.values()), "by_reason": dg.MetadataValue.json(quarantined)},
    )
    yield dg.MaterializeResult(
        asset_key=MANIFESTS_KEY,
        metadata={"manifest": dg.MetadataValue.json(manifest), "ingested_at": manifest["ingested_at"]},
    )


def _column_schema(path: Path) -> dg.TableSchema:
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    return dg.TableSchema(columns=[dg.TableColumn(name=f.name, type=str(f.type)) for f in schema])
