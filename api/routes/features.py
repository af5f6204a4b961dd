"""GeoJSON of communities, grids, buildings, cameras and key places (RFC 7946, WGS84)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Response

from api.deps import ConnDep, Viewer
from api.responses import GEOJSON, GeoJSONResponse
from api.schemas import (BuildingProps, CameraProps, CommunityProps, Feature, FeatureCollection, GridProps,
                         KeyPlaceProps, answer)
from geo.store import queries

router = APIRouter(prefix="/v1", tags=["features"])

PlanParam = Query(default=None, description="plan id; default: the published plan")
CommunityParam = Query(default=None, description="only this community (code)")


def _geojson(text: str) -> Response:
    return Response(content=text, media_type=GEOJSON)


@router.get("/communities", summary="Communities (GeoJSON)", response_class=GeoJSONResponse, 
            responses=answer(FeatureCollection[CommunityProps]))
def communities(conn: ConnDep, _: Viewer) -> Response:
    return _geojson(queries.communities_geojson(conn))


@router.get("/grids", summary="Grids of a plan with households, population and grid member (GeoJSON)",
            response_class=GeoJSONResponse, responses=answer(FeatureCollection[GridProps]))
def grids(conn: ConnDep, _: Viewer, plan: int | None = PlanParam, community: str | None = CommunityParam) -> Response:
    plan_row = queries.resolve_plan(conn, plan_id=plan)
    return _geojson(queries.grids_geojson(conn, plan_id=plan_row["id"], community=community))


@router.get("/grids/{code}", summary="One grid (a GeoJSON Feature)", response_class=GeoJSONResponse, 
            responses=answer(Feature[GridProps]))
def grid(code: str, conn: ConnDep, _: Viewer, plan: int | None = PlanParam) -> Response:
    plan_row = queries.resolve_plan(conn, plan_id=plan)
    return _geojson(queries.grid_feature(conn, plan_id=plan_row["id"], code=code))


@router.get("/buildings", summary="Buildings with their grid in a plan (GeoJSON)", response_class=GeoJSONResponse, 
            responses=answer(FeatureCollection[BuildingProps]))
def buildings(conn: ConnDep, _: Viewer, plan: int | None = PlanParam, community: str | None = CommunityParam
              ) -> Response:
    plan_row = queries.resolve_plan(conn, plan_id=plan)
    return _geojson(queries.buildings_geojson(conn, plan_id=plan_row["id"], community=community))


@router.get("/cameras", summary="Cameras (GeoJSON)", response_class=GeoJSONResponse, responses=answer(FeatureCollection[CameraProps]))
def cameras(conn: ConnDep, _: Viewer) -> Response:
    return _geojson(queries.cameras_geojson(conn))


@router.get("/key-places", summary="Key places: gates, squares, parking, schools, markets (GeoJSON)",
            response_class=GeoJSONResponse, responses=answer(FeatureCollection[KeyPlaceProps]))
def key_places(conn: ConnDep, _: Viewer) -> Response:
    return _geojson(queries.key_places_geojson(conn))
