"""GET /v1/audit: who changed what, when (admin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import Admin, ConnDep
from api.params import parse_at
from geo.store import audit

router = APIRouter(prefix="/v1/audit", tags=["audit"])


@router.get("", summary="The audit log, newest first (admin)")
def audit_log(
    conn: ConnDep, _: Admin,
    entity: Annotated[str | None, Query(description="e.g. camera, incident, grid_plan, api_key")] = None,
    actor: Annotated[str | None, Query()] = None,
    since: Annotated[str | None, Query(description="ISO date/time")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 200,
) -> dict[str, Any]:
    rows = audit.entries(conn, entity=entity, actor=actor, since=parse_at(since), limit=limit)
    return {"entries": [dict(r, at=r["at"].isoformat()) for r in rows]}
