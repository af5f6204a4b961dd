"""Engines and sessions. The URL comes from settings: ``GRIDMAP_DATABASE_URL`` or the embedded cluster."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from geo.config import TOWN_TIMEZONE, Settings
from geo.store.cluster import Cluster


def cluster_for(settings: Settings) -> Cluster:
    """The embedded cluster these settings describe (not started)."""
    return Cluster(var_dir=settings.var_dir, port=settings.pg_port)


def uses_embedded(settings: Settings) -> bool:
    return not settings.database_url


def database_url(settings: Settings) -> str:
    """The SQLAlchemy URL to use: the explicit one, else the embedded cluster's database."""
    if settings.database_url:
        url = settings.database_url
        # Accept plain postgresql:// URLs and use psycopg 3 for them.
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return url
    return cluster_for(settings).url(settings.pg_database)


def make_engine(url: str, *, timezone: str = TOWN_TIMEZONE, **kwargs: object) -> Engine:
    """An engine whose sessions speak the town's time zone, so timestamps come back as +08:00."""
    kwargs.setdefault("pool_pre_ping", True)
    connect_args = dict(kwargs.pop("connect_args", {}) or {})  # type: ignore[call-overload]
    connect_args.setdefault("options", f"-c TimeZone={timezone}")
    return create_engine(url, connect_args=connect_args, **kwargs)  # type: ignore[arg-type]


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """A session whose work commits at the end of the block, or rolls back entirely."""
    with session_factory(engine)() as session, session.begin():
        yield session
