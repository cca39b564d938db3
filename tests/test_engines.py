"""The engine a build runs dbt on (duckdb or spark): chosen by ENGINE, `--engine` or the dbt step's config,
refused in one line before anything is fetched or built when it cannot run here; and the hand-over of
Spark's tables to the run's DuckDB. No build here: tests/test_spark.py builds with Spark."""

import dataclasses

import dagster as dg
import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration import cli
from orchestration.defs.engine import EngineName, unavailable_engine
from orchestration.lib import engines
from orchestration.lib.engines import ENGINES, engine_problem, load_spark_tables
from orchestration.settings import Settings


@pytest.fixture
def no_spark_extra(monkeypatch):
    """As if `make install-spark` had not run: pyspark cannot be imported."""
    importable = engines._importable
    monkeypatch.setattr(engines, "_importable", lambda module: module != "pyspark" and importable(module))


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    data = tmp_path / "data"
    monkeypatch.setenv("DATA_DIR", str(data))
    monkeypatch.setenv("DAGSTER_HOME", str(data / "dagster_home"))
    monkeypatch.delenv("DUCKDB_PATH", raising=False)
    monkeypatch.delenv("ENGINE", raising=False)
    return data


def test_the_engine_setting_defaults_to_duckdb_and_reads_ENGINE(monkeypatch):
    monkeypatch.delenv("ENGINE", raising=False)
    assert Settings.from_env().engine == "duckdb"
    monkeypatch.setenv("ENGINE", "Spark")
    assert Settings.from_env().engine == "spark"


def test_the_launchpad_offers_the_engines_the_build_knows():
    assert [e.value for e in EngineName] == list(ENGINES) == ["duckdb", "spark"]


def test_an_unknown_engine_is_named_with_the_choices():
    assert engine_problem("duckdb") is None
    assert engine_problem("postgres") == "unknown engine 'postgres'; choose one of duckdb, spark"


def test_spark_without_its_extra_names_make_install_spark(no_spark_extra):
    problem = engine_problem("spark")
    assert "missing: pyspark" in problem and "make install-spark" in problem and "\n" not in problem


def test_spark_without_java_says_so(monkeypatch, tmp_path):
    monkeypatch.setattr(engines, "_importable", lambda module: True)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-jdk"))
    problem = engine_problem("spark")
    assert "needs Java 17" in problem and "no-jdk" in problem
    monkeypatch.delenv("JAVA_HOME")
    monkeypatch.setenv("PATH", str(tmp_path))  # no java on PATH either
    assert "no java on PATH" in engine_problem("spark")


# Built outside the test bodies: each command is refused before it fetches, stores or builds anything.
REFUSED_COMMANDS = {
    "build": ["build", "--source", "sample", "--sample-rows", "50", "--snapshot-date", "2026-01-20", "--engine", "spark"],
    "backfill": ["backfill", "--source", "sample", "--from", "2026-01-19", "--to", "2026-01-20", "--engine", "spark"],
}


