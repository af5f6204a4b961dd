"""GEOS's terse reasons (``Self-intersection[113.1 40.05]``) as sentences naming the ring and the place.

:func:`explain_geos_reason` finds the rings passing through the location GEOS
reports and says what is wrong there and what to do about it.
"""

from __future__ import annotations

import re

import numpy as np
import shapely

from geo.validation.problems import GeometryProblem, format_point
from geo.validation.rings import Part

__all__ = ["explain_geos_reason"]


def _tolerance(geom) -> float:
    b = shapely.bounds(geom)
    scale = max(1.0, float(np.nanmax(np.abs(b)))) if np.all(np.isfinite(b)) else 1.0
    return 1e-9 * scale


def _near(parts: list[Part], xy: tuple[float, float], tol: float) -> list[Part]:
    """Polygon rings passing through xy (nearest one if none within tol)."""
    rings = [p for p in parts if p.ring is not None and len(p.coords) >= 2]
    if not rings:
        return []
    pt = shapely.Point(xy)
    dists = np.array([shapely.distance(pt, shapely.LineString(p.coords[:, :2])) for p in rings])
    hits = [p for p, d in zip(rings, dists) if d <= tol]
    return hits or [rings[int(np.argmin(dists))]]


def _is_vertex(part: Part, xy, tol: float) -> bool:
    d = np.hypot(part.coords[:, 0] - xy[0], part.coords[:, 1] - xy[1])
    return bool(np.any(d <= tol))


_REASON_RE = re.compile(r"^(?P<reason>[^\[]+?)\s*(?:\[(?P<x>\S+)\s+(?P<y>\S+)(?:\s+\S+)?\])?$")


def explain_geos_reason(g, parts: list[Part], reason_text: str) -> GeometryProblem:
    """The problem GEOS's ``shapely.is_valid_reason`` text describes, with the ring named.

    Parameters
    ----------
    g : shapely.Geometry
        The invalid geometry (2-D, finite, rings closed: structural problems are found before).
    parts : list of Part
        :func:`~geo.validation.rings.geometry_parts` of ``g``.
    reason_text : str
        E.g. ``Self-intersection[113.1 40.05]``.

    Returns
    -------
    GeometryProblem
    """
    m = _REASON_RE.match(reason_text.strip())
    reason = m.group("reason").strip() if m else reason_text
    xy = None
    if m and m.group("x") is not None:
        try:
            xy = (float(m.group("x")), float(m.group("y")))
        except ValueError:
            xy = None
    tol = _tolerance(g)
    at = f" at {format_point(xy)}" if xy else ""
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
            f"{label} lies outside the {prefix}exterior ring (near {format_point(xy) if xy else '?'}); "
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
