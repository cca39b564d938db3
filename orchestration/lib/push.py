"""Sharing the published marts as a Hugging Face dataset repo.

Layout on the Hub: `<mart>/snapshot_date=<D>/<mart>.parquet`, the dataset card README.md
(lib/dataset_card.py: one config per mart, snapshots, licence) and `observatory_push.json`, the
manifest of what was pushed (per snapshot: source, licence, and per file the sha256 of the lake file
it was written from, and the uploaded file's sha256, size and rows).

The uploaded files are the lake's rows with the snapshot date as their first column (`snapshot_date`,
a date): the Hub's dataset viewer and SQL console read the files without hive partitioning, and the
lake's files have no such column (the date is their folder's name). They are written with DuckDB to a
temporary folder outside the data folder, removed once the push is over, failed or not; only the files
to upload are written.

A push is one commit: the new and changed files, the card and the manifest go in one
`create_commit` (huggingface_hub uploads the LFS objects first, then commits them all at once,
against the head it listed). A failure before the commit leaves the repo at its previous commit;
running the same push again uploads what is still missing. Incremental: a file's identity is the
sha256 of the lake file it was written from, recorded in the manifest. A snapshot is pushed when its
manifest entry differs from the lake (a file changed, added or removed, or the source recorded
differently) or one of its files is missing from the repo's tree or differs from the one recorded;
only its new or changed files are written and uploaded. With nothing new there is no commit.

The token is huggingface_hub's (HF_TOKEN, or the saved login): never passed around, stored or
printed here, and redacted from any message a server sends back. HF_ENDPOINT is honoured.
Nothing is written to the data folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from orchestration.lib.dataset_card import Column, MartDoc, SnapshotDoc, render_card
from orchestration.lib.publish import PARTITION, lake_dates
from orchestration.lib.sql import literal

MANIFEST = "observatory_push.json"
CARD = "README.md"
REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.-]{0,95}$")
REDACTED = "***"
_TOKEN_RE = re.compile(r"hf_[A-Za-z0-9]{8,}")


class PushRefused(Exception):
    """What the user asked cannot be pushed, or the Hub refused it: "message\\nhint", never the token."""


@dataclass(frozen=True)
class LakeFile:
    """A published mart file of one snapshot (sha256 and size of the lake file)."""

    mart: str
    snapshot_date: str
    path: Path
    sha256: str
    size: int
    rows: int

    @property
    def path_in_repo(self) -> str:
        return f"{self.mart}/{PARTITION}={self.snapshot_date}/{self.mart}.parquet"


@dataclass(frozen=True)
class UploadFile:
    """A lake file written for the Hub (its rows with the snapshot date as first column), to upload."""

    source: LakeFile
    path: Path
    sha256: str
    size: int

    @property
    def path_in_repo(self) -> str:
        return self.source.path_in_repo

    def record(self) -> dict:
        return {"source_sha256": self.source.sha256, "sha256": self.sha256, "size": self.size,
                "rows": self.source.rows}


@dataclass
class PushResult:
    repo_id: str
    url: str
    commit: str | None = None  # None: nothing new, no commit
    pushed: list[str] = field(default_factory=list)  # snapshot dates uploaded (new or changed)
    unchanged: list[str] = field(default_factory=list)
    files: list[LakeFile] = field(default_factory=list)  # lake files written and uploaded
    deleted: list[str] = field(default_factory=list)  # repo paths of marts a rebuilt date no longer has


def check_repo_id(repo_id: str) -> str:
    if not REPO_ID.match(repo_id or "") or ".." in repo_id or repo_id.endswith((".", "-")) \
            or repo_id.split("/")[1].endswith(".git"):
        raise PushRefused(f"{repo_id!r} is not a Hub dataset repo id\ngive it as ORG/NAME, e.g. my-org/open-model-observatory")
    return repo_id


def choose_dates(lake: Path, snapshot_date: str | None, all_dates: bool) -> list[str]:
    """The snapshot dates to push: every published one, the one asked for, or the newest."""
    dates = lake_dates(lake)
    if not dates:
        raise PushRefused("the warehouse has no published snapshot yet\nbuild one: observatory build")
    if all_dates:
        return dates
    if snapshot_date is None:
        return [dates[-1]]
    if snapshot_date not in dates:
        raise PushRefused(f"snapshot {snapshot_date} is not published (published: {', '.join(dates[-5:])})\n"
                          f"build it: observatory build --snapshot-date {snapshot_date}")
    return [snapshot_date]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def lake_files(lake: Path, snapshot_date: str) -> list[LakeFile]:
    """Every mart file of one published snapshot, with its checksum and rows."""
    import pyarrow.parquet as pq

    # The date's folder is a symlink to its published version: resolved once, so a build publishing the
    # date again meanwhile (which keeps the retired version for an hour) cannot change what is uploaded.
    folder = (lake / f"{PARTITION}={snapshot_date}").resolve()
    return [LakeFile(p.stem, snapshot_date, p, _sha256(p), p.stat().st_size, pq.ParquetFile(p).metadata.num_rows)
            for p in sorted(folder.glob("*.parquet"))]


def snapshot_doc(lake: Path, snapshot_date: str) -> SnapshotDoc:
    """Source, licence, rows and synthetic flag of a snapshot, from its published dim_snapshots file."""
    import pyarrow.parquet as pq

    path = lake / f"{PARTITION}={snapshot_date}" / "dim_snapshots.parquet"
    rows = pq.read_table(path).to_pylist() if path.exists() else []
    row = rows[0] if rows else {}
    return SnapshotDoc(snapshot_date, row.get("snapshot_source") or "unknown", row.get("repo_id"),
                       row.get("source_license"), bool(row.get("is_synthetic")), row.get("n_rows"))


def mart_schemas(lake: Path, dates: list[str]) -> dict[str, list[tuple[str, str]]]:
    """(column, type) of each mart, from its newest published file among `dates`."""
    import pyarrow.parquet as pq

    schemas = {}
    for date in sorted(dates):
        for path in sorted((lake / f"{PARTITION}={date}").glob("*.parquet")):
            schema = pq.read_schema(path)
            schemas[path.stem] = [(name, str(schema.field(name).type)) for name in schema.names]
    return schemas


def build_card(repo_id: str, manifest: dict, schemas: dict[str, list[tuple[str, str]]], docs: dict[str, dict]) -> str:
    """The card of everything the manifest says the repo holds."""
    snapshots = [SnapshotDoc(date, s.get("source") or "unknown", s.get("source_repo"), s.get("source_license"),
                             bool(s.get("is_synthetic")), s.get("n_rows"))
                 for date, s in manifest["snapshots"].items()]
    marts = sorted({path.split("/", 1)[0] for s in manifest["snapshots"].values() for path in s["files"]})
    mart_list = []
    for mart in marts:
        doc = docs.get(mart, {})
        described = doc.get("columns", {})
        columns = [Column(name, kind, described.get(name, "")) for name, kind in schemas.get(mart, [])]
        mart_list.append(MartDoc(mart, doc.get("description", ""), columns))
    return render_card(repo_id, mart_list, snapshots)


def snapshot_fields(doc: SnapshotDoc) -> dict:
    return {"source": doc.source, "source_repo": doc.source_repo, "source_license": doc.source_license,
            "is_synthetic": doc.is_synthetic, "n_rows": doc.n_rows}


def manifest_entry(doc: SnapshotDoc, files: dict[str, dict]) -> dict:
    """A snapshot's manifest entry: its source fields and {repo path: record} of its files."""
    return {**snapshot_fields(doc), "files": dict(sorted(files.items()))}


