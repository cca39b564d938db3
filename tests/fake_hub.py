"""A local HTTP server that answers the few Hub API calls the project makes, shaped like the Hub.

- GET  /api/datasets/{repo}/commits/{revision}   -> commit list (newest first)
- HEAD/GET /datasets/{repo}/resolve/{rev}/{file} -> file bytes with the Hub's commit/etag headers
- GET  /api/models?author=..&expand[]=..          -> model listing, paginated with a Link header
- GET  /api/datasets/{repo}/tree/{rev}/{path}     -> the files and folders under path (not recursive),
                                                     each {type, path, oid, size, lfs?}, as the Hub lists them
Writing to a dataset repo, as huggingface_hub 2.4 does it (basic LFS transfer; a client with hf_xet
installed needs HF_HUB_DISABLE_XET=1 to take that path):
- POST /api/repos/create                           -> a repo with one commit holding .gitattributes (409 when it exists)
- POST /api/validate-yaml                          -> the README's front matter parsed as YAML
- GET  /api/datasets/{repo}/revision/{rev}         -> repo info: id, sha (head commit), siblings
- GET  /api/datasets/{repo}/tree/{rev}/{path}?recursive=true -> every file and folder under path
- POST /api/datasets/{repo}/preupload/{rev}        -> uploadMode per file (lfs for Parquet), oid of the file there
- POST /datasets/{repo}.git/info/lfs/objects/batch -> basic-transfer upload actions for objects not stored yet
- PUT  /lfs-upload/{oid}                           -> stores the object (its sha256 must be the oid)
- POST /lfs-verify/{oid}                           -> 200 once the object is stored
- POST /api/datasets/{repo}/commit/{rev}           -> one new commit from an ndjson payload (parentCommit checked)
With `token` set, every write except the LFS object upload (a presigned URL on the Hub) needs
`Authorization: Bearer <token>`, else 401.
Every request is recorded, headers included, so tests can check what was sent and count how
often an endpoint was asked (`count`), which is how retries show.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse


class FakeHub:
    def __init__(self, port: int):
        self.port = port
        self.commits: dict[str, list[dict]] = {}  # repo -> commits, newest first
        self.files: dict[tuple[str, str, str], bytes] = {}  # (repo, sha, filename) -> bytes
        self.models: list[dict] = []
        self.page_size = 2
        self.requests: list[dict] = []
        # Faults to inject, consumed in order by the first request whose path contains the key:
        # ("status", code, headers) | ("reset",) | ("truncate",) | ("stall", seconds)
        # | ("echo", code): an error whose body repeats the request's Authorization header, as some
        #   proxies and misconfigured servers do.
        self.faults: list[tuple[str, tuple]] = []
        self.token: str | None = None  # when set, writes need it as a bearer token
        self.lfs_objects: dict[str, bytes] = {}  # sha256 -> bytes uploaded through the LFS batch API
        self.lfs_paths: set[tuple[str, str, str]] = set()  # (repo, sha, filename) committed as LFS files
        self.commit_paths: dict[str, list[dict]] = {}  # repo -> {"added", "deleted"} paths of each commit received
        self.preupload_paths: dict[str, list[str]] = {}  # repo -> every path a client announced it would upload
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True  # a stalled answer never holds up the shutdown
        self._server.handle_error = lambda request, address: None  # the client gave up on a stalled answer
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "FakeHub":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        self.commits.clear()
        self.files.clear()
        self.models.clear()
        self.requests.clear()
        self.faults.clear()
        self.token = None
        self.lfs_objects.clear()
        self.lfs_paths.clear()
        self.commit_paths.clear()
        self.preupload_paths.clear()

    def count(self, path_part: str, method: str | None = "GET") -> int:
        """Requests received so far whose path contains `path_part` (and of that method, unless None)."""
        return sum(1 for r in self.requests if path_part in r["path"] and method in (None, r["method"]))

    def fail_next(self, path_part: str, *fault) -> None:
        self.faults.append((path_part, fault))

    def fail_next_write(self, path_part: str, body_matches, *fault) -> None:
        """A fault for the next write to `path_part` whose body `body_matches(body)` says yes."""
        self.faults.append((path_part, fault, body_matches))

    def _take_fault(self, method: str, path: str, body: bytes | None = None) -> tuple | None:
        for i, (part, fault, *when) in enumerate(self.faults):
            if part in path and not (fault[0] == "truncate" and method == "HEAD") \
                    and (not when or (body is not None and when[0](body))):
                return self.faults.pop(i)[1]
        return None

    def add_dataset_revision(self, repo: str, sha: str, date: str, files: dict[str, bytes]) -> None:
        commit = {"id": sha, "title": f"update {date}", "message": "", "authors": [{"user": "bot"}], "date": date}
        self.commits.setdefault(repo, []).insert(0, commit)
        self.commits[repo].sort(key=lambda c: c["date"], reverse=True)
        for name, data in files.items():
            self.files[(repo, sha, name)] = data

    def add_weekly_file(self, repo: str, date: str, data: bytes, name: str = "models") -> None:
        """<name>/<date>/<name>.parquet (models, datasets, spaces, daily_papers) in the one commit of a
        weekly-snapshots repo (hub_weekly layout)."""
        if not self.commits.get(repo):
            self.add_dataset_revision(repo, "d" * 40, "2026-11-01T00:00:00.000Z", {})
        sha = self.commits[repo][0]["id"]
        self.files[(repo, sha, f"{name}/{date}/{name}.parquet")] = data

    def tree(self, repo: str, revision: str, path: str) -> list[dict] | None:
        """Entries directly under `path` at `revision`, like the Hub's tree API; None when absent."""
        sha = next((c["id"] for c in self.commits.get(repo, []) if revision in (c["id"], "main")), None)
        if sha is None:
            return None
        prefix = path.strip("/") + "/" if path.strip("/") else ""
        entries: dict[str, dict] = {}
        for (r, s, name), data in self.files.items():
            if r != repo or s != sha or not name.startswith(prefix):
                continue
            head, _, rest = name[len(prefix):].partition("/")
            if rest:
                entries.setdefault(head, {"type": "directory", "oid": hashlib.sha1(head.encode()).hexdigest(),
                                          "size": 0, "path": prefix + head})
            else:
                entries[head] = {"type": "file", "oid": hashlib.sha1(data).hexdigest(), "size": len(data),
                                 "path": name, "lfs": {"oid": hashlib.sha256(data).hexdigest(), "size": len(data),
                                                       "pointerSize": 134}}
        return [entries[k] for k in sorted(entries)] or None

    def history(self, repo: str, revision: str) -> list[dict] | None:
        """Commits reachable from `revision` (newest first), as the Hub lists them."""
        commits = self.commits.get(repo)
        if commits is None or revision == "main":
            return commits
        ids = [c["id"] for c in commits]
        return commits[ids.index(revision):] if revision in ids else None

    # --- writing to a dataset repo (create, preupload, LFS batch and upload, commit) ---

    GITATTRIBUTES = b"*.parquet filter=lfs diff=lfs merge=lfs -text\n"

    def head(self, repo: str) -> str | None:
        """The newest commit of `repo` (main), or None when the repo does not exist."""
        commits = self.commits.get(repo)
        return commits[0]["id"] if commits else None

    def repo_files(self, repo: str, sha: str | None = None) -> dict[str, bytes]:
        """Every file of `repo` at commit `sha` (default: the head), by path."""
        sha = sha or self.head(repo)
        return {name: data for (r, s, name), data in self.files.items() if r == repo and s == sha}

    def repo_info(self, repo: str, revision: str) -> dict | None:
        sha = self.head(repo) if revision == "main" else revision
        if sha is None or not any(c["id"] == sha for c in self.commits.get(repo, [])):
            return None
        date = next(c["date"] for c in self.commits[repo] if c["id"] == sha)
        return {"id": repo, "author": repo.split("/")[0], "sha": sha, "private": False, "lastModified": date,
                "siblings": [{"rfilename": name} for name in sorted(self.repo_files(repo, sha))]}

    def _entry(self, repo: str, sha: str, name: str, data: bytes) -> dict:
        entry = {"type": "file", "oid": _git_sha1(data), "size": len(data), "path": name}
        if (repo, sha, name) in self.lfs_paths:
            entry["lfs"] = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
        return entry

    def tree_recursive(self, repo: str, revision: str, path: str) -> list[dict] | None:
        """Every file and folder under `path` at `revision` (the Hub's tree API with recursive=true)."""
        sha = self.head(repo) if revision == "main" else revision
        if sha is None:
            return None
        prefix = path.strip("/") + "/" if path.strip("/") else ""
        entries: dict[str, dict] = {}
        for name, data in self.repo_files(repo, sha).items():
            if not name.startswith(prefix):
                continue
            parts = name.split("/")
            for depth in range(1, len(parts)):
                folder = "/".join(parts[:depth])
                if folder.startswith(prefix):
                    entries.setdefault(folder, {"type": "directory", "path": folder, "size": 0,
                                                "oid": hashlib.sha1(folder.encode()).hexdigest()})
            entries[name] = self._entry(repo, sha, name, data)
        return [entries[k] for k in sorted(entries)] if entries or not prefix else None

    def create_repo(self, repo: str) -> bool:
        """A new dataset repo with the Hub's initial commit (.gitattributes); False when it exists."""
        if repo in self.commits:
            return False
        self._commit(repo, None, "initial commit", {".gitattributes": self.GITATTRIBUTES}, set(), set())
        return True

    def _commit(self, repo: str, parent: str | None, title: str, added: dict[str, bytes], lfs: set[str],
                deleted: set[str]) -> str:
        files = self.repo_files(repo, parent) if parent else {}
        files = {n: d for n, d in files.items()
                 if not any(n == p or n.startswith(p.rstrip("/") + "/") for p in deleted)}
        files.update(added)
        sha = hashlib.sha1(f"{repo} {parent} {time.time_ns()} {sorted(files)}".encode()).hexdigest()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{time.time_ns() // 1000 % 1000000:06d}Z"
        commit = {"id": sha, "title": title, "message": "", "authors": [{"user": "pusher"}], "date": stamp}
        self.commits.setdefault(repo, []).insert(0, commit)
        for name, data in files.items():
            self.files[(repo, sha, name)] = data
            if name in lfs or (parent and name not in added and (repo, parent, name) in self.lfs_paths):
                self.lfs_paths.add((repo, sha, name))
        return sha

    def apply_commit(self, repo: str, lines: list[dict]) -> tuple[int, dict]:
        """Apply an ndjson commit payload to main: (status, body) as the Hub answers it."""
        head = self.head(repo)
        if head is None:
            return 404, {"error": "Repository not found"}
        header = next((line["value"] for line in lines if line["key"] == "header"), {})
        if header.get("parentCommit") and header["parentCommit"] != head:
            return 412, {"error": "A commit has happened since. Please refresh and try again."}
        added, lfs, deleted = {}, set(), set()
        for line in lines:
            key, value = line["key"], line["value"]
            if key == "file":
                added[value["path"]] = base64.b64decode(value["content"])
            elif key == "lfsFile":
                data = self.lfs_objects.get(value["oid"])
                if data is None:
                    return 422, {"error": f"LFS object {value['oid']} of {value['path']} was never uploaded"}
                added[value["path"]] = data
                lfs.add(value["path"])
            elif key in ("deletedFile", "deletedFolder"):
                deleted.add(value["path"])
        self.commit_paths.setdefault(repo, []).append({"added": sorted(added), "deleted": sorted(deleted)})
        sha = self._commit(repo, head, header.get("summary", ""), added, lfs, deleted)
        return 200, {"success": True, "commitOid": sha, "commitUrl": f"{self.endpoint}/datasets/{repo}/commit/{sha}",
                     "hookOutput": ""}

    def _handler(self):
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_HEAD(self):
                self._serve(send_body=False)

            def do_GET(self):
                self._serve(send_body=True)

            def do_POST(self):
                self._write()

            def do_PUT(self):
                self._write()

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                        if size == 0:
                            self.rfile.readline()
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _write(self):
                url = urlparse(self.path)
                body = self._body()
                hub.requests.append({"method": self.command, "path": url.path, "query": url.query,
                                     "headers": dict(self.headers), "body_size": len(body)})
                fault = hub._take_fault(self.command, self.path, body)
                if fault and fault[0] == "status":
                    return self._json({"error": "injected"}, True, fault[2] if len(fault) > 2 else None,
                                      status=fault[1])
                if fault and fault[0] == "echo":
                    echoed = f"request rejected (Authorization: {self.headers.get('Authorization', '')})"
                    return self._json({"error": echoed}, True, {"X-Error-Message": echoed}, status=fault[1])
                if fault and fault[0] == "reset":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                parts = [unquote(p) for p in url.path.strip("/").split("/")]
                if hub.token and parts[0] != "lfs-upload" and \
                        self.headers.get("Authorization") != f"Bearer {hub.token}":
                    return self._json({"error": "Invalid credentials in Authorization header"}, True,
                                      {"X-Error-Message": "Invalid credentials in Authorization header"}, status=401)
                if parts == ["api", "repos", "create"]:
                    payload = json.loads(body)
                    repo = f"{payload.get('organization')}/{payload['name']}"
                    url_of = f"{hub.endpoint}/datasets/{repo}"
                    if not hub.create_repo(repo):
                        return self._json({"error": "You already created this dataset repo", "url": url_of},
                                          True, status=409)
                    return self._json({"url": url_of, "name": repo}, True)
                if parts == ["api", "validate-yaml"]:
                    return self._validate_yaml(json.loads(body)["content"])
                if parts[:2] == ["api", "datasets"] and "preupload" in parts:
                    repo = "/".join(parts[2:parts.index("preupload")])
                    if hub.head(repo) is None:
                        return self._json(None, True)
                    current = hub.repo_files(repo)
                    files = []
                    for item in json.loads(body)["files"]:
                        hub.preupload_paths.setdefault(repo, []).append(item["path"])
                        lfs = item["path"].endswith(".parquet") or item["size"] > 10 * 2**20
                        data = current.get(item["path"])
                        oid = None if data is None else hashlib.sha256(data).hexdigest() if lfs else _git_sha1(data)
                        files.append({"path": item["path"], "uploadMode": "lfs" if lfs else "regular",
                                      "shouldIgnore": False, "oid": oid})
                    return self._json({"files": files, "commitOid": hub.head(repo)}, True)
                if parts[:1] == ["datasets"] and parts[-4:] == ["info", "lfs", "objects", "batch"]:
                    objects = []
                    for item in json.loads(body)["objects"]:
                        entry = {"oid": item["oid"], "size": item["size"], "authenticated": True}
                        if item["oid"] not in hub.lfs_objects:
                            entry["actions"] = {"upload": {"href": f"{hub.endpoint}/lfs-upload/{item['oid']}"},
                                                "verify": {"href": f"{hub.endpoint}/lfs-verify/{item['oid']}",
                                                           "header": {}}}
                        objects.append(entry)
                    return self._json({"transfer": "basic", "objects": objects, "hash_algo": "sha256"}, True)
                if parts[:1] == ["lfs-upload"] and self.command == "PUT":
                    if hashlib.sha256(body).hexdigest() != parts[1]:
                        return self._json({"error": "sha256 does not match the oid"}, True, status=400)
                    hub.lfs_objects[parts[1]] = body
                    return self._json({}, True)
                if parts[:1] == ["lfs-verify"]:
                    return self._json({} if parts[1] in hub.lfs_objects else None, True)
                if parts[:2] == ["api", "datasets"] and "commit" in parts:
                    repo = "/".join(parts[2:parts.index("commit")])
                    lines = [json.loads(line) for line in body.splitlines() if line.strip()]
                    status, answer = hub.apply_commit(repo, lines)
                    return self._json(answer, True, status=status)
                self._json(None, True)

            def _validate_yaml(self, content: str):
                import yaml

                if content.startswith("---"):
                    try:
                        yaml.safe_load(content.split("---", 2)[1])
                    except yaml.YAMLError as exc:
                        return self._json({"errors": [{"message": str(exc)}], "warnings": []}, True, status=400)
                return self._json({"errors": [], "warnings": []}, True)

            def _serve(self, send_body: bool):
                url = urlparse(self.path)
                hub.requests.append({"method": self.command, "path": url.path, "query": url.query,
                                     "headers": dict(self.headers)})
                fault = hub._take_fault(self.command, self.path)
                if fault and fault[0] == "status":
                    return self._json({"error": "injected"}, send_body, fault[2] if len(fault) > 2 else None,
                                      status=fault[1])
                if fault and fault[0] == "echo":
                    echoed = f"request rejected (Authorization: {self.headers.get('Authorization', '')})"
                    return self._json({"error": echoed}, send_body, {"X-Error-Message": echoed}, status=fault[1])
                if fault and fault[0] == "stall":  # answer too late: the client times out
                    time.sleep(fault[1])
                if fault and fault[0] == "reset":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self._truncate = bool(fault and fault[0] == "truncate")
                parts = [unquote(p) for p in url.path.strip("/").split("/")]
                if parts[:2] == ["api", "datasets"] and "commits" in parts:
                    i = parts.index("commits")
                    repo, revision = "/".join(parts[2:i]), "/".join(parts[i + 1:])
                    return self._json(hub.history(repo, revision), send_body)
                if parts[:2] == ["api", "datasets"] and "revision" in parts:
                    i = parts.index("revision")
                    return self._json(hub.repo_info("/".join(parts[2:i]), parts[i + 1]), send_body)
                if parts[:2] == ["api", "datasets"] and "tree" in parts and "recursive=true" in url.query.lower():
                    i = parts.index("tree")
                    repo, revision, path = "/".join(parts[2:i]), parts[i + 1], "/".join(parts[i + 2:])
                    return self._json(hub.tree_recursive(repo, revision, path), send_body)
                if parts[:2] == ["api", "datasets"] and "tree" in parts:
                    i = parts.index("tree")
                    repo, revision, path = "/".join(parts[2:i]), parts[i + 1], "/".join(parts[i + 2:])
                    return self._json(hub.tree(repo, revision, path), send_body)
                if parts[:1] == ["datasets"] and "resolve" in parts:
                    i = parts.index("resolve")
                    repo, revision, filename = "/".join(parts[1:i]), parts[i + 1], "/".join(parts[i + 2:])
                    return self._file(repo, revision, filename, send_body)
                if parts == ["api", "models"]:
                    return self._models(parse_qs(url.query), send_body)
                self._json(None, send_body)

            def _json(self, payload, send_body: bool, headers: dict | None = None, status: int | None = None):
                status = status or (200 if payload is not None else 404)
                body = json.dumps(payload if payload is not None else {"error": "not found"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                if status == 404:
                    self.send_header("X-Error-Code", "RepoNotFound")
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                if send_body:
                    self.wfile.write(body)

            def _file(self, repo, revision, filename, send_body):
                sha = next((c["id"] for c in hub.commits.get(repo, []) if revision in (c["id"], "main")), None)
                data = hub.files.get((repo, sha, filename)) if sha else None
                if data is None:
                    self.send_response(404)
                    self.send_header("X-Error-Code", "EntryNotFound")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("X-Repo-Commit", sha)
                self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
                self.end_headers()
                if send_body:
                    if self._truncate:  # promise the full length, send half, hang up
                        self.wfile.write(data[: len(data) // 2])
                        self.close_connection = True
                        return
                    self.wfile.write(data)

            def _models(self, query, send_body):
                author = (query.get("author") or [None])[0]
                models = [m for m in hub.models if author is None or m["author"] == author]
                page = int((query.get("page") or ["0"])[0])
                chunk = models[page * hub.page_size:(page + 1) * hub.page_size]
                headers = {}
                if (page + 1) * hub.page_size < len(models):
                    rest = {k: v for k, v in query.items() if k != "page"}
                    qs = "&".join(f"{k}={v}" for k, values in rest.items() for v in values)
                    headers["Link"] = f'<{hub.endpoint}/api/models?{qs}&page={page + 1}>; rel="next"'
                self._json(chunk, send_body, headers)

        return Handler


def _git_sha1(data: bytes) -> str:
    """The git blob id of `data` (what the Hub lists as a file's oid)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
