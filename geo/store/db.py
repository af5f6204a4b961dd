"""Engines and sessions. The URL comes from settings: ``GRIDMAP_DATABASE_URL`` or the embedded cluster."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from geo.config import Settings
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


def make_engine(url: str, **kwargs: object) -> Engine:
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)  # type: ignore[arg-type]


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """A session whose work commits at the end of the block, or rolls back entirely."""
    with session_factory(engine)() as session, session.begin():
        yield session
