"""Read-only SQL on the warehouse for people: one SELECT, bounded in time, rows and memory, no side effects.

Two layers, because neither is enough alone:

- DuckDB's own settings. The file is opened read-only, file-system access is limited to the raw
  snapshot folder (which the staging views read), spilling to disk is off, memory and threads are
  capped, and the configuration is locked, so ATTACH, INSTALL, SET and file-reading table functions
  outside the raw folder fail. DuckDB has no read-only variant of `allowed_directories`: a statement
  that writes files (COPY ... TO, EXPORT DATABASE) could write anywhere under the raw folder.
- So the statement itself is checked before it runs, with DuckDB's own parser and tokenizer (no
  regular expressions; comments, case and quoting cannot hide anything):
  * exactly one statement, of type SELECT, or EXPLAIN of a SELECT without ANALYZE
    (EXPLAIN ANALYZE runs its statement);
  * no writing keyword anywhere outside string literals: a SELECT can carry a COPY in a WITH clause
    (`with x as (copy ... to 'f') select * from x` is a SELECT statement that writes the file);
  * no function that runs SQL held in a string (query, query_table, json_execute_serialized_sql),
    since the tokenizer cannot see inside a string;
  * the plan DuckDB makes for it holds no operator that writes (a last net for whatever slips past).
"""

import json
import math
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.lib.sql import literal

DEFAULT_MAX_ROWS = 50
MAX_ROWS_LIMIT = 100_000
DEFAULT_TIMEOUT_S = 60.0
MAX_TIMEOUT_S = 3600.0
DEFAULT_MEMORY_LIMIT = "2GB"
MIN_MEMORY_BYTES = 16 * 2**20
DEFAULT_THREADS = 2
MAX_THREADS = 64

# Keywords that only appear in statements with side effects. One as a column name must be quoted ("load").
WRITING_KEYWORDS = {
    "alter", "analyse", "analyze", "attach", "call", "checkpoint", "copy", "create", "delete", "detach",
    "drop", "execute", "export", "import", "insert", "install", "load", "merge", "pragma", "prepare",
    "reset", "set", "truncate", "update", "vacuum",
}
# Functions that run SQL given as a string (hidden from the tokenizer) or that checkpoint.
REFUSED_FUNCTIONS = {"query", "query_table", "json_execute_serialized_sql", "checkpoint", "force_checkpoint"}
# Plan operators that write, by name part (COPY_TO_FILE, BATCH_COPY_TO_FILE, INSERT, CREATE_TABLE_AS, ...).
WRITING_OPERATORS = ("COPY", "INSERT", "DELETE", "UPDATE", "MERGE", "CREATE", "EXPORT", "VACUUM", "ATTACH")
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)\s*$", re.IGNORECASE)
_UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
          "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


class QueryRefused(ValueError):
    """The statement is not a read-only query, or it overran its limits."""


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple]
    truncated: bool


def memory_bytes(limit: str) -> int:
    """'2GB', '512MiB', ... in bytes, or QueryRefused when it is not such a size or far too small."""
    match = _SIZE_RE.match(str(limit))
    if not match:
        raise QueryRefused(f"memory limit {limit!r} is not a size such as 512MB or 2GB")
    size = int(float(match.group(1)) * _UNITS[match.group(2).upper()])
    if size < MIN_MEMORY_BYTES:
        raise QueryRefused(f"memory limit {limit!r} is below the minimum of 16MiB")
    return size


