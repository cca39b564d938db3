"""The dbt unit tests (unit_tests: in the project's YAML) as one pytest test, so a failing one fails
`make test-fast` and `make test`.

dbt needs the parent relations of a tested model to exist (it reads their columns), so the ancestors of
every unit test are built `--empty` into a throwaway DuckDB file over a three-model raw snapshot; `dbt build`
runs each unit test before its model. Data tests are left out here: the end-to-end builds run them on real rows.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import PROJECT_ROOT
from tests.snapshot_fixture import FIXTURE, write_fixture

DBT_DIR = PROJECT_ROOT / "dbt_project"


def test_dbt_unit_tests_pass(tmp_path):
    from orchestration.lib.snapshot_store import SnapshotStore

    data_dir = tmp_path / "data"
    source = write_fixture(tmp_path / "models.parquet", FIXTURE[:3])
    SnapshotStore(data_dir / "raw" / "models").write(source, "2026-06-05", {"source": "file"})
    target = tmp_path / "target"
    env = {**os.environ, "DATA_DIR": str(data_dir), "DUCKDB_PATH": str(tmp_path / "unit.duckdb"),
           "LAKE_DIR": str(data_dir / "warehouse" / "lake")}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "build", "--empty", "--select", "+test_type:unit", "--exclude", "test_type:data",
         "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR),
         "--target-path", str(target), "--log-path", str(tmp_path / "logs")],
        cwd=DBT_DIR, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]

    defined = set(json.loads((target / "manifest.json").read_text())["unit_tests"])
    results = json.loads((target / "run_results.json").read_text())["results"]
    ran = {r["unique_id"]: r["status"] for r in results if r["unique_id"].startswith("unit_test.")}
    assert defined, "the project defines dbt unit tests"
    assert ran == dict.fromkeys(defined, "pass")
