"""Geometry validation that explains itself.

:func:`explain_invalid` turns GEOS's terse ``Self-intersection[113.1 40.05]``
into a sentence naming the ring and the place, and what to do about it.
It accepts shapely geometries and also the raw forms a client sends
(a GeoJSON geometry dict, WKB bytes, WKT or GeoJSON text), which matters
because shapely silently closes unclosed rings when building from a dict and
refuses some malformed input outright: those are checked structurally first.

Ring naming: in a polygon, ring 0 is the exterior and ring k (k >= 1) is
hole k; in a MultiPolygon every name is prefixed ``polygon j,``.

Examples
--------
>>> from shapely import Polygon
>>> print(explain_invalid(Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])))
ring 0 (exterior) self-intersects at (1, 1): its edges cross (a bowtie); redraw the ring so its edges do not cross
>>> explain_invalid(Polygon([(0, 0), (2, 0), (2, 2), (0, 2)])) is None
True
"""

from __future__ import annotations

import json
import math
import re
import struct
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import shapely
from shapely.errors import GEOSException, ShapelyError

from geo.errors import InvalidGeometry

__all__ = [
    "GeometryProblem",
    "diagnose",
    "explain_invalid",
    "parse_geometry",
    "geometry_in",
    "require_valid",
]

_GEOM_TYPES = (
    "Point",
    "LineString",
    "Polygon",
    "MultiPoint",
    "MultiLineString",
    "MultiPolygon",
    "GeometryCollection",
)


