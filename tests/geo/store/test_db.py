"""geo.store.db.end_read: a read transaction ended by COMMIT keeps psycopg's prepared statements,
which one ended by ROLLBACK (what closing a connection sends) throws away."""

from __future__ import annotations

from sqlalchemy import Engine, text

from geo.store.db import end_read, make_engine

STATEMENT = "SELECT count(*) FROM grid WHERE plan_id = :p AND code <> 'end_read test'"


def _prepared(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(text("SELECT statement FROM pg_prepared_statements"))]


def _requests(engine: Engine, n: int, *, end: bool) -> None:
    for _ in range(n):  # one pooled connection, checked out and in like a request's
        with engine.connect() as conn:
            conn.execute(text(STATEMENT), {"p": 1}).scalar_one()
            if end:
                end_read(conn)


def test_reads_ended_by_commit_keep_the_prepared_statement(db_url: str) -> None:
    engine = make_engine(db_url, pool_size=1, max_overflow=0)
    try:
        _requests(engine, 6, end=True)  # psycopg prepares on the fifth use
        assert any("end_read test" in s for s in _prepared(engine))
    finally:
        engine.dispose()


def test_reads_ended_by_rollback_plan_every_time(db_url: str) -> None:
    """The behaviour end_read is there for (psycopg clears its cache on ROLLBACK): if this ever fails,
    psycopg keeps prepared statements across rollbacks and end_read is no longer needed."""
    engine = make_engine(db_url, pool_size=1, max_overflow=0)
    try:
        _requests(engine, 8, end=False)
        assert not any("end_read test" in s for s in _prepared(engine))
    finally:
        engine.dispose()


def test_a_failed_read_is_not_committed(db_url: str) -> None:
    """end_read is only for reads that went well: a transaction in error is left for the rollback."""
    engine = make_engine(db_url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as conn:
            assert conn.in_transaction() is False
            end_read(conn)  # nothing begun: nothing sent
            conn.execute(text("SELECT 1"))
            end_read(conn)
            assert conn.in_transaction() is False
    finally:
        engine.dispose()
