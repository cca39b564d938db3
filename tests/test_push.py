"""`observatory push`: the published marts as a Hugging Face dataset repo, against the fake Hub.

Most tests push a small hand-made lake (a few Parquet files written with DuckDB) through the
command line in this process; one pushes the lake of the end-to-end build (`built`, read only).
Expected values come from the files themselves (listed and read here), never from the push code:
an uploaded file must read (with DuckDB) as the lake file's rows, read with pyarrow, with the
snapshot date added as first column.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import shutil
import tempfile
import types
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from orchestration.cli import main
from orchestration.lib.dataset_card import Column, MartDoc, SnapshotDoc, mart_docs, render_card

REPO = "observatory-test/marts"
TOKEN = "hf_pushTestToken0123456789abcdef"
D1, D2, D3 = "2026-06-05", "2026-06-12", "2026-06-19"
WAITS: list[float] = []  # the retry waits huggingface_hub asked for (not slept)
DESCRIPTIONS = {
    "dim_models": ("Every model of the snapshot with its org and country label.",
                   {"model_id": "The repo id, e.g. Qwen/Qwen2.5-7B.", "likes": "Likes at the snapshot."}),
    "dim_snapshots": ("One row per built snapshot.", {"snapshot_source": "Where the snapshot came from."}),
    "fct_country_download_share": ("Download share by country.", {"share": "Fraction in [0, 1]."}),
}


# --- a small lake, as publishing lays it out -------------------------------------------------------

def write_snapshot(lake: Path, date: str, source: str = "file", licence: str = "unknown: a local file",
                   models: int = 3, repo_id: str | None = None) -> Path:
    """lake/snapshot_date=<date>/<mart>.parquet for three marts (no snapshot_date column: the folder says it)."""
    folder = lake / f"snapshot_date={date}"
    folder.mkdir(parents=True)
    con = duckdb.connect()
    repo = f"'{repo_id}'" if repo_id else "null::varchar"
    con.execute(f"copy (select '{source}' as snapshot_source, {repo} as repo_id, '{licence}' as source_license, "
                f"false as is_synthetic, {models}::bigint as n_rows) to '{folder}/dim_snapshots.parquet' (format parquet)")
    con.execute(f"copy (select 'org' || i || '/model-{date}' as model_id, i::bigint as likes from range({models}) t(i)) "
                f"to '{folder}/dim_models.parquet' (format parquet)")
    con.execute(f"copy (select 'US' as country, 0.75::double as share union all select 'CN', 0.25) "
                f"to '{folder}/fct_country_download_share.parquet' (format parquet)")
    con.close()
    return folder


def write_manifest(path: Path) -> Path:
    """A dbt manifest holding the marts' descriptions (and a staging model the card must leave out)."""
    nodes = {f"model.observatory.{name}": {
        "resource_type": "model", "name": name, "original_file_path": f"models/marts/{name}.sql",
        "description": description, "columns": {c: {"name": c, "description": d} for c, d in columns.items()}}
        for name, (description, columns) in DESCRIPTIONS.items()}
    nodes["model.observatory.stg_x"] = {"resource_type": "model", "name": "stg_x", "description": "staging",
                                        "original_file_path": "models/staging/stg_x.sql", "columns": {}}
    path.write_text(json.dumps({"nodes": nodes}))
    return path


