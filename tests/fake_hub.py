"""A local HTTP server that answers the few Hub API calls the project makes, shaped like the Hub.

- GET  /api/datasets/{repo}/commits/{revision}   -> commit list (newest first)
- HEAD/GET /datasets/{repo}/resolve/{rev}/{file} -> file bytes with the Hub's commit/etag headers
- GET  /api/models?author=..&expand[]=..          -> model listing, paginated with a Link header
- GET  /api/datasets/{repo}/tree/{rev}/{path}     -> the files and folders under path (not recursive),
                                                     each {type, path, oid, size, lfs?}, as the Hub lists them
Every request is recorded, headers included, so tests can check what was sent and count how
often an endpoint was asked (`count`), which is how retries show.
"""

from __future__ import annotations

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

    def count(self, path_part: str, method: str | None = "GET") -> int:
        """Requests received so far whose path contains `path_part` (and of that method, unless None)."""
        return sum(1 for r in self.requests if path_part in r["path"] and method in (None, r["method"]))

    def fail_next(self, path_part: str, *fault) -> None:
        self.faults.append((path_part, fault))

    def _take_fault(self, method: str, path: str) -> tuple | None:
        for i, (part, fault) in enumerate(self.faults):
            if part in path and not (fault[0] == "truncate" and method == "HEAD"):
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

    def _handler(self):
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_HEAD(self):
                self._serve(send_body=False)

            def do_GET(self):
                self._serve(send_body=True)

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