@pytest.mark.parametrize("command", sorted(REFUSED_COMMANDS))
def test_the_command_line_refuses_spark_without_its_extra_before_anything_is_written(
        command, no_spark_extra, data_dir, capsys):
    assert cli.main(REFUSED_COMMANDS[command]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("observatory: the spark engine needs the spark extra")
    assert "make install-spark" in err[0]
    assert not data_dir.exists()  # nothing ingested, no warehouse, no run history


def test_a_bad_ENGINE_is_refused_by_the_command_line(data_dir, monkeypatch, capsys):
    monkeypatch.setenv("ENGINE", "postgres")
    assert cli.main(REFUSED_COMMANDS["build"][:-2]) == 2
    assert capsys.readouterr().err.strip() == "observatory: unknown engine 'postgres'; choose one of duckdb, spark"
    assert not data_dir.exists()
    with pytest.raises(SystemExit):  # --engine takes the choices only (argparse: exit 2 with usage)
        cli.main([*REFUSED_COMMANDS["build"][:-1], "postgres"])


def _run(run_config=None, steps=None) -> dg.DagsterRun:
    return dg.DagsterRun(job_name="refresh_snapshot", run_config=run_config or {}, step_keys_to_execute=steps)


def test_a_run_uses_its_dbt_config_engine_else_the_setting(no_spark_extra, tmp_path):
    settings = Settings.from_env()
    duckdb_settings = dataclasses.replace(settings, engine="duckdb")
    spark_config = {"ops": {"observatory_dbt": {"config": {"engine": "spark"}}}}
    assert unavailable_engine(_run(), duckdb_settings) is None
    assert "make install-spark" in unavailable_engine(_run(spark_config), duckdb_settings)
    assert "make install-spark" in unavailable_engine(_run(), dataclasses.replace(settings, engine="spark"))
    duckdb_config = {"ops": {"observatory_dbt": {"config": {"engine": "duckdb"}}}}
    assert unavailable_engine(_run(duckdb_config), dataclasses.replace(settings, engine="spark")) is None
    # A run without the dbt step (raw snapshots only) does not need the engine.
    assert unavailable_engine(_run(spark_config, steps=["ingest_snapshot"]), duckdb_settings) is None


def test_a_launch_with_a_bad_engine_is_refused_by_the_config_check():
    from orchestration.defs import build_definitions

    job = build_definitions(Settings.from_env()).resolve_job_def("refresh_snapshot")
    ingest = {"ingest_snapshot": {"config": {"source": "sample"}}}
    dg.validate_run_config(job, {"ops": {**ingest, "observatory_dbt": {"config": {"engine": "spark"}}}})
    with pytest.raises(dg.DagsterInvalidConfigError, match="engine"):
        dg.validate_run_config(job, {"ops": {**ingest, "observatory_dbt": {"config": {"engine": "postgres"}}}})


def test_a_refresh_run_on_an_engine_that_cannot_run_is_refused_at_ingest_and_stores_nothing(no_spark_extra, tmp_path):
    """The UI's way: the refresh job launched with the dbt step's engine spark; its first step refuses
    (the run ends canceled, tagged with the reason) before fetching anything."""
    from orchestration.defs import build_definitions
    from orchestration.defs.refusal import REFUSED_TAG

    data = tmp_path / "data"
    settings = dataclasses.replace(Settings.from_env(), data_dir=data, duckdb_path=data / "warehouse" / "w.duckdb",
                                   dagster_home=data / "dagster_home")
    job = build_definitions(settings).resolve_job_def("refresh_snapshot")
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("snapshot_date", ["2026-01-20"])
        result = job.execute_in_process(
            partition_key="2026-01-20", instance=instance, raise_on_error=False,
            run_config={"ops": {"ingest_snapshot": {"config": {"source": "sample", "sample_rows": 50}},
                                "observatory_dbt": {"config": {"engine": "spark"}}}},
        )
        run = instance.get_run_by_id(result.run_id)
        assert run.status == dg.DagsterRunStatus.CANCELED
        assert "make install-spark" in run.tags[REFUSED_TAG]
    assert not (data / "raw").exists()


def _spark_table(folder, table: pa.Table, files: int = 1):
    """A table as Spark writes it: part files, a _SUCCESS marker and hidden checksum files."""
    folder.mkdir(parents=True)
    step = max(1, -(-table.num_rows // files))
    for i in range(files):
        pq.write_table(table.slice(i * step, step), folder / f"part-{i:05d}-x.c000.snappy.parquet")
        (folder / f".part-{i:05d}-x.c000.snappy.parquet.crc").write_bytes(b"crc")
    (folder / "_SUCCESS").write_bytes(b"")


def test_spark_tables_are_loaded_into_the_scratch_duckdb_under_their_schema(tmp_path):
    warehouse = tmp_path / "spark-warehouse"
    _spark_table(warehouse / "marts.db" / "dim_things",
                 pa.table({"thing": ["a", "b", "c"], "n": pa.array([1, 2, 3], pa.int64())}), files=2)
    _spark_table(warehouse / "reference.db" / "org_countries", pa.table({"org": ["x"], "country": ["FR"]}))
    (warehouse / "huggingface.db").mkdir()  # a schema of tables over files elsewhere: nothing to load
    # A staging table of Spark's: DuckDB makes the staging views itself, as in a DuckDB build.
    _spark_table(warehouse / "staging.db" / "stg_links", pa.table({"model_id": ["a"]}))
    database = tmp_path / "scratch.duckdb"
    con = duckdb.connect(str(database))
    con.execute("create schema marts; create table marts.dim_things as select 'old' as thing")
    con.close()

    assert load_spark_tables(warehouse, database) == {"marts.dim_things": 3, "reference.org_countries": 1}
    con = duckdb.connect(str(database), read_only=True)
    assert con.execute("select thing, n from marts.dim_things order by n").fetchall() == [("a", 1), ("b", 2), ("c", 3)]
    assert con.execute("select * from reference.org_countries").fetchall() == [("x", "FR")]
    assert con.execute("select count(*) from duckdb_tables() where schema_name = 'staging'").fetchone() == (0,)
    con.close()


def test_a_spark_warehouse_without_tables_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="Spark wrote no table"):
        load_spark_tables(tmp_path / "missing", tmp_path / "scratch.duckdb")


def test_status_reads_the_engine_of_each_snapshot_and_none_before_it_was_recorded(tmp_path):
    from orchestration.warehouse_reads import built_engines

    con = duckdb.connect(str(tmp_path / "catalog.duckdb"))
    con.execute("create schema marts; create view marts.dim_snapshots as select date '2026-06-05' as snapshot_date")
    assert built_engines(con) == {}  # a catalog of snapshots built before the engine was recorded
    con.execute("create or replace view marts.dim_snapshots as select * from (values "
                "(date '2026-06-05', 'spark'), (date '2026-06-06', 'duckdb'), (date '2026-06-07', null)) t(snapshot_date, engine)")
    assert built_engines(con) == {"2026-06-05": "spark", "2026-06-06": "duckdb", "2026-06-07": None}
    con.close()


def test_ci_installs_the_spark_extra_and_java_before_the_tests():
    from tests.conftest import PROJECT_ROOT

    lines = [line.strip() for line in (PROJECT_ROOT / ".ci" / "run").read_text().splitlines()]
    assert lines.index("make install-spark") < lines.index("make test")
    java = [line for line in lines if "openjdk-17-jre-headless" in line]
    assert java and lines.index(java[0]) < lines.index("make test")


# tests/test_spark.py run as if the spark extra were not installed (pyspark not found): only its dbt unit
# test, which uses no session build.
WITHOUT_PYSPARK = """
import importlib.util, sys, pytest
find_spec = importlib.util.find_spec
importlib.util.find_spec = lambda name, *a: None if name.split(".")[0] == "pyspark" else find_spec(name, *a)
sys.exit(pytest.main(["tests/test_spark.py", "-k", "dbt_unit_tests", "-p", "no:cacheprovider", "-q",
                      "--basetemp", sys.argv[1]]))
"""


@pytest.mark.parametrize("ci", [None, "true"])
def test_the_spark_tests_skip_without_the_extra_but_fail_under_ci(ci, tmp_path):
    import os
    import subprocess
    import sys

    from tests.conftest import PROJECT_ROOT

    env = {key: value for key, value in os.environ.items() if key != "CI"}
    if ci:
        env["CI"] = ci
    result = subprocess.run([sys.executable, "-c", WITHOUT_PYSPARK, str(tmp_path / "pt")], cwd=PROJECT_ROOT,
                            env=env, capture_output=True, text=True, timeout=300)
    if ci:
        assert result.returncode == 1, result.stdout[-2000:]
        assert "1 error" in result.stdout and "missing: pyspark" in result.stdout
        assert "CI=true requires them" in result.stdout
    else:
        assert result.returncode == 0, result.stdout[-2000:]
        assert "1 skipped" in result.stdout and "missing: pyspark" in result.stdout
