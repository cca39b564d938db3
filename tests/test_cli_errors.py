"""What goes wrong around a build is said in one line, without a traceback, and leaves nothing half-done."""

import os
import shutil
import subprocess
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import run_observatory
from tests.snapshot_fixture import FIXTURE, SCHEMA


def _one_line(result, code: int) -> str:
    assert result.returncode == code, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Traceback" not in result.stderr and 'File "' not in result.stderr, result.stderr[-3000:]
    return result.stderr


@pytest.fixture
def tmpfs(tmp_path):
    """Mount a tmpfs at a fresh folder: (mount(options) -> path); skipped where mounting is not allowed."""
    mounted = []

    def mount(options: str) -> Path:
        point = tmp_path / f"mnt{len(mounted)}"
        point.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)], capture_output=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.decode().strip()}")
        mounted.append(point)
        return point

    yield mount
    for point in reversed(mounted):
        subprocess.run(["umount", "-l", str(point)], check=False)


def test_a_file_argument_that_is_a_directory_or_a_symlink_loop(tmp_path):
    folder = tmp_path / "folder.parquet"
    folder.mkdir()
    directory = run_observatory(tmp_path / "data", "build", "--source", "file", "--file", str(folder),
                                "--snapshot-date", "2026-06-05")
    assert _one_line(directory, 2).strip() == f"observatory: --file {folder} is a directory, not a Parquet file"

    loop = tmp_path / "loop.parquet"
    loop.symlink_to(loop)
    looping = run_observatory(tmp_path / "data", "build", "--source", "file", "--file", str(loop),
                              "--snapshot-date", "2026-06-05")
    assert _one_line(looping, 2).strip().startswith(f"observatory: cannot read --file {loop}: ")
    assert not (tmp_path / "data").exists()


def test_a_read_only_data_dir(tmpfs):
    data_dir = tmpfs("ro,size=1m")
    result = run_observatory(data_dir, "build", "--sample-rows", "50")
    err = _one_line(result, 2)
    assert err.splitlines()[0].startswith(f"observatory: cannot write in the data folder {data_dir}: Read-only file system")


def test_a_full_disk_fails_the_build_in_one_line_and_publishes_nothing(tmpfs):
    data_dir = tmpfs("size=1m")
    result = run_observatory(data_dir, "build", "--sample-rows", "20000", "--snapshot-date", "2026-06-05")
    err = _one_line(result, 1)
    assert err.splitlines()[-2].startswith("observatory: the build of 2026-06-05 ")
    assert err.splitlines()[-1].startswith(f"hint: the disk of DATA_DIR ({data_dir}) is full (")
    assert not (data_dir / "raw" / "models" / "snapshot_date=2026-06-05").exists()
    assert not (data_dir / "warehouse" / "observatory.duckdb").exists()


def test_a_refused_file_says_why_in_one_line(tmp_path):
    bad = pa.Table.from_pylist(FIXTURE, schema=SCHEMA).drop_columns(["likes"])
    pq.write_table(bad, tmp_path / "bad.parquet")
    result = run_observatory(tmp_path / "data", "build", "--source", "file", "--file", str(tmp_path / "bad.parquet"),
                             "--snapshot-date", "2026-06-07")
    err = _one_line(result, 1)
    reason = [line for line in err.splitlines() if line.startswith("observatory: step ingest_snapshot failed: ")]
    assert len(reason) == 1 and "missing required column 'likes'" in reason[0]


