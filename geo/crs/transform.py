"""Coordinates and geometries between any accepted CRS and WGS84, and into and out of a metric CRS.

PROJ (through cached pyproj transformers, always lon/lat = x/y order) for EPSG CRSs,
:mod:`geo.crs.offsets` for GCJ-02 and BD-09. :func:`to_metric`/:func:`from_metric` take only a
projected CRS in metres (:func:`geo.crs.names.require_metric`).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer

from geo.crs.names import BD09, GCJ02, METRIC_CRS_DEFAULT, WGS84, parse_crs, require_metric
from geo.crs.offsets import (
    bd09_to_wgs84,
    coordinate_arrays,
    coordinate_result,
    gcj02_to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)


@lru_cache(maxsize=64)
def transformer(src: str, dst: str) -> Transformer:
    """A cached PROJ transformer from *src* to *dst*, always in lon/lat (x/y) order.

    Parameters
    ----------
    src, dst : str
        Anything pyproj accepts, e.g. ``"EPSG:4326"``, ``"EPSG:4547"``
        (gcj02/bd09 are not PROJ CRSs: use :func:`to_wgs84` for those).

    Examples
    --------
    >>> x, y = transformer("EPSG:4326", "EPSG:4547").transform(114.0, 40.0)
    >>> round(x), round(y)
    (500000, 4429529)
    """
    return Transformer.from_crs(src, dst, always_xy=True)


def _proj(src: str, dst: str):
    t = transformer(src, dst)

    def fn(lon, lat):
        x, y, scalar = coordinate_arrays(lon, lat)
        ox, oy = t.transform(x, y)
        return coordinate_result(np.asarray(ox, dtype=float), np.asarray(oy, dtype=float), scalar)

    return fn


def _identity(lon, lat):
    x, y, scalar = coordinate_arrays(lon, lat)
    return coordinate_result(x, y, scalar)


def _to_wgs84_fn(crs: str):
    c = parse_crs(crs)
    if c == WGS84:
        return _identity
    if c == GCJ02:
        return gcj02_to_wgs84
    if c == BD09:
        return bd09_to_wgs84
    return _proj(c, WGS84)


def _from_wgs84_fn(crs: str):
    c = parse_crs(crs)
    if c == WGS84:
        return _identity
    if c == GCJ02:
        return wgs84_to_gcj02
    if c == BD09:
        return wgs84_to_bd09
    return _proj(WGS84, c)


def to_wgs84(lon: Any, lat: Any, *, crs: str):
    """Convert coordinates in *crs* to WGS84 lon/lat.

    Parameters
    ----------
    lon, lat : float or array_like
        Coordinates in *crs* (for a projected EPSG CRS: easting, northing in metres).
    crs : str
        Any name :func:`parse_crs` accepts.

    Returns
    -------
    (lon, lat)
        WGS84 degrees: floats for scalar input, numpy arrays otherwise.
        Coordinates are not range-checked: see :func:`check_lonlat`.

    Examples
    --------
    >>> to_wgs84(113.1, 40.05, crs="wgs84")
    (113.1, 40.05)
    >>> lon, lat = to_wgs84(500000.0, 4429529.0, crs="EPSG:4547")
    >>> round(lon, 4), round(lat, 4)
    (114.0, 40.0)
    """
    return _to_wgs84_fn(crs)(lon, lat)


def from_wgs84(lon: Any, lat: Any, *, crs: str):
    """Convert WGS84 lon/lat to coordinates in *crs* (inverse of :func:`to_wgs84`).

    Examples
    --------
    >>> lon, lat = from_wgs84([113.1], [40.05], crs="bd09")
    >>> lon.round(6).tolist(), lat.round(6).tolist()
    ([113.113749], [40.057012])
    """
    return _from_wgs84_fn(crs)(lon, lat)


#: Arrays of at least this many geometries are transformed in threads, one chunk per CPU: PROJ and GEOS
#: release the GIL, and pyproj gives each thread its own PROJ context. A city's 98,053 camera views
#: (19 M vertices): 5.4 s in one thread, 2.2 s in two.
THREADED_FROM = 4096


def _transform_geometry(geom, fn):
    def apply(coords: np.ndarray) -> np.ndarray:
        if len(coords) == 0:
            return coords
        x, y = fn(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    workers = min(os.cpu_count() or 1, 8)
    if isinstance(geom, np.ndarray) and geom.ndim == 1 and len(geom) >= THREADED_FROM and workers > 1:
        bounds = np.linspace(0, len(geom), workers + 1).astype(int)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(lambda i: shapely.transform(geom[bounds[i]:bounds[i + 1]], apply, include_z=False),
                                  range(workers)))
        return np.concatenate(parts)
    return shapely.transform(geom, apply, include_z=False)


def to_wgs84_geometry(geom, *, crs: str):
    """Convert a shapely geometry (or array of them) from *crs* to WGS84; z is dropped.

    Examples
    --------
    >>> from shapely import Point
    >>> p = to_wgs84_geometry(Point(113.107156, 40.051335, 5.0), crs="gcj02")
    >>> round(p.x, 5), round(p.y, 5), p.has_z
    (113.1, 40.05, False)
    """
    return _transform_geometry(geom, _to_wgs84_fn(crs))


def from_wgs84_geometry(geom, *, crs: str):
    """Convert a shapely geometry (or array of them) from WGS84 to *crs*; z is dropped.

    Examples
    --------
    >>> from shapely import Point
    >>> p = from_wgs84_geometry(Point(113.1, 40.05), crs="gcj02")
    >>> round(p.x, 6), round(p.y, 6)
    (113.107156, 40.051335)
    """
    return _transform_geometry(geom, _from_wgs84_fn(crs))


def to_metric(geom, *, crs: str = METRIC_CRS_DEFAULT):
    """Project a WGS84 shapely geometry (or array) into a metric CRS.

    Parameters
    ----------
    geom : shapely.Geometry or array_like
        In WGS84 lon/lat.
    crs : str, default ``"EPSG:4547"``
        A projected CRS in metres.

    Examples
    --------
    >>> from shapely import box
    >>> sq = box(113.1, 40.05, 113.101, 40.051)   # about 85 m x 111 m
    >>> round(to_metric(sq).area, -1)
    9480.0
    """
    return _transform_geometry(geom, _proj(WGS84, require_metric(crs)))


def from_metric(geom, *, crs: str = METRIC_CRS_DEFAULT):
    """Bring a shapely geometry (or array) in a metric CRS back to WGS84.

    Examples
    --------
    >>> from shapely import Point
    >>> p = from_metric(Point(500000.0, 4429529.0))
    >>> round(p.x, 4), round(p.y, 4)
    (114.0, 40.0)
    """
    return _transform_geometry(geom, _proj(require_metric(crs), WGS84))