@pytest.fixture
def scratch(tmp_path, monkeypatch) -> Path:
    """The system's temporary folder during a test (where a push writes the files it uploads)."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def data_dir(tmp_path, monkeypatch, hub, scratch):
    """A data folder with a catalog and a lake of one snapshot (D1); the CLI pointed at it and at the fake Hub."""
    import huggingface_hub.constants
    import huggingface_hub.utils._http as http

    data = tmp_path / "data"
    (data / "warehouse").mkdir(parents=True)
    (data / "warehouse" / "observatory.duckdb").touch()
    write_snapshot(data / "warehouse" / "lake", D1)
    monkeypatch.setenv("DATA_DIR", str(data))
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    # hf_xet is installed, and huggingface_hub then uploads through Xet: the fake Hub speaks basic LFS.
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_DISABLE_XET", True)
    # huggingface_hub's retries wait 1, 2, 4, 8, 8 s: recorded instead of slept.
    WAITS.clear()
    monkeypatch.setattr(http, "time", types.SimpleNamespace(sleep=WAITS.append))
    manifest = write_manifest(tmp_path / "manifest.json")
    monkeypatch.setattr("orchestration.defs.transform.project.dbt_project",
                        lambda: types.SimpleNamespace(manifest_path=manifest))
    hub.token = TOKEN
    return data


def lake(data: Path) -> Path:
    return data / "warehouse" / "lake"


def push(capfd, *args: str) -> tuple[int, str, str]:
    code = main(["push", "--repo", REPO, *args])
    out, err = capfd.readouterr()
    return code, out, err


def server_files(hub) -> dict[str, bytes]:
    return hub.repo_files(REPO)


def local_marts(data: Path, date: str) -> dict[str, Path]:
    """{repo path: lake file} the repo must hold for one snapshot, from a plain listing of the lake folder."""
    folder = lake(data) / f"snapshot_date={date}"
    return {f"{name[:-len('.parquet')]}/snapshot_date={date}/{name}": folder / name
            for name in os.listdir(folder) if name.endswith(".parquet")}


def expected_table(path: Path, date: str) -> pa.Table:
    """The lake file's rows (read with pyarrow) with the snapshot date prepended as a date column."""
    table = pq.read_table(path)
    dates = pa.array([datetime.date.fromisoformat(date)] * table.num_rows, pa.date32())
    return table.add_column(0, "snapshot_date", dates)


def assert_uploaded(data: bytes, path: Path, date: str) -> None:
    """`data`, a file of the repo, reads with DuckDB as the lake file `path` with its snapshot date as first column."""
    with tempfile.TemporaryDirectory() as folder:
        uploaded = Path(folder) / "uploaded.parquet"
        uploaded.write_bytes(data)
        con = duckdb.connect()
        columns = con.execute("select column_name, column_type from (describe select * from read_parquet(?))",
                              [str(uploaded)]).fetchall()
        got = con.sql("select * from read_parquet($path)", params={"path": str(uploaded)}).to_arrow_table()
        con.close()
    expected = expected_table(path, date)
    assert columns[0] == ("snapshot_date", "DATE"), path
    assert got.column_names == expected.column_names, path
    assert got.to_pylist() == expected.to_pylist(), path


def assert_snapshot_uploaded(files: dict[str, bytes], data: Path, date: str) -> None:
    expected = local_marts(data, date)
    assert expected
    for path, source in expected.items():
        assert_uploaded(files[path], source, date)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def lfs_puts(hub, since: int = 0) -> list[str]:
    """The sha256 of each LFS object upload the hub received after its `since`-th request."""
    return [r["path"].rsplit("/", 1)[1] for r in hub.requests[since:]
            if r["method"] == "PUT" and r["path"].startswith("/lfs-upload/")]


def card_metadata(hub) -> tuple[dict, str]:
    text = server_files(hub)["README.md"].decode()
    _, header, body = text.split("---\n", 2)
    return yaml.safe_load(header), body


def commits(hub) -> list[str]:
    return [c["id"] for c in hub.commits.get(REPO, [])]


def tree_state(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.lstat().st_size, p.lstat().st_mtime_ns) for p in folder.rglob("*")}


# --- the dataset card (pure) -----------------------------------------------------------------------

def _card(snapshots):
    marts = [MartDoc("fct_b", "What b answers.", [Column("share", "double", "A | fraction")]),
             MartDoc("dim_a", "What a answers.", [Column("model_id", "string", "The repo id.")])]
    text = render_card("org/name", marts, snapshots)
    _, header, body = text.split("---\n", 2)
    return yaml.safe_load(header), body


def test_card_has_one_config_per_mart_with_its_description_and_columns():
    metadata, body = _card([SnapshotDoc(D1, "file", None, "unknown: a local file", False, 10)])
    assert metadata["configs"] == [
        {"config_name": "dim_a", "data_files": [{"split": "train", "path": "dim_a/*/*.parquet"}]},
        {"config_name": "fct_b", "data_files": [{"split": "train", "path": "fct_b/*/*.parquet"}]},
    ]
    assert "What a answers." in body and "What b answers." in body
    assert "| model_id | string | The repo id. |" in body
    assert "| share | double | A \\| fraction |" in body  # a pipe in a description does not break the table
    assert f"| {D1} | file |  | unknown: a local file | 10 | no |" in body
    assert "hf://datasets/org/name/" in body and 'load_dataset("org/name", "dim_a"' in body
    assert "hive_partitioning" not in body and "first column" in body
    assert body.split("### dim_a")[1].split("|---|---|---|\n")[1].startswith("| snapshot_date | date |")


