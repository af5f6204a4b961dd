"""Bring a database to a usable state: cluster up (when embedded), database there, schema migrated."""

from __future__ import annotations

from sqlalchemy import Engine

from geo.config import Settings
from geo.store import migrate
from geo.store.db import cluster_for, database_url, make_engine, uses_embedded


def ensure_database(settings: Settings) -> str:
    """Start the embedded cluster if it is the one in use and create the database; return its URL."""
    if uses_embedded(settings):
        cluster = cluster_for(settings)
        cluster.start()
        cluster.ensure_database(settings.pg_database)
    return database_url(settings)


def prepare(settings: Settings) -> Engine:
    """Cluster, database and migrations: after this the schema is at head."""
    url = ensure_database(settings)
    migrate.upgrade(url)
    return make_engine(url)
