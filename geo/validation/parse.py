"""Reading a geometry from the raw forms a client sends: shapely, GeoJSON dict or text, WKB, WKT.

Shapely silently closes unclosed rings when building from a dict and refuses
some malformed input outright, so mappings are checked structurally first
(:class:`~geo.validation.problems.Malformed` names the ring and the position).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import shapely
from shapely.errors import GEOSException, ShapelyError

from geo.errors import InvalidGeometry
from geo.validation.problems import Malformed, format_point
from geo.validation.rings import ring_label
from geo.validation.wkb import wkb_to_mapping

__all__ = ["coerce_geometry", "parse_geometry"]

_GEOM_TYPES = (
    "Point",
    "LineString",
    "Polygon",
    "MultiPoint",
    "MultiLineString",
    "MultiPolygon",
    "GeometryCollection",
)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def _check_positions(seq: Any, where: str, *, min_len: int, ring: bool) -> None:
    if not isinstance(seq, (list, tuple)):
        raise Malformed("malformed", f"{where}: expected a list of [lon, lat] positions, got {seq!r:.60}")
    for i, p in enumerate(seq):
        if not isinstance(p, (list, tuple)) or len(p) < 2 or not all(_is_number(c) for c in p):
            raise Malformed(
                "malformed",
                f"{where}: position {i} is not [lon, lat] numbers (got {p!r:.60})",
            )
    if len(seq) == 0:
        return  # an empty component: reported as empty later
    if ring:
        if len(seq) >= 2 and tuple(seq[0][:2]) != tuple(seq[-1][:2]):
            raise Malformed(
                "ring_not_closed",
                f"{where} is not closed: it starts at {format_point(seq[0])} but ends at "
                f"{format_point(seq[-1])}; repeat the first point at the end",
                (float(seq[0][0]), float(seq[0][1])),
            )
        if len(seq) < min_len:
            raise Malformed(
                "too_few_points",
                f"polygon has fewer than 4 points in {where}: got {len(seq)}; a ring needs "
                "at least 3 distinct corners and must end where it starts",
                (float(seq[0][0]), float(seq[0][1])),
            )
    elif len(seq) < min_len:
        raise Malformed(
            "too_few_points",
            f"{where} has {len(seq)} point(s); a line needs at least 2",
            (float(seq[0][0]), float(seq[0][1])),
        )


def _check_mapping(m: Mapping, prefix: str = "") -> None:
    t = m.get("type")
    if "crs" in m:  # RFC 7946 removed it: coordinates are WGS84 lon/lat, always
        raise Malformed(
            "malformed",
            f"{prefix}GeoJSON (RFC 7946) has no 'crs' member: its coordinates are WGS84 longitude, latitude; "
            "send WGS84, or name the coordinates' CRS in the request's own 'crs' field",
        )
    if t == "Feature":
        g = m.get("geometry")
        if g is None:
            return
        if not isinstance(g, Mapping):
            raise Malformed("malformed", "the Feature's geometry is not a GeoJSON geometry object")
        return _check_mapping(g, prefix)
    if t not in _GEOM_TYPES:
        raise Malformed(
            "malformed",
            f"{prefix}unknown geometry type {t!r}; use one of {', '.join(_GEOM_TYPES)}",
        )
    if t == "GeometryCollection":
        geoms = m.get("geometries")
        if not isinstance(geoms, (list, tuple)):
            raise Malformed("malformed", f"{prefix}GeometryCollection needs a 'geometries' list")
        for i, g in enumerate(geoms):
            if not isinstance(g, Mapping):
                raise Malformed("malformed", f"{prefix}geometry {i} is not a GeoJSON geometry object")
            _check_mapping(g, f"{prefix}geometry {i}, ")
        return
    if "coordinates" not in m:
        raise Malformed("malformed", f"{prefix}{t} has no 'coordinates'")
    c = m["coordinates"]
    if t == "Point":
        if isinstance(c, (list, tuple)) and len(c) == 0:
            return
        _check_positions([c], f"{prefix}the point", min_len=1, ring=False)
    elif t == "LineString":
        _check_positions(c, f"{prefix}the line", min_len=2, ring=False)
    elif t == "MultiPoint":
        _check_positions(c, f"{prefix}the multipoint", min_len=0, ring=False)
    elif t == "MultiLineString":
        if not isinstance(c, (list, tuple)):
            raise Malformed("malformed", f"{prefix}MultiLineString coordinates must be a list of lines")
        for j, line in enumerate(c):
            _check_positions(line, f"{prefix}line {j}", min_len=2, ring=False)
    elif t == "Polygon":
        _check_polygon_rings(c, prefix)
    elif t == "MultiPolygon":
        if not isinstance(c, (list, tuple)):
            raise Malformed("malformed", f"{prefix}MultiPolygon coordinates must be a list of polygons")
        for j, poly in enumerate(c):
            _check_polygon_rings(poly, f"{prefix}polygon {j}, ")


def _check_polygon_rings(rings: Any, prefix: str) -> None:
    if not isinstance(rings, (list, tuple)):
        raise Malformed("malformed", f"{prefix}polygon coordinates must be a list of rings")
    for k, ring in enumerate(rings):
        _check_positions(ring, prefix + ring_label(k), min_len=4, ring=True)


def coerce_geometry(geom: Any):
    """Return a shapely geometry (or None) from any accepted form; may raise Malformed."""
    if geom is None or isinstance(geom, shapely.Geometry):
        return geom
    if isinstance(geom, (bytes, bytearray, memoryview)):
        mapping = wkb_to_mapping(bytes(geom))
        _check_mapping(mapping)
        return _from_mapping(mapping)
    if isinstance(geom, str):
        text = geom.strip()
        if text.startswith("{"):
            try:
                mapping = json.loads(text)
            except ValueError as e:
                raise Malformed("malformed", f"not valid GeoJSON text: {e}") from None
            return coerce_geometry(mapping)
        try:
            return shapely.from_wkt(text)
        except (GEOSException, ShapelyError) as e:
            raise Malformed("malformed", _geos_parse_message(str(e), "WKT")) from None
    if hasattr(geom, "__geo_interface__") and not isinstance(geom, Mapping):
        geom = geom.__geo_interface__
    if isinstance(geom, Mapping):
        _check_mapping(geom)
        if geom.get("type") == "Feature":
            geom = geom.get("geometry")
            if geom is None:
                return None
        return _from_mapping(geom)
    raise Malformed("malformed", f"not a geometry: {type(geom).__name__}")


def _from_mapping(m: Mapping):
    try:
        return shapely.geometry.shape(m)
    except (GEOSException, ShapelyError, ValueError, TypeError, KeyError, IndexError) as e:
        raise Malformed("malformed", _geos_parse_message(str(e), "GeoJSON")) from None


def _geos_parse_message(err: str, form: str) -> str:
    err = err.replace("IllegalArgumentException: ", "").replace("ParseException: ", "")
    if "closed linestring" in err:
        return f"a ring is not closed ({form}): repeat each ring's first point at its end"
    if "Invalid number of points in LinearRing" in err:
        return f"a ring has fewer than 4 points ({form}): {err}"
    return f"could not read the {form} geometry: {err}"


def parse_geometry(geom: Any, *, what: str = "geometry"):
    """Read a geometry from a shapely object, GeoJSON dict/text, WKB or WKT.

    Unlike :func:`shapely.geometry.shape`, an unclosed or too-short ring is
    an error here, not silently repaired.

    Raises
    ------
    geo.errors.InvalidGeometry
        The input cannot be read as a geometry.

    Examples
    --------
    >>> parse_geometry({"type": "Point", "coordinates": [113.1, 40.05]}).x
    113.1
    """
    try:
        return coerce_geometry(geom)
    except Malformed as e:
        raise InvalidGeometry.say("geometry.problem", what=what, reason=e.problem, details={"what": what, **e.problem.as_dict()}) from None