def test_card_licence_is_odbl_when_a_snapshot_comes_from_hub_weekly_else_other():
    weekly = SnapshotDoc(D2, "hub_weekly", "hfmlsoc/hub_weekly_snapshots", "ODbL-1.0", False, 5)
    plain = SnapshotDoc(D1, "hub_stats", "cfahlgren1/hub-stats", "see dataset card", False, 5)
    metadata, body = _card([plain, weekly])
    assert metadata["license"] == "odbl"
    assert "Open Database License (ODbL-1.0)" in body and D2 in body.split("## Licence")[1].split("##")[0]
    metadata, body = _card([plain])
    assert metadata["license"] == "other"
    assert "ODbL-1.0" not in body


def test_mart_docs_reads_the_marts_of_the_parsed_manifest(tmp_path):
    docs = mart_docs(write_manifest(tmp_path / "manifest.json"))
    assert sorted(docs) == sorted(DESCRIPTIONS)  # the staging model is not a mart
    assert docs["dim_models"]["description"] == DESCRIPTIONS["dim_models"][0]
    assert docs["dim_models"]["columns"] == DESCRIPTIONS["dim_models"][1]


# --- pushing ---------------------------------------------------------------------------------------

def test_first_push_uploads_every_mart_of_the_newest_snapshot_in_one_commit(data_dir, hub, capfd, scratch):
    local_before = tree_state(data_dir)
    code, out, err = push(capfd)
    assert code == 0, err
    files = server_files(hub)
    expected = local_marts(data_dir, D1)
    assert len(expected) == 3
    assert_snapshot_uploaded(files, data_dir, D1)
    assert set(files) == set(expected) | {".gitattributes", "README.md", "observatory_push.json"}
    assert tree_state(data_dir) == local_before and os.listdir(scratch) == []  # the files written are gone
    assert len(commits(hub)) == 2  # the repo's initial commit, then one commit for the whole push
    assert hub.count("/commit/", "POST") == 1
    metadata, body = card_metadata(hub)
    marts = sorted(name[:-len(".parquet")] for name in os.listdir(lake(data_dir) / f"snapshot_date={D1}"))
    assert [c["config_name"] for c in metadata["configs"]] == marts
    assert [c["data_files"][0]["path"] for c in metadata["configs"]] == [f"{m}/*/*.parquet" for m in marts]
    assert metadata["license"] == "other"
    assert DESCRIPTIONS["dim_models"][0] in body and "| likes | int64 | Likes at the snapshot. |" in body
    manifest = json.loads(files["observatory_push.json"])
    for path, source in expected.items():
        assert manifest["snapshots"][D1]["files"][path] == {
            "source_sha256": sha256(source.read_bytes()), "sha256": sha256(files[path]), "size": len(files[path]),
            "rows": pq.ParquetFile(source).metadata.num_rows}
    assert f"Pushed snapshot {D1} (3 files)" in out


def test_a_second_push_of_the_same_snapshot_makes_no_commit(data_dir, hub, capfd):
    assert push(capfd)[0] == 0
    before, puts = commits(hub), hub.count("/lfs-upload/", "PUT")
    code, out, err = push(capfd, "--snapshot-date", D1)
    assert code == 0, err
    assert commits(hub) == before
    assert hub.count("/commit/", "POST") == 1
    assert hub.count("/lfs-upload/", "PUT") == puts
    assert "Nothing new to push" in out and "no commit" in out


def test_a_new_snapshot_uploads_only_its_files(data_dir, hub, capfd):
    assert push(capfd)[0] == 0
    write_snapshot(lake(data_dir), D2, models=5)
    first, sent = dict(server_files(hub)), len(hub.requests)
    code, out, err = push(capfd)  # the newest published snapshot: D2
    assert code == 0, err
    files = server_files(hub)
    # every file of D2 (its date column sets even the share mart, the same rows as D1's, apart), none of D1
    assert sorted(lfs_puts(hub, sent)) == sorted(sha256(files[p]) for p in local_marts(data_dir, D2))
    assert hub.commit_paths[REPO][-1] == {"added": sorted([*local_marts(data_dir, D2), "README.md",
                                                           "observatory_push.json"]), "deleted": []}
    assert_snapshot_uploaded(files, data_dir, D1)
    assert_snapshot_uploaded(files, data_dir, D2)
    assert all(files[p] == first[p] for p in local_marts(data_dir, D1))
    assert len(commits(hub)) == 3
    _, body = card_metadata(hub)
    assert f"| {D1} |" in body and f"| {D2} |" in body


