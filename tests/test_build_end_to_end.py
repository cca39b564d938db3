"""The whole graph (ingest -> dbt models, tests and checks) on a tiny hand-made snapshot, through the CLI."""

import datetime as dt
import json
import shutil

import pyarrow as pa
import pyarrow.parquet as pq

from tests.conftest import dbt_marts, run_observatory, warehouse
from tests.snapshot_fixture import EXPECTED, FIXTURE, SCHEMA, model, write_fixture


def test_dim_models_matches_the_hand_derived_lineage_and_labels(built):
    _, data_dir, _ = built
    with warehouse(data_dir) as con:
        rows = con.execute(
            "select model_id, parent_model_id, root_model_id, lineage_depth, base_relation, org_country,"
            " label_country, label_source, provider from marts.dim_models where snapshot_date = '2026-06-05'"
        ).fetchall()
        legacy = con.execute(
            "select created_at_is_floor, license, org from marts.dim_models where model_id = 'old/legacy'"
        ).fetchone()
    assert {r[0]: r[1:] for r in rows} == EXPECTED
    assert legacy == (True, "mit", "old")


def test_lineage_closure_and_derivative_counts(built):
    _, data_dir, _ = built
    with warehouse(data_dir) as con:
        ancestors = con.execute(
            "select model_id, ancestor_model_id, depth, relation from marts.fct_model_lineage"
            " where model_id in ('carol/merge', 'erin/cycle-a') order by all"
        ).fetchall()
        deepseek = con.execute(
            "select n_direct, n_finetune, n_merge, n_descendants, base_country from marts.fct_base_model_derivatives"
            " where base_model_id = 'deepseek-ai/DeepSeek-V3'"
        ).fetchone()
        growth = con.execute(
            "select provider, year, n_releases, n_releases_prev_year, growth_ratio from marts.fct_org_release_growth"
            " where provider in ('erin', 'old') order by all"
        ).fetchall()
    assert ancestors == [
        ("carol/merge", "alice/v3-sft", 1, "merge"),
        ("carol/merge", "deepseek-ai/DeepSeek-V3", 2, "merge"),
        ("carol/merge", "meta-llama/Llama-3.1-8B", 1, "merge"),
        ("erin/cycle-a", "erin/cycle-b", 1, "finetune"),
    ]
    # alice and deepcogito directly; bob and carol through alice.
    assert deepseek == (2, 2, 0, 4, "CN")
    # Zero years are filled up to the snapshot year; the floor-dated model is no release at all.
    assert growth == [("erin", 2025, 2, 0, None), ("erin", 2026, 0, 2, 0.0)]


def test_dim_organizations(built):
    _, data_dir, _ = built
    with warehouse(data_dir) as con:
        orgs = {
            r[0]: r[1:]
            for r in con.execute(
                "select org, provider, country, n_models, first_release_at, is_heatmap_tracked from marts.dim_organizations"
            ).fetchall()
        }
    assert orgs["Qwen"] == ("Alibaba Qwen", "CN", 1, dt.datetime(2025, 6, 1), True)  # case-insensitive match
    assert orgs["meta-llama"] == ("Meta", "US", 0, None, False)  # curated, named only as a parent
    assert orgs["alice"] == ("alice", None, 1, dt.datetime(2025, 2, 1), False)
    assert orgs["old"] == ("old", None, 1, None, False)  # the floor date is not a release date
    assert "qwen" not in orgs


def test_summary_says_what_was_built(built):
    _, _, result = built
    assert "Snapshot 2026-06-05: source file, 10 models" in result.stdout
    assert "marts.dim_models" in result.stdout and "SYNTHETIC" not in result.stdout
    checks = next(line for line in result.stdout.splitlines() if line.startswith("Checks: "))
    passed, total = checks.split()[1], checks.split()[3]
    # Every check the code location defines (dbt tests and metric checks) ran and passed.
    from orchestration.definitions import defs

    assert passed == total == str(len(defs().resolve_asset_graph().asset_check_keys)), checks


