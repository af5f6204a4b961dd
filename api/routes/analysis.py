"""Heatmaps, Gi* hotspots and the monthly briefing for the command centre (viewer role).

Every route here is CPU-heavy: it checks its parameters on the event loop, then does the work (reading
the incidents, the analysis, encoding the answer) in a worker thread through :func:`run_heavy`, with
the deployment's work budgets (geo/budgets.py) checked before the analysis starts.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Annotated, Any, Literal

import numpy as np
import orjson
import shapely
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy import Connection, Engine

from api.deps import Viewer
from api.heavy import run_heavy
from api.params import TOWN_TZ, csv_list, lonlat_bbox, window
from api.responses import JSON, GeoJSONResponse, json_bytes
from api.schemas import Heatmap, Hotspots, MonthlyReport, answer
from geo import analysis, incidents, reports
from geo.budgets import Budgets, Pacer
from geo.config import Settings
from geo.crs import require_metric
from geo.errors import BadInput
from geo.store import queries
from geo.store.boxes import Box
from geo.store.db import reading
from maps import report as report_page
from maps.heatmap_png import kde_png

router = APIRouter(prefix="/v1", tags=["analysis"])

Categories = Annotated[list[str] | None, Query(description="one or more categories (comma-separated or repeated)")]
From = Annotated[str | None, Query(alias="from", description="occurred at or after (ISO date/time)")]
To = Annotated[str | None, Query(alias="to", description="occurred before (ISO date/time)")]
BboxParam = Annotated[str | None, Query(
    description="west,south,east,north (WGS84 lon/lat): only the incidents in this box, on a lattice of the box "
                "(cut to the communities); the map pages send the view")]


def _utc_naive(when: dt.datetime) -> np.datetime64:
    return np.datetime64(when.astimezone(dt.timezone.utc).replace(tzinfo=None), "s")


def _mask(conn: Connection, bbox: Box | None = None) -> Any:
    """The analyses' study area: the communities (WGS84), cut to *bbox* when given (a map's view; a view
    outside every community is its own study area)."""
    mask = queries.community_union(conn)
    if bbox is None or mask is None:
        return mask
    cut = shapely.intersection(mask, shapely.box(*bbox))
    return shapely.box(*bbox) if cut.is_empty else cut


def _metric_bounds(mask: Any, crs: str) -> tuple[float, float, float, float] | None:
    """The communities' extent in metres of *crs*: every heatmap of the town shares one lattice."""
    if mask is None:
        return None
    xy = shapely.get_coordinates(mask)
    x, y = analysis.project(lon=xy[:, 0], lat=xy[:, 1], crs=crs)
    return float(x.min()), float(y.min()), float(x.max()), float(y.max())


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _metric_crs(request: Request) -> str:
    """The deployment's metric CRS (``GRIDMAP_METRIC_CRS``), checked by the one rule, geo.crs.require_metric."""
    return require_metric(_settings(request).metric_crs)


def _engine(request: Request) -> Engine:
    return request.app.state.engine


@router.get("/heatmap", summary="Kernel density of incidents (metres), as weighted points, a PNG, or weekly frames",
            responses=answer(Heatmap))
async def heatmap(
    request: Request, _: Viewer, start: From = None, end: To = None, category: Categories = None,
    bandwidth_m: Annotated[float, Query(ge=1, le=2000, description="Gaussian kernel sigma, metres")] = 50.0,
    cell_m: Annotated[float, Query(ge=1, le=500, description="lattice cell, metres")] = 10.0,
    format: Annotated[Literal["points", "png", "weekly"], Query(
        description="points: [lat, lon, value] for Leaflet.heat; png: an image overlay (base64) with bounds; "
                    "weekly: one frame of points per week, on one lattice, for an animated view")] = "points",
    min_fraction: Annotated[float, Query(ge=0, lt=1)] = 0.02,
    bbox: BboxParam = None,
) -> Response:
    s, e = window(start, end)
    cats = csv_list(category)
    box = lonlat_bbox(bbox)
    body = await run_heavy(request, _heatmap, _engine(request), Budgets.from_settings(_settings(request)),
                           s=s, e=e, cats=cats, bandwidth_m=bandwidth_m, cell_m=cell_m, format=format,
                           min_fraction=min_fraction, crs=_metric_crs(request), bbox=box)
    return Response(body, media_type=JSON)