def test_a_rebuilt_snapshot_uploads_its_changed_files_and_drops_a_mart_it_lost(data_dir, hub, capfd):
    folder = lake(data_dir) / f"snapshot_date={D1}"
    shutil.copy(folder / "dim_models.parquet", folder / "fct_extra.parquet")
    assert push(capfd)[0] == 0
    before = dict(server_files(hub))
    share = f"fct_country_download_share/snapshot_date={D1}/fct_country_download_share.parquet"
    share_bytes = (folder / "fct_country_download_share.parquet").read_bytes()
    shutil.rmtree(folder)
    write_snapshot(lake(data_dir), D1, models=7)  # dim_snapshots and dim_models change, fct_extra is gone
    assert (folder / "fct_country_download_share.parquet").read_bytes() == share_bytes  # the share mart is the same
    announced_before = len(hub.preupload_paths[REPO])
    code, out, err = push(capfd)
    assert code == 0, err
    files = server_files(hub)
    assert f"fct_extra/snapshot_date={D1}/fct_extra.parquet" not in files
    assert_snapshot_uploaded(files, data_dir, D1)
    assert hub.count("/lfs-upload/", "PUT") == 4 + 2
    # the share mart's file was neither written (nor announced for upload) nor committed again
    announced = [p for p in hub.preupload_paths[REPO][announced_before:] if p.endswith(".parquet")]
    assert sorted(announced) == [f"dim_models/snapshot_date={D1}/dim_models.parquet",
                                 f"dim_snapshots/snapshot_date={D1}/dim_snapshots.parquet"]
    assert hub.commit_paths[REPO][-1] == {
        "added": sorted([f"dim_models/snapshot_date={D1}/dim_models.parquet", "README.md", "observatory_push.json",
                         f"dim_snapshots/snapshot_date={D1}/dim_snapshots.parquet"]),
        "deleted": [f"fct_extra/snapshot_date={D1}/fct_extra.parquet"]}
    assert files[share] == before[share]
    manifest = json.loads(files["observatory_push.json"])["snapshots"][D1]["files"]
    assert sorted(manifest) == sorted(local_marts(data_dir, D1))
    assert {p: r["source_sha256"] for p, r in manifest.items()} == \
        {p: sha256(source.read_bytes()) for p, source in local_marts(data_dir, D1).items()}
    assert push(capfd)[1].startswith("Nothing new to push")


def test_a_file_removed_from_the_repo_is_pushed_again(data_dir, hub, capfd):
    assert push(capfd)[0] == 0
    path = f"dim_models/snapshot_date={D1}/dim_models.parquet"
    before = server_files(hub)[path]
    status, _ = hub.apply_commit(REPO, [{"key": "header", "value": {"summary": "remove a file"}},
                                        {"key": "deletedFile", "value": {"path": path}}])
    assert status == 200 and path not in server_files(hub)
    code, out, err = push(capfd)
    assert code == 0, err
    assert server_files(hub)[path] == before
    assert hub.commit_paths[REPO][-1]["added"] == [path]  # the card and manifest, unchanged, are not sent again
    assert_snapshot_uploaded(server_files(hub), data_dir, D1)


def test_push_all_sends_every_published_snapshot_in_one_commit(data_dir, hub, capfd):
    write_snapshot(lake(data_dir), D2)
    write_snapshot(lake(data_dir), D3)
    code, out, err = push(capfd, "--all")
    assert code == 0, err
    files = server_files(hub)
    for date in (D1, D2, D3):
        assert_snapshot_uploaded(files, data_dir, date)
    assert len(commits(hub)) == 2
    assert sorted(json.loads(files["observatory_push.json"])["snapshots"]) == [D1, D2, D3]
    assert push(capfd, "--all")[1].startswith("Nothing new to push")


def test_the_card_says_odbl_for_a_hub_weekly_snapshot(data_dir, hub, capfd):
    write_snapshot(lake(data_dir), D2, source="hub_weekly", licence="ODbL-1.0",
                   repo_id="hfmlsoc/hub_weekly_snapshots")
    assert push(capfd, "--snapshot-date", D1)[0] == 0
    assert card_metadata(hub)[0]["license"] == "other"
    assert push(capfd, "--snapshot-date", D2)[0] == 0
    metadata, body = card_metadata(hub)
    assert metadata["license"] == "odbl"
    assert "ODbL-1.0" in body and "hfmlsoc/hub_weekly_snapshots" in body
    assert f"| {D1} |" in body  # the card still lists the snapshot pushed before


