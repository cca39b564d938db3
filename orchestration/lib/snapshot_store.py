"""Immutable raw snapshots on disk: one folder per snapshot date, written atomically.

Layout: <raw_models_dir>/snapshot_date=YYYY-MM-DD/{models.parquet, _manifest.json}.
A snapshot is first written to a scratch folder beside the tree, checked, and only then moved
into place with one rename, so readers never see a half-written snapshot.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.lib.raw_schema import (
    CREATED_AT_FLOOR,
    MODELS,
    RawKind,
    SchemaError,
    get_kind,
    check_schema,
    missing_optional_columns,
    normalized_select,
    read_schema,
)
from orchestration.lib.sql import literal

MANIFEST_NAME = "_manifest.json"
DATA_NAME = "models.parquet"
QUARANTINE_NAME = "_quarantine.parquet"
STALE_SCRATCH_S = 6 * 3600  # scratch folders older than this were left by a killed ingest
MAX_ID_LENGTH = 256  # Hub ids are at most 96 characters; anything far longer is not an id

# A count above this is no count (the most downloaded repos have a few billion downloads of all
# time). It also keeps sums exact: 9.2 million models at this bound still add up within BIGINT.
MAX_PLAUSIBLE_COUNT = 10**12

# Rows set aside (stored in _quarantine.parquet with the reason), the rest of the snapshot kept.
# `{day_after}` is the day after the snapshot date: a model cannot be created after its snapshot.
# Nor before the floor minute: every repo older than it carries the floor, so an earlier date (an
# epoch 1970 say) is a broken value that would otherwise top the rankings of its week as a "release".
QUARANTINE_RULES = {
    "created_at_after_snapshot": "createdAt >= {day_after}",
    "created_at_before_floor": f"createdAt < timestamp '{CREATED_AT_FLOOR.isoformat(sep=' ')}'",
    "id_too_long": f"length(id) > {MAX_ID_LENGTH}",
}
# Values repaired in place (set to null) and counted; the row itself is fine and keeps its lineage
# and release date, only the count is unknown. A count is never negative, and one above
# MAX_PLAUSIBLE_COUNT (such as 2^63-1, a sentinel) would dominate every download share.
COUNT_COLUMNS = ("downloads", "downloadsAllTime", "likes")
COUNT_REPAIRS = {
    "negative_counts_nulled": "{column} < 0",
    "implausible_counts_nulled": f"{{column}} > {MAX_PLAUSIBLE_COUNT}",
}
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class SnapshotExistsError(RuntimeError):
    """A different snapshot is already stored for this date."""


class SnapshotCorruptError(RuntimeError):
    """A stored snapshot's data file no longer matches the checksum its manifest recorded."""


def parse_snapshot_date(value: str) -> dt.date:
    """A snapshot date in YYYY-MM-DD form, or a ValueError that says what is wrong."""
    if not isinstance(value, str) or not _DATE_RE.match(value):
        raise ValueError(f"snapshot date {value!r} is not in YYYY-MM-DD form")
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"snapshot date {value!r} is not a calendar date") from exc


@dataclass(frozen=True)
class StoredSnapshot:
    path: Path
    manifest: dict
    data_name: str = DATA_NAME

    @property
    def data_path(self) -> Path:
        return self.path / self.data_name


@dataclass(frozen=True)
class StagedSnapshot:
    """A snapshot written and checked in the scratch folder, not yet in place (SnapshotStore.place)."""

    scratch: Path
    target: Path
    manifest: dict
    data_name: str