def _heatmap(engine: Engine, budgets: Budgets, *, s: dt.datetime | None, e: dt.datetime | None,
             cats: list[str] | None, bandwidth_m: float, cell_m: float, format: str, min_fraction: float,
             crs: str, bbox: Box | None = None) -> bytes:
    with reading(engine) as conn:
        lon, lat, t, _ = incidents.points(conn, start=s, end=e, categories=cats, bbox=bbox)
        bounds = _metric_bounds(_mask(conn, bbox), crs)
    common = {"from": s.isoformat() if s else None, "to": e.isoformat() if e else None, "categories": cats,
              "bbox": list(bbox) if bbox else None,
              "bandwidth_m": bandwidth_m, "cell_m": cell_m, "crs": crs, "n_incidents": int(len(lon))}
    if format == "weekly":
        if len(t) == 0:
            return json_bytes({**common, "frames": []})
        first = (s or dt.datetime.fromtimestamp(int(t.min().astype("int64")), dt.timezone.utc)).astimezone(TOWN_TZ)
        last = e or dt.datetime.fromtimestamp(int(t.max().astype("int64")) + 1, dt.timezone.utc)
        # Weeks start on Monday 00:00 town time; frames are labelled with that Monday's date.
        monday = (first - dt.timedelta(days=first.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
        frames = analysis.weekly_series(lon=lon, lat=lat, t=t, start=_utc_naive(monday), end=_utc_naive(last),
                                        bandwidth_m=bandwidth_m, cell_m=cell_m, bounds_m=bounds, crs=crs,
                                        budgets=budgets)
        vmax = max((float(g.density.max()) for _, g in frames), default=0.0) or None
        return json_bytes({**common, "bounds": frames[0][1].wgs84_bounds if frames else None, "vmax": vmax,
                           "frames": [{"week": (monday + dt.timedelta(days=7 * k)).date().isoformat(),
                                       "n": int(g.n_points), "points": g.points_array(min_fraction, vmax=vmax)}
                                      for k, (_, g) in enumerate(frames)]})
    grid = analysis.kde(lon=lon, lat=lat, bandwidth_m=bandwidth_m, cell_m=cell_m, bounds_m=bounds, crs=crs,
                        budgets=budgets)
    out: dict[str, Any] = {**common, "bounds": grid.wgs84_bounds,
                           "max_density_per_km2": float(grid.density.max()) * 1e6}
    if format == "png":
        out["png"] = "data:image/png;base64," + base64.b64encode(kde_png(grid)).decode()
    else:
        out["points"] = grid.points_array(min_fraction)
    return json_bytes(out)


def _hotspot_result(conn: Connection, *, start: dt.datetime | None, end: dt.datetime | None,
                    categories: list[str] | None, crs: str, budgets: Budgets | None = None,
                    bbox: Box | None = None, **kwargs: Any) -> analysis.HotspotResult:
    lon, lat, _, _ = incidents.points(conn, start=start, end=end, categories=categories, bbox=bbox)
    return analysis.hotspots(lon=lon, lat=lat, mask=_mask(conn, bbox), crs=crs, budgets=budgets, **kwargs)


#: Cells per slice of a hot-spot answer (built, encoded and dropped before the next; ~2 ms each).
FEATURE_SLICE = 500


@router.get("/hotspots", summary="Getis–Ord Gi* hot and cold spots on metric cells (GeoJSON, weights stated)",
            response_class=GeoJSONResponse, responses=answer(Hotspots))
async def hotspot_cells(
    request: Request, _: Viewer, start: From = None, end: To = None, category: Categories = None,
    cell_m: Annotated[float, Query(ge=5, le=2000, description="cell size, metres")] = 100.0,
    shape: Annotated[Literal["square", "hex"], Query()] = "square",
    weights: Annotated[Literal["distance_band", "knn", "queen", "rook"], Query()] = "distance_band",
    threshold_m: Annotated[float | None, Query(ge=1, le=20_000,
                                               description="distance band; default 1.5 × cell_m")] = None,
    k: Annotated[int, Query(ge=1, le=50)] = 8,
    transform: Annotated[Literal["B", "R"], Query(description="B binary, R row-standardised")] = "B",
    fdr: Annotated[bool, Query(description="Benjamini–Hochberg false-discovery-rate correction")] = False,
    periods: Annotated[int, Query(ge=0, le=24, description="with ≥ 2: label emerging hot spots over this many "
                                                          "equal periods of the window")] = 0,
    bbox: BboxParam = None,
) -> Response:
    s, e = window(start, end)
    cats = csv_list(category)
    box = lonlat_bbox(bbox)
    if periods >= 2 and not (s and e):
        raise BadInput("emerging hot spots need a window: give from= and to= with periods=")
    kwargs = {"cell_m": cell_m, "shape": shape, "weights_kind": weights, "threshold_m": threshold_m, "k": k,
              "transform": transform, "fdr": fdr, "crs": _metric_crs(request), "bbox": box}
    body = await run_heavy(request, _hotspots, _engine(request), Budgets.from_settings(_settings(request)),
                           s=s, e=e, cats=cats, periods=periods, kwargs=kwargs)
    return Response(body, media_type="application/geo+json")


def _hotspots(engine: Engine, budgets: Budgets, *, s: dt.datetime | None, e: dt.datetime | None,
              cats: list[str] | None, periods: int, kwargs: dict[str, Any]) -> bytes:
    with reading(engine) as conn:
        if periods >= 2:  # the emerging budget before any Gi*
            cells = analysis.estimate_cells(cell_m=kwargs["cell_m"], shape=kwargs["shape"], mask=_mask(conn, kwargs["bbox"]),
                                            crs=kwargs["crs"])
            analysis.check_emerging_budget(budgets, cells=cells, periods=periods, cell_m=kwargs["cell_m"])
        result = _hotspot_result(conn, start=s, end=e, categories=cats, budgets=budgets, **kwargs)
        labels: list[str] | None = None
        fc = result.to_geojson(features=False)
        fc.update({"from": s.isoformat() if s else None, "to": e.isoformat() if e else None, "categories": cats,
                   "bbox": list(kwargs["bbox"]) if kwargs["bbox"] else None})
        if periods >= 2:
            assert s and e
            edges = [s + (e - s) * i / periods for i in range(periods + 1)]
            series = [incidents.points(conn, start=a, end=b, categories=cats, bbox=kwargs["bbox"])[:2] for a, b in zip(edges, edges[1:])]
            labels = analysis.emerging(periods=series, lattice_=result.lattice, budgets=budgets,
                                       **{k_: v for k_, v in kwargs.items() if k_ not in ("cell_m", "fdr", "bbox")})
            fc["emerging"] = {"periods": [[a.isoformat(), b.isoformat()] for a, b in zip(edges, edges[1:])]}
    head = json_bytes(fc)
    parts = [head[:-1], b',"features":[']
    pace = Pacer()
    for start in range(0, result.lattice.n, FEATURE_SLICE):
        pace()
        features = result.features(start, start + FEATURE_SLICE)
        if labels is not None:
            for f in features:
                f["properties"]["emerging"] = labels[f["id"]]
        parts.append((b"," if start else b"") + orjson.dumps(features)[1:-1])
    parts.append(b"]}")
    return b"".join(parts)


@router.get("/reports/monthly", summary="The monthly briefing per grid (JSON)", responses=answer(MonthlyReport))
async def monthly_report(request: Request, _: Viewer,
                         month: Annotated[str, Query(description="YYYY-MM")]) -> Response:
    reports.Month.parse(month)
    body = await run_heavy(request, _monthly, _engine(request), _settings(request), month)
    return Response(body, media_type=JSON)


def _monthly(engine: Engine, settings: Settings, month: str) -> bytes:
    with reading(engine) as conn:
        return json_bytes(reports.monthly(conn, month=month, settings=settings))


@router.get("/reports/monthly.html", response_class=HTMLResponse,
            summary="The monthly briefing as a printable page with a map picture and a chart")
async def monthly_report_html(request: Request, _: Viewer,
                              month: Annotated[str, Query(description="YYYY-MM")]) -> HTMLResponse:
    reports.Month.parse(month)
    return HTMLResponse(await run_heavy(request, _monthly_html, _engine(request), _settings(request), month))


def _monthly_html(engine: Engine, settings: Settings, month: str) -> str:
    with reading(engine) as conn:
        data = reports.monthly(conn, month=month, settings=settings)
        m = reports.Month.parse(month)
        previous = reports.monthly(conn, month=str(m.previous()), settings=settings)
        lon, lat, _, cats = incidents.points(conn, start=m.start(), end=m.next().start())
        crs = require_metric(settings.metric_crs)
        hot = _hotspot_result(conn, start=m.start(), end=m.next().start(), categories=None,
                              crs=crs).to_geojson() if len(lon) >= 3 else None
        plan = queries.resolve_plan(conn, plan_id=(data.get("plan") or {}).get("id"))
        communities = json.loads(queries.communities_geojson(conn))
        grids = json.loads(queries.grids_geojson(conn, plan_id=plan["id"]))
    map_src = report_page.map_png(
        communities=communities, grids=grids,
        incidents=list(zip(lon.tolist(), lat.tolist(), cats)), hot_cells=hot, metric_crs=crs,
        title=f"高山镇 {data['month']} 事件与热点 incidents and hot spots")
    chart_src = report_page.chart_png(report=data, previous=previous)
    return report_page.monthly_html(report=data, previous=previous, map_src=map_src, chart_src=chart_src)