def write_upload(source: LakeFile, folder: Path) -> UploadFile:
    """`source`'s rows with the snapshot date as first column, written under `folder` for the Hub."""
    import duckdb
    import pyarrow.parquet as pq

    target = folder / source.path_in_repo
    target.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        con.execute("set preserve_insertion_order = true")
        con.execute(f"copy (select cast({literal(source.snapshot_date)} as date) as {PARTITION}, * "
                    f"from read_parquet({literal(source.path)}, hive_partitioning = false)) "
                    f"to {literal(target)} (format parquet, compression zstd)")
    finally:
        con.close()
    rows = pq.ParquetFile(target).metadata.num_rows
    if rows != source.rows:
        raise RuntimeError(f"{source.path_in_repo}: {rows} rows written for {source.rows} published")
    return UploadFile(source, target, _sha256(target), target.stat().st_size)


# --- the Hub ---------------------------------------------------------------------------------

def _tokens() -> set[str]:
    tokens = {os.environ.get("HF_TOKEN"), os.environ.get("HUGGING_FACE_HUB_TOKEN")}
    try:
        from huggingface_hub import get_token

        tokens.add(get_token())
    except Exception:  # an unreadable token store: the environment's then
        pass
    return {t for t in tokens if t and len(t) >= 4}


def redact(text: str) -> str:
    """`text` without the Hub token (the one in use, and anything shaped like one)."""
    for token in _tokens():
        text = text.replace(token, REDACTED)
    return _TOKEN_RE.sub("hf_" + REDACTED, text)


