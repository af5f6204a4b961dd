"""GET /health: is the service up, can it reach the database, which plan answers.

It keeps answering while heavy requests run: its database check runs on threads of its own, never on
the pool or the heavy limiter (api/heavy.py) that slow requests hold.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError

from api.errors import RETRY_AFTER_S
from api.heavy import limiter
from api.schemas import Health, answer
from geo.store.db import reading
from geo.store.queries import published_plan

router = APIRouter(tags=["health"])

#: Threads of /health's own (its database check never waits for a thread a slow request holds).
HEALTH_THREADS = 4


@router.get("/health", summary="Service and database status (no key needed)",
            responses={**answer(Health), 503: {"model": Health, "description": "the database is unavailable"}})
async def health(request: Request) -> JSONResponse:
    """The database is asked in a thread of /health's own: with every thread of the shared pool taken
    by slow requests, /health still answers."""
    try:
        plan = await anyio.to_thread.run_sync(_published, request.app.state.engine,
                                              limiter=limiter(request, "health", HEALTH_THREADS))
    except DBAPIError:
        return JSONResponse({"status": "degraded", "database": "unavailable", "plan": None},
                            status_code=503, headers={"Retry-After": str(RETRY_AFTER_S)})
    return JSONResponse({"status": "ok", "database": "ok", "plan": plan})


def _published(engine: Any) -> dict[str, Any] | None:
    with reading(engine) as conn:
        return published_plan(conn)


