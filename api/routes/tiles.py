"""Vector tiles (MVT) of the layers, with OGC API – Tiles metadata, TileJSON 3.0 and a MapLibre style.

- ``GET /tiles``: the tilesets; ``GET /tiles/{layer}``: one tileset (OGC API – Tiles);
  ``GET /tiles/tileMatrixSets/WebMercatorQuad``: the tile matrix set.
- ``GET /tiles/{layer}/{z}/{x}/{y}.mvt`` (XYZ numbering; the OGC form
  ``/tiles/{layer}/WebMercatorQuad/{z}/{y}/{x}`` is the same tile): made by PostGIS
  (:mod:`geo.store.tiles`). An empty tile is **204 No Content** (always, with its ETag).
- ``GET /tiles/{layer}/tilejson.json``, ``GET /tiles/style.json``: for MapLibre, QGIS and others.

Every route needs the viewer role, like ``/v1`` (a Bearer key or the maps' session cookie).

Caching: the ETag is a hash of what the tile shows (:func:`geo.tiles.tile_etag`: layer, address,
parameters, the change counters of the tables the layer reads, the plan's id and version); a request
whose ``If-None-Match`` matches is answered 304 before the tile is built. ``Cache-Control: private,
max-age=0, must-revalidate``: the data is behind a key, so no shared cache may keep it, and a browser
asks again each time (a 304 costs two indexed row reads), so an edit shows at once.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response

from api.deps import ConnDep, Viewer, with_conn
from api.params import csv_list, parse_at
from api.schemas import Open, answer
from geo import tiles
from geo.errors import BadInput
from geo.store import queries
from geo.store import tiles as tile_store
from geo.vocabulary import INCIDENT_CATEGORIES

router = APIRouter(prefix="/tiles", tags=["tiles"])

CACHE_CONTROL = "private, max-age=0, must-revalidate"
TILE_PATH = "/tiles/{layer}/{z}/{x}/{y}.mvt"

PlanParam = Query(default=None, description="plan id (grids, gaps); default: the published plan")
DatetimeParam = Query(default=None, description="incidents: occurred_at in an instant or interval "
                      "(2026-03-01/2026-03-31, ../2026-03-31, 2026-03-01/..)")
CategoryParam = Query(description="incidents: one or more categories, comma-separated or repeated")


def _number(name: str, raw: str) -> int:
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9):
        raise tiles.BadTile(f"{name}={raw[:12]!r} is not a tile number: z from {tiles.MIN_ZOOM} to {tiles.MAX_ZOOM}, "
                            "x and y from 0 to 2^z - 1 (e.g. /tiles/grids/16/53354/24698.mvt)",
                            details={name: raw[:12]})
    return int(raw)


def _interval(value: str | None) -> tuple[Any, Any, list[tuple[str, str]]]:
    if not value:
        return None, None, []
    start_s, sep, end_s = value.partition("/")
    if not sep:
        end_s = start_s
    start = parse_at(None if start_s in ("", "..") else start_s, field="datetime")
    end = parse_at(None if end_s in ("", "..") else end_s, field="datetime")
    if start and end and end < start:
        raise BadInput(f"datetime={value[:40]!r} ends before it starts: give start/end in that order",
                       details={"field": "datetime"})
    key = [("start", start.isoformat() if start else ".."), ("end", end.isoformat() if end else "..")]
    return start, end, key


def _categories(values: list[str] | None) -> list[str] | None:
    cats = csv_list(values)
    if cats is None:
        return None
    unknown = [c for c in cats if c not in INCIDENT_CATEGORIES]
    if unknown:
        raise BadInput(f"unknown incident category {unknown[0][:24]!r}: the categories are "
                       f"{', '.join(INCIDENT_CATEGORIES)}", details={"field": "category"})
    return sorted(set(cats))


def _tile(conn: Any, request: Request, layer: str, z_s: str, x_s: str, y_s: str, plan: int | None,
          datetime: str | None, category: list[str] | None) -> Response:
    lay = tiles.layer(layer)
    z, x, y = _number("z", z_s), _number("x", x_s), _number("y", y_s)
    tiles.check_tile(z, x, y)
    key: list[tuple[str, str]] = []
    start = end = cats = None
    if "datetime" in lay.params:
        start, end, key = _interval(datetime)
        cats = _categories(category)
        if cats:
            key.append(("category", ",".join(cats)))
    context = tile_store.tile_context(conn, lay.tables, plan=lay.plan, plan_id=plan)  # before the tile's rows
    plan_row = context.plan
    etag = tiles.tile_etag(lay, z, x, y, versions=context.versions, params=key,
                           plan=(plan_row["id"], plan_row["version"]) if plan_row else None)
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if tiles.etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    body = tile_store.mvt(conn, lay.name, z, x, y, plan_id=plan_row["id"] if plan_row else None,
                          start=start, end=end, categories=cats, context=context)
    if not body:
        return Response(status_code=204, headers=headers)
    return Response(body, media_type=tiles.MVT_MEDIA_TYPE, headers=headers)


_TILE_DOC = dict(
    response_class=Response,
    responses={200: {"content": {tiles.MVT_MEDIA_TYPE: {}}, "description": "the tile"},
               204: {"description": "an empty tile (no features there)"},
               304: {"description": "not modified (If-None-Match matched the ETag)"},
               400: {"description": "z/x/y outside WebMercatorQuad (the message names the range)"},
               404: {"description": "no such layer (the message names the layers)"}},
)


@router.get("/{layer}/{z}/{x}/{y}.mvt", summary="A vector tile (XYZ numbering, WebMercatorQuad)", **_TILE_DOC)
async def tile(request: Request, _: Viewer, layer: str, z: str, x: str, y: str,
               plan: int | None = PlanParam, datetime: str | None = DatetimeParam,
               category: Annotated[list[str] | None, CategoryParam] = None) -> Response:
    return await with_conn(request, _tile, request, layer, z, x, y, plan, datetime, category)


@router.get("/{layer}/WebMercatorQuad/{z}/{y}/{x}", summary="The same tile, OGC API – Tiles path (row, then column)",
            **_TILE_DOC)
async def ogc_tile(request: Request, _: Viewer, layer: str, z: str, y: str, x: str,
                   plan: int | None = PlanParam, datetime: str | None = DatetimeParam,
                   category: Annotated[list[str] | None, CategoryParam] = None) -> Response:
    return await with_conn(request, _tile, request, layer, z, x, y, plan, datetime, category)


# ------------------------------------------------------------------------------------------ metadata


class VectorLayerInfo(Open):
    id: str
    fields: dict[str, str]
    minzoom: int
    maxzoom: int


class TileJSON(Open):
    """TileJSON 3.0.0."""

    tilejson: str
    tiles: list[str]
    minzoom: int
    maxzoom: int
    bounds: list[float]
    vector_layers: list[VectorLayerInfo]


class Link(Open):
    rel: str
    href: str
    type: str | None = None


class Tileset(Open):
    """An OGC API – Tiles tileset description."""

    title: str
    dataType: str
    crs: str
    tileMatrixSetURI: str
    links: list[Link]


class Tilesets(Open):
    tilesets: list[Tileset]
    links: list[Link]


class TileMatrixSet(Open):
    """OGC Two Dimensional Tile Matrix Set 2.0."""

    id: str
    crs: str
    tileMatrices: list[dict[str, Any]]


class Style(Open):
    """A MapLibre style (version 8)."""

    version: int
    sources: dict[str, Any]
    layers: list[dict[str, Any]]


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _query(**params: object) -> str:
    kept = {k: v for k, v in params.items() if v not in (None, "", [])}
    return ("?" + urlencode(kept, doseq=True)) if kept else ""


def _tile_url(request: Request, lay: tiles.TileLayer, **params: object) -> str:
    wanted = {k: v for k, v in params.items() if (k == "plan" and lay.plan) or k in lay.params}
    return f"{_base(request)}/tiles/{lay.name}/{{z}}/{{x}}/{{y}}.mvt{_query(**wanted)}"


def _town_bounds(conn: Any) -> list[float]:
    b = queries.bounds(conn)
    return list(b) if b else [-180.0, -85.0511287798066, 180.0, 85.0511287798066]


def tilejson(request: Request, conn: Any, lay: tiles.TileLayer, **params: object) -> dict[str, Any]:
    bounds = _town_bounds(conn)
    return {
        "tilejson": "3.0.0", "name": lay.name, "description": lay.description, "scheme": "xyz",
        "tiles": [_tile_url(request, lay, **params)],
        "minzoom": lay.minzoom, "maxzoom": lay.maxzoom, "bounds": bounds,
        "center": [(bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2, max(lay.minzoom, 15)],
        "vector_layers": [{"id": v.id, "description": v.description, "fields": dict(v.fields),
                           "minzoom": max(v.minzoom, lay.minzoom), "maxzoom": min(v.maxzoom, lay.maxzoom)}
                          for v in lay.vector_layers],
    }


def _tileset(request: Request, lay: tiles.TileLayer) -> dict[str, Any]:
    base = _base(request)
    return {
        "title": lay.title, "description": lay.description, "dataType": "vector",
        "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
        "tileMatrixSetURI": "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
        "layers": [{"id": v.id, "dataType": "vector", "geometryDimension": 0 if lay.geometry == "point" and
                    v.id in ("cameras", "incidents", "incident_clusters") else 2} for v in lay.vector_layers],
        "links": [
            {"rel": "self", "type": "application/json", "href": f"{base}/tiles/{lay.name}"},
            {"rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme", "type": "application/json",
             "href": f"{base}/tiles/tileMatrixSets/WebMercatorQuad"},
            {"rel": "item", "type": tiles.MVT_MEDIA_TYPE, "templated": True,
             "href": f"{base}/tiles/{lay.name}/WebMercatorQuad/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"},
            {"rel": "describedby", "type": "application/json", "href": f"{base}/tiles/{lay.name}/tilejson.json",
             "title": "TileJSON 3.0"},
        ],
    }


@router.get("", summary="The tilesets (OGC API – Tiles)", responses=answer(Tilesets))
def tilesets(request: Request, _: Viewer) -> dict[str, Any]:
    base = _base(request)
    return {"tilesets": [_tileset(request, lay) for lay in tiles.LAYERS.values()],
            "links": [{"rel": "self", "type": "application/json", "href": f"{base}/tiles"},
                      {"rel": "stylesheet", "type": "application/vnd.mapbox.style+json",
                       "href": f"{base}/tiles/style.json", "title": "MapLibre style of every layer"}]}


@router.get("/tileMatrixSets/WebMercatorQuad", summary="The WebMercatorQuad tile matrix set (OGC 2DTMS)",
            responses=answer(TileMatrixSet))
def tile_matrix_set(_: Viewer) -> dict[str, Any]:
    return tiles.web_mercator_quad()


@router.get("/style.json", summary="A MapLibre style of every layer (no glyphs, sprites or basemap: works offline)",
            responses=answer(Style))
def style(request: Request, conn: ConnDep, _: Viewer, plan: int | None = PlanParam,
          datetime: str | None = DatetimeParam, category: Annotated[list[str] | None, CategoryParam] = None
          ) -> dict[str, Any]:
    params = {"plan": plan, "datetime": datetime, "category": csv_list(category)}
    sources = {}
    for lay in tiles.LAYERS.values():
        tj = tilejson(request, conn, lay, **params)
        sources[lay.name] = {"type": "vector", "tiles": tj["tiles"], "minzoom": tj["minzoom"],
                             "maxzoom": tj["maxzoom"], "bounds": tj["bounds"]}
    bounds = _town_bounds(conn)
    return {
        "version": 8, "name": "gridmap",
        "center": [(bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2], "zoom": 15,
        "metadata": {"gridmap:bounds": bounds},
        "sources": sources,
        "layers": STYLE_LAYERS,
    }


@router.get("/{layer}/tilejson.json", summary="TileJSON 3.0 of a layer", responses=answer(TileJSON))
def layer_tilejson(request: Request, conn: ConnDep, _: Viewer, layer: str, plan: int | None = PlanParam,
                   datetime: str | None = DatetimeParam,
                   category: Annotated[list[str] | None, CategoryParam] = None) -> dict[str, Any]:
    return tilejson(request, conn, tiles.layer(layer), plan=plan, datetime=datetime, category=csv_list(category))


@router.get("/{layer}", summary="One tileset (OGC API – Tiles)", responses=answer(Tileset))
def tileset(request: Request, _: Viewer, layer: str) -> dict[str, Any]:
    return _tileset(request, tiles.layer(layer))


_STATUS_COLOURS = ["match", ["get", "status"], "online", "#1a9850", "offline", "#777777", "fault", "#d73027", "#444444"]

#: The style's layers, bottom to top: fills and lines only, circles for points (no text: no glyphs needed).
STYLE_LAYERS: list[dict[str, Any]] = [
    {"id": "background", "type": "background", "paint": {"background-color": "#f2f0eb"}},
    {"id": "communities-fill", "type": "fill", "source": "communities", "source-layer": "communities",
     "paint": {"fill-color": "#e6e1d3", "fill-opacity": 0.6}},
    {"id": "grids-fill", "type": "fill", "source": "grids", "source-layer": "grids",
     "paint": {"fill-color": ["interpolate", ["linear"], ["get", "households"],
                              0, "#f7fbff", 200, "#9ecae1", 300, "#3182bd", 400, "#08519c"],
               "fill-opacity": 0.45}},
    {"id": "grids-line", "type": "line", "source": "grids", "source-layer": "grids",
     "paint": {"line-color": "#08306b", "line-width": ["interpolate", ["linear"], ["zoom"], 13, 0.5, 18, 2]}},
    {"id": "communities-line", "type": "line", "source": "communities", "source-layer": "communities",
     "paint": {"line-color": "#5b3a1a", "line-width": 2.5}},
    {"id": "gaps-fill", "type": "fill", "source": "gaps", "source-layer": "gaps",
     "paint": {"fill-color": "#e31a1c", "fill-opacity": 0.35}},
    {"id": "buildings-fill", "type": "fill", "source": "buildings", "source-layer": "buildings",
     "paint": {"fill-color": "#bdbdbd", "fill-outline-color": "#636363"}},
    {"id": "camera-views-fill", "type": "fill", "source": "cameras", "source-layer": "camera_views",
     "minzoom": tiles.CAMERA_VIEWS_MINZOOM, "paint": {"fill-color": _STATUS_COLOURS, "fill-opacity": 0.18}},
    {"id": "cameras-circle", "type": "circle", "source": "cameras", "source-layer": "cameras",
     "paint": {"circle-color": _STATUS_COLOURS, "circle-radius": ["interpolate", ["linear"], ["zoom"], 14, 1.5, 19, 5],
               "circle-stroke-color": "#ffffff", "circle-stroke-width": 0.5}},
    {"id": "incident-clusters-circle", "type": "circle", "source": "incidents", "source-layer": "incident_clusters",
     "maxzoom": tiles.INCIDENT_POINTS_MINZOOM,
     "paint": {"circle-color": "#fd8d3c", "circle-opacity": 0.8, "circle-stroke-color": "#7f2704",
               "circle-stroke-width": 1,
               "circle-radius": ["interpolate", ["linear"], ["get", "count"], 1, 3, 10, 6, 100, 12, 1000, 22]}},
    {"id": "incidents-circle", "type": "circle", "source": "incidents", "source-layer": "incidents",
     "minzoom": tiles.INCIDENT_POINTS_MINZOOM,
     "paint": {"circle-color": ["match", ["get", "status"], "closed", "#969696", "#f03b20"],
               "circle-radius": 3, "circle-stroke-color": "#ffffff", "circle-stroke-width": 0.5}},
]
