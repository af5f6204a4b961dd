"""Heatmaps, Gi* hotspots and the monthly briefing for the command centre (viewer role)."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Annotated, Any, Literal

import numpy as np
import shapely
from fastapi import APIRouter, Query, Response
from fastapi.responses import HTMLResponse
from sqlalchemy import Connection, text

from api.deps import ConnDep, SettingsDep, Viewer
from api.routes.incidents import _list
from api.routes.lookup import TOWN_TZ, parse_at
from geo import hotspots, incidents, reports
from geo.errors import BadInput
from geo.store import queries
from maps import report as report_page

router = APIRouter(prefix="/v1", tags=["analysis"])

Categories = Annotated[list[str] | None, Query(description="one or more categories (comma-separated or repeated)")]
From = Annotated[str | None, Query(alias="from", description="occurred at or after (ISO date/time)")]
To = Annotated[str | None, Query(alias="to", description="occurred before (ISO date/time)")]


def _window(start: str | None, end: str | None) -> tuple[dt.datetime | None, dt.datetime | None]:
    s, e = parse_at(start), parse_at(end)
    if s and e and e <= s:
        raise BadInput(f"to={end} is not after from={start}; give a window with from < to")
    return s, e


def _utc_naive(when: dt.datetime) -> np.datetime64:
    return np.datetime64(when.astimezone(dt.timezone.utc).replace(tzinfo=None), "s")


def _mask(conn: Connection) -> Any:
    wkb = conn.execute(text("SELECT ST_AsBinary(ST_Union(geom)) FROM community")).scalar()
    return shapely.from_wkb(bytes(wkb)) if wkb is not None else None


def _metric_bounds(mask: Any) -> tuple[float, float, float, float] | None:
    """The communities' extent in metres: every heatmap of the town shares one lattice."""
    if mask is None:
        return None
    xy = shapely.get_coordinates(mask)
    x, y = hotspots.project(lon=xy[:, 0], lat=xy[:, 1])
    return float(x.min()), float(y.min()), float(x.max()), float(y.max())


