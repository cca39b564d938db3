"""The snapshot sources as classes: dates each history source offers, identity, licence, schema eras,
and the refresh sensor. Against the local fake Hub; no warehouse build here (see test_backfill.py)."""

import io
import logging

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.backfill import one_per_week
from orchestration.defs.ingest.assets import ingest
from orchestration.defs.schedules import refresh_request
from orchestration.lib import sample
from orchestration.lib.sources import SOURCES, SnapshotRequest, check_request, get_source
from orchestration.settings import Settings

WEEKLY = "hfmlsoc/hub_weekly_snapshots"
STATS = "cfahlgren1/hub-stats"
LOG = logging.getLogger("test")
# Columns of the real files' first era (before ~2024-10): no cardData, trendingScore, downloadsAllTime.
FIRST_ERA_DROPS = ("cardData", "trendingScore", "downloadsAllTime")


def era_file(n_rows: int, date: str, drop=(), extra: dict | None = None) -> bytes:
    table = sample.generate(n_rows, date)
    table = table.drop_columns([c for c in drop if c in table.column_names])
    for name, value in (extra or {}).items():
        table = table.append_column(name, pa.array([value] * n_rows))
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def settings_for(tmp_path, **overrides) -> Settings:
    data = tmp_path / "data"
    return Settings(data, data / "warehouse" / "w.duckdb", "sample", None, None, 100, STATS, (), **overrides)


def test_every_source_is_one_class_chosen_by_name():
    assert set(SOURCES) == {"sample", "file", "hub_stats", "api", "hub_weekly", "dir"}
    assert all(get_source(name).name == name for name in SOURCES)
    assert {n for n, s in SOURCES.items() if s.history} == {"hub_stats", "hub_weekly", "dir", "sample"}
    assert get_source("hub_weekly").license == "ODbL-1.0"
    with pytest.raises(ValueError, match="unknown source 'ftp'"):
        get_source("ftp")


def test_hub_weekly_lists_the_week_folders_in_range(hub):
    for date in ("2024-07-24", "2024-07-31", "2024-08-07", "2025-03-05"):
        hub.add_weekly_file(WEEKLY, date, b"x")
    hub.add_weekly_file(WEEKLY, "README-not-a-date", b"x")  # a folder whose name is no date
    request = SnapshotRequest(source="hub_weekly", snapshot_date="", weekly_repo=WEEKLY)
    assert get_source("hub_weekly").dates(request, "2024-07-25", "2024-12-31") == ["2024-07-31", "2024-08-07"]
    assert get_source("hub_weekly").default_date(request) == "2025-03-05"
    assert hub.count(f"/api/datasets/{WEEKLY}/tree/main/models") == 2


def test_hub_weekly_listing_is_retried(hub, monkeypatch):
    from orchestration.defs.ingest import hub as hub_client

    monkeypatch.setattr(hub_client, "RETRY_BASE_DELAY_S", 0.01)
    hub.add_weekly_file(WEEKLY, "2024-07-24", b"x")
    hub.fail_next("/tree/", "status", 503)
    request = SnapshotRequest(source="hub_weekly", snapshot_date="", weekly_repo=WEEKLY)
    assert get_source("hub_weekly").dates(request, "2024-01-01", "2024-12-31") == ["2024-07-24"]
    assert hub.count("/tree/") == 2