def test_rerun_is_a_no_op_and_new_snapshots_leave_older_ones_alone(built):
    root, data_dir, _ = built
    again = run_observatory(data_dir, "build", "--source", "file", "--file", str(root / "models.parquet"),
                            "--snapshot-date", "2026-06-05")
    assert again.returncode == 0 and "already built" in again.stdout

    # Building another date never rewrites the published folder of this one: byte for byte the same.
    import hashlib

    lake = data_dir / "warehouse" / "lake"

    def files(date):
        folder = lake / f"snapshot_date={date}"
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.parquet"))}

    before = files("2026-06-05")
    assert len(before) == len(dbt_marts())
    before_version = (lake / "snapshot_date=2026-06-05").resolve().name
    next_day = write_fixture(root / "next.parquet", FIXTURE + [model("frank/new", dt.datetime(2026, 6, 6))])
    result = run_observatory(data_dir, "build", "--source", "file", "--file", str(next_day),
                             "--snapshot-date", "2026-06-06")
    assert result.returncode == 0, result.stderr[-3000:]
    assert files("2026-06-05") == before
    with warehouse(data_dir) as con:
        counts = dict(con.execute("select snapshot_date::varchar, count(*) from marts.dim_models group by 1").fetchall())
        newest_orgs = con.execute("select n_models from marts.dim_organizations where org = 'frank'").fetchone()
    assert counts == {"2026-06-05": 10, "2026-06-06": 11}
    assert newest_orgs == (1,)
    after_version = (lake / "snapshot_date=2026-06-06").resolve().name
    # The run's scratch warehouse (working tables of its snapshot only) is gone once published.
    building = data_dir / "warehouse" / ".building"
    assert [p.name for p in building.iterdir() if not p.is_symlink()] == []

    # A full refresh rebuilds every stored snapshot, one date at a time, each its own publication.
    def builds():
        with warehouse(data_dir) as con:
            return {str(d): (b, f) for d, b, f in con.execute(
                "select snapshot_date, built_at, history_fingerprint from marts.dim_snapshots").fetchall()}

    built_before = builds()
    refreshed = run_observatory(data_dir, "build", "--source", "file", "--file", str(next_day),
                                "--snapshot-date", "2026-06-06", "--full-refresh")
    assert refreshed.returncode == 0, refreshed.stderr[-3000:]
    assert "Rebuilding snapshot 2026-06-05 (full refresh)" in refreshed.stderr
    with warehouse(data_dir) as con:
        counts = dict(con.execute("select snapshot_date::varchar, count(*) from marts.dim_models group by 1").fetchall())
    assert counts == {"2026-06-05": 10, "2026-06-06": 11}
    # Each build records when it ran and which snapshots were published before it: 06-06 was rebuilt on
    # the rebuilt 06-05 (md5 of 'date@built_at' of the snapshots before it, ',' between them).
    built_after = builds()
    assert all(built_after[d][0] > built_before[d][0] for d in built_before)
    assert built_after["2026-06-05"][1] == hashlib.md5(b"").hexdigest()
    with warehouse(data_dir) as con:
        (entry,) = con.execute("select cast(snapshot_date as varchar) || '@' || cast(built_at as varchar)"
                               " from marts.dim_snapshots where snapshot_date = '2026-06-05'").fetchone()
    assert built_after["2026-06-06"][1] == hashlib.md5(entry.encode()).hexdigest() != built_before["2026-06-06"][1]
    versions = {p.name.split("=")[1]: p.resolve().name for p in lake.glob("snapshot_date=*")}
    assert versions["2026-06-05"] != before_version and versions["2026-06-06"] != after_version
    # Oldest first, the requested date in its turn: each date reads its rebuilt predecessors.
    published_at = {p.name.split("=")[1]: p.resolve().stat().st_mtime for p in lake.glob("snapshot_date=*")}
    assert published_at["2026-06-05"] < published_at["2026-06-06"]

    # A date whose lake folder was taken away is built again, not reported as already built.
    link = lake / "snapshot_date=2026-06-06"
    shutil.rmtree(link.resolve())
    link.unlink()
    again = run_observatory(data_dir, "build", "--source", "file", "--file", str(next_day),
                            "--snapshot-date", "2026-06-06")
    assert again.returncode == 0 and "already built" not in again.stdout, again.stdout[-2000:]
    with warehouse(data_dir) as con:
        counts = dict(con.execute("select snapshot_date::varchar, count(*) from marts.dim_models group by 1").fetchall())
    assert counts == {"2026-06-05": 10, "2026-06-06": 11}


