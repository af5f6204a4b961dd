"""Coverage of the watchable space by online cameras, gaps, and where to put the next cameras (viewer)."""

from __future__ import annotations

import functools
import json
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Body, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from api.deps import ConnDep, SettingsDep, Viewer
from api.heavy import run_heavy
from api.params import lonlat_bbox
from api.responses import GEOJSON, JSON, GeoJSONResponse, json_bytes
from api.schemas import Coverage, FeatureCollection, GapProps, SiteProps, ViewProps, answer
from geo.budgets import Budgets
from geo import coverage_service
from geo.config import Settings
from geo.store import coverage as stored_coverage
from geo.store.db import reading

router = APIRouter(prefix="/v1/coverage", tags=["coverage"])


@router.get("", summary="Per-grid coverage (watchable, covered, ratio, largest gap), town totals, key places",
            response_class=Response, responses=answer(Coverage))
async def coverage(request: Request, settings: SettingsDep, _: Viewer,
                   bbox: Annotated[str | None, Query(description="west,south,east,north (WGS84 lon/lat): list only the "
                                                                 "grids and key places touching this box (town totals "
                                                                 "stay whole)")] = None,
                   grids: Annotated[bool, Query(description="false: leave out the per-grid list")] = True,
                   key_places: Annotated[bool, Query(description="false: leave out the key places' coverage (computed "
                                                                 "on request from the camera views: ~1 ms per place)")]
                   = True,
                   communities: Annotated[bool, Query(description="true: add each community's sums of its grids' "
                                                                  "coverage (a map zoomed out past its grids)")] = False
                   ) -> Response:
    box = lonlat_bbox(bbox)
    engine = request.app.state.engine
    kwargs = {"metric_crs": settings.metric_crs, "bbox": box, "grids": grids, "key_places": key_places,
              "communities": communities}
    if key_places:  # CPU work that grows with the key places (a city's whole answer: ~25 s): a heavy request
        body = await run_heavy(request, _summary, engine, **kwargs)
    else:  # stored rows only: a thread of the pool, not a heavy slot
        body = await anyio.to_thread.run_sync(functools.partial(_summary, engine, **kwargs))
    return Response(body, media_type=JSON)


def _summary(engine: Engine, **kwargs: Any) -> bytes:
    with reading(engine) as conn:
        return json_bytes(coverage_service.summary(conn, **kwargs))


@router.get("/gaps", summary="Watchable space no online camera sees (GeoJSON), largest first",
            response_class=GeoJSONResponse, responses=answer(FeatureCollection[GapProps]))
def gaps(conn: ConnDep, _: Viewer,
         grid: Annotated[str | None, Query(description="a grid code of the published plan")] = None) -> Response:
    return Response(json.dumps(stored_coverage.gaps_geojson(conn, grid_code=grid), ensure_ascii=False),
                    media_type=GEOJSON)


@router.get("/views", summary="Every camera's visible view (GeoJSON); offline and faulty ones are marked not counted",
            response_class=GeoJSONResponse, responses=answer(FeatureCollection[ViewProps]))
def views(conn: ConnDep, _: Viewer) -> Response:
    return Response(json.dumps(stored_coverage.views_geojson(conn), ensure_ascii=False), media_type=GEOJSON)


class SuggestIn(BaseModel):
    k: int = Field(default=5, ge=1, le=20, description="how many new cameras (1-20)")
    grid: str | None = Field(default=None, description="limit to one grid (code); default the whole town")
    hfov_deg: float = Field(default=90.0, gt=0, le=360)
    range_m: float = Field(default=40.0, gt=0, le=100,
                           description="range of the suggested cameras (m), up to 100 m (wall and pole cameras); "
                                       "wide, long views and many cameras over the whole town are refused over "
                                       "the work budget (GRIDMAP_BUDGET_SUGGEST, 422 over_budget)")


@router.post("/suggest", summary="k new camera sites and azimuths on walls and poles that add the most coverage, "
                                 "weighted by incidents (greedy maximal covering)",
             response_class=GeoJSONResponse, responses=answer(FeatureCollection[SiteProps]))
async def suggest(request: Request, _: Viewer, body: Annotated[SuggestIn, Body()]) -> Response:
    """Runs in a worker thread (api/heavy.py, ``run_heavy``), its work budget checked before any view is
    cast (geo/budgets.py)."""
    settings = request.app.state.settings
    fc = await run_heavy(request, _suggest, request.app.state.engine, settings, Budgets.from_settings(settings), body)
    return Response(fc, media_type=GEOJSON)


def _suggest(engine: Engine, settings: Settings, budgets: Budgets, body: SuggestIn) -> bytes:
    with reading(engine) as conn:
        return json_bytes(coverage_service.suggest_sites(conn, k=body.k, grid_code=body.grid, hfov_deg=body.hfov_deg,
                                                         range_m=body.range_m, budgets=budgets,
                                                         metric_crs=settings.metric_crs))