def _damaged_copy(built, tmp_path, offset_fraction: float, length_fraction: float, mart: str | None = None) -> Path:
    """A copy of the built data folder with random bytes over part of its catalog file, or of a
    mart's Parquet file of 2026-06-05 in the lake."""
    from orchestration.lib.publish import write_catalog

    _, source, _ = built
    data_dir = tmp_path / "data"
    shutil.copytree(source, data_dir, symlinks=True, ignore=shutil.ignore_patterns("*.lock", ".building"))
    write_catalog(data_dir / "warehouse" / "observatory.duckdb")  # its views read the copy's lake
    warehouse = data_dir / "warehouse" / "observatory.duckdb"
    if mart:
        warehouse = data_dir / "warehouse" / "lake" / "snapshot_date=2026-06-05" / f"{mart}.parquet"
    size = warehouse.stat().st_size
    with warehouse.open("r+b") as handle:
        handle.seek(int(size * offset_fraction))
        handle.write(os.urandom(int(size * length_fraction)))
    return data_dir


def test_a_warehouse_with_a_damaged_header_is_reported_as_unreadable(built, tmp_path):
    data_dir = _damaged_copy(built, tmp_path, 0, 0.01)
    status = run_observatory(data_dir, "status")
    assert status.returncode == 0, status.stderr
    row = next(line for line in status.stdout.splitlines() if line.startswith("2026-06-05"))
    assert row.split()[3] == "?"
    assert f"Warning: the warehouse {data_dir / 'warehouse' / 'observatory.duckdb'} cannot be read" in status.stdout

    out = data_dir / "exports" / "x"
    export = run_observatory(data_dir, "export", "--out", str(out), "--snapshot-date", "2026-06-05")
    assert "cannot be read" in _one_line(export, 2).splitlines()[0]
    report = run_observatory(data_dir, "report", "--snapshot-date", "2026-06-05")
    assert "cannot be read" in _one_line(report, 2).splitlines()[0]
    assert not out.exists()


def test_an_export_that_fails_half_way_leaves_no_folder(built, tmp_path):
    # The catalog opens; the Parquet file of a mart exported after others is damaged.
    data_dir = _damaged_copy(built, tmp_path, 0.1, 0.8, mart="fct_release_heatmap")
    out = data_dir / "exports" / "x"
    export = run_observatory(data_dir, "export", "--out", str(out), "--snapshot-date", "2026-06-05")
    assert "cannot be read" in _one_line(export, 2).splitlines()[0]
    assert not out.exists()
    assert not out.parent.exists() or list(out.parent.iterdir()) == []  # no partial folder left behind


def test_a_warehouse_of_the_previous_layout_is_refused_with_the_command_that_converts_it(tmp_path):
    import duckdb

    data_dir = tmp_path / "data"
    warehouse = data_dir / "warehouse" / "observatory.duckdb"
    warehouse.parent.mkdir(parents=True)
    with duckdb.connect(str(warehouse)) as con:  # marts as tables holding every snapshot
        con.execute("create schema marts")
        con.execute("create table marts.dim_snapshots as select date '2026-06-01' as snapshot_date")
    before = warehouse.read_bytes()
    result = run_observatory(data_dir, "build", "--sample-rows", "60", "--snapshot-date", "2026-06-05")
    err = _one_line(result, 2)
    assert err.splitlines() == [
        f"observatory: the warehouse {warehouse} was built by an older version of the observatory",
        "hint: rebuild every stored snapshot into the new layout once: observatory build --full-refresh",
    ]
    assert warehouse.read_bytes() == before
    assert not (data_dir / "raw" / "models" / "snapshot_date=2026-06-05").exists()

    # --full-refresh rebuilds every stored snapshot into the lake and replaces the old file by a catalog.
    converted = run_observatory(data_dir, "build", "--sample-rows", "60", "--snapshot-date", "2026-06-05",
                                "--full-refresh")
    assert converted.returncode == 0, converted.stderr[-3000:]
    from orchestration.lib.publish import is_legacy

    assert not is_legacy(warehouse)
    assert (data_dir / "warehouse" / "lake" / "snapshot_date=2026-06-05" / "dim_models.parquet").exists()
    answer = run_observatory(data_dir, "query", "select count(*) as n from marts.dim_models")
    assert answer.stdout.split() == ["n", "60"]
