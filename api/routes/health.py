"""GET /health: is the service up, can it reach the database, which plan answers."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError

from api.deps import EngineDep
from api.errors import RETRY_AFTER_S
from geo.store.queries import published_plan

router = APIRouter(tags=["health"])


@router.get("/health", summary="Service and database status (no key needed)")
def health(engine: EngineDep) -> JSONResponse:
    try:
        with engine.connect() as conn:
            plan = published_plan(conn)
    except DBAPIError:
        return JSONResponse({"status": "degraded", "database": "unavailable", "plan": None},
                            status_code=503, headers={"Retry-After": str(RETRY_AFTER_S)})
    return JSONResponse({"status": "ok", "database": "ok", "plan": plan})
