"""API keys: created once and shown once; only their SHA-256 hash is stored.

A key looks like ``gm_<8-char prefix>_<secret>``; the prefix names the key in
lists and logs without revealing it. Roles are ordered: an ``admin`` may do all
a ``planner`` or ``operator`` may, both may do what a ``viewer`` may, and a
``viewer`` what a ``client`` may (lookups). ``operator`` and ``planner`` are
siblings: neither includes the other.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass

from sqlalchemy import Engine

from geo.errors import BadInput, NotFound, Unauthorized
from geo.store import audit
from geo.store import keys as store
from geo.store.db import reading
from geo.vocabulary import ROLES

#: What each role may act as.
GRANTS: dict[str, frozenset[str]] = {
    "client": frozenset({"client"}),
    "viewer": frozenset({"client", "viewer"}),
    "operator": frozenset({"client", "viewer", "operator"}),
    "planner": frozenset({"client", "viewer", "planner"}),
    "admin": frozenset(ROLES),
}


@dataclass(frozen=True)
class KeyInfo:
    id: int
    prefix: str
    role: str
    name: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def role_allows(role: str, needed: str) -> bool:
    return needed in GRANTS.get(role, frozenset())


def create_key(engine: Engine, *, role: str, name: str = "", actor: str = "cli") -> tuple[KeyInfo, str]:
    """Create a key; returns its record and the plaintext key (shown once, never stored)."""
    if role not in ROLES:
        raise BadInput(f"unknown role {role!r}: use one of {', '.join(ROLES)}", details={"roles": list(ROLES)})
    prefix = secrets.token_hex(4)
    key = f"gm_{prefix}_{secrets.token_urlsafe(24)}"
    with engine.begin() as conn:
        row = store.insert_key(conn, prefix=prefix, key_hash=_hash(key), role=role, name=name or f"{role} key")
        audit.record(conn, actor=actor, action="create", entity="api_key", entity_id=prefix,
                     after={"role": role, "name": row.name})
    return KeyInfo(*row), key


def list_keys(engine: Engine) -> list[KeyInfo]:
    with reading(engine) as conn:
        rows = store.all_keys(conn)
    return [KeyInfo(*r) for r in rows]


def revoke_key(engine: Engine, *, prefix: str, actor: str = "cli") -> KeyInfo:
    with engine.begin() as conn:
        row = store.revoke(conn, prefix=prefix)
        if row is None:
            raise NotFound(f"no active key with prefix {prefix!r}: `gridmap keys list` shows the prefixes")
        audit.record(conn, actor=actor, action="revoke", entity="api_key", entity_id=prefix)
    return KeyInfo(*row)


def authenticate(engine: Engine, key: str) -> KeyInfo:
    """The active key matching ``key``; raises :class:`Unauthorized` otherwise."""
    with reading(engine) as conn:
        row = store.active_key(conn, key_hash=_hash(key))
    if row is None:
        raise Unauthorized.say("auth.unknown_key")
    return KeyInfo(*row)


def start_session(engine: Engine, key: str, *, hours: float = 12.0) -> tuple[KeyInfo, str]:
    """Sign in to the maps with ``key``: a new session token (shown once; only its hash is stored).

    Raises :class:`Unauthorized` for an unknown or revoked key.
    """
    info = authenticate(engine, key)
    token = "gms_" + secrets.token_urlsafe(32)
    with engine.begin() as conn:
        store.insert_session(conn, token_hash=_hash(token), key_id=info.id, hours=hours)
        audit.record(conn, actor=f"key:{info.prefix}", action="sign_in", entity="api_key", entity_id=info.prefix,
                     after={"hours": hours})
    return info, token


def authenticate_session(engine: Engine, token: str) -> KeyInfo:
    """The key behind a live session; raises :class:`Unauthorized` when it expired, ended or its key is revoked."""
    with reading(engine) as conn:
        row = store.session_key(conn, token_hash=_hash(token))
    if row is None:
        raise Unauthorized.say("auth.session_ended")
    return KeyInfo(*row)


def end_session(engine: Engine, token: str) -> None:
    """Sign out: the session stops working at once on this worker, within the cache time on others."""
    with engine.begin() as conn:
        prefix = store.end_session(conn, token_hash=_hash(token))
        if prefix is not None:
            audit.record(conn, actor=f"key:{prefix}", action="sign_out", entity="api_key", entity_id=prefix)


class KeyCache:
    """Per-worker cache of verified keys, so a request does not cost a database round trip.

    A key is re-checked against the database at most ``ttl_s`` seconds after it was
    last verified: a revoked key stops working within that time (5 s by default,
    the setting ``key_cache_s``). Only hashes are kept, never the keys. Keys and session
    tokens are cached apart: a session token sent as a Bearer key is checked as a key (and fails).
    """

    def __init__(self, engine: Engine, *, ttl_s: float = 5.0, max_entries: int = 10_000) -> None:
        self.engine = engine
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: dict[tuple[str, str], tuple[float, KeyInfo]] = {}  # (kind, digest) -> (when, info)
        self._lock = threading.Lock()

    def authenticate(self, key: str) -> KeyInfo:
        return self._cached(key, "key", authenticate)

    def authenticate_session(self, token: str) -> KeyInfo:
        return self._cached(token, "session", authenticate_session)

    def cached(self, secret: str, *, kind: str) -> KeyInfo | None:
        """The key (``kind="key"``) or session (``"session"``) verified less than ``ttl_s`` ago, from
        memory only (None: it must be checked against the database, by :meth:`authenticate` or
        :meth:`authenticate_session`)."""
        hit = self._entries.get((kind, _hash(secret)))
        if hit is not None and time.monotonic() - hit[0] < self.ttl_s:
            return hit[1]
        return None

    def forget(self, secret: str) -> None:
        with self._lock:
            for kind in ("key", "session"):
                self._entries.pop((kind, _hash(secret)), None)

    def _cached(self, secret: str, kind: str, check) -> KeyInfo:  # type: ignore[no-untyped-def]
        digest = (kind, _hash(secret))
        now = time.monotonic()
        hit = self._entries.get(digest)
        if hit is not None and now - hit[0] < self.ttl_s:
            return hit[1]
        info = check(self.engine, secret)
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[digest] = (now, info)
        return info
