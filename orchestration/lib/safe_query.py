"""Read-only SQL on the warehouse for people: one SELECT, bounded in time and rows, no side effects.

The guarantees come from DuckDB itself, not from parsing SQL: the file is opened read-only,
file-system access is limited to the raw snapshot folder (which the staging views read), and the
configuration is locked, so ATTACH, COPY ... TO, INSTALL, file-reading table functions outside
the raw folder and SET all fail. On top, only SELECT-like statements are accepted, so the error
for anything else names the statement instead of a permission.
"""

import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.lib.sql import literal

ALLOWED_STATEMENTS = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}


class QueryRefused(ValueError):
    """The statement is not a read-only query, or it overran its limits."""


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple]
    truncated: bool


def connect_read_only(duckdb_path: Path, readable_dir: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection that can read files under `readable_dir` only, with locked settings."""
    if not duckdb_path.exists():
        raise FileNotFoundError(f"no warehouse at {duckdb_path}")
    con = duckdb.connect(
        str(duckdb_path), read_only=True,
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False},
    )
    con.execute(f"set allowed_directories = [{literal(str(readable_dir.resolve()) + '/')}]")
    con.execute("set enable_external_access = false")
    con.execute("set lock_configuration = true")
    return con


def run_query(
    con: duckdb.DuckDBPyConnection, sql: str, max_rows: int = 1000, timeout_s: float = 60.0
) -> QueryResult:
    """Run one SELECT; at most `max_rows` rows come back, and it is interrupted after `timeout_s`."""
    statements = duckdb.extract_statements(sql)
    if len(statements) != 1:
        raise QueryRefused(f"give exactly one statement, got {len(statements)}")
    kind = statements[0].type
    if kind not in ALLOWED_STATEMENTS:
        raise QueryRefused(f"only read-only queries (SELECT) are allowed, got a {kind.name} statement")

    timed_out = threading.Event()

    def interrupt():
        timed_out.set()
        con.interrupt()

    timer = threading.Timer(timeout_s, interrupt)
    timer.start()
    try:
        cursor = con.execute(sql)
        rows = cursor.fetchmany(max_rows + 1)
        columns = [d[0] for d in cursor.description]
    except duckdb.InterruptException:
        if timed_out.is_set():
            raise QueryRefused(f"the query ran longer than {timeout_s:g} s and was stopped") from None
        raise
    finally:
        timer.cancel()
    return QueryResult(columns, rows[:max_rows], truncated=len(rows) > max_rows)