class SnapshotStore:
    """The snapshots of one kind of raw file (models by default; datasets, spaces, papers beside them)."""

    def __init__(self, raw_models_dir: Path, kind: "str | RawKind" = MODELS):
        self.root = raw_models_dir
        self.kind = get_kind(kind)

    @property
    def incoming(self) -> Path:
        """Scratch space beside the tree: nothing here is ever read as a snapshot."""
        return self.root.parent / ".incoming"

    def recover(self) -> list[Path]:
        """Finish what a killed replacement left: put a retired snapshot back if its date has none.

        Replacing moves the stored folder aside (`<date>-<id>.retired` in the scratch folder), then
        moves the new one in. Killed between the two, the date has no snapshot: the retired copy is
        put back. Killed after both, the retired copy is simply removed. Call it while holding the
        raw store's lock (ingest does), so it never races a replacement in progress.
        Returns the snapshot folders put back.
        """
        if not self.incoming.exists():
            return []
        retired = sorted(
            (p for p in self.incoming.glob("*.retired")
             if p.is_dir() and (p / MANIFEST_NAME).exists() and (p / self.kind.data_name).exists()),
            key=lambda p: p.stat().st_ctime_ns, reverse=True,  # the newest first: the last one moved aside
        )
        restored = []
        for path in retired:
            snapshot_date = json.loads((path / MANIFEST_NAME).read_text())["snapshot_date"]
            target = self.partition_dir(snapshot_date)
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.rename(path, target)
                restored.append(target)
            else:
                shutil.rmtree(path, ignore_errors=True)
        return restored

    def partition_dir(self, snapshot_date: str) -> Path:
        parse_snapshot_date(snapshot_date)
        return self.root / f"snapshot_date={snapshot_date}"

    def get(self, snapshot_date: str) -> StoredSnapshot | None:
        path = self.partition_dir(snapshot_date)
        manifest_path = path / MANIFEST_NAME
        if not manifest_path.exists():
            return None
        return StoredSnapshot(path, json.loads(manifest_path.read_text()), self.kind.data_name)

    def list(self) -> list[StoredSnapshot]:
        if not self.root.exists():
            return []
        found = []
        for path in sorted(self.root.glob("snapshot_date=*")):
            stored = self.get(path.name.split("=", 1)[1])
            if stored:
                found.append(stored)
        return found

    def verify(self, snapshot_date: str) -> StoredSnapshot:
        """Check that the stored models.parquet still has the sha256 its manifest recorded at ingest.

        Raises SnapshotCorruptError naming the file and both hashes, or LookupError when nothing is
        stored for the date. Reads the whole file every time (no cache keyed on size or mtime: both
        can be kept when a file is rewritten)."""
        for _ in range(3):  # a replace may swap in a new folder between reading the manifest and the file
            stored = self.get(snapshot_date)
            if stored is None:
                raise LookupError(f"no raw snapshot is stored for {snapshot_date}")
            expected = stored.manifest.get("sha256")
            actual = file_sha256(stored.data_path) if stored.data_path.exists() else None
            if actual == expected:
                return stored
            again = self.get(snapshot_date)
            if again is None or again.manifest == stored.manifest:
                break
        if actual is None:
            raise SnapshotCorruptError(f"raw snapshot {snapshot_date}: {stored.data_path} is missing")
        if actual != expected:
            raise SnapshotCorruptError(
                f"raw snapshot {snapshot_date}: {stored.data_path} has sha256 {actual}, but its manifest "
                f"recorded {expected} at ingest; the stored file was changed. Nothing was built from it; "
                f"ingest the date again with --replace"
            )
        return stored

    def write(
        self,
        source_parquet: Path,
        snapshot_date: str,
        provenance: dict,
        replace: bool = False,
    ) -> StoredSnapshot:
        """Validate `source_parquet`, normalize it and store it as the snapshot of that date.

        `provenance` (source, revision, fingerprint, ...) goes into the manifest. An existing
        snapshot is only replaced when `replace` is true; nothing is touched on any error.
        """
        staged = self.stage(source_parquet, snapshot_date, provenance, replace)
        try:
            return self.place(staged)
        finally:
            discard(staged)

    def stage(
        self,
        source_parquet: Path,
        snapshot_date: str,
        provenance: dict,
        replace: bool = False,
    ) -> StagedSnapshot:
        """Validate, normalize and write the snapshot into the scratch folder; nothing is in place yet.

        Several files of one date (models, datasets, ...) are all staged before any is placed, so a
        refused one leaves every stored snapshot as it was. Discard what is not placed (`discard`)."""
        target = self.partition_dir(snapshot_date)
        self.recover()
        if target.exists() and not replace:
            raise SnapshotExistsError(
                f"a snapshot for {snapshot_date} is already stored at {target}; "
                "pass replace=True (CLI: --replace) to overwrite it"
            )
        schema = read_schema(source_parquet)
        problems = check_schema(schema, self.kind)
        if problems:
            what = "" if self.kind is MODELS else f" ({self.kind.name} file)"
            raise SchemaError(f"{source_parquet}{what}: " + "; ".join(problems))

        remove_stale_scratch(self.incoming)
        scratch = self.incoming / f"{snapshot_date}-{self.kind.name}-{uuid.uuid4().hex}"
        scratch.mkdir(parents=True)
        try:
            data_path = scratch / self.kind.data_name
            rows, quarantined, repaired = _write_normalized(
                source_parquet, schema, snapshot_date, data_path, scratch / QUARANTINE_NAME, self.kind
            )
            manifest = {
                "snapshot_date": snapshot_date,
                # Every manifest has the same keys, so all of them read as one table.
                "source": None,
                "repo_id": None,
                "revision": None,
                "synthetic": False,
                "license": None,
                **provenance,
                "missing_columns": missing_optional_columns(schema, self.kind),
                "rows": rows,
                "quarantined": quarantined,
                "repaired": repaired,
                "sha256": file_sha256(data_path),
                "bytes": data_path.stat().st_size,
                "ingested_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            }
            (scratch / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, sort_keys=True))
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
        return StagedSnapshot(scratch, target, manifest, self.kind.data_name)

    def place(self, staged: StagedSnapshot) -> StoredSnapshot:
        """Move a staged snapshot into place with one rename (the stored one moved aside first)."""
        _move_into_place(staged.scratch, staged.target)
        return StoredSnapshot(staged.target, staged.manifest, staged.data_name)

    def remove(self, snapshot_date: str) -> bool:
        """Take the stored snapshot of a date away (a replacement of the models without this file)."""
        target = self.partition_dir(snapshot_date)
        if not target.exists():
            return False
        self.incoming.mkdir(parents=True, exist_ok=True)
        gone = self.incoming / f"{snapshot_date}-{self.kind.name}-{uuid.uuid4().hex}.removed"
        os.rename(target, gone)
        shutil.rmtree(gone, ignore_errors=True)
        return True


