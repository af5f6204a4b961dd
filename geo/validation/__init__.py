"""Geometry validation that explains itself.

:func:`explain_invalid` turns GEOS's terse ``Self-intersection[113.1 40.05]``
into a sentence naming the ring and the place, and what to do about it.
It accepts shapely geometries and also the raw forms a client sends
(a GeoJSON geometry dict, WKB bytes, WKT or GeoJSON text), which matters
because shapely silently closes unclosed rings when building from a dict and
refuses some malformed input outright: those are checked structurally first.

Ring naming: in a polygon, ring 0 is the exterior and ring k (k >= 1) is
hole k; in a MultiPolygon every name is prefixed ``polygon j,``.
Where things are
----------------
:mod:`geo.validation.problems`
    :class:`GeometryProblem` and how places are written.
:mod:`geo.validation.parse`
    :func:`parse_geometry`: the raw forms, checked structurally before shapely
    (:mod:`geo.validation.wkb` decodes WKB).
:mod:`geo.validation.rings`
    The rings, lines and points of a geometry and their names.
:mod:`geo.validation.diagnose`
    :func:`diagnose` and :func:`explain_invalid` (structure first, then GEOS).
:mod:`geo.validation.geos_reasons`
    GEOS's reasons as sentences naming the ring and the place.
:mod:`geo.validation.checks`
    :func:`require_valid` and :func:`geometry_in` (:data:`MAX_VERTICES`), used by
    imports and edits.


Examples
--------
>>> from shapely import Polygon
>>> print(explain_invalid(Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])))
ring 0 (exterior) self-intersects at (1, 1): its edges cross (a bowtie); redraw the ring so its edges do not cross
>>> explain_invalid(Polygon([(0, 0), (2, 0), (2, 2), (0, 2)])) is None
True
"""

from __future__ import annotations

from geo.validation.checks import MAX_VERTICES, geometry_in, require_valid
from geo.validation.diagnose import diagnose, explain_invalid
from geo.validation.parse import parse_geometry
from geo.validation.problems import GeometryProblem

__all__ = [
    "MAX_VERTICES",
    "GeometryProblem",
    "diagnose",
    "explain_invalid",
    "parse_geometry",
    "geometry_in",
    "require_valid",
]