def test_bad_input_fails_clearly_and_keeps_the_warehouse(built):
    root, data_dir, _ = built
    bad = pa.Table.from_pylist(FIXTURE, schema=SCHEMA).drop_columns(["likes"])
    pq.write_table(bad, root / "bad.parquet")
    result = run_observatory(data_dir, "build", "--source", "file", "--file", str(root / "bad.parquet"),
                             "--snapshot-date", "2026-06-07")
    assert result.returncode == 1
    assert "missing required column 'likes'" in result.stderr
    assert not (data_dir / "raw" / "models" / "snapshot_date=2026-06-07").exists()
    with warehouse(data_dir) as con:
        assert con.execute("select count(*) from marts.dim_models where snapshot_date = '2026-06-05'").fetchone() == (10,)


def test_user_mistakes_are_one_line_errors(tmp_path):
    missing_date = run_observatory(tmp_path, "build", "--source", "file", "--file", "x.parquet")
    assert missing_date.returncode == 2
    assert missing_date.stderr.strip() == (
        "observatory: source 'file' needs the date the file describes: --snapshot-date YYYY-MM-DD"
    )
    bad_date = run_observatory(tmp_path, "build", "--source", "sample", "--snapshot-date", "2026-13-01")
    assert bad_date.returncode == 2 and "not a calendar date" in bad_date.stderr
    # Synthetic data is never written under a date unless asked for (--source sample, HUB_SOURCE, --sample-rows).
    unsaid = run_observatory(tmp_path, "build", "--snapshot-date", "2026-06-05")
    assert unsaid.returncode == 2 and unsaid.stderr.splitlines() == [
        "observatory: say where the snapshot comes from: --source hub_stats, hub_weekly, dir, file or api "
        "(or set HUB_SOURCE)",
        "hint: for synthetic data to try the warehouse: --source sample (make run does)",
    ]
    assert not (tmp_path / "raw").exists()
    no_warehouse = run_observatory(tmp_path, "query", "select 1")
    assert no_warehouse.returncode == 2 and "build it first" in no_warehouse.stderr


def test_bad_rows_are_quarantined_and_the_rest_is_built(built):
    root, data_dir, _ = built
    rows = FIXTURE + [
        model("zed/from-the-future", dt.datetime(2026, 6, 9, 8, 0)),
        model("zed/negative", dt.datetime(2026, 6, 1), likes=-3),
        model("zed/it's \"quoted\"; drop table marts.dim_models; --", dt.datetime(2026, 6, 2), likes=7),
        {**model("legacy-model", dt.datetime(2026, 6, 3)), "author": "zed"},  # an id without org
    ]
    path = write_fixture(root / "with_bad_rows.parquet", rows)
    result = run_observatory(data_dir, "build", "--source", "file", "--file", str(path), "--snapshot-date", "2026-06-08")
    assert result.returncode == 0, result.stderr[-3000:]
    with warehouse(data_dir) as con:
        quarantined = con.execute(
            "select model_id, reason from marts.fct_ingest_quarantine where snapshot_date = '2026-06-08'"
        ).fetchall()
        kept = dict(con.execute(
            "select model_id, likes from marts.dim_models where snapshot_date = '2026-06-08' and org = 'zed'"
        ).fetchall())
    assert quarantined == [("zed/from-the-future", "created_at_after_snapshot")]
    assert kept == {"zed/negative": None, "zed/it's \"quoted\"; drop table marts.dim_models; --": 7,
                    "legacy-model": 0}  # the org of an id without namespace is its author


