"""The GeoJSON the map pages embed, and the layers they draw it with.

Every page embeds slimmed copies of the API's FeatureCollections (WGS84): only
the properties it shows, coordinates rounded. The pages with a script draw them
as folium ``GeoJson`` layers the script finds by ``options.gmLayer`` (folium
passes ``gm_layer=...`` through as a Leaflet option; see
``maps/static/gridmap/common.js``).

- :func:`features` checks a FeatureCollection and gives its features that have a geometry;
- :func:`slim` keeps only some properties and rounds the coordinates (:func:`round_geometry`);
- :func:`grid_label`, :func:`add_grid_labels`, :func:`add_label_points`: the grid
  number, and a point inside each grid to put it at;
- :func:`gm_geojson`: a ``GeoJson`` layer of features with a ``gmLayer`` (the editor's; the by-view pages use :func:`maps.byview.geojson_layer`).

Examples
--------
>>> from shapely.geometry import box, mapping
>>> fc = {"type": "FeatureCollection", "features": [
...     {"type": "Feature", "geometry": mapping(box(113.1, 40.05, 113.1000001234, 40.06)),
...      "properties": {"code": "140214101001007", "name": "第7网格", "households": 230}},
...     {"type": "Feature", "geometry": None, "properties": {"code": "140214101001008"}}]}
>>> [grid] = add_grid_labels(slim(fc, ("code", "name", "population"), "grids"))
>>> grid["id"], grid["properties"]["label"], grid["properties"]["population"]
('140214101001007', '007', None)
>>> grid["geometry"]["coordinates"][0][0]
[113.1, 40.05]
>>> slim(fc, ("code", "population"), "grids", ndigits=7, keep_missing=False)[0]["properties"]
{'code': '140214101001007'}
>>> features([], "grids")
Traceback (most recent call last):
...
ValueError: grids must be a GeoJSON FeatureCollection dict, got list
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import folium
from shapely.geometry import shape


__all__ = [
    "add_grid_labels",
    "add_label_points",
    "feature_collection",
    "features",
    "gm_geojson",
    "grid_label",
    "round_geometry",
    "slim",
]


def _round_coords(coords: Any, ndigits: int) -> Any:
    if isinstance(coords, (int, float)):
        return round(float(coords), ndigits)
    return [_round_coords(c, ndigits) for c in coords]


def round_geometry(geom: dict | None, ndigits: int = 6) -> dict | None:
    """A copy of a GeoJSON geometry with coordinates rounded to *ndigits* decimals (6: about 0.1 m)."""
    if geom is None:
        return None
    if geom.get("type") == "GeometryCollection":
        return {"type": "GeometryCollection", "geometries": [round_geometry(g, ndigits) for g in geom["geometries"]]}
    return {"type": geom["type"], "coordinates": _round_coords(geom["coordinates"], ndigits)}


def features(fc: dict, what: str) -> list[dict]:
    """The features of FeatureCollection *fc* that have a geometry; ValueError naming *what* if *fc* is none."""
    if not isinstance(fc, dict) or fc.get("type") != "FeatureCollection":
        raise ValueError(f"{what} must be a GeoJSON FeatureCollection dict, got {type(fc).__name__}")
    return [f for f in fc.get("features") or [] if f.get("geometry")]


def feature_collection(feats: list[dict]) -> dict:
    return {"type": "FeatureCollection", "features": feats}


def slim(fc: dict, fields: tuple[str, ...], what: str, *, ndigits: int = 6, keep_missing: bool = True) -> list[dict]:
    """The features of *fc* with only the properties *fields*, coordinates rounded to *ndigits* decimals.

    Each feature's ``id`` is its ``code`` (``<what>-<position>`` without one). A field
    the feature lacks is None, or left out when *keep_missing* is false.
    """
    out = []
    for i, f in enumerate(features(fc, what)):
        props = f.get("properties") or {}
        code = props.get("code")
        out.append(
            {
                "type": "Feature",
                "id": str(code) if code is not None else f"{what}-{i}",
                "properties": {k: props.get(k) for k in fields if keep_missing or k in props},
                "geometry": round_geometry(f["geometry"], ndigits),
            }
        )
    return out


def grid_label(code: Any) -> str:
    """The grid number shown on the map: the last 3 digits of a 15-digit grid code, other codes as they are."""
    code = str(code)
    return code[-3:] if len(code) == 15 and code.isdigit() else code


def add_label_points(grids: list[dict]) -> list[dict]:
    """Adds ``label_lon``/``label_lat`` to each grid: a point inside it (shapely's representative point)."""
    for f in grids:
        geom = shape(f["geometry"])
        if not geom.is_empty:
            pt = geom.representative_point()
            f["properties"]["label_lon"], f["properties"]["label_lat"] = round(pt.x, 6), round(pt.y, 6)
    return grids


def add_grid_labels(grids: list[dict]) -> list[dict]:
    """Adds ``label`` (:func:`grid_label` of the code) and the point to put it at (:func:`add_label_points`)."""
    for f in grids:
        f["properties"]["label"] = grid_label(f["properties"].get("code"))
    return add_label_points(grids)


def gm_geojson(
    feats: list[dict], *, gm_layer: str, style: dict | Callable[[dict], dict], **options: Any
) -> folium.GeoJson:
    """A folium ``GeoJson`` of *feats* that the page script finds by ``options.gmLayer == gm_layer``.

    *style* is the Leaflet path style of every feature, or a function of the feature
    giving it; *options* go to ``folium.GeoJson`` (``name``, ``control``, ``pane``,
    ``interactive``, ...).
    """
    style_function = style if callable(style) else (lambda f: style)
    return folium.GeoJson(feature_collection(feats), style_function=style_function, **options, gm_layer=gm_layer)