def discard(staged: StagedSnapshot) -> None:
    """Remove what staging wrote and was not placed (a no-op once placed)."""
    shutil.rmtree(staged.scratch, ignore_errors=True)


def remove_stale_scratch(incoming: Path, max_age_s: float = STALE_SCRATCH_S) -> list[Path]:
    """Delete what killed ingests left in the scratch folder; it never holds a stored snapshot."""
    if not incoming.exists():
        return []
    cutoff = time.time() - max_age_s
    stale = [p for p in incoming.iterdir() if p.stat().st_mtime < cutoff]
    for path in stale:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return stale


def _quarantine_rules(kind: RawKind) -> dict[str, str]:
    """The quarantine rules in the kind's own columns (its key and its date)."""
    rules = {}
    for name, rule in QUARANTINE_RULES.items():
        if name == "created_at_before_floor" and not kind.has_created_at_floor:
            continue
        rules[name] = rule.replace("createdAt", kind.date_column).replace("length(id)", f"length({kind.key})")
    return rules


def _write_normalized(
    source_parquet: Path, schema, snapshot_date: str, data_path: Path, quarantine_path: Path,
    kind: RawKind = MODELS,
) -> tuple[int, dict[str, int], dict[str, int]]:
    """Write the kept rows and the quarantined ones; return rows kept, quarantined and repaired counts."""
    day_after = f"(date '{parse_snapshot_date(snapshot_date).isoformat()}' + interval 1 day)"
    reasons = " ".join(
        f"when {rule.format(day_after=day_after)} then '{name}'" for name, rule in _quarantine_rules(kind).items()
    )
    count_columns = COUNT_COLUMNS if kind is MODELS else kind.count_columns
    broken = {
        name: " or ".join(rule.format(column=c) for c in count_columns) for name, rule in COUNT_REPAIRS.items()
    }
    repaired_counts = ", ".join(
        f"case when {' or '.join(rule.format(column=c) for rule in COUNT_REPAIRS.values())} then null else {c} end as {c}"
        for c in count_columns
    )
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        # Memory of a real-size file (2.2M rows, 1.6 GB; benchmarks/hub_scale.py --ingest-only): with
        # DuckDB's defaults the ordered copy buffers ~3.0 GB peak RSS. Without insertion-order bookkeeping
        # it streams: one thread 40.6 s and 1.07 GB, two threads 25.4 s and 1.57 GB (each thread buffers
        # its own row groups, so more threads would cost memory for little: two, whatever the machine).
        # Rows may leave in another order than they came; nothing reads the raw file in row order.
        con.execute("set preserve_insertion_order = false")
        con.execute("set threads = 2")
        con.execute(f"create temp view snapshot as {normalized_select(source_parquet, schema, kind)}")
        _check_rows(con, source_parquet, kind.key)
        # A view, not a table: the heavy columns stream from the source to the target once.
        con.execute(f"create temp view classified as select *, case {reasons} end as quarantine_reason from snapshot")
        target = literal(data_path)
        con.execute(
            f"copy (select * exclude (quarantine_reason) replace ({repaired_counts}) from classified"
            f" where quarantine_reason is null) to {target} (format parquet, compression zstd)"
        )
        # The rest reads a few narrow columns only.
        quarantine = literal(quarantine_path)
        con.execute(
            f"copy (select left({kind.key}, {MAX_ID_LENGTH}) as id, quarantine_reason as reason,"
            f" {kind.date_column} as createdAt"
            f" from classified where quarantine_reason is not null order by id)"
            f" to {quarantine} (format parquet, compression zstd)"
        )
        quarantined = dict(con.execute(
            f"select reason, count(*) from read_parquet({quarantine}) group by 1"
        ).fetchall())
        # Rows with such a count, per repair (a row with both kinds counts in both).
        counted = ", ".join(f"count(*) filter (where {rule})" for rule in broken.values() if rule)
        n_repaired = con.execute(f"select {counted} from classified where quarantine_reason is null").fetchone() \
            if counted else ()
        rows = con.execute(f"select sum(num_rows) from parquet_file_metadata({target})").fetchone()[0]
        return int(rows), quarantined, {name: n for name, n in zip(broken, n_repaired) if n}
    finally:
        con.close()


def _check_rows(con: duckdb.DuckDBPyConnection, source: Path, key: str = "id") -> None:
    """Row-level problems that make a snapshot unusable as a whole."""
    rows, null_ids, distinct_ids = con.execute(
        f"select count(*), count(*) filter (where {key} is null or trim({key}) = ''), count(distinct {key})"
        " from snapshot"
    ).fetchone()
    if rows == 0:
        raise SchemaError(f"{source}: the snapshot has no rows")
    if null_ids:
        raise SchemaError(f"{source}: {null_ids} rows have a null or empty id")
    if distinct_ids != rows:
        example = con.execute(
            f"select {key} from snapshot group by {key} having count(*) > 1 order by {key} limit 1"
        ).fetchone()[0]
        raise SchemaError(
            f"{source}: {rows - distinct_ids} duplicated ids (e.g. {example!r}); ids must be unique"
        )


def _move_into_place(scratch: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        os.rename(scratch, target)
        return
    # Replacing: move the old folder aside first, so a crash leaves either version whole.
    retired = scratch.with_name(scratch.name + ".retired")
    os.rename(target, retired)
    try:
        os.rename(scratch, target)
    except OSError:
        os.rename(retired, target)
        raise
    shutil.rmtree(retired, ignore_errors=True)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