def test_odd_single_rows_are_quarantined_or_repaired_and_the_snapshot_is_built(built):
    root, data_dir, _ = built
    rows = FIXTURE + [
        # A relation the Hub may add some day: kept, the parent counts, the kind is 'unknown'.
        model("zed/distilled", dt.datetime(2026, 5, 4), relation="distillation", parents=["deepseek-ai/DeepSeek-V3"]),
        # A legacy id without namespace and without author: its own org.
        {**model("legacy-alone", dt.datetime(2026, 5, 5), likes=2), "author": None},
        # A sentinel download count (2^63-1) would overflow every sum of downloads: nulled, counted.
        {**model("zed/sentinel", dt.datetime(2026, 5, 6)), "downloads": 2**63 - 1, "downloadsAllTime": 2**63 - 1},
        # No repo is older than the floor: an epoch date is broken, set aside (else #1 of its week).
        model("zed/epoch", dt.datetime(1970, 1, 1), likes=10**6),
        # A model naming itself as its base is no derivative.
        model("zed/self", dt.datetime(2026, 5, 7), relation="finetune", parents=["zed/self"]),
        # The floor's other value: an unknown date, never a release or a ranked week.
        model("zed/late-floor", dt.datetime(2022, 3, 2, 23, 29, 5), likes=10**6),
    ]
    path = write_fixture(root / "odd_rows.parquet", rows)
    result = run_observatory(data_dir, "build", "--source", "file", "--file", str(path), "--snapshot-date", "2026-06-09")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    manifest = json.loads((data_dir / "raw" / "models" / "snapshot_date=2026-06-09" / "_manifest.json").read_text())
    assert (manifest["rows"], manifest["quarantined"], manifest["repaired"]) == (
        15, {"created_at_before_floor": 1}, {"implausible_counts_nulled": 1})
    day = "snapshot_date = '2026-06-09'"
    with warehouse(data_dir) as con:
        quarantined = con.execute(f"select model_id, reason from marts.fct_ingest_quarantine where {day}").fetchall()
        odd = {r[0]: r[1:] for r in con.execute(
            "select model_id, org, provider, parent_model_id, base_relation, lineage_depth, label_source,"
            f" created_at_is_floor, downloads_30d, downloads_all_time from marts.dim_models where {day}"
            " and (org in ('zed', 'legacy-alone'))").fetchall()}
        deepseek = con.execute(
            "select n_direct, n_finetune, n_merge, n_descendants from marts.fct_base_model_derivatives"
            f" where {day} and base_model_id = 'deepseek-ai/DeepSeek-V3'").fetchone()
        may = con.execute(
            "select base_country, n_new_derivatives from marts.fct_derivative_share_by_base_country"
            f" where {day} and month = date '2026-05-01'").fetchall()
        ranked = {r[0] for r in con.execute(
            f"select distinct model_id from marts.fct_weekly_new_model_rankings where {day}").fetchall()}
        downloads = dict(con.execute(
            f"select cohort, sum(downloads_30d) from marts.fct_country_download_share where {day} group by 1").fetchall())
        growth = con.execute(
            f"select year, n_releases from marts.fct_org_release_growth where {day} and provider = 'zed' order by 1").fetchall()
    assert quarantined == [("zed/epoch", "created_at_before_floor")]
    assert odd == {
        "zed/distilled": ("zed", "zed", "deepseek-ai/DeepSeek-V3", "unknown", 1, "base_model", False, 0, 0),
        "legacy-alone": ("legacy-alone", "legacy-alone", None, None, 0, "unknown", False, 0, 0),
        "zed/sentinel": ("zed", "zed", None, None, 0, "unknown", False, None, None),
        "zed/self": ("zed", "zed", None, None, 0, "unknown", False, 0, 0),
        "zed/late-floor": ("zed", "zed", None, None, 0, "unknown", True, 0, 0),
    }
    # alice, deepcogito and the distilled model directly (one of them of unknown kind); bob and carol through alice.
    assert deepseek == (3, 2, 0, 5)
    assert may == [("CN", 1)]  # the distilled model; zed/self is no derivative
    assert "zed/late-floor" not in ranked and "zed/epoch" not in ranked and "zed/distilled" in ranked
    assert downloads == {"all": sum(r["downloads"] for r in FIXTURE), "new_365d": 75}
    assert growth == [(2026, 3)]  # distilled, sentinel, self; and nothing in 2022 or 1970


def test_a_built_snapshot_whose_raw_folder_is_deleted_stays_in_the_marts(built):
    root, data_dir, _ = built
    first = write_fixture(root / "day10.parquet", FIXTURE)
    built_first = run_observatory(data_dir, "build", "--source", "file", "--file", str(first),
                                  "--snapshot-date", "2026-06-10")
    assert built_first.returncode == 0, built_first.stderr[-3000:]
    shutil.rmtree(data_dir / "raw" / "models" / "snapshot_date=2026-06-10")
    second = write_fixture(root / "day11.parquet", FIXTURE + [model("frank/new", dt.datetime(2026, 6, 11))])
    built_second = run_observatory(data_dir, "build", "--source", "file", "--file", str(second),
                                   "--snapshot-date", "2026-06-11")
    assert built_second.returncode == 0, built_second.stderr[-3000:]
    days = "snapshot_date in ('2026-06-10', '2026-06-11')"
    with warehouse(data_dir) as con:
        snapshots = dict(con.execute(f"select snapshot_date::varchar, n_rows from marts.dim_snapshots where {days}").fetchall())
        facts = dict(con.execute(
            f"select snapshot_date::varchar, count(*) from marts.dim_models where {days} group by 1").fetchall())
    assert snapshots == facts == {"2026-06-10": 10, "2026-06-11": 11}
    report = run_observatory(data_dir, "report", "--snapshot-date", "2026-06-10", "--out", str(root / "day10.html"))
    assert report.returncode == 0, report.stdout[-2000:] + report.stderr[-2000:]
    with warehouse(data_dir) as con:
        raw_stored = dict(con.execute(
            f"select snapshot_date::varchar, is_raw_stored from marts.dim_snapshots where {days}").fetchall())
    assert raw_stored == {"2026-06-10": False, "2026-06-11": True}