def _assert_unchanged(hub, data_dir, head, files, local_before):
    assert commits(hub)[0] == head
    assert server_files(hub) == files
    assert tree_state(data_dir) == local_before


def _is_share_mart(body: bytes) -> bool:
    return "share" in pq.ParquetFile(pa.BufferReader(body)).schema_arrow.names


def test_an_lfs_upload_failing_mid_push_leaves_the_repo_as_it_was_and_a_rerun_completes(data_dir, hub, capfd,
                                                                                        scratch):
    assert push(capfd)[0] == 0
    write_snapshot(lake(data_dir), D2, models=4)
    head, files, local_before = commits(hub)[0], dict(server_files(hub)), tree_state(data_dir)
    # the last new file in path order, so that a push committing file by file would have committed the others
    for _ in range(6):  # the first attempt and huggingface_hub's five retries
        hub.fail_next_write("/lfs-upload/", _is_share_mart, "status", 500)
    sent = len(hub.requests)
    code, out, err = push(capfd)
    assert code == 2
    message, hint = err.strip().splitlines()  # one line and a hint, nothing else
    assert message.startswith("observatory: the Hub failed while uploading") and "500" in message
    assert f"{REPO} is unchanged" in message and hint.startswith("hint: run the same command again")
    assert "Traceback" not in err
    assert not hub.faults and len(WAITS) >= 5
    failing = [oid for oid in lfs_puts(hub, sent) if oid not in hub.lfs_objects]
    assert len(set(failing)) == 1 and len(failing) == 6
    assert len(lfs_puts(hub, sent)) == 6 + 2  # the other files of the snapshot were uploaded
    _assert_unchanged(hub, data_dir, head, files, local_before)
    assert os.listdir(scratch) == []  # the files written for the push are gone
    sent = len(hub.requests)
    code, out, err = push(capfd)
    assert code == 0, err
    assert lfs_puts(hub, sent) == failing[:1]  # only the object that failed
    path = f"fct_country_download_share/snapshot_date={D2}/fct_country_download_share.parquet"
    assert sha256(server_files(hub)[path]) == failing[0]
    assert_snapshot_uploaded(server_files(hub), data_dir, D2)


def test_a_commit_failing_leaves_the_repo_as_it_was_and_a_rerun_completes(data_dir, hub, capfd, scratch):
    head, local_before = None, tree_state(data_dir)
    hub.fail_next("/commit/", "status", 500)
    code, out, err = push(capfd)
    assert code == 2 and "500" in err and "Traceback" not in err
    head = commits(hub)[0]
    assert len(commits(hub)) == 1 and set(server_files(hub)) == {".gitattributes"}  # only the new repo's own commit
    _assert_unchanged(hub, data_dir, head, {".gitattributes": hub.GITATTRIBUTES}, local_before)
    assert os.listdir(scratch) == []
    code, out, err = push(capfd)
    assert code == 0, err
    assert_snapshot_uploaded(server_files(hub), data_dir, D1)
    assert len(commits(hub)) == 2


def test_the_token_is_never_printed_nor_uploaded(data_dir, hub, capfd):
    assert push(capfd)[0] == 0
    write_snapshot(lake(data_dir), D2)
    hub.fail_next("/commit/", "echo", 403)  # a server that repeats the Authorization header in its error
    code, out, err = push(capfd)
    assert code == 2 and "403" in err
    assert TOKEN not in out + err and TOKEN[3:] not in out + err
    assert push(capfd)[0] == 0
    assert all(TOKEN.encode() not in data and TOKEN[3:].encode() not in data for data in server_files(hub).values())
    assert all(TOKEN.encode() not in data for data in hub.lfs_objects.values())
    # every request carried it as a bearer token, except the LFS object uploads (presigned on the Hub)
    assert all(_authorization(r) == f"Bearer {TOKEN}" for r in hub.requests
               if not r["path"].startswith("/lfs-upload/"))
    assert all(_authorization(r) is None for r in hub.requests if r["path"].startswith("/lfs-upload/"))


def _authorization(request: dict) -> str | None:
    return next((v for k, v in request["headers"].items() if k.lower() == "authorization"), None)


