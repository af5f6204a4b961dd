"""The rings, lines and points of a geometry, with the names messages give them.

In a polygon, ring 0 is the exterior and ring k (k >= 1) is hole k; in a
MultiPolygon every name is prefixed ``polygon j,``; in a collection
``geometry i,``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import shapely

__all__ = ["Part", "geometry_parts", "ring_label"]


class Part(NamedTuple):
    """One ring, line or point of a geometry, with the name messages give it."""

    label: str
    coords: np.ndarray  # (n, 2 or 3)
    polygon: int | None  # index of the polygon (for MultiPolygon parts; 0 for a Polygon)
    ring: int | None  # ring index within the polygon (0 = exterior)
    path: str  # prefix identifying the containing polygon, e.g. "polygon 1, "
    kind: str = "ring"  # ring, line or point


def ring_label(k: int) -> str:
    """``ring 0 (exterior)`` or ``hole k (ring k)``.

    Examples
    --------
    >>> ring_label(0), ring_label(2)
    ('ring 0 (exterior)', 'hole 2 (ring 2)')
    """
    return "ring 0 (exterior)" if k == 0 else f"hole {k} (ring {k})"


def geometry_parts(geom, prefix: str = "", poly_index: int = 0) -> list[Part]:
    """Every ring, line and point of a shapely geometry, in order, named (``polygon 1, hole 2 (ring 2)``)."""
    out: list[Part] = []
    t = geom.geom_type
    if t == "Polygon":
        if geom.is_empty:
            return out
        rings = [geom.exterior, *geom.interiors]
        for k, r in enumerate(rings):
            out.append(
                Part(prefix + ring_label(k), shapely.get_coordinates(r, include_z=geom.has_z), poly_index, k, prefix)
            )
    elif t == "MultiPolygon":
        for j, p in enumerate(geom.geoms):
            out.extend(geometry_parts(p, f"{prefix}polygon {j}, ", j))
    elif t == "LineString" or t == "LinearRing":
        out.append(Part(f"{prefix}the line", shapely.get_coordinates(geom, include_z=geom.has_z), None, None, prefix, "line"))
    elif t == "MultiLineString":
        for j, g in enumerate(geom.geoms):
            out.append(Part(f"{prefix}line {j}", shapely.get_coordinates(g, include_z=g.has_z), None, None, prefix, "line"))
    elif t == "Point":
        out.append(Part(f"{prefix}the point", shapely.get_coordinates(geom, include_z=geom.has_z), None, None, prefix, "point"))
    elif t == "MultiPoint":
        for j, g in enumerate(geom.geoms):
            out.append(Part(f"{prefix}point {j}", shapely.get_coordinates(g, include_z=g.has_z), None, None, prefix, "point"))
    elif t == "GeometryCollection":
        for i, g in enumerate(geom.geoms):
            out.extend(geometry_parts(g, f"{prefix}geometry {i}, ", 0))
    return out