def test_the_published_parquet_is_plain_and_equals_the_catalog_views(built):
    """Every mart's files, read by plain pyarrow (no DuckDB), hold exactly the rows the catalog's view shows."""
    import pyarrow.types as pat

    _, data_dir, _ = built
    lake = data_dir / "warehouse" / "lake"
    folders = sorted(lake.glob("snapshot_date=*"))
    assert folders
    plain = (pat.is_string, pat.is_integer, pat.is_floating, pat.is_boolean, pat.is_date32, pat.is_timestamp)
    with warehouse(data_dir) as con:
        marts = [name for (name,) in con.execute(
            "select view_name from duckdb_views() where schema_name = 'marts' order by 1").fetchall()]
        assert sorted(marts) == sorted(dbt_marts())
        for mart in marts:
            from_files = []
            for folder in folders:
                table = pq.read_table(folder / f"{mart}.parquet")
                odd = [f"{f.name}: {f.type}" for f in table.schema if not any(test(f.type) for test in plain)]
                assert odd == [], (mart, odd)
                day = dt.date.fromisoformat(folder.name.split("=")[1])
                if mart == "dim_organizations":  # the newest snapshot's rows
                    if folder == folders[-1]:
                        from_files += [tuple(r.values()) for r in table.to_pylist()]
                else:
                    from_files += [(day, *r.values()) for r in table.to_pylist()]
            cursor = con.execute(f"select * from marts.{mart}")
            from_view = cursor.fetchall()
            if mart == "dim_snapshots":  # the view recomputes is_raw_stored (a raw folder may be deleted since)
                last = [d[0] for d in cursor.description].index("is_raw_stored")
                from_files = [row[:last] + row[last + 1:] for row in from_files]
                from_view = [row[:last] + row[last + 1:] for row in from_view]
            assert sorted(from_files, key=repr) == sorted(from_view, key=repr), mart


def test_every_tested_relation_documents_snapshot_date_exactly_when_it_has_one(built):
    """Data tests are scoped to the run's snapshot by the tested node's documented columns
    (macro relation_has_snapshot_date): a relation with an undocumented snapshot_date would be
    tested over its whole history, one that documents a column it lacks would fail its tests.
    Staging views and seeds are compared with the catalog; the build's tables (intermediate, marts)
    are per snapshot by design and must all document it."""
    from orchestration.defs.transform.project import dbt_project

    _, data_dir, _ = built
    manifest = json.loads(dbt_project().manifest_path.read_text())
    tested = {node["attached_node"] for node in manifest["nodes"].values()
              if node["resource_type"] == "test" and node.get("attached_node")}
    with warehouse(data_dir) as con:
        actual = {(schema, table): "snapshot_date" in columns.split(",") for schema, table, columns in con.execute(
            "select table_schema, table_name, string_agg(column_name, ',') from information_schema.columns"
            " where table_schema in ('staging', 'reference') group by all").fetchall()}
        compared = 0
        for uid in sorted(tested):
            node = manifest["nodes"].get(uid) or manifest["sources"][uid]
            documented = "snapshot_date" in node["columns"]
            relation = (node["schema"], node.get("alias") or node["name"])
            if relation not in actual and node["schema"] == "staging":  # a view the catalog does not keep
                compiled = max((dbt_project().manifest_path.parent).glob(
                    f"*/compiled/observatory/{node['original_file_path']}"), key=lambda p: p.stat().st_mtime)
                columns = [row[0] for row in con.execute(f"describe ({compiled.read_text()})").fetchall()]
                actual[relation] = "snapshot_date" in columns
            if relation in actual:
                assert documented == actual[relation], uid
                compared += 1
            else:
                assert node["schema"] in ("intermediate", "marts") and documented, uid
    assert compared >= 7, compared