def _http_error(exc: BaseException):
    """The HfHubHTTPError behind `exc` (an LFS upload failure wraps it), if any."""
    from huggingface_hub.errors import HfHubHTTPError

    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, HfHubHTTPError) and exc.response is not None:
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def _transport_error(exc: BaseException):
    import httpx2

    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, httpx2.TransportError):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def describe_failure(exc: BaseException, repo_id: str, step: str, endpoint: str) -> str:
    """One line (and a hint) for a failed Hub call, the token redacted."""
    unchanged = f"{repo_id} is unchanged"
    http = _http_error(exc)
    if http is not None:
        status = http.response.status_code
        detail = " ".join((getattr(http, "server_message", None) or "").split())
        reason = f"{status} {http.response.reason_phrase}" + (f": {detail[:200]}" if detail else "")
        if status == 401:
            message = (f"the Hub refused the token while {step} ({reason}); {unchanged}\n"
                       "set HF_TOKEN to a token with write access (huggingface.co/settings/tokens)")
        elif status == 403:
            message = (f"the Hub refused to let this token write to {repo_id} while {step} ({reason}); {unchanged}\n"
                       "use a token with write access to that namespace, or push to a repo of your own")
        elif status == 412:
            message = (f"{repo_id} changed on the Hub while this push ran ({reason}); nothing was committed\n"
                       "run the same command again")
        elif status >= 500 or status == 429:
            message = (f"the Hub failed while {step}, after retries ({reason}); {unchanged}\n"
                       "run the same command again later: it uploads what is still missing")
        else:
            message = f"the Hub refused the push while {step} ({reason}); {unchanged}"
    elif _transport_error(exc) is not None:
        error = _transport_error(exc)
        message = (f"cannot reach the Hub at {endpoint} while {step} ({type(error).__name__}); {unchanged}\n"
                   "check the network (HF_ENDPOINT), then run the same command again")
    else:
        text = " ".join(str(exc).split()) or type(exc).__name__
        message = f"the push failed while {step} ({text[:300]}); {unchanged}\nrun the same command again"
    return redact(message)


def _remote_manifest(api, repo_id: str, revision: str) -> dict:
    from huggingface_hub import hf_hub_url
    from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

    url = hf_hub_url(repo_id, MANIFEST, repo_type="dataset", revision=revision, endpoint=api.endpoint)
    response = get_session().get(url, headers=build_hf_headers(), follow_redirects=True)
    hf_raise_for_status(response)
    try:
        manifest = json.loads(response.content)
    except ValueError:
        return {"snapshots": {}}
    return manifest if isinstance(manifest.get("snapshots"), dict) else {"snapshots": {}}


def is_pushed(local: LakeFile, record: dict | None, remote) -> bool:
    """Whether the repo holds `local` as written for the Hub: the manifest's `record` of its path was
    written from the same lake file, and the repo's tree has that path with the recorded content."""
    if not record or record.get("source_sha256") != local.sha256 or remote is None:
        return False
    if remote.lfs is not None:
        return remote.lfs.sha256 == record.get("sha256")
    return remote.size == record.get("size")