@router.get("/heatmap", summary="Kernel density of incidents (metres), as weighted points, a PNG, or weekly frames")
def heatmap(
    conn: ConnDep, _: Viewer, start: From = None, end: To = None, category: Categories = None,
    bandwidth_m: Annotated[float, Query(ge=1, le=2000, description="Gaussian kernel sigma, metres")] = 50.0,
    cell_m: Annotated[float, Query(ge=1, le=500, description="lattice cell, metres")] = 10.0,
    format: Annotated[Literal["points", "png", "weekly"], Query(
        description="points: [lat, lon, value] for Leaflet.heat; png: an image overlay (base64) with bounds; "
                    "weekly: one frame of points per week, on one lattice, for an animated view")] = "points",
    min_fraction: Annotated[float, Query(ge=0, lt=1)] = 0.02,
) -> dict[str, Any]:
    s, e = _window(start, end)
    cats = _list(category)
    lon, lat, t, _ = incidents.points(conn, start=s, end=e, categories=cats)
    bounds = _metric_bounds(_mask(conn))
    common = {"from": s.isoformat() if s else None, "to": e.isoformat() if e else None, "categories": cats,
              "bandwidth_m": bandwidth_m, "cell_m": cell_m, "crs": "EPSG:4547", "n_incidents": int(len(lon))}
    if format == "weekly":
        if len(t) == 0:
            return {**common, "frames": []}
        first = (s or dt.datetime.fromtimestamp(int(t.min().astype("int64")), dt.timezone.utc)).astimezone(TOWN_TZ)
        last = e or dt.datetime.fromtimestamp(int(t.max().astype("int64")) + 1, dt.timezone.utc)
        # Weeks start on Monday 00:00 town time; frames are labelled with that Monday's date.
        monday = (first - dt.timedelta(days=first.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
        frames = hotspots.weekly_series(lon=lon, lat=lat, t=t, start=_utc_naive(monday), end=_utc_naive(last),
                                        bandwidth_m=bandwidth_m, cell_m=cell_m, bounds_m=bounds)
        vmax = max((float(g.density.max()) for _, g in frames), default=0.0) or None
        return {**common, "bounds": frames[0][1].wgs84_bounds if frames else None, "vmax": vmax,
                "frames": [{"week": (monday + dt.timedelta(days=7 * k)).date().isoformat(), "n": int(g.n_points),
                            "points": g.to_points(min_fraction, vmax=vmax)} for k, (_, g) in enumerate(frames)]}
    grid = hotspots.kde(lon=lon, lat=lat, bandwidth_m=bandwidth_m, cell_m=cell_m, bounds_m=bounds)
    out = {**common, "bounds": grid.wgs84_bounds, "max_density_per_km2": float(grid.density.max()) * 1e6}
    if format == "png":
        out["png"] = "data:image/png;base64," + base64.b64encode(grid.to_png()).decode()
    else:
        out["points"] = grid.to_points(min_fraction)
    return out


def _hotspot_result(conn: Connection, *, start: dt.datetime | None, end: dt.datetime | None,
                    categories: list[str] | None, **kwargs: Any) -> hotspots.HotspotResult:
    lon, lat, _, _ = incidents.points(conn, start=start, end=end, categories=categories)
    return hotspots.hotspots(lon=lon, lat=lat, mask=_mask(conn), **kwargs)


@router.get("/hotspots", summary="Getis–Ord Gi* hot and cold spots on metric cells (GeoJSON, weights stated)")
def hotspot_cells(
    conn: ConnDep, _: Viewer, start: From = None, end: To = None, category: Categories = None,
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
) -> Response:
    s, e = _window(start, end)
    cats = _list(category)
    kwargs = {"cell_m": cell_m, "shape": shape, "weights_kind": weights, "threshold_m": threshold_m, "k": k,
              "transform": transform, "fdr": fdr}
    result = _hotspot_result(conn, start=s, end=e, categories=cats, **kwargs)
    fc = result.to_geojson()
    fc.update({"from": s.isoformat() if s else None, "to": e.isoformat() if e else None, "categories": cats})
    if periods >= 2:
        if not (s and e):
            raise BadInput("emerging hot spots need a window: give from= and to= with periods=")
        edges = [s + (e - s) * i / periods for i in range(periods + 1)]
        series = [incidents.points(conn, start=a, end=b, categories=cats)[:2] for a, b in zip(edges, edges[1:])]
        labels = hotspots.emerging(periods=series, lattice_=result.lattice,
                                   **{k_: v for k_, v in kwargs.items() if k_ not in ("cell_m", "fdr")})
        for f, label in zip(fc["features"], labels):
            f["properties"]["emerging"] = label
        fc["emerging"] = {"periods": [[a.isoformat(), b.isoformat()] for a, b in zip(edges, edges[1:])]}
    return Response(json.dumps(fc, ensure_ascii=False), media_type="application/geo+json")


@router.get("/reports/monthly", summary="The monthly briefing per grid (JSON)")
def monthly_report(conn: ConnDep, settings: SettingsDep, _: Viewer,
                   month: Annotated[str, Query(description="YYYY-MM")]) -> dict[str, Any]:
    return reports.monthly(conn, month=month, settings=settings)


@router.get("/reports/monthly.html", response_class=HTMLResponse,
            summary="The monthly briefing as a printable page with a map picture and a chart")
def monthly_report_html(conn: ConnDep, settings: SettingsDep, _: Viewer,
                        month: Annotated[str, Query(description="YYYY-MM")]) -> HTMLResponse:
    data = reports.monthly(conn, month=month, settings=settings)
    m = reports.Month.parse(month)
    previous = reports.monthly(conn, month=str(m.previous()), settings=settings)
    lon, lat, _, cats = incidents.points(conn, start=m.start(), end=m.next().start())
    hot = _hotspot_result(conn, start=m.start(), end=m.next().start(), categories=None).to_geojson() \
        if len(lon) >= 3 else None
    plan = queries.resolve_plan(conn, plan_id=(data.get("plan") or {}).get("id"))
    map_src = report_page.map_png(
        communities=json.loads(queries.communities_geojson(conn)),
        grids=json.loads(queries.grids_geojson(conn, plan_id=plan["id"])),
        incidents=list(zip(lon.tolist(), lat.tolist(), cats)), hot_cells=hot,
        title=f"高山镇 {data['month']} 事件与热点 incidents and hot spots")
    chart_src = report_page.chart_png(report=data, previous=previous)
    return HTMLResponse(report_page.monthly_html(report=data, previous=previous, map_src=map_src,
                                                 chart_src=chart_src))
