"""OGC API – Features – Part 4 (create, replace, update, delete) for the grids of a draft: the request read.

Pure (no database): what a POST, PUT or PATCH body says, in WGS84, for :mod:`geo.plan_edits` to apply.

- The body is a GeoJSON Feature (``application/geo+json`` or ``application/json``); a PATCH may also be a
  JSON merge patch (RFC 7396, ``application/merge-patch+json``) holding only ``geometry`` and/or some
  ``properties``.
- Coordinates are CRS84 (longitude, latitude) unless the ``Content-Crs`` header names another CRS of the
  collection (:data:`geo.ogc.collections.CRSS`), in that CRS's axis order (EPSG:4326 and EPSG:4490 are
  latitude first, EPSG:4547 northing first), as Part 2 reads them.
- Properties a planner sets: ``code`` and ``community_code`` (POST only: a grid keeps both for life) and
  ``name`` (POST). The computed ones (households, population, buildings, units, the label point, the
  grid member, ids) are what the plan makes of the boundary: sent back unchanged, as a client that read
  the feature does, they are ignored; anything else is refused, naming what may be sent.

Examples
--------
>>> f = feature_in({"type": "Feature", "properties": {"name": "A"}, "geometry": {"type": "Polygon",
...     "coordinates": [[[113.1, 40.0], [113.11, 40.0], [113.11, 40.01], [113.1, 40.0]]]}}, crs=parse_content_crs(None))
>>> f.geometry.geom_type, f.properties
('Polygon', {'name': 'A'})
>>> parse_content_crs("<http://www.opengis.net/def/crs/EPSG/0/4547>").srid
4547
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from shapely import Geometry

from geo.errors import BadInput, InvalidGeometry, InvalidParameter, excerpt
from geo.ogc.collections import CRS84, CRS_BY_URI, CRSS, OutputCrs, find_crs
from geo.validation import geometry_in

#: Media types a write body may have (a PATCH also takes a merge patch).
FEATURE_TYPES = ("application/geo+json", "application/json")
MERGE_PATCH = "application/merge-patch+json"

#: Properties of a grid a planner sets when creating it.
SETTABLE_ON_CREATE = ("code", "community_code", "name")
#: Properties that never change through an edit: a grid keeps its code and community for life; a
#: rename is not one of the plan's (undoable) edits.
FIXED = ("code", "community_code", "name")
#: What the plan computes from the boundary, or what it is: ignored when sent.
COMPUTED = ("id", "community_name", "plan_id", "grid_member", "grid_member_phone", "households",
            "population", "buildings", "units", "label_lon", "label_lat")

#: GeoJSON members of a Feature (``links``: a feature read from this API carries them).
_FEATURE_MEMBERS = {"type", "id", "geometry", "properties", "bbox", "links"}


@dataclass(frozen=True)
class FeatureIn:
    """What a write body says: the geometry in WGS84 (None when a PATCH leaves it as it is) and the
    properties it sets (only those of :data:`SETTABLE_ON_CREATE`)."""

    geometry: Geometry | None
    properties: dict[str, Any]
    id: str | None = None


def parse_content_crs(value: str | None) -> OutputCrs:
    """The ``Content-Crs`` header (``<uri>``, a bare URI, ``EPSG:n`` or ``CRS84``): an offered CRS; CRS84
    when absent. Another CRS is a 400 naming those offered."""
    if value is None or not value.strip():
        return CRS_BY_URI[CRS84]
    v = value.strip()
    if v.startswith("<") and v.endswith(">"):
        v = v[1:-1].strip()
    found = find_crs(v)
    if found is None:
        raise InvalidParameter(f"Content-Crs {excerpt(value, chars=60)} is not offered: send coordinates in one "
                               f"of {', '.join(c.uri for c in CRSS)} and name it as <uri>, or leave the header out "
                               "for CRS84 (longitude, latitude)",
                               details={"parameter": "Content-Crs", "accepted": [c.uri for c in CRSS]})
    return found


def geometry_from(geom: Any, *, crs: OutputCrs, what: str) -> Geometry:
    """A GeoJSON Polygon or MultiPolygon in ``crs``'s axis order → a valid shapely geometry in WGS84."""
    if not isinstance(geom, Mapping):
        raise InvalidGeometry(f"{what}: send a GeoJSON Polygon or MultiPolygon object as the Feature's "
                              "\"geometry\"", details={"what": what})
    if crs.north_first:  # Part 2: EPSG:4326 / 4490 are latitude first, EPSG:4547 northing first
        geom = {**geom, "coordinates": _swapped(geom.get("coordinates"))}
    if crs.srid not in (4326, 4490):  # a projected CRS: refuse what lies outside it before PROJ sees it
        x0, y0, x1, y1 = crs.bounds
        xy = _coordinates(geom.get("coordinates"))
        if xy is not None and xy.size and (abs(xy) <= 180).all():
            raise BadInput(f"{what}: the coordinates look like degrees (all within ±180) but Content-Crs {crs.uri} "
                           "is in metres: leave the header out for CRS84 (longitude, latitude) or send metres",
                           details={"what": what, "crs": crs.uri})
        if xy is not None and xy.size and not (
                (xy[:, 0] >= x0).all() and (xy[:, 0] <= x1).all() and (xy[:, 1] >= y0).all() and (xy[:, 1] <= y1).all()):
            raise BadInput(f"{what}: coordinates lie outside the area of Content-Crs {crs.uri}: send them in that "
                           "CRS's axis order and units (metres), or name the CRS they are in",
                           details={"what": what, "crs": crs.uri})
    name = "EPSG:4326" if crs.srid == 4326 else f"EPSG:{crs.srid}"
    return geometry_in(geom, what=what, types={"Polygon", "MultiPolygon"}, crs=name)