def push(lake: Path, repo_id: str, dates: list[str], docs: dict[str, dict],
         out: Callable[[str], None] = print) -> PushResult:
    """Push the published marts of `dates` from `lake` to the dataset repo `repo_id` in one commit."""
    check_repo_id(repo_id)
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, constants, get_token
    from huggingface_hub.hf_api import RepoFile
    from huggingface_hub.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars
    from huggingface_hub.utils import logging as hf_logging

    api = HfApi()
    endpoint = api.endpoint
    if endpoint.rstrip("/") == constants._HF_DEFAULT_ENDPOINT and not get_token():
        raise PushRefused(f"pushing to {repo_id} on the Hub needs a token: none is set\n"
                          "set HF_TOKEN to a token with write access (huggingface.co/settings/tokens)")
    local = {date: lake_files(lake, date) for date in dates}
    step = "creating the dataset repo"
    # huggingface_hub's retry warnings and progress bars stay quiet: the push says what it does in a
    # line before uploading, and a failure in one line after (a bar cut by a failure would run into it).
    verbosity, bars_were_off = hf_logging.get_verbosity(), are_progress_bars_disabled()
    hf_logging.set_verbosity_error()
    disable_progress_bars()
    try:
        url = str(api.create_repo(repo_id, repo_type="dataset", exist_ok=True))
        step = "reading the repo"
        head = api.repo_info(repo_id, repo_type="dataset", revision="main").sha
        remote = {entry.path: entry for entry in api.list_repo_tree(repo_id, recursive=True, repo_type="dataset",
                                                                     revision=head)
                  if isinstance(entry, RepoFile)}
        manifest = _remote_manifest(api, repo_id, head) if MANIFEST in remote else {"snapshots": {}}
        result = PushResult(repo_id, url)
        kept: dict[str, dict[str, dict]] = {}  # date -> {repo path: record} of its files already there
        docs_of = {date: snapshot_doc(lake, date) for date in dates}
        for date in dates:
            pushed = manifest["snapshots"].get(date) or {}
            records = pushed.get("files") or {}
            doc = docs_of[date]
            changed = [f for f in local[date] if not is_pushed(f, records.get(f.path_in_repo),
                                                                remote.get(f.path_in_repo))]
            wanted = {f.path_in_repo for f in local[date]}
            stale = sorted(path for path in remote if path.split("/")[1:2] == [f"{PARTITION}={date}"]
                           and path.endswith(".parquet") and path not in wanted)
            same_entry = set(records) == wanted and {k: pushed.get(k) for k in snapshot_fields(doc)} == \
                snapshot_fields(doc)
            if changed or stale or not same_entry:
                result.pushed.append(date)
                result.files += changed
                result.deleted += stale
                kept[date] = {f.path_in_repo: records[f.path_in_repo] for f in local[date] if f not in changed}
            else:
                result.unchanged.append(date)
        if not result.pushed:
            return result
        plural = "s" if len(result.pushed) > 1 else ""
        step = "writing the files to upload"
        with tempfile.TemporaryDirectory(prefix="observatory-push-") as folder:
            uploads = [write_upload(f, Path(folder)) for f in result.files]
            for date in result.pushed:
                records = {**kept[date], **{u.path_in_repo: u.record() for u in uploads
                                            if u.source.snapshot_date == date}}
                manifest["snapshots"][date] = manifest_entry(docs_of[date], records)
            manifest = {"format": 2, "snapshots": dict(sorted(manifest["snapshots"].items()))}
            card = build_card(repo_id, manifest, mart_schemas(lake, list(manifest["snapshots"])), docs)
            operations = []
            for u in uploads:
                operation = CommitOperationAdd(u.path_in_repo, str(u.path))
                operation.upload_info.sha256 = bytes.fromhex(u.sha256)  # hashed once, when written
                operations.append(operation)
            operations += [CommitOperationDelete(path) for path in result.deleted]
            operations += [CommitOperationAdd(CARD, card.encode()),
                           CommitOperationAdd(MANIFEST, (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode())]
            out(f"Pushing {len(uploads)} files ({sum(u.size for u in uploads) / 2**20:.1f} MiB) of "
                f"snapshot{plural} {', '.join(result.pushed)} to {repo_id} in one commit")
            step = "uploading the files and committing them"
            info = api.create_commit(repo_id, operations, repo_type="dataset", parent_commit=head,
                                     commit_message=f"Observatory marts: snapshot{plural} {', '.join(result.pushed)}",
                                     commit_description=f"{len(uploads)} files from the Open Model Observatory lake.")
        result.commit = info.oid
        return result
    except Exception as exc:
        message = describe_failure(exc, repo_id, step, endpoint)
    finally:
        hf_logging.set_verbosity(verbosity)
        if not bars_were_off:
            enable_progress_bars()
    raise PushRefused(message)  # outside the except block: the original (maybe token-bearing) error is not chained