def test_a_first_era_weekly_file_is_stored_with_its_missing_columns_and_licence(hub, tmp_path):
    data = era_file(40, "2024-07-24", drop=FIRST_ERA_DROPS)
    hub.add_weekly_file(WEEKLY, "2024-07-24", data)
    request = SnapshotRequest(source="hub_weekly", snapshot_date="2024-07-24", weekly_repo=WEEKLY)
    stored, outcome = ingest(request, settings_for(tmp_path), replace=False, log=LOG)
    manifest = stored.manifest
    assert outcome == "stored" and manifest["rows"] == 40
    assert manifest["missing_columns"] == ["downloadsAllTime", "trendingScore", "cardData"]
    assert manifest["license"] == "ODbL-1.0"
    assert manifest["repo_id"] == WEEKLY and manifest["file_path"] == "models/2024-07-24/models.parquet"
    import hashlib

    assert manifest["identity"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert pq.read_table(stored.data_path, columns=["downloadsAllTime"]).column(0).null_count == 40
    # The same weekly file again is the same snapshot: nothing is downloaded twice.
    downloads = hub.count("/resolve/")
    again, outcome = ingest(request, settings_for(tmp_path), replace=False, log=LOG)
    assert outcome == "unchanged" and hub.count("/resolve/") == downloads


def test_a_full_file_keeps_id_and_misses_nothing(hub, tmp_path):
    hub.add_weekly_file(WEEKLY, "2025-03-05", era_file(30, "2025-03-05", extra={"sha": "abc", "gated": "false"}))
    request = SnapshotRequest(source="hub_weekly", snapshot_date="2025-03-05", weekly_repo=WEEKLY)
    stored, _ = ingest(request, settings_for(tmp_path), replace=False, log=LOG)
    assert stored.manifest["missing_columns"] == []
    ids = pq.read_table(stored.data_path, columns=["_id"]).column(0)
    assert ids.null_count == 0 and len(set(ids.to_pylist())) == 30


def test_a_weekly_date_the_dataset_lacks_is_refused(hub, tmp_path):
    hub.add_weekly_file(WEEKLY, "2024-07-24", b"x")
    request = SnapshotRequest(source="hub_weekly", snapshot_date="2024-07-25", weekly_repo=WEEKLY)
    with pytest.raises(LookupError, match="no models/2024-07-25/models.parquet"):
        ingest(request, settings_for(tmp_path), replace=False, log=LOG)


def test_dir_dates_come_from_the_file_names_and_odd_names_are_ignored(tmp_path, capsys):
    folder = tmp_path / "dumps"
    folder.mkdir()
    for name in ("models-2025-01-06.parquet", "models-2025-01-13.parquet", "models-2025-02-03.parquet",
                 "models-2025-13-01.parquet", "models_2025-01-07.parquet", "notes.txt"):
        (folder / name).write_bytes(b"x")
    request = SnapshotRequest(source="dir", snapshot_date="", dir=folder)
    assert get_source("dir").dates(request, "2025-01-01", "2025-01-31") == ["2025-01-06", "2025-01-13"]
    notes = capsys.readouterr().out
    for odd in ("models-2025-13-01.parquet", "models_2025-01-07.parquet", "notes.txt"):
        assert f"{odd} ignored" in notes
    assert "models-2025-01-06.parquet ignored" not in notes
    check_request(SnapshotRequest(source="dir", snapshot_date="2025-02-03", dir=folder))
    with pytest.raises(FileNotFoundError, match="no models-2025-02-04.parquet"):
        check_request(SnapshotRequest(source="dir", snapshot_date="2025-02-04", dir=folder))


def test_dir_source_stores_the_file_of_the_date(tmp_path):
    folder = tmp_path / "dumps"
    folder.mkdir()
    (folder / "models-2025-01-06.parquet").write_bytes(era_file(25, "2025-01-06", drop=("downloadsAllTime",)))
    request = SnapshotRequest(source="dir", snapshot_date="2025-01-06", dir=folder)
    stored, _ = ingest(request, settings_for(tmp_path), replace=False, log=LOG)
    assert stored.manifest["source"] == "dir" and stored.manifest["rows"] == 25
    assert stored.manifest["missing_columns"] == ["downloadsAllTime"]
    assert stored.manifest["identity"]["source_sha256"]


def test_hub_stats_offers_each_date_with_a_revision(hub):
    for sha, date in (("a", "2026-06-03T10:00:00.000Z"), ("b", "2026-06-04T09:00:00.000Z"),
                      ("c", "2026-06-04T13:00:00.000Z"), ("d", "2026-06-06T13:00:00.000Z")):
        hub.add_dataset_revision(STATS, sha * 40, date, {"models.parquet": b"x"})
    request = SnapshotRequest(source="hub_stats", snapshot_date="", repo_id=STATS)
    assert get_source("hub_stats").dates(request, "2026-06-04", "2026-06-30") == ["2026-06-04", "2026-06-06"]


def test_one_per_week_keeps_the_last_date_of_each_iso_week():
    # 2025-01-05 is a Sunday (week 1), 2025-01-06 a Monday (week 2); 2024-12-30 is in ISO week 2025-W01.
    dates = ["2024-12-29", "2024-12-30", "2025-01-02", "2025-01-05", "2025-01-06", "2025-01-08"]
    assert one_per_week(dates) == ["2024-12-29", "2025-01-05", "2025-01-08"]


def test_the_sensor_skips_until_todays_hub_stats_revision_exists(hub, tmp_path):
    settings = settings_for(tmp_path)  # the environment's source is the sample; the schedule's is not
    hub.add_dataset_revision(STATS, "a" * 40, "2026-11-29T13:02:00.000Z", {"models.parquet": b"x"})
    skipped = refresh_request(settings, "2026-11-30")
    assert isinstance(skipped, dg.SkipReason)
    assert "no revision dated 2026-11-30" in skipped.skip_message and "checking again in 30 min" in skipped.skip_message

    hub.add_dataset_revision(STATS, "b" * 40, "2026-11-30T13:05:00.000Z", {"models.parquet": b"x"})
    run = refresh_request(settings, "2026-11-30")
    assert isinstance(run, dg.RunRequest)
    assert run.partition_key == "2026-11-30"
    assert run.run_config["ops"]["ingest_snapshot"]["config"] == {"source": "hub_stats", "revision": "b" * 40}


def test_the_sensor_skips_when_the_hub_does_not_answer(hub, tmp_path, monkeypatch):
    from orchestration.defs.ingest import hub as hub_client

    monkeypatch.setattr(hub_client, "RETRY_BASE_DELAY_S", 0.01)
    for _ in range(4):
        hub.fail_next("/commits/", "status", 503)
    skipped = refresh_request(settings_for(tmp_path), "2026-11-30")
    assert isinstance(skipped, dg.SkipReason) and "did not answer" in skipped.skip_message


def test_the_sensor_is_wired_to_the_refresh_job():
    from orchestration.defs import build_definitions

    sensor = build_definitions().resolve_sensor_def("hub_refresh_sensor")
    assert sensor.job_name == "refresh_snapshot"


def test_backfill_plan_takes_the_last_date_of_each_week_of_a_daily_source(tmp_path):
    from orchestration.backfill import plan

    folder = tmp_path / "dumps"
    folder.mkdir()
    # Mon 2025-01-06 and Wed 2025-01-08 share ISO week 2; Sun 2025-01-12 ends it; 2025-01-13 starts week 3.
    for date in ("2025-01-03", "2025-01-06", "2025-01-08", "2025-01-12", "2025-01-13", "2025-02-01"):
        (folder / f"models-{date}.parquet").write_bytes(b"x")
    template = SnapshotRequest(source="dir", snapshot_date="", dir=folder)
    settings = settings_for(tmp_path)
    assert plan(settings, template, "2025-01-04", "2025-01-31", "week") == (["2025-01-12", "2025-01-13"], [])
    assert plan(settings, template, "2025-01-04", "2025-01-31", "day") == (
        ["2025-01-06", "2025-01-08", "2025-01-12", "2025-01-13"], [])


def test_the_sensor_takes_its_settings_from_the_observatory_resource(tmp_path, monkeypatch):
    """The definitions carry the settings they were built with: the environment at evaluation does not matter."""
    import dagster as dg

    from orchestration.defs import build_definitions

    folder = tmp_path / "dumps"
    folder.mkdir()
    (folder / "models-2025-03-02.parquet").write_bytes(b"x")
    defs = build_definitions(settings_for(tmp_path, schedule_source="dir", hub_dir=folder))
    monkeypatch.setenv("SCHEDULE_SOURCE", "hub_stats")  # would ask the (unreachable) Hub
    sensor = defs.resolve_sensor_def("hub_refresh_sensor")
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, instance_ref=instance.get_ref(), definitions=defs,
                                          resources=defs.resources)
        result = sensor.evaluate_tick(context)
    assert [r.partition_key for r in result.run_requests] == ["2025-03-02"]
    # The date becomes a partition in the same tick.
    assert [list(r.partition_keys) for r in result.dynamic_partitions_requests] == [["2025-03-02"]]
    assert result.run_requests[0].run_config == {"ops": {"ingest_snapshot": {"config": {"source": "dir"}}}}


def test_a_launch_without_a_source_is_refused_before_any_run_and_stores_nothing(tmp_path):
    """A UI launch with no config never falls back to the synthetic sample: `source` is required."""
    import dataclasses

    import dagster as dg

    from orchestration.defs.ingest.assets import ingest_snapshot
    from orchestration.defs.resources import ObservatorySettings

    settings = dataclasses.replace(settings_for(tmp_path), hub_source=None)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("snapshot_date", ["2026-06-05"])
        with pytest.raises(dg.DagsterInvalidConfigError, match='Missing required config entry "ops"'):
            dg.materialize([ingest_snapshot], partition_key="2026-06-05", instance=instance,
                           resources={"observatory": ObservatorySettings.from_settings(settings)})
        assert instance.get_runs() == []
    assert not (settings.data_dir / "raw").exists()


def test_the_observatory_resource_carries_every_setting():
    import dataclasses

    from orchestration.defs.resources import ObservatorySettings

    assert set(ObservatorySettings.model_fields) == {f.name for f in dataclasses.fields(Settings)}
