"""quick_commits (lib/history_commits.py): while a build writes its run history, closing a connection
no longer checkpoints the write-ahead log, commits use synchronous=NORMAL, every event is kept, and
nothing stays open after the block."""

import sqlalchemy as sa

from orchestration.lib.history_commits import quick_commits


def _write_events(engine, count: int) -> None:
    # As Dagster's SQLite storage does: one connection per event, committed and closed.
    for n in range(count):
        with engine.connect() as connection, connection.begin():
            connection.execute(sa.text("insert into event_logs values (:n)"), {"n": n})


def _engine(path):
    engine = sa.create_engine(f"sqlite:///{path}", poolclass=sa.pool.NullPool)
    with engine.connect() as connection, connection.begin():
        connection.execute(sa.text("pragma journal_mode=WAL"))
        connection.execute(sa.text("create table if not exists event_logs (n integer)"))
    return engine


def _synchronous(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(sa.text("pragma synchronous")).scalar()


def test_quick_commits_keep_the_log_open_and_lose_no_event(tmp_path):
    path = tmp_path / "run.db"
    wal = tmp_path / "run.db-wal"
    engine = _engine(path)
    _write_events(engine, 3)
    # Dagster's way: the last connection closed checkpoints and removes the log; commits sync fully (2).
    assert not wal.exists()
    assert _synchronous(engine) == 2

    with quick_commits():
        _write_events(engine, 50)
        assert wal.exists(), "a kept connection holds the write-ahead log between events"
        assert _synchronous(engine) == 1  # NORMAL
        # A file first opened inside the block (a new run's history) is kept as well.
        second = _engine(tmp_path / "second.db")
        _write_events(second, 5)
        assert (tmp_path / "second.db-wal").exists()

    # Closed at the end: each log checkpointed into its file, every event there, normal commits again.
    assert not wal.exists() and not (tmp_path / "second.db-wal").exists()
    assert _synchronous(engine) == 2
    with engine.connect() as connection:
        assert connection.execute(sa.text("select count(*), sum(n) from event_logs")).one() == (53, 3 + sum(range(50)))
    with second.connect() as connection:
        assert connection.execute(sa.text("select count(*) from event_logs")).scalar() == 5

