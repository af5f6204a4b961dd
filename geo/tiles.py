"""Vector tiles: the WebMercatorQuad tile matrix set, the tile layers and what each tile's key is made of.

Pure: numbers and names in, numbers and names out (the SQL that builds a tile is in
:mod:`geo.store.tiles`). Tiles are numbered as XYZ (OGC WebMercatorQuad: row 0 at the north), so
``/tiles/{layer}/{z}/{x}/{y}.mvt`` is both an OGC API – Tiles tile and a plain XYZ tile.

A tile's key (its ETag) is a hash of the layer, z/x/y, the query parameters that change what it shows,
and the change counters of the tables the layer reads (``data_version``, bumped by triggers in the
writing transaction; migration 0006) plus, for plan layers, the plan's id and version. An edit of
a camera changes only the layers that read ``camera``; a publish only those that read the plan.

>>> check_tile(14, 13339, 6199)
>>> check_tile(14, 16384, 0)
Traceback (most recent call last):
...
geo.tiles.BadTile: x=16384 is outside zoom 14: x and y go from 0 to 16383 (2^14 - 1)
>>> round(pixel_size_m(14), 3)  # metres of Web Mercator per pixel of a 256-pixel tile
9.555
>>> tiles_covering((113.09378, 40.04598, 113.10622, 40.05401), 14)
[(14, 13339, 6199)]
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from geo.errors import BadInput, NotFound

#: Half the side of the Web Mercator square (EPSG:3857 metres).
ORIGIN_SHIFT = 20037508.342789244
#: Zoom levels a tile may be asked for (WebMercatorQuad defines 0..24).
MIN_ZOOM, MAX_ZOOM = 0, 24
#: MVT extent (integer coordinates per tile side) and buffer (units past the edge kept, for strokes).
EXTENT, BUFFER = 4096, 64
#: Pixels of a tile side as the TileJSON/style describe it.
TILE_PX = 256
MVT_MEDIA_TYPE = "application/vnd.mapbox-vector-tile"


class BadTile(BadInput):
    """A tile address outside the tile matrix set (HTTP 400: the URL names no tile)."""

    code = "bad_tile"


def check_tile(z: int, x: int, y: int) -> None:
    """Raise :class:`BadTile` naming the valid range when z/x/y is no WebMercatorQuad tile."""
    if not MIN_ZOOM <= z <= MAX_ZOOM:
        raise BadTile(f"zoom {z} is outside {MIN_ZOOM}..{MAX_ZOOM} (WebMercatorQuad)",
                      details={"z": z, "valid_z": [MIN_ZOOM, MAX_ZOOM]})
    last = 2 ** z - 1
    for name, v in (("x", x), ("y", y)):
        if not 0 <= v <= last:
            raise BadTile(f"{name}={v} is outside zoom {z}: x and y go from 0 to {last} (2^{z} - 1)",
                          details={"z": z, name: v, "valid": [0, last]})


def tile_width_m(z: int) -> float:
    return 2 * ORIGIN_SHIFT / 2 ** z


def pixel_size_m(z: int) -> float:
    """Web Mercator metres per pixel of a :data:`TILE_PX`-pixel tile at zoom *z* (at the equator;
    simplification tolerances are in the same projected units, so that is what counts)."""
    return tile_width_m(z) / TILE_PX


def simplify_tolerance_m(z: int) -> float:
    """ST_Simplify tolerance at zoom *z*: a quarter pixel, below what a screen shows."""
    return pixel_size_m(z) / 4


def lonlat_to_tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2 ** z
    x = int((lon + 180.0) / 360.0 * n)
    lat_r = math.radians(lat)
    y = int((1.0 - math.asinh(math.tan(lat_r)) / math.pi) / 2.0 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def tiles_covering(bounds: tuple[float, float, float, float], z: int) -> list[tuple[int, int, int]]:
    """Every (z, x, y) whose tile meets the lon/lat box (west, south, east, north)."""
    west, south, east, north = bounds
    x0, y0 = lonlat_to_tile(west, north, z)
    x1, y1 = lonlat_to_tile(east, south, z)
    return [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


# ---------------------------------------------------------------------------------------------- layers


@dataclass(frozen=True)
class VectorLayer:
    """One layer inside the MVT (TileJSON's ``vector_layers`` entry)."""

    id: str
    description: str
    #: name -> "Number" | "String" (TileJSON's words); the row's id is the MVT feature id, not a field
    fields: Mapping[str, str]
    minzoom: int = MIN_ZOOM
    maxzoom: int = MAX_ZOOM


@dataclass(frozen=True)
class TileLayer:
    """A tileset: ``/tiles/{name}/{z}/{x}/{y}.mvt``."""

    name: str
    title: str
    description: str
    #: ``data_version`` rows (tables) whose change may change a tile of this layer.
    tables: tuple[str, ...]
    vector_layers: tuple[VectorLayer, ...]
    #: Whether the layer shows one plan's grids (the published one, or ``plan=``).
    plan: bool = False
    #: Query parameters besides ``plan`` that change what a tile shows.
    params: tuple[str, ...] = ()
    geometry: str = "polygon"
    minzoom: int = 12
    maxzoom: int = 20
    extra: Mapping[str, object] = field(default_factory=dict)


#: Below this zoom incidents come as clusters (counts per cell), from it as points.
INCIDENT_POINTS_MINZOOM = 16
#: Cluster cells per tile side at low zoom (16 × 16 cells: 16 px on a 256 px tile).
INCIDENT_CELLS_PER_TILE = 16
#: From this zoom the cameras' tiles also carry their stored views (the visible polygons).
CAMERA_VIEWS_MINZOOM = 17

N, S = "Number", "String"

LAYERS: dict[str, TileLayer] = {layer.name: layer for layer in (
    TileLayer(
        "grids", "Grids", "the grids of the published plan (plan=ID: any plan) with households, population and "
        "grid member (no phone numbers)",
        tables=("grid_plan", "grid", "community", "building", "unit", "staff"), plan=True,
        vector_layers=(VectorLayer("grids", "grid polygons", {
            "code": S, "name": S, "community_code": S, "households": N, "population": N,
            "grid_member": S}),)),
    TileLayer(
        "communities", "Communities", "the resettlement communities' boundaries",
        tables=("community",), minzoom=10,
        vector_layers=(VectorLayer("communities", "community polygons", {"code": S, "name": S, "name_en": S}),)),
    TileLayer(
        "buildings", "Buildings", "building footprints", tables=("building", "community"), minzoom=14,
        vector_layers=(VectorLayer("buildings", "footprints", {
            "code": S, "name": S, "community_code": S, "floors": N, "height_m": N}),)),
    TileLayer(
        "cameras", "Cameras", f"cameras as points; from zoom {CAMERA_VIEWS_MINZOOM} their stored views "
        "(visible polygons after occlusion) as a second layer",
        tables=("camera", "camera_view"), geometry="point", minzoom=13,
        vector_layers=(
            VectorLayer("cameras", "camera positions", {
                "code": S, "name": S, "kind": S, "status": S, "mount": S, "azimuth_deg": N,
                "hfov_deg": N, "range_m": N}),
            VectorLayer("camera_views", "what each camera sees (the feature id is the camera's)", {
                "status": S, "range_level": S, "area_m2": N}, minzoom=CAMERA_VIEWS_MINZOOM),
        )),
    TileLayer(
        "gaps", "Coverage gaps", "blind spots of the online cameras in the published plan's grids (plan=ID: "
        "another plan's, where computed)",
        tables=("coverage_gap", "grid", "grid_plan"), plan=True, minzoom=14,
        vector_layers=(VectorLayer("gaps", "gap polygons", {"grid_code": S, "area_m2": N}),)),
    TileLayer(
        "incidents", "Incidents", f"incidents not voided (datetime= interval of occurred_at, category= list); "
        f"below zoom {INCIDENT_POINTS_MINZOOM} counted in {INCIDENT_CELLS_PER_TILE}×{INCIDENT_CELLS_PER_TILE} "
        "cells per tile",
        tables=("incident",), geometry="point", params=("datetime", "category"), minzoom=10,
        vector_layers=(
            VectorLayer("incident_clusters", "incidents counted per cell (the point: their mean position)",
                        {"count": N, "top_category": S}, maxzoom=INCIDENT_POINTS_MINZOOM - 1),
            VectorLayer("incidents", "one point per incident", {
                "category": S, "status": S, "severity": N, "occurred_at": S},
                minzoom=INCIDENT_POINTS_MINZOOM),
        )),
)}


def layer(name: str) -> TileLayer:
    """The tile layer called *name*; :class:`~geo.errors.NotFound` naming the layers otherwise."""
    try:
        return LAYERS[name]
    except KeyError:
        raise NotFound(f"no tile layer {name!r}: the layers are {', '.join(LAYERS)} (GET /tiles lists them)",
                       details={"layers": list(LAYERS)}) from None


def tables_read() -> tuple[str, ...]:
    """Every table some layer reads (the ``data_version`` rows a key may need)."""
    return tuple(sorted({t for lay in LAYERS.values() for t in lay.tables}))


# ----------------------------------------------------------------------------------------------- keys


def tile_etag(layer: TileLayer, z: int, x: int, y: int, *, versions: Mapping[str, int],
              plan: tuple[int, int] | None = None, params: Sequence[tuple[str, str]] = ()) -> str:
    """The tile's entity tag (weak: the gzip'd and plain bodies are the same tile), a hash of what the
    tile shows: layer, address, normalised parameters, the counters of *layer*'s tables in *versions*
    (plus ``epoch``, the schema's random number) and the plan's (id, version)."""
    parts = [f"{layer.name}/{z}/{x}/{y}", f"epoch={versions.get('epoch', 0)}"]
    parts += [f"{t}={versions[t]}" for t in layer.tables]
    if plan is not None:
        parts.append(f"plan={plan[0]}.{plan[1]}")
    parts += [f"{k}={v}" for k, v in sorted(params)]
    digest = hashlib.blake2b("\n".join(parts).encode(), digest_size=12).hexdigest()
    return f'W/"{digest}"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110's weak comparison of *etag* with an ``If-None-Match`` header (a list, or ``*``)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == bare for tag in _split_tags(if_none_match))


