"""The checks imports and edits use: a valid geometry of the right type, or a client's geometry in WGS84.

:func:`require_valid` raises :class:`geo.errors.InvalidGeometry` with the
diagnosis in its details; :func:`geometry_in` adds the size limit
(:data:`MAX_VERTICES`), the coordinate range and the transformation to WGS84.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import shapely

from geo.errors import InvalidGeometry
from geo.validation.diagnose import diagnose_shapely
from geo.validation.parse import coerce_geometry
from geo.validation.problems import GeometryProblem, Malformed

__all__ = ["MAX_VERTICES", "geometry_in", "require_valid"]


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
        g = coerce_geometry(geom)
        problem = diagnose_shapely(g)
    except Malformed as e:
        g, problem = None, e.problem
    if problem is None and types:
        wanted = {t.lower() for t in types}
        if g.geom_type.lower() not in wanted:
            problem = GeometryProblem(
                "wrong_type",
                f"expected {' or '.join(sorted(types))}, got {g.geom_type}",
            )
    if problem is not None:
        raise InvalidGeometry.say("geometry.problem", what=what, reason=problem, details={"what": what, **problem.as_dict()})
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
