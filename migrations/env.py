"""Alembic environment: the URL comes from gridmap's settings unless a connection is handed in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import pool

from geo.config import get_settings
from geo.store.db import database_url, make_engine
from geo.store.models import Base

target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = context.config.attributes.get("url") or database_url(get_settings())
    engine = make_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported: PostGIS checks need a live database")
run_migrations_online()
