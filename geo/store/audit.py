"""The audit log: one row per change, written in the same transaction as the change."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import Connection, RowMapping, text


def record(conn: Connection, *, actor: str, action: str, entity: str, entity_id: str | None = None,
           before: Any = None, after: Any = None) -> None:
    conn.execute(text(
        "INSERT INTO audit_log (actor, action, entity, entity_id, before, after) "
        "VALUES (:actor, :action, :entity, :id, CAST(:before AS jsonb), CAST(:after AS jsonb))"
    ), {"actor": actor, "action": action, "entity": entity, "id": entity_id,
        "before": None if before is None else json.dumps(before, ensure_ascii=False, default=str),
        "after": None if after is None else json.dumps(after, ensure_ascii=False, default=str)})


def entries(conn: Connection, *, entity: str | None = None, actor: str | None = None,
            since: dt.datetime | None = None, limit: int = 200) -> list[RowMapping]:
    """The newest ``limit`` audit rows (id, at, actor, action, entity, entity_id, before, after), newest
    first, of one entity kind and one actor when given, at or after ``since`` when given."""
    return conn.execute(text(
        "SELECT id, at, actor, action, entity, entity_id, before, after FROM audit_log "
        "WHERE (CAST(:e AS text) IS NULL OR entity = :e) AND (CAST(:a AS text) IS NULL OR actor = :a) "
        "AND (CAST(:s AS timestamptz) IS NULL OR at >= :s) ORDER BY id DESC LIMIT :n"),
        {"e": entity, "a": actor, "s": since, "n": limit}).mappings().all()
