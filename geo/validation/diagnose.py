"""Diagnosis: the first problem of a geometry (structure first, then GEOS), and the sentence for a person."""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely

from geo.validation.geos_reasons import explain_geos_reason
from geo.validation.parse import coerce_geometry
from geo.validation.problems import GeometryProblem, Malformed, format_point
from geo.validation.rings import geometry_parts

__all__ = ["diagnose", "diagnose_shapely", "explain_invalid"]


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
        g = coerce_geometry(geom)
    except Malformed as e:
        return e.problem
    return diagnose_shapely(g)


def diagnose_shapely(g) -> GeometryProblem | None:
    """:func:`diagnose` of a shapely geometry (or None, the null geometry) already read."""
    if g is None:
        return GeometryProblem("null", "null geometry: the feature has no geometry")
    if g.is_empty:
        return GeometryProblem("empty", "empty geometry: it has no coordinates")
    parts = geometry_parts(g)
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
                f"{part.label}: position {i} is not a finite number ({format_point(part.coords[i])}); "
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
                f"{part.label} is not closed: it starts at {format_point(part.coords[0])} but ends at "
                f"{format_point(part.coords[-1])}; repeat the first point at the end",
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
    return explain_geos_reason(g, parts, reason)


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
