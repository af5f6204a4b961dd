"""Validation of imported features: every problem of every feature at once, in index order.

:func:`validate_features` names the first problem of each feature that cannot be imported (unreadable,
null or empty, wrong type, out of lon/lat range, 3-D, not OGC-valid); :func:`range_errors` is the
lon/lat range rule, which :func:`geo.io.read.read_features` also applies to source coordinates
before converting them.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from geo import messages
from geo.crs import lonlat_problem
from geo.io.formats import FEATURE_INDEX, GEOMETRY_ERROR
from geo.validation import diagnose

# shapely.get_type_id -> name
_TYPE_NAMES = (
    "Point",
    "LineString",
    "LinearRing",
    "Polygon",
    "MultiPoint",
    "MultiLineString",
    "MultiPolygon",
    "GeometryCollection",
)


@dataclass(frozen=True)
class FeatureProblem:
    """A feature that cannot be imported.

    Attributes
    ----------
    index : int
        The feature's 0-based position in the source file (``feature_index``).
    reason : str
        What is wrong and how to fix it.
    reason_zh : str, optional
        The same in Chinese (from the message catalogue), when the check that found it says it.
    """

    index: int
    reason: str
    reason_zh: str | None = None

    def as_dict(self) -> dict:
        out = {"index": self.index, "reason": self.reason}
        if self.reason_zh is not None:
            out["reason_zh"] = self.reason_zh
        return out


def range_errors(geoms: np.ndarray, errors: list[str | None]) -> None:
    """Record the first out-of-range lon/lat of each feature (source coordinates)."""
    coords, which = shapely.get_coordinates(geoms, return_index=True)
    if len(coords) == 0:
        return
    x, y = coords[:, 0], coords[:, 1]
    with np.errstate(invalid="ignore"):
        bad = ~(np.isfinite(x) & np.isfinite(y) & (np.abs(x) <= 180) & (np.abs(y) <= 90))
    seen: set[int] = set()
    for k in np.flatnonzero(bad):
        i = int(which[k])
        if i in seen or errors[i] is not None:
            continue
        seen.add(i)
        problem = lonlat_problem(x[k], y[k]) or "coordinates are not finite"
        if geoms[i].geom_type != "Point":
            position = k - int(np.searchsorted(which, i))
            problem += f" (position {position} of the {geoms[i].geom_type})"
        errors[i] = problem


def validate_features(
    gdf: gpd.GeoDataFrame, *, geometry_types: Collection[str] | None
) -> list[FeatureProblem]:
    """Find every feature that cannot be imported; all of them, in index order.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Usually from :func:`read_features` (WGS84, with ``feature_index``).
    geometry_types : collection of str or None
        Accepted geometry types, e.g. ``{"Polygon", "MultiPolygon"}``
        (case-insensitive); None accepts any.

    Returns
    -------
    list of FeatureProblem
        One per bad feature (its first problem): unreadable geometry, null or
        empty geometry, wrong type, coordinates out of lon/lat range (with the
        "did you swap lon and lat?" hint), 3-D, or not OGC-valid (as
        :func:`geo.validation.explain_invalid` says). Required properties are
        the caller's to check.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point, Polygon
    >>> gdf = gpd.GeoDataFrame(geometry=[Polygon([(0, 0), (1, 1), (1, 0), (0, 1)]), None, Point(1, 2)])
    >>> for p in validate_features(gdf, geometry_types={"Polygon"}):
    ...     print(p.index, p.reason)
    0 ring 0 (exterior) self-intersects at (0.5, 0.5): its edges cross (a bowtie); redraw the ring so its edges do not cross
    1 null geometry: the feature has no geometry
    2 geometry type Point is not accepted here; expected Polygon
    """
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    n = len(geoms)
    if FEATURE_INDEX in gdf.columns:
        index = gdf[FEATURE_INDEX].to_numpy()
    else:
        index = np.arange(n)
    reasons: list[str | None] = [None] * n
    chinese: list[str | None] = [None] * n  # each reason in Chinese (geo/messages.py)
    if GEOMETRY_ERROR in gdf.columns:
        for i, e in enumerate(gdf[GEOMETRY_ERROR].to_numpy(dtype=object)):
            if isinstance(e, str) and e:
                reasons[i], chinese[i] = e, messages.zh("import.unreadable", reason=e)

    missing = shapely.is_missing(geoms)
    empty = shapely.is_empty(geoms)
    for i in np.flatnonzero(missing | empty):
        if reasons[i] is None:
            which = "geometry.null" if missing[i] else "geometry.empty"
            reasons[i], chinese[i] = messages.en(which), messages.zh(which)

    if geometry_types:
        wanted = {t.lower() for t in geometry_types}
        type_ids = shapely.get_type_id(geoms)
        ok_ids = [k for k, name in enumerate(_TYPE_NAMES) if name.lower() in wanted]
        expected = " or ".join(sorted(geometry_types))
        for i in np.flatnonzero(~np.isin(type_ids, ok_ids) & (type_ids >= 0)):
            if reasons[i] is None:
                fields = {"type": geoms[i].geom_type, "expected": expected}
                reasons[i] = messages.en("import.wrong_type", **fields)
                chinese[i] = messages.zh("import.wrong_type", **fields)

    crs = gdf.crs
    if crs is None or crs.is_geographic:
        pending = np.array([r is None for r in reasons], dtype=bool)
        if pending.any():
            errs: list[str | None] = [None] * n
            sub = np.where(pending, geoms, None)
            range_errors(sub, errs)
            for i, e in enumerate(errs):
                if e is not None and reasons[i] is None:
                    reasons[i], chinese[i] = e, messages.zh("import.bad_coordinates", reason=e)

    pending = np.array([r is None for r in reasons], dtype=bool)
    if pending.any():
        sub = np.where(pending, geoms, None)
        with np.errstate(invalid="ignore"):
            suspect = pending & (~shapely.is_valid(sub) | shapely.has_z(sub))
        for i in np.flatnonzero(suspect):
            problem = diagnose(geoms[i])
            if problem is not None:
                reasons[i], chinese[i] = problem.message, problem.message_zh

    return [FeatureProblem(int(index[i]), r, chinese[i]) for i, r in enumerate(reasons) if r is not None]
