"""Stored raw snapshots are checked against their manifest's sha256 before dbt reads them."""

import hashlib
import shutil

import duckdb
import pyarrow.parquet as pq
import pytest

from orchestration.lib import sample
from tests.conftest import run_observatory


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _likes_times_1000(path) -> None:
    """Rewrite a stored snapshot in place, as the EXPLAIN ANALYZE COPY of the query surface once could."""
    tampered = path.with_name("tampered.parquet")
    duckdb.execute(f"copy (select * replace (likes * 1000 as likes) from read_parquet('{path}'))"
                   f" to '{tampered}' (format parquet)")
    tampered.replace(path)


def test_verify_names_the_file_and_both_hashes(tmp_path):
    from orchestration.lib.snapshot_store import SnapshotCorruptError, SnapshotStore

    source = tmp_path / "in.parquet"
    pq.write_table(sample.generate(50, "2026-01-20"), source)
    store = SnapshotStore(tmp_path / "raw" / "models")
    stored = store.write(source, "2026-01-20", {"source": "sample"})
    assert store.verify("2026-01-20").manifest == stored.manifest

    recorded = stored.manifest["sha256"]
    _likes_times_1000(stored.data_path)
    changed = _sha256(stored.data_path)
    assert changed != recorded
    with pytest.raises(SnapshotCorruptError) as failure:
        store.verify("2026-01-20")
    assert str(failure.value).startswith(
        f"raw snapshot 2026-01-20: {stored.data_path} has sha256 {changed}, but its manifest recorded {recorded}"
    )
    with pytest.raises(LookupError, match="no raw snapshot is stored for 2026-01-21"):
        store.verify("2026-01-21")


@pytest.fixture
def built_copy(built, tmp_path):
    """A private copy of the built data folder (warehouse, raw store, Dagster home) to tamper with."""
    root, data_dir, _ = built
    copy = tmp_path / "data"
    shutil.copytree(data_dir, copy, symlinks=True)
    return root, copy


@pytest.mark.parametrize("flag", ["--force", "--full-refresh"])
def test_a_tampered_raw_snapshot_fails_the_build_and_publishes_nothing(built_copy, flag):
    root, data_dir = built_copy
    raw = data_dir / "raw" / "models" / "snapshot_date=2026-06-05" / "models.parquet"
    warehouse = data_dir / "warehouse" / "observatory.duckdb"
    published = warehouse.read_bytes()
    recorded = _sha256(raw)
    _likes_times_1000(raw)
    changed = _sha256(raw)

    result = run_observatory(data_dir, "build", "--source", "file", "--file", str(root / "models.parquet"),
                             "--snapshot-date", "2026-06-05", flag)
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
    assert "observatory: step observatory_dbt failed: " in result.stderr
    assert (f"raw snapshot 2026-06-05: {raw} has sha256 {changed}, but its manifest recorded {recorded}"
            in result.stderr)
    assert warehouse.read_bytes() == published