def test_a_wrong_token_is_one_line_naming_hf_token(data_dir, hub, capfd, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_wrongToken9876543210")
    local_before = tree_state(data_dir)
    code, out, err = push(capfd)
    assert code == 2
    assert err.startswith("observatory: the Hub refused the token") and "401" in err
    assert "hint: set HF_TOKEN" in err and "hf_wrongToken9876543210" not in err
    assert REPO not in hub.commits and tree_state(data_dir) == local_before


def test_a_missing_token_against_the_real_hub_is_refused_before_any_request(data_dir, hub, capfd, monkeypatch, tmp_path):
    import huggingface_hub.constants as constants

    monkeypatch.delenv("HF_TOKEN")
    monkeypatch.setattr(constants, "ENDPOINT", constants._HF_DEFAULT_ENDPOINT)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))
    code, out, err = push(capfd)
    assert code == 2 and "needs a token" in err and "HF_TOKEN" in err
    assert hub.requests == []


@pytest.mark.parametrize("args, message", [
    (["--snapshot-date", "2026-01-01"], "snapshot 2026-01-01 is not published"),
    (["--snapshot-date", D1, "--repo", "no-namespace"], "is not a Hub dataset repo id"),
    (["--repo", "a/b/c"], "is not a Hub dataset repo id"),
    (["--repo", "org/../x"], "is not a Hub dataset repo id"),
])
def test_user_mistakes_are_one_line_and_touch_nothing(data_dir, hub, capfd, args, message):
    local_before = tree_state(data_dir)
    code, out, err = push(capfd, *args)
    assert code == 2 and err.startswith("observatory: ") and message in err and "Traceback" not in err
    assert hub.requests == [] and tree_state(data_dir) == local_before


def test_no_warehouse_is_one_line(tmp_path, hub, capfd, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "empty"))
    code, out, err = push(capfd)
    assert code == 2 and "no warehouse at" in err and "observatory build" in err
    assert hub.requests == [] and not (tmp_path / "empty").exists()


@pytest.mark.parametrize("path, fault, message", [
    ("/api/repos/create", ("status", 403), "403 Forbidden"),
    ("/api/repos/create", ("reset",), "cannot reach the Hub at http://127.0.0.1:"),
    ("/commit/", ("status", 412), "changed on the Hub while this push ran"),
])
def test_the_hub_refusing_or_unreachable_is_one_line_and_commits_nothing(data_dir, hub, capfd, path, fault, message):
    local_before = tree_state(data_dir)
    hub.fail_next(path, *fault)
    code, out, err = push(capfd)
    assert code == 2 and message in err
    assert len(err.strip().splitlines()) == 2 and err.startswith("observatory: ") and "\nhint: " in err
    assert len(hub.commits.get(REPO, [])) <= 1 and tree_state(data_dir) == local_before


# --- the lake of a real build ----------------------------------------------------------------------

def test_push_of_the_built_warehouse_holds_every_mart_with_its_dbt_description(built, hub, capfd, monkeypatch):
    import huggingface_hub.constants

    _, data, _ = built
    monkeypatch.setenv("DATA_DIR", str(data))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_DISABLE_XET", True)
    before = tree_state(data / "warehouse")
    code, out, err = push(capfd)
    assert code == 0, err
    folder = data / "warehouse" / "lake" / "snapshot_date=2026-06-05"
    names = sorted(n for n in os.listdir(folder) if n.endswith(".parquet"))
    assert len(names) >= 20
    files = server_files(hub)
    for name in names:
        mart = name[:-len(".parquet")]
        assert_uploaded(files[f"{mart}/snapshot_date=2026-06-05/{name}"], folder / name, "2026-06-05")
    metadata, body = card_metadata(hub)
    assert [c["config_name"] for c in metadata["configs"]] == [n[:-len(".parquet")] for n in names]
    marts_yml = yaml.safe_load((Path(__file__).parent.parent / "dbt_project/models/marts/_marts.yml").read_text())
    described = {m["name"]: " ".join(m["description"].split()) for m in marts_yml["models"]}
    assert described["dim_models"] in body and described["dim_snapshots"] in body
    assert tree_state(data / "warehouse") == before


def test_the_card_describes_the_columns_of_the_newest_snapshot_whatever_the_order_of_pushes(data_dir, hub, capfd):
    folder = write_snapshot(lake(data_dir), D2)
    con = duckdb.connect()
    con.execute(f"copy (select 'org/m' as model_id, 1::bigint as likes, 'CN' as label_country) "
                f"to '{folder}/dim_models.parquet' (format parquet)")
    con.close()
    assert push(capfd, "--snapshot-date", D2)[0] == 0
    assert push(capfd, "--snapshot-date", D1)[0] == 0  # an older snapshot, pushed last
    _, body = card_metadata(hub)
    assert "| label_country | string |" in body
