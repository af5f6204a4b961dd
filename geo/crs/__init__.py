"""Coordinate reference systems: WGS84, CGCS2000, GCJ-02, BD-09 and metric CRSs.

gridmap stores everything in WGS84 (EPSG:4326) and measures lengths and areas
in a projected CRS (:data:`METRIC_CRS_DEFAULT`, EPSG:4547: CGCS2000 3-degree
Gauss-Kruger, central meridian 114E, right for Datong).

Clients may send coordinates in

``wgs84``
    EPSG:4326, GPS. The default.
``cgcs2000``
    EPSG:4490, China's geodetic datum (Tianditu). Equal to WGS84 at metre
    level, but still transformed through PROJ.
``gcj02``
    The obfuscated "Mars coordinates" that Chinese law requires of public maps
    (Amap/Gaode, Tencent, WeChat, Apple Maps in China). PROJ has no definition:
    implemented here.
``bd09``
    Baidu's extra offset on top of GCJ-02. Implemented here.
``EPSG:n``
    Any geographic CRS in degrees or projected CRS in metres known to PROJ.

GCJ-02 and BD-09 are the published algorithm (Krasovsky 1940 ellipsoid,
a = 6378245.0, e^2 = 0.00669342162296594323); points outside the rough China
bounding box (72.004-137.8347 E, 0.8293-55.8271 N) get no offset, for both.
The inverses (GCJ-02 -> WGS84, BD-09 -> GCJ-02) iterate the forward
transformation to a fixed point, so round trips are exact to ~1e-9 m.

The package's modules:

:mod:`geo.crs.names`
    The canonical names (:data:`WGS84`, :data:`CGCS2000`, :data:`GCJ02`, :data:`BD09`,
    :data:`METRIC_CRS_DEFAULT`), :func:`parse_crs` and its aliases, the kind of an EPSG CRS
    (:func:`is_geographic`), :func:`crs_label`, and :func:`require_metric`.
:mod:`geo.crs.lonlat`
    Checks of lon/lat pairs: :func:`check_lonlat`, :func:`lonlat_problem`.
:mod:`geo.crs.offsets`
    The GCJ-02 and BD-09 transformations (:func:`wgs84_to_gcj02` and the others, :func:`in_china`).
:mod:`geo.crs.transform`
    Cached PROJ transformers (:func:`transformer`), any accepted CRS to and from WGS84 for
    coordinates (:func:`to_wgs84`, :func:`from_wgs84`) and shapely geometries
    (:func:`to_wgs84_geometry`, :func:`from_wgs84_geometry`), and :func:`to_metric`/:func:`from_metric`.

Import from the package (``from geo.crs import parse_crs, to_metric``): the names below are its API.

Examples
--------
>>> from geo.crs import from_wgs84, to_wgs84
>>> lon, lat = from_wgs84(113.1, 40.05, crs="gcj02")   # Datong, onto Amap
>>> round(lon, 6), round(lat, 6)
(113.107156, 40.051335)
>>> back = to_wgs84(lon, lat, crs="gcj02")
>>> round(back[0], 9), round(back[1], 9)
(113.1, 40.05)
"""

from __future__ import annotations

from geo.crs.lonlat import check_lonlat, lonlat_problem
from geo.crs.names import (
    ACCEPTED_CRS,
    BD09,
    CGCS2000,
    GCJ02,
    METRIC_CRS_DEFAULT,
    WGS84,
    crs_label,
    is_geographic,
    parse_crs,
    require_metric,
)
from geo.crs.offsets import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    in_china,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from geo.crs.transform import (
    from_metric,
    from_wgs84,
    from_wgs84_geometry,
    to_metric,
    to_wgs84,
    to_wgs84_geometry,
    transformer,
)

__all__ = [
    "ACCEPTED_CRS",
    "BD09",
    "CGCS2000",
    "GCJ02",
    "METRIC_CRS_DEFAULT",
    "WGS84",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "check_lonlat",
    "crs_label",
    "from_metric",
    "from_wgs84",
    "from_wgs84_geometry",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "in_china",
    "is_geographic",
    "lonlat_problem",
    "parse_crs",
    "to_metric",
    "to_wgs84",
    "to_wgs84_geometry",
    "require_metric",
    "transformer",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]
