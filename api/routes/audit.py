"""GET /v1/audit: who changed what, when (admin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import text

from api.deps import Admin, ConnDep
from api.params import parse_at

router = APIRouter(prefix="/v1/audit", tags=["audit"])


@router.get("", summary="The audit log, newest first (admin)")
def audit_log(
    conn: ConnDep, _: Admin,
    entity: Annotated[str | None, Query(description="e.g. camera, incident, grid_plan, api_key")] = None,
    actor: Annotated[str | None, Query()] = None,
    since: Annotated[str | None, Query(description="ISO date/time")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 200,
) -> dict[str, Any]:
    rows = conn.execute(text(
        "SELECT id, at, actor, action, entity, entity_id, before, after FROM audit_log "
        "WHERE (CAST(:e AS text) IS NULL OR entity = :e) AND (CAST(:a AS text) IS NULL OR actor = :a) "
        "AND (CAST(:s AS timestamptz) IS NULL OR at >= :s) ORDER BY id DESC LIMIT :n"),
        {"e": entity, "a": actor, "s": parse_at(since), "n": limit}).mappings().all()
    return {"entries": [dict(r, at=r["at"].isoformat()) for r in rows]}
