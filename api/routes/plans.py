"""Grid plans (read side). Editing, validation and publishing come with the planners' issue."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from api.deps import ConnDep, Viewer
from api.routes.features import GEOJSON
from geo.store import queries

router = APIRouter(prefix="/v1/plans", tags=["plans"])


@router.get("", summary="All plans: draft, published, retired")
def plans(conn: ConnDep, _: Viewer) -> dict[str, Any]:
    return {"plans": queries.list_plans(conn)}


@router.get("/{plan_id}", summary="One plan")
def plan(plan_id: int, conn: ConnDep, _: Viewer) -> dict[str, Any]:
    return queries.get_plan(conn, plan_id=plan_id)


@router.get("/{plan_id}/grids", summary="The grids of a plan (GeoJSON)")
def plan_grids(plan_id: int, conn: ConnDep, _: Viewer) -> Response:
    queries.get_plan(conn, plan_id=plan_id)
    return Response(queries.grids_geojson(conn, plan_id=plan_id), media_type=GEOJSON)
