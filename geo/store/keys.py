"""API key and map-session storage: ``api_key`` and ``web_session`` rows, by hash only.

Every function runs on the caller's connection and inside the caller's transaction; hashing, roles
and caching are :mod:`geo.keys`'. Key rows come back as (id, prefix, role, name, created_at,
revoked_at), the fields of :class:`geo.keys.KeyInfo`, in that order.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, text

_KEY = "id, prefix, role, name, created_at, revoked_at"


def insert_key(conn: Connection, *, prefix: str, key_hash: str, role: str, name: str) -> Row[Any]:
    return conn.execute(
        text(f"INSERT INTO api_key (prefix, key_hash, role, name) VALUES (:p, :h, :r, :n) RETURNING {_KEY}"),
        {"p": prefix, "h": key_hash, "r": role, "n": name},
    ).one()


def all_keys(conn: Connection) -> list[Row[Any]]:
    """Every key, revoked or not, in id order."""
    return conn.execute(text(f"SELECT {_KEY} FROM api_key ORDER BY id")).all()


def revoke(conn: Connection, *, prefix: str) -> Row[Any] | None:
    """Revoke the active key with this prefix, now; None when there is none."""
    return conn.execute(
        text(f"UPDATE api_key SET revoked_at = now() WHERE prefix = :p AND revoked_at IS NULL RETURNING {_KEY}"),
        {"p": prefix},
    ).one_or_none()


def active_key(conn: Connection, *, key_hash: str) -> Row[Any] | None:
    """The active (not revoked) key with this hash, or None."""
    return conn.execute(
        text(f"SELECT {_KEY} FROM api_key WHERE key_hash = :h AND revoked_at IS NULL"),
        {"h": key_hash},
    ).one_or_none()


def insert_session(conn: Connection, *, token_hash: str, key_id: int, hours: float) -> None:
    """A map session of key ``key_id`` that expires ``hours`` from now."""
    conn.execute(text(
        "INSERT INTO web_session (token_hash, key_id, expires_at) "
        "VALUES (:h, :k, now() + make_interval(secs => :s))"), {"h": token_hash, "k": key_id, "s": hours * 3600})


def session_key(conn: Connection, *, token_hash: str) -> Row[Any] | None:
    """The key behind a live session (not ended, not expired, its key not revoked), or None."""
    return conn.execute(text(
        "SELECT k.id, k.prefix, k.role, k.name, k.created_at, k.revoked_at FROM web_session s "
        "JOIN api_key k ON k.id = s.key_id WHERE s.token_hash = :h AND s.ended_at IS NULL "
        "AND s.expires_at > now() AND k.revoked_at IS NULL"), {"h": token_hash}).one_or_none()


def end_session(conn: Connection, *, token_hash: str) -> str | None:
    """End the session, now; the prefix of its key, or None when it had already ended (or never was)."""
    return conn.execute(text(
        "UPDATE web_session s SET ended_at = now() FROM api_key k "
        "WHERE s.token_hash = :h AND s.ended_at IS NULL AND k.id = s.key_id RETURNING k.prefix"),
        {"h": token_hash}).scalar()