def _coordinates(coords: Any) -> np.ndarray | None:
    """The positions of nested GeoJSON coordinates as an (n, 2) array of floats (None when they are not
    numbers: :func:`geo.validation.geometry_in` says what is wrong with them)."""
    flat: list[Any] = []

    def walk(c: Any) -> None:
        if isinstance(c, (list, tuple)) and c and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                     for v in c):
            flat.append(c[:2])
        elif isinstance(c, (list, tuple)):
            for x in c:
                walk(x)
    walk(coords)
    try:
        return np.asarray(flat, dtype=float).reshape(-1, 2)
    except ValueError:
        return None


def _swapped(coords: Any) -> Any:
    if isinstance(coords, (list, tuple)) and len(coords) >= 2 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in coords):
        return [coords[1], coords[0], *coords[2:]]
    if isinstance(coords, (list, tuple)):
        return [_swapped(c) for c in coords]
    return coords


def feature_in(body: Any, *, crs: OutputCrs, partial: bool = False, fid: str | None = None) -> FeatureIn:
    """Read a POST/PUT body (a Feature with a geometry) or, with ``partial``, a PATCH (a Feature or a merge
    patch whose members are optional). ``fid``: the feature the URL names (PUT, PATCH): a body ``id`` or
    ``properties.code`` must be it.

    The properties returned are those a planner may set (:data:`SETTABLE_ON_CREATE`); a computed one
    (:data:`COMPUTED`) is dropped; an unknown one is refused.
    """
    if not isinstance(body, Mapping):
        raise BadInput("send a GeoJSON Feature: {\"type\": \"Feature\", \"geometry\": {...}, \"properties\": {...}}")
    kind = body.get("type")
    if kind != "Feature" and not (partial and kind is None):
        raise BadInput(f"send one GeoJSON Feature (\"type\": \"Feature\"), not {excerpt(str(kind), chars=30)}"
                       + ("; a FeatureCollection is not taken: one request per grid" if kind == "FeatureCollection"
                          else ""))
    unknown = sorted(set(body) - _FEATURE_MEMBERS)
    if unknown:
        raise BadInput(f"unknown member {excerpt(unknown[0], chars=30)} in the Feature: it takes "
                       f"{', '.join(sorted(_FEATURE_MEMBERS))}", details={"unknown": unknown[:10]})
    props = body.get("properties")
    if props is None:
        props = {}
    if not isinstance(props, Mapping):
        raise BadInput("\"properties\" must be an object (or null)")
    fid_in = body.get("id")
    if fid_in is not None and fid is not None and str(fid_in) != fid:
        raise BadInput(f"the Feature's id {excerpt(str(fid_in), chars=17)} is not the grid the URL names ({fid}): "
                       "a grid's code does not change; send the Feature to its own URL",
                       details={"id": str(fid_in)[:17], "url": fid})
    settable: dict[str, Any] = {}
    bad = sorted(k for k in props if k not in SETTABLE_ON_CREATE and k not in COMPUTED)
    if bad:
        raise BadInput(f"unknown property {excerpt(str(bad[0]), chars=30)}: a grid takes "
                       f"{', '.join(SETTABLE_ON_CREATE)} (the others are computed by the plan and ignored: "
                       f"{', '.join(COMPUTED)})", details={"unknown": [str(b)[:30] for b in bad[:10]]})
    for k in SETTABLE_ON_CREATE:
        if k in props and props[k] is not None:
            if not isinstance(props[k], str):
                raise BadInput(f"property {k} must be a string, not {excerpt(repr(props[k]), chars=30)}")
            settable[k] = props[k]
    if "geometry" not in body or body["geometry"] is None:
        if not partial:
            raise InvalidGeometry("the Feature has no geometry: a grid is a Polygon or MultiPolygon "
                                  "(CRS84 longitude, latitude unless Content-Crs says otherwise)")
        if "geometry" in body:
            raise InvalidGeometry("\"geometry\": null would leave the grid without land: to remove a grid, "
                                  "DELETE it (its land goes to its neighbour)")
        geometry = None
    else:
        geometry = geometry_from(body["geometry"], crs=crs, what=f"grid {fid} boundary" if fid else "the new grid")
    return FeatureIn(geometry, settable, None if fid_in is None else str(fid_in))


def check_fixed(sent: Mapping[str, Any], current: Mapping[str, Any], *, fid: str) -> None:
    """A PUT or PATCH may repeat a grid's code, community and name (a client sends back what it read),
    not change them."""
    for k in FIXED:
        if k in sent and sent[k] != current.get(k):
            why = ("a rename is not an edit of the plan: keep the name"
                   if k == "name" else f"a grid keeps its {k} for life: add a new grid (POST) instead")
            raise BadInput(f"property {k} of grid {fid} is {excerpt(str(current.get(k)), chars=40)}, not "
                           f"{excerpt(str(sent[k]), chars=40)}: {why}", details={"property": k})


__all__ = ["COMPUTED", "FEATURE_TYPES", "FIXED", "FeatureIn", "MERGE_PATCH", "SETTABLE_ON_CREATE", "check_fixed",
           "feature_in", "geometry_from", "parse_content_crs"]
