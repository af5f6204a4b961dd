"""The audit log: one row per change, written in the same transaction as the change."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, text


def record(conn: Connection, *, actor: str, action: str, entity: str, entity_id: str | None = None,
           before: Any = None, after: Any = None) -> None:
    conn.execute(text(
        "INSERT INTO audit_log (actor, action, entity, entity_id, before, after) "
        "VALUES (:actor, :action, :entity, :id, CAST(:before AS jsonb), CAST(:after AS jsonb))"
    ), {"actor": actor, "action": action, "entity": entity, "id": entity_id,
        "before": None if before is None else json.dumps(before, ensure_ascii=False, default=str),
        "after": None if after is None else json.dumps(after, ensure_ascii=False, default=str)})