def check_limits(max_rows: int, timeout_s: float, memory_limit: str = DEFAULT_MEMORY_LIMIT,
                 threads: int = DEFAULT_THREADS) -> None:
    """Every bound is a real bound: a positive finite timeout, at least one row, a memory size."""
    if not isinstance(timeout_s, (int, float)) or not math.isfinite(timeout_s) or not 0 < timeout_s <= MAX_TIMEOUT_S:
        raise QueryRefused(f"timeout must be a number of seconds above 0 and at most {MAX_TIMEOUT_S:g}, got {timeout_s}")
    if not isinstance(max_rows, int) or not 1 <= max_rows <= MAX_ROWS_LIMIT:
        raise QueryRefused(f"max rows must be between 1 and {MAX_ROWS_LIMIT}, got {max_rows}")
    if not isinstance(threads, int) or not 1 <= threads <= MAX_THREADS:
        raise QueryRefused(f"threads must be between 1 and {MAX_THREADS}, got {threads}")
    memory_bytes(memory_limit)


def connect_read_only(
    duckdb_path: Path, readable_dir: Path | list[Path], memory_limit: str = DEFAULT_MEMORY_LIMIT,
    threads: int = DEFAULT_THREADS,
) -> duckdb.DuckDBPyConnection:
    """A read-only connection that can read files under `readable_dir` (one folder or several: the
    raw snapshots and the lake the catalog's views read) only, with capped memory and threads, no
    spilling to disk, and locked settings."""
    readable = [readable_dir] if isinstance(readable_dir, Path) else list(readable_dir)
    if not duckdb_path.exists():
        raise FileNotFoundError(f"no warehouse at {duckdb_path}")
    memory_bytes(memory_limit)
    con = duckdb.connect(
        str(duckdb_path), read_only=True,
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False},
    )
    try:
        con.execute(f"set memory_limit = {literal(memory_limit)}")
        con.execute(f"set threads = {int(threads)}")
        con.execute("set temp_directory = ''")  # no spilling: over the limit is an error, and nothing is written
        con.execute("set allow_persistent_secrets = false")
        allowed = ", ".join(literal(str(folder.resolve()) + "/") for folder in readable)
        con.execute(f"set allowed_directories = [{allowed}]")
        con.execute("set enable_external_access = false")
        con.execute("set lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con


def check_read_only(sql: str) -> str:
    """Refuse anything but one read-only query (see the module docstring); returns the SELECT to plan."""
    statements = duckdb.extract_statements(sql)
    if len(statements) != 1:
        raise QueryRefused(f"give exactly one statement, got {len(statements)}")
    kind = statements[0].type
    words = _words(sql)
    if kind == duckdb.StatementType.EXPLAIN:
        body = _explained(sql, words)
    elif kind == duckdb.StatementType.SELECT:
        body = sql
    else:
        raise QueryRefused(f"only read-only queries (SELECT) are allowed, got a {kind.name} statement")
    for word, is_call, quoted in words:
        if word in WRITING_KEYWORDS and not quoted:
            raise QueryRefused(
                f"only read-only queries (SELECT) are allowed; {word.upper()} is not allowed anywhere in one"
                f" (a column named {word} must be quoted: \"{word}\")"
            )
        if is_call and word in REFUSED_FUNCTIONS:
            raise QueryRefused(f"the function {word}() is not allowed in a query: it runs SQL or writes")
    return body


def _words(sql: str) -> list[tuple[str, bool, bool]]:
    """Each keyword and identifier outside literals and comments, lower-cased and unquoted, whether
    a '(' follows it (a function call) and whether it was quoted (a name, never a keyword)."""
    tokens = [(offset, kind) for offset, kind in duckdb.tokenize(sql) if kind != duckdb.token_type.comment]
    words = []
    for i, (offset, kind) in enumerate(tokens):
        if kind not in (duckdb.token_type.keyword, duckdb.token_type.identifier):
            continue
        end = tokens[i + 1][0] if i + 1 < len(tokens) else len(sql)
        text = sql[offset:end].strip()
        quoted = text.startswith('"')
        if quoted:
            closing = text.find('"', 1)
            while closing != -1 and text[closing + 1:closing + 2] == '"':  # "" inside a quoted name
                closing = text.find('"', closing + 2)
            text = text[1:closing if closing != -1 else None].replace('""', '"')
        else:
            text = re.split(r"[^\w$]", text, maxsplit=1)[0]
        follows = sql[end:end + 1] if i + 1 < len(tokens) else ""
        words.append((text.lower(), follows == "(", quoted))
    return words


def _explained(sql: str, words: list[tuple[str, bool, bool]]) -> str:
    """The statement an EXPLAIN describes, which must be a SELECT; EXPLAIN ANALYZE is refused."""
    if any(word in ("analyze", "analyse") and not quoted for word, _, quoted in words):
        raise QueryRefused("EXPLAIN ANALYZE runs its statement and is not allowed; use EXPLAIN without ANALYZE")
    tokens = [(offset, kind) for offset, kind in duckdb.tokenize(sql) if kind != duckdb.token_type.comment]
    # EXPLAIN [(options)] statement: skip the keyword and a parenthesised option list.
    i = 1
    if i < len(tokens) and sql[tokens[i][0]] == "(":
        depth = 0
        for j in range(i, len(tokens)):
            char = sql[tokens[j][0]]
            depth += {"(": 1, ")": -1}.get(char, 0) if tokens[j][1] == duckdb.token_type.operator else 0
            if depth == 0:
                i = j + 1
                break
    if i >= len(tokens):
        raise QueryRefused("EXPLAIN needs a SELECT to explain")
    body = sql[tokens[i][0]:]
    inner = duckdb.extract_statements(body)
    if len(inner) != 1 or inner[0].type != duckdb.StatementType.SELECT:
        name = inner[0].type.name if len(inner) == 1 else f"{len(inner)} statements"
        raise QueryRefused(f"only EXPLAIN of a SELECT is allowed, got EXPLAIN of a {name}")
    return body


def plan_writes(con: duckdb.DuckDBPyConnection, select_sql: str) -> list[str]:
    """The operators in DuckDB's plan for `select_sql` that write or run SQL from a string."""
    plan = json.loads(con.execute(f"explain (format json) {select_sql}").fetchall()[0][1])
    found = []
    stack = list(plan) if isinstance(plan, list) else [plan]
    while stack:
        node = stack.pop()
        name = str(node.get("name", "")).upper()
        function = str((node.get("extra_info") or {}).get("Function", "")).lower()
        if any(part in name for part in WRITING_OPERATORS) or function in REFUSED_FUNCTIONS:
            found.append(name + (f" {function}" if function else ""))
        stack.extend(node.get("children") or [])
    return found


def run_query(
    con: duckdb.DuckDBPyConnection, sql: str, max_rows: int = 1000, timeout_s: float = DEFAULT_TIMEOUT_S,
    memory_limit: str | None = None,
) -> QueryResult:
    """Run one read-only query; at most `max_rows` rows come back, and it is interrupted after
    `timeout_s`. `memory_limit` is the connection's limit, named in the error when it is exceeded."""
    check_limits(max_rows, timeout_s)
    select_sql = check_read_only(sql)

    timed_out = threading.Event()

    def interrupt():
        timed_out.set()
        con.interrupt()

    timer = threading.Timer(timeout_s, interrupt)
    timer.start()
    try:
        writes = plan_writes(con, select_sql)
        if writes:
            raise QueryRefused(f"only read-only queries are allowed; the plan writes ({', '.join(writes)})")
        cursor = con.execute(sql)
        rows = cursor.fetchmany(max_rows + 1)
        columns = [d[0] for d in cursor.description]
    except duckdb.InterruptException:
        if timed_out.is_set():
            raise QueryRefused(f"the query ran longer than {timeout_s:g} s and was stopped") from None
        raise
    except duckdb.OutOfMemoryException:
        limit = memory_limit or con.execute("select current_setting('memory_limit')").fetchone()[0]
        raise QueryRefused(f"the query needed more memory than the limit of {limit} and was stopped "
                           "(--memory-limit raises it)") from None
    finally:
        timer.cancel()
    return QueryResult(columns, rows[:max_rows], truncated=len(rows) > max_rows)