@dataclass(frozen=True)
class GeometryProblem:
    """Why a geometry is invalid.

    Attributes
    ----------
    reason : str
        A snake_case kind: ``null``, ``empty``, ``malformed``, ``three_d``,
        ``invalid_coordinate``, ``ring_not_closed``, ``too_few_points``,
        ``self_intersection``, ``ring_self_intersection``,
        ``hole_outside_shell``, ``nested_holes``, ``disconnected_interior``,
        ``nested_shells``, ``overlapping_parts``, ``duplicate_rings``, ``invalid``,
        and (from :func:`require_valid` only) ``wrong_type``.
    message : str
        The sentence for a person: what, where, and how to fix it.
    location : (float, float) or None
        Where, in the geometry's coordinates, when known.
    """

    reason: str
    message: str
    location: tuple[float, float] | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form (for error details)."""
        return {
            "reason": self.reason,
            "message": self.message,
            "location": list(self.location) if self.location is not None else None,
        }


def _fmt(v: float) -> str:
    if not math.isfinite(v):
        return str(v)
    s = f"{v:.7f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _pt(xy) -> str:
    return f"({_fmt(float(xy[0]))}, {_fmt(float(xy[1]))})"


# ---------------------------------------------------------------------------
# Raw input: GeoJSON mappings, WKB, WKT
# ---------------------------------------------------------------------------


class _Malformed(Exception):
    def __init__(self, reason: str, message: str, location=None):
        super().__init__(message)
        self.problem = GeometryProblem(reason, message, location)


def _wkb_to_mapping(data: bytes) -> dict:
    """Decode (ISO or EWKB) WKB into a GeoJSON-like dict without validating it."""
    view = memoryview(data)
    pos = 0

    def read(fmt: str, order: str):
        nonlocal pos
        size = struct.calcsize(order + fmt)
        if pos + size > len(view):
            raise _Malformed("malformed", "WKB is truncated; send the complete geometry")
        vals = struct.unpack_from(order + fmt, view, pos)
        pos += size
        return vals

    def geom() -> dict:
        (bo,) = read("B", "<")
        if bo not in (0, 1):
            raise _Malformed("malformed", "not WKB: bad byte-order mark")
        order = "<" if bo == 1 else ">"
        (t,) = read("I", order)
        has_z = bool(t & 0x80000000)
        has_m = bool(t & 0x40000000)
        if t & 0x20000000:
            read("I", order)  # EWKB SRID
        t &= 0x0FFFFFFF
        base, dims = t % 1000, t // 1000
        if dims in (1, 3):
            has_z = True
        if dims in (2, 3):
            has_m = True
        ndim = 2 + has_z + has_m

        def position():
            vals = read("d" * ndim, order)
            return tuple(vals[: 3 if has_z else 2])

        def points():
            (n,) = read("I", order)
            return [position() for _ in range(n)]

        if base == 1:
            p = position()
            return {"type": "Point", "coordinates": [] if all(math.isnan(c) for c in p) else p}
        if base == 2:
            return {"type": "LineString", "coordinates": points()}
        if base == 3:
            (n,) = read("I", order)
            return {"type": "Polygon", "coordinates": [points() for _ in range(n)]}
        if base in (4, 5, 6, 7):
            (n,) = read("I", order)
            parts = [geom() for _ in range(n)]
            if base == 7:
                return {"type": "GeometryCollection", "geometries": parts}
            name = {4: "MultiPoint", 5: "MultiLineString", 6: "MultiPolygon"}[base]
            return {"type": name, "coordinates": [p["coordinates"] for p in parts]}
        raise _Malformed("malformed", f"unsupported WKB geometry type {t}")

    return geom()


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def _check_positions(seq: Any, where: str, *, min_len: int, ring: bool) -> None:
    if not isinstance(seq, (list, tuple)):
        raise _Malformed("malformed", f"{where}: expected a list of [lon, lat] positions, got {seq!r:.60}")
    for i, p in enumerate(seq):
        if not isinstance(p, (list, tuple)) or len(p) < 2 or not all(_is_number(c) for c in p):
            raise _Malformed(
                "malformed",
                f"{where}: position {i} is not [lon, lat] numbers (got {p!r:.60})",
            )
    if len(seq) == 0:
        return  # an empty component: reported as empty later
    if ring:
        if len(seq) >= 2 and tuple(seq[0][:2]) != tuple(seq[-1][:2]):
            raise _Malformed(
                "ring_not_closed",
                f"{where} is not closed: it starts at {_pt(seq[0])} but ends at "
                f"{_pt(seq[-1])}; repeat the first point at the end",
                (float(seq[0][0]), float(seq[0][1])),
            )
        if len(seq) < min_len:
            raise _Malformed(
                "too_few_points",
                f"polygon has fewer than 4 points in {where}: got {len(seq)}; a ring needs "
                "at least 3 distinct corners and must end where it starts",
                (float(seq[0][0]), float(seq[0][1])),
            )
    elif len(seq) < min_len:
        raise _Malformed(
            "too_few_points",
            f"{where} has {len(seq)} point(s); a line needs at least 2",
            (float(seq[0][0]), float(seq[0][1])),
        )


def _check_mapping(m: Mapping, prefix: str = "") -> None:
    t = m.get("type")
    if "crs" in m:  # RFC 7946 removed it: coordinates are WGS84 lon/lat, always
        raise _Malformed(
            "malformed",
            f"{prefix}GeoJSON (RFC 7946) has no 'crs' member: its coordinates are WGS84 longitude, latitude; "
            "send WGS84, or name the coordinates' CRS in the request's own 'crs' field",
        )
    if t == "Feature":
        g = m.get("geometry")
        if g is None:
            return
        if not isinstance(g, Mapping):
            raise _Malformed("malformed", "the Feature's geometry is not a GeoJSON geometry object")
        return _check_mapping(g, prefix)
    if t not in _GEOM_TYPES:
        raise _Malformed(
            "malformed",
            f"{prefix}unknown geometry type {t!r}; use one of {', '.join(_GEOM_TYPES)}",
        )
    if t == "GeometryCollection":
        geoms = m.get("geometries")
        if not isinstance(geoms, (list, tuple)):
            raise _Malformed("malformed", f"{prefix}GeometryCollection needs a 'geometries' list")
        for i, g in enumerate(geoms):
            if not isinstance(g, Mapping):
                raise _Malformed("malformed", f"{prefix}geometry {i} is not a GeoJSON geometry object")
            _check_mapping(g, f"{prefix}geometry {i}, ")
        return
    if "coordinates" not in m:
        raise _Malformed("malformed", f"{prefix}{t} has no 'coordinates'")
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
            raise _Malformed("malformed", f"{prefix}MultiLineString coordinates must be a list of lines")
        for j, line in enumerate(c):
            _check_positions(line, f"{prefix}line {j}", min_len=2, ring=False)
    elif t == "Polygon":
        _check_polygon_rings(c, prefix)
    elif t == "MultiPolygon":
        if not isinstance(c, (list, tuple)):
            raise _Malformed("malformed", f"{prefix}MultiPolygon coordinates must be a list of polygons")
        for j, poly in enumerate(c):
            _check_polygon_rings(poly, f"{prefix}polygon {j}, ")


def _check_polygon_rings(rings: Any, prefix: str) -> None:
    if not isinstance(rings, (list, tuple)):
        raise _Malformed("malformed", f"{prefix}polygon coordinates must be a list of rings")
    for k, ring in enumerate(rings):
        _check_positions(ring, prefix + _ring_label(k), min_len=4, ring=True)


def _coerce(geom: Any):
    """Return a shapely geometry (or None) from any accepted form; may raise _Malformed."""
    if geom is None or isinstance(geom, shapely.Geometry):
        return geom
    if isinstance(geom, (bytes, bytearray, memoryview)):
        mapping = _wkb_to_mapping(bytes(geom))
        _check_mapping(mapping)
        return _from_mapping(mapping)
    if isinstance(geom, str):
        text = geom.strip()
        if text.startswith("{"):
            try:
                mapping = json.loads(text)
            except ValueError as e:
                raise _Malformed("malformed", f"not valid GeoJSON text: {e}") from None
            return _coerce(mapping)
        try:
            return shapely.from_wkt(text)
        except (GEOSException, ShapelyError) as e:
            raise _Malformed("malformed", _geos_parse_message(str(e), "WKT")) from None
    if hasattr(geom, "__geo_interface__") and not isinstance(geom, Mapping):
        geom = geom.__geo_interface__
    if isinstance(geom, Mapping):
        _check_mapping(geom)
        if geom.get("type") == "Feature":
            geom = geom.get("geometry")
            if geom is None:
                return None
        return _from_mapping(geom)
    raise _Malformed("malformed", f"not a geometry: {type(geom).__name__}")


def _from_mapping(m: Mapping):
    try:
        return shapely.geometry.shape(m)
    except (GEOSException, ShapelyError, ValueError, TypeError, KeyError, IndexError) as e:
        raise _Malformed("malformed", _geos_parse_message(str(e), "GeoJSON")) from None


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
        return _coerce(geom)
    except _Malformed as e:
        raise InvalidGeometry(f"{what}: {e.problem.message}", details={"what": what, **e.problem.as_dict()}) from None


# ---------------------------------------------------------------------------
# Rings and where a location lies
# ---------------------------------------------------------------------------


class _Part(NamedTuple):
    label: str
    coords: np.ndarray  # (n, 2 or 3)
    polygon: int | None  # index of the polygon (for MultiPolygon parts; 0 for a Polygon)
    ring: int | None  # ring index within the polygon (0 = exterior)
    path: str  # prefix identifying the containing polygon, e.g. "polygon 1, "
    kind: str = "ring"  # ring, line or point


def _ring_label(k: int) -> str:
    return "ring 0 (exterior)" if k == 0 else f"hole {k} (ring {k})"


def _parts(geom, prefix: str = "", poly_index: int = 0) -> list[_Part]:
    out: list[_Part] = []
    t = geom.geom_type
    if t == "Polygon":
        if geom.is_empty:
            return out
        rings = [geom.exterior, *geom.interiors]
        for k, r in enumerate(rings):
            out.append(
                _Part(prefix + _ring_label(k), shapely.get_coordinates(r, include_z=geom.has_z), poly_index, k, prefix)
            )
    elif t == "MultiPolygon":
        for j, p in enumerate(geom.geoms):
            out.extend(_parts(p, f"{prefix}polygon {j}, ", j))
    elif t == "LineString" or t == "LinearRing":
        out.append(_Part(f"{prefix}the line", shapely.get_coordinates(geom, include_z=geom.has_z), None, None, prefix, "line"))
    elif t == "MultiLineString":
        for j, g in enumerate(geom.geoms):
            out.append(_Part(f"{prefix}line {j}", shapely.get_coordinates(g, include_z=g.has_z), None, None, prefix, "line"))
    elif t == "Point":
        out.append(_Part(f"{prefix}the point", shapely.get_coordinates(geom, include_z=geom.has_z), None, None, prefix, "point"))
    elif t == "MultiPoint":
        for j, g in enumerate(geom.geoms):
            out.append(_Part(f"{prefix}point {j}", shapely.get_coordinates(g, include_z=g.has_z), None, None, prefix, "point"))
    elif t == "GeometryCollection":
        for i, g in enumerate(geom.geoms):
            out.extend(_parts(g, f"{prefix}geometry {i}, ", 0))
    return out


def _tolerance(geom) -> float:
    b = shapely.bounds(geom)
    scale = max(1.0, float(np.nanmax(np.abs(b)))) if np.all(np.isfinite(b)) else 1.0
    return 1e-9 * scale


def _near(parts: list[_Part], xy: tuple[float, float], tol: float) -> list[_Part]:
    """Polygon rings passing through xy (nearest one if none within tol)."""
    rings = [p for p in parts if p.ring is not None and len(p.coords) >= 2]
    if not rings:
        return []
    pt = shapely.Point(xy)
    dists = np.array([shapely.distance(pt, shapely.LineString(p.coords[:, :2])) for p in rings])
    hits = [p for p, d in zip(rings, dists) if d <= tol]
    return hits or [rings[int(np.argmin(dists))]]


def _is_vertex(part: _Part, xy, tol: float) -> bool:
    d = np.hypot(part.coords[:, 0] - xy[0], part.coords[:, 1] - xy[1])
    return bool(np.any(d <= tol))


# ---------------------------------------------------------------------------
# Diagnosis
# ---------------------------------------------------------------------------

_REASON_RE = re.compile(r"^(?P<reason>[^\[]+?)\s*(?:\[(?P<x>\S+)\s+(?P<y>\S+)(?:\s+\S+)?\])?$")


def diagnose(geom: Any) -> GeometryProblem | None:
    """Find the first problem of a geometry, or None when it is valid.

    Parameters
    ----------
    geom : shapely.Geometry, GeoJSON mapping, WKB bytes, WKT/GeoJSON str or None

    Returns
    -------
    GeometryProblem or None

    Examples
    --------
    >>> from shapely import Polygon
    >>> p = diagnose(Polygon([(0, 0), (2, 2), (2, 0), (0, 2)]))
    >>> p.reason, p.location
    ('self_intersection', (1.0, 1.0))
    """
    try:
        g = _coerce(geom)
    except _Malformed as e:
        return e.problem
    return _diagnose_shapely(g)


def _diagnose_shapely(g) -> GeometryProblem | None:
    if g is None:
        return GeometryProblem("null", "null geometry: the feature has no geometry")
    if g.is_empty:
        return GeometryProblem("empty", "empty geometry: it has no coordinates")
    parts = _parts(g)
    if g.has_z:
        return GeometryProblem(
            "three_d",
            "3-D coordinates: positions have a z value; send 2-D [lon, lat] positions "
            "(heights go in properties such as height_m)",
        )
    for part in parts:
        finite = np.isfinite(part.coords).all(axis=1)
        if not finite.all():
            i = int(np.argmin(finite))
            return GeometryProblem(
                "invalid_coordinate",
                f"{part.label}: position {i} is not a finite number ({_pt(part.coords[i])}); "
                "send decimal degrees",
            )
    for part in parts:
        n = len(part.coords)
        distinct = len(np.unique(part.coords[:, :2], axis=0))
        first = (float(part.coords[0, 0]), float(part.coords[0, 1])) if n else None
        if part.kind == "line" and n and distinct < 2:
            return GeometryProblem(
                "too_few_points",
                f"{part.label} has only {distinct} distinct point; a line needs at least 2",
                first,
            )
        if part.kind != "ring":
            continue
        if n and (float(part.coords[-1, 0]), float(part.coords[-1, 1])) != first:
            return GeometryProblem(
                "ring_not_closed",
                f"{part.label} is not closed: it starts at {_pt(part.coords[0])} but ends at "
                f"{_pt(part.coords[-1])}; repeat the first point at the end",
                first,
            )
        if n < 4:
            where = part.label
            return GeometryProblem(
                "too_few_points",
                f"polygon has fewer than 4 points in {where}: got {n}; a ring needs at "
                "least 3 distinct corners and must end where it starts",
                first,
            )
        if distinct < 3:
            return GeometryProblem(
                "too_few_points",
                f"{part.label} has only {distinct} distinct points; a ring needs at least 3 "
                "distinct corners enclosing an area",
                first,
            )
    reason = shapely.is_valid_reason(g)
    if reason is None or reason == "Valid Geometry":
        return None
    return _explain_reason(g, parts, reason)


def _explain_reason(g, parts: list[_Part], reason_text: str) -> GeometryProblem:
    m = _REASON_RE.match(reason_text.strip())
    reason = m.group("reason").strip() if m else reason_text
    xy = None
    if m and m.group("x") is not None:
        try:
            xy = (float(m.group("x")), float(m.group("y")))
        except ValueError:
            xy = None
    tol = _tolerance(g)
    at = f" at {_pt(xy)}" if xy else ""
    near = _near(parts, xy, tol) if xy else []

    if reason == "Self-intersection":
        if len(near) == 1:
            r = near[0]
            if xy is not None and _is_vertex(r, xy, tol):
                how = "its edges meet or overlap at a vertex (a spike or a figure 8)"
            else:
                how = "its edges cross (a bowtie)"
            return GeometryProblem(
                "self_intersection",
                f"{r.label} self-intersects{at}: {how}; redraw the ring so its edges do not cross",
                xy,
            )
        polys = sorted({p.polygon for p in near})
        if len(near) >= 2 and len(polys) >= 2 and g.geom_type == "MultiPolygon":
            a, b = polys[:2]
            return GeometryProblem(
                "overlapping_parts",
                f"polygons {a} and {b} of the MultiPolygon overlap (their boundaries cross{at}); "
                "merge them with a union or remove the overlap",
                xy,
            )
        if len(near) >= 2:
            r1, r2 = sorted(near[:2], key=lambda p: p.ring or 0)
            if r1.ring == 0:
                msg = (
                    f"{r2.label} crosses the exterior ring{at}; "
                    f"{r2.path}holes must lie inside the exterior ring: move or shrink the hole"
                )
            else:
                msg = (
                    f"{r1.path}holes {r1.ring} and {r2.ring} cross each other{at}; "
                    "merge them into one hole or move them apart"
                )
            return GeometryProblem("self_intersection", msg, xy)
        return GeometryProblem(
            "self_intersection",
            f"the geometry self-intersects{at}; redraw it so its edges do not cross",
            xy,
        )
    if reason == "Ring Self-intersection":
        label = near[0].label if near else "a ring"
        return GeometryProblem(
            "ring_self_intersection",
            f"{label} touches itself{at} (a pinched ring, like a figure 8); split it into two "
            "polygons or move the vertex apart",
            xy,
        )
    if reason == "Hole lies outside shell":
        holes = [p for p in near if p.ring]
        label = holes[0].label if holes else "a hole"
        prefix = holes[0].path if holes else ""
        return GeometryProblem(
            "hole_outside_shell",
            f"{label} lies outside the {prefix}exterior ring (near {_pt(xy) if xy else '?'}); "
            "move it inside the exterior ring or delete it",
            xy,
        )
    if reason in ("Holes are nested", "Nested holes"):
        holes = [p for p in near if p.ring]
        inner = holes[0] if holes else None
        outer = None
        if inner is not None and xy is not None:
            pt = shapely.Point(xy)
            for p in parts:
                if p.ring and p.polygon == inner.polygon and p.path == inner.path and p.ring != inner.ring:
                    if shapely.Polygon(p.coords[:, :2]).covers(pt):
                        outer = p
                        break
        if inner is not None and outer is not None:
            msg = f"{inner.label} lies inside {outer.label}{at}; holes may not be nested: delete the inner one"
        else:
            msg = f"a hole lies inside another hole{at}; holes may not be nested: delete the inner one"
        return GeometryProblem("nested_holes", msg, xy)
    if reason == "Interior is disconnected":
        return GeometryProblem(
            "disconnected_interior",
            f"the holes cut the polygon's interior into separate pieces{at} (holes touching the "
            "exterior ring or each other in a chain); make it a MultiPolygon or move the holes apart",
            xy,
        )
    if reason == "Nested shells":
        return GeometryProblem(
            "nested_shells",
            f"one polygon of the MultiPolygon lies inside another{at}; the parts of a "
            "MultiPolygon may not overlap: merge them or make the inner one a hole",
            xy,
        )
    if reason == "Too few points in geometry component":
        label = near[0].label if near else "a component"
        return GeometryProblem(
            "too_few_points",
            f"{label} has too few distinct points{at}; a ring needs at least 3 distinct corners",
            xy,
        )
    if reason == "Invalid Coordinate":
        return GeometryProblem("invalid_coordinate", f"a coordinate is not a finite number{at}", xy)
    if reason == "Ring is not closed":
        label = near[0].label if near else "a ring"
        return GeometryProblem(
            "ring_not_closed", f"{label} is not closed{at}; repeat the first point at the end", xy
        )
    if reason == "Duplicate Rings":
        return GeometryProblem(
            "duplicate_rings", f"two rings are identical{at}; delete one of them", xy
        )
    return GeometryProblem("invalid", f"invalid geometry: {reason}{at}", xy)


def explain_invalid(geom: Any) -> str | None:
    """Say what is wrong with a geometry, where, and how to fix it; None when valid.

    Parameters
    ----------
    geom : shapely.Geometry, GeoJSON mapping, WKB bytes, WKT/GeoJSON str or None
        3-D coordinates, NaN/inf coordinates, empty and null geometries are
        problems; repeated consecutive points are fine.

    Returns
    -------
    str or None

    Examples
    --------
    >>> from shapely import Polygon
    >>> shell = [(0, 0), (4, 0), (4, 4), (0, 4)]
    >>> print(explain_invalid(Polygon(shell, [[(5, 5), (6, 5), (6, 6), (5, 5)]])))
    hole 1 (ring 1) lies outside the exterior ring (near (5, 5)); move it inside the exterior ring or delete it
    >>> print(explain_invalid({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}))
    polygon has fewer than 4 points in ring 0 (exterior): got 3; a ring needs at least 3 distinct corners and must end where it starts
    """
    problem = diagnose(geom)
    return None if problem is None else problem.message


def require_valid(geom: Any, *, what: str, types: Collection[str] | None = None):
    """Return the geometry as shapely if valid, else raise :class:`InvalidGeometry`.

    Parameters
    ----------
    geom : shapely.Geometry, GeoJSON mapping, WKB bytes, WKT/GeoJSON str or None
    what : str
        What the geometry is, for the message (e.g. ``"grid 140214001001003 boundary"``).
    types : collection of str, optional
        Accepted geometry types, e.g. ``{"Polygon", "MultiPolygon"}``.

    Returns
    -------
    shapely.Geometry

    Raises
    ------
    geo.errors.InvalidGeometry
        With ``details = {"what", "reason", "message", "location"}``.

    Examples
    --------
    >>> from shapely import Polygon
    >>> require_valid(Polygon([(0, 0), (2, 2), (2, 0), (0, 2)]), what="grid boundary")
    Traceback (most recent call last):
    ...
    geo.errors.InvalidGeometry: grid boundary: ring 0 (exterior) self-intersects at (1, 1): its edges cross (a bowtie); redraw the ring so its edges do not cross
    """
    try:
        g = _coerce(geom)
        problem = _diagnose_shapely(g)
    except _Malformed as e:
        g, problem = None, e.problem
    if problem is None and types:
        wanted = {t.lower() for t in types}
        if g.geom_type.lower() not in wanted:
            problem = GeometryProblem(
                "wrong_type",
                f"expected {' or '.join(sorted(types))}, got {g.geom_type}",
            )
    if problem is not None:
        raise InvalidGeometry(f"{what}: {problem.message}", details={"what": what, **problem.as_dict()})
    return g


#: Most vertices one geometry sent to the API may have (a grid boundary has a few hundred).
MAX_VERTICES = 100_000


def geometry_in(geom: Any, *, what: str, types: Collection[str], crs: str | None = None,
                max_vertices: int = MAX_VERTICES):
    """A geometry a client sent: valid, of an accepted type, not too large, in range; returned in WGS84.

    Parameters
    ----------
    geom : GeoJSON mapping (or anything :func:`require_valid` accepts)
    what : str
        What the geometry is, for messages.
    types : collection of str
        Accepted geometry types.
    crs : str, optional
        The CRS of the coordinates (``wgs84`` by default; ``gcj02``, ``bd09``, ``EPSG:n``...).
    max_vertices : int
        Above this the request is refused with :class:`geo.errors.TooLarge`.

    Raises
    ------
    geo.errors.InvalidGeometry, geo.errors.TooLarge, geo.errors.BadCoordinates, geo.errors.BadCRS
    """
    from geo.crs import BD09, GCJ02, WGS84, is_geographic, lonlat_problem, parse_crs, to_wgs84_geometry
    from geo.errors import BadCoordinates, TooLarge

    if isinstance(geom, Mapping) and geom.get("type") in ("Feature", "FeatureCollection"):
        raise InvalidGeometry(f"{what}: send a GeoJSON geometry (the Feature's \"geometry\" member), "
                              f"not a {geom.get('type')}", details={"what": what})
    source = parse_crs(crs)
    g = require_valid(geom, what=what, types=types)
    n = int(shapely.get_num_coordinates(g))
    if n > max_vertices:
        raise TooLarge(f"{what} has {n:,} vertices, more than the limit of {max_vertices:,}; simplify it",
                       details={"what": what, "vertices": n, "limit": max_vertices})
    if source in (GCJ02, BD09) or is_geographic(source):
        minx, miny, maxx, maxy = g.bounds
        for x, y in ((minx, miny), (maxx, maxy)):
            problem = lonlat_problem(x, y)
            if problem is not None:
                raise BadCoordinates(f"{what}: a vertex has {problem}", details={"what": what, "lon": x, "lat": y})
    if source != WGS84:
        g = to_wgs84_geometry(g, crs=source)
        if not g.is_valid:
            g = shapely.make_valid(g)
    return g