def _split_tags(header: str) -> Iterator[str]:
    out, inside = [], False
    for ch in header:
        if ch == '"':
            inside = not inside
        if ch == "," and not inside:
            yield "".join(out)
            out = []
        else:
            out.append(ch)
    if out:
        yield "".join(out)


# ------------------------------------------------------------------------------------- tile matrix set


def web_mercator_quad() -> dict[str, object]:
    """The OGC Two Dimensional Tile Matrix Set (2DTMS 2.0) description of WebMercatorQuad."""
    matrices = []
    for z in range(MIN_ZOOM, MAX_ZOOM + 1):
        n = 2 ** z
        matrices.append({
            "id": str(z), "scaleDenominator": 559082264.0287178 / n, "cellSize": 156543.03392804097 / n,
            "cornerOfOrigin": "topLeft", "pointOfOrigin": [-ORIGIN_SHIFT, ORIGIN_SHIFT],
            "tileWidth": TILE_PX, "tileHeight": TILE_PX, "matrixWidth": n, "matrixHeight": n,
        })
    return {
        "id": "WebMercatorQuad", "title": "Google Maps Compatible for the World",
        "uri": "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
        "crs": "http://www.opengis.net/def/crs/EPSG/0/3857", "orderedAxes": ["X", "Y"],
        "wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
        "tileMatrices": matrices,
    }
