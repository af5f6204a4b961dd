"""Engines and sessions. The URL comes from settings: ``GRIDMAP_DATABASE_URL`` or the embedded cluster."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, create_engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from geo.config import TOWN_TIMEZONE, Settings
from geo.store.cluster import Cluster


def cluster_for(settings: Settings) -> Cluster:
    """The embedded cluster these settings describe (not started)."""
    return Cluster(var_dir=settings.var_dir, port=settings.pg_port)


def uses_embedded(settings: Settings) -> bool:
    return not settings.database_url


def _psycopg(url: str) -> str:
    """Accept plain postgresql:// URLs and use psycopg 3 for them."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def database_url(settings: Settings) -> str:
    """The SQLAlchemy URL to use: the explicit one, else the embedded cluster's database."""
    if settings.database_url:
        return _psycopg(settings.database_url)
    return cluster_for(settings).url(settings.pg_database)


def read_database_url(settings: Settings) -> str | None:
    """The read replica's URL (``GRIDMAP_READ_DATABASE_URL``), or None: the primary serves the reads."""
    return _psycopg(settings.read_database_url) if settings.read_database_url else None


def make_engine(url: str, *, timezone: str = TOWN_TIMEZONE, **kwargs: object) -> Engine:
    """An engine whose sessions speak the town's time zone, so timestamps come back as +08:00.

    An ``options`` query parameter of the URL (``?options=-c default_transaction_read_only=on``) is kept
    beside the time zone (the time zone's ``options`` replaced it)."""
    kwargs.setdefault("pool_pre_ping", True)
    connect_args = dict(kwargs.pop("connect_args", {}) or {})  # type: ignore[call-overload]
    parsed = make_url(url)
    from_url = parsed.query.get("options")
    if from_url is not None and "options" not in connect_args:
        parsed = parsed.difference_update_query(["options"])
        from_url = " ".join(from_url) if isinstance(from_url, tuple) else from_url
        connect_args["options"] = f"{from_url} -c TimeZone={timezone}"
    connect_args.setdefault("options", f"-c TimeZone={timezone}")
    return create_engine(parsed, connect_args=connect_args, **kwargs)  # type: ignore[arg-type]


def end_read(conn: Connection) -> None:
    """End a read transaction that went well by COMMIT, not by the ROLLBACK a closing connection sends.

    psycopg prepares a statement on its fifth use on a connection (``prepare_threshold``), and then
    PostgreSQL plans it once, not on every use; but psycopg forgets every prepared statement of the
    connection on ROLLBACK (an object the statements name may have been dropped and re-created). A
    request's read connection that always ends by ROLLBACK never keeps one: every statement is planned
    every time. Measured on a grids tile (planning ~0.6 ms of ~1.3 ms): the database's CPU per tile
    request went from 2.0 to 1.1 ms (bench/README.md, "Per-request cost: one round trip, prepared statements, ...").

    A request that failed is still rolled back (this is not called then); a request that wrote
    committed already, or uses a transaction of its own (``engine.begin()``)."""
    if conn.in_transaction():
        conn.commit()


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for reads, ended by :func:`end_read` when the block went well (rolled back when
    it raised): what every read path uses instead of ``engine.connect()``, so the pool's connections
    keep their prepared statements."""
    with engine.connect() as conn:
        yield conn
        end_read(conn)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """A session whose work commits at the end of the block, or rolls back entirely."""
    with session_factory(engine)() as session, session.begin():
        yield session
