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

import math
import re
from functools import lru_cache
from typing import Any, Callable

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from geo.errors import BadCoordinates, BadCRS, excerpt

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

#: Projected CRS for lengths and areas: CGCS2000 / 3-degree Gauss-Kruger CM 114E.
METRIC_CRS_DEFAULT = "EPSG:4547"

#: Canonical names returned by :func:`parse_crs`.
WGS84 = "EPSG:4326"
CGCS2000 = "EPSG:4490"
GCJ02 = "gcj02"
BD09 = "bd09"

#: Human list of what :func:`parse_crs` accepts (used in error messages).
ACCEPTED_CRS = (
    "wgs84 (default), cgcs2000, gcj02, bd09, or EPSG:<code> "
    "(a geographic CRS in degrees or a projected CRS in metres, e.g. EPSG:4547)"
)

# Names are matched after lower-casing and removing spaces, '-' and '_'.
_ALIASES = {
    "wgs84": WGS84,
    "gps": WGS84,
    "epsg4326": WGS84,
    "crs84": WGS84,
    "cgcs2000": CGCS2000,
    "cgcs": CGCS2000,
    "epsg4490": CGCS2000,
    "gcj02": GCJ02,
    "gcj": GCJ02,
    "mars": GCJ02,
    "bd09": BD09,
    "bd09ll": BD09,
    "baidu": BD09,
}
_EPSG_RE = re.compile(r"^epsg:?(\d{4,6})$")

# --- GCJ-02 / BD-09 constants (the published algorithm) ---------------------
_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323
_CHINA_LON = (72.004, 137.8347)
_CHINA_LAT = (0.8293, 55.8271)
_X_PI = math.pi * 3000.0 / 180.0
_BD_DLON = 0.0065
_BD_DLAT = 0.006
_INVERSE_TOL_DEG = 1e-10
_INVERSE_MAX_ITER = 20


# ---------------------------------------------------------------------------
# CRS names
# ---------------------------------------------------------------------------


def parse_crs(name: str | None = None) -> str:
    """Parse a client's CRS name into a canonical one.

    Parameters
    ----------
    name : str or None
        ``wgs84`` (the default, also for None or ""), ``cgcs2000``,
        ``gcj02``, ``bd09`` or ``EPSG:n``. Case, spaces, ``-`` and ``_`` are
        ignored (``WGS-84``, ``GCJ-02``, ``BD-09`` work).

    Returns
    -------
    str
        ``"EPSG:4326"`` (wgs84), ``"EPSG:4490"`` (cgcs2000), ``"gcj02"``,
        ``"bd09"`` or ``"EPSG:n"``. Every EPSG result is usable by pyproj.

    Raises
    ------
    geo.errors.BadCRS
        Unknown name, unknown EPSG code, or an EPSG CRS that is neither
        geographic in degrees nor projected in metres.

    Examples
    --------
    >>> parse_crs("wgs84"), parse_crs(None), parse_crs("GCJ-02"), parse_crs("bd09")
    ('EPSG:4326', 'EPSG:4326', 'gcj02', 'bd09')
    >>> parse_crs("cgcs2000"), parse_crs("epsg:4547")
    ('EPSG:4490', 'EPSG:4547')
    >>> parse_crs("mercator")
    Traceback (most recent call last):
    ...
    geo.errors.BadCRS: unknown CRS 'mercator'; use one of: wgs84 (default), cgcs2000, gcj02, bd09, or EPSG:<code> (a geographic CRS in degrees or a projected CRS in metres, e.g. EPSG:4547)
    """
    if name is None:
        return WGS84
    if not isinstance(name, str):
        raise BadCRS(
            f"CRS must be a string, got {type(name).__name__}; use one of: {ACCEPTED_CRS}",
            details={"accepted": _accepted_list()},
        )
    key = re.sub(r"[\s\-_]", "", name).lower()
    if key == "":
        return WGS84
    if key in _ALIASES:
        return _ALIASES[key]
    m = _EPSG_RE.match(key)
    if m:
        return _check_epsg(int(m.group(1)), name)
    raise BadCRS(
        f"unknown CRS {excerpt(name, chars=24)}; use one of: {ACCEPTED_CRS}",
        details={"crs": str(name)[:24], "accepted": _accepted_list()},
    )


def _accepted_list() -> list[str]:
    return ["wgs84", "cgcs2000", "gcj02", "bd09", "EPSG:<code>"]


@lru_cache(maxsize=256)
def _epsg_kind(code: int) -> str:
    """'geographic', 'projected', or a reason the code is unusable."""
    try:
        crs = CRS.from_epsg(code)
    except CRSError:
        return "unknown"
    if crs.is_geographic and len(crs.axis_info) == 2:
        if all(a.unit_name == "degree" for a in crs.axis_info):
            return "geographic"
        return "a geographic CRS not in degrees"
    if crs.is_projected and not crs.is_compound:
        units = {a.unit_name for a in crs.axis_info}
        if units == {"metre"}:
            return "projected"
        return f"a projected CRS in {', '.join(sorted(units))}, not metres"
    return f"not a 2-D geographic or projected CRS ({crs.type_name})"


def _check_epsg(code: int, original: str) -> str:
    kind = _epsg_kind(code)
    if kind in ("geographic", "projected"):
        return f"EPSG:{code}"
    if kind == "unknown":
        msg = f"unknown CRS {excerpt(original, chars=24)}: EPSG:{code} is not in the EPSG database"
    else:
        msg = f"unsupported CRS {excerpt(original, chars=24)}: EPSG:{code} is {kind}"
    raise BadCRS(
        f"{msg}; use one of: {ACCEPTED_CRS}",
        details={"crs": str(original)[:24], "accepted": _accepted_list()},
    )


def is_geographic(crs: str) -> bool:
    """True when *crs* (any accepted name) has lon/lat coordinates in degrees.

    Examples
    --------
    >>> is_geographic("gcj02"), is_geographic("EPSG:4547")
    (True, False)
    """
    c = parse_crs(crs)
    if c in (GCJ02, BD09):
        return True
    return _epsg_kind(int(c.split(":")[1])) == "geographic"


def crs_label(crs: str) -> str:
    """Short, human name of a CRS for messages and metadata.

    Examples
    --------
    >>> crs_label("EPSG:4326"), crs_label("gcj02"), crs_label("EPSG:4547")
    ('wgs84', 'gcj02', 'EPSG:4547')
    """
    c = parse_crs(crs)
    return {WGS84: "wgs84", CGCS2000: "cgcs2000"}.get(c, c)


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


# ---------------------------------------------------------------------------
# Coordinate checks
# ---------------------------------------------------------------------------


def _jsonable(v: Any) -> Any:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    return f if math.isfinite(f) else str(f)


def lonlat_problem(lon: Any, lat: Any) -> str | None:
    """Say what is wrong with a longitude/latitude pair, or None when fine.

    Same rules as :func:`check_lonlat`, without raising.

    Examples
    --------
    >>> lonlat_problem(113.1, 40.05) is None
    True
    >>> lonlat_problem(40.05, 113.1)
    'lat=113.1 is out of range [-90, 90]; did you swap lon and lat?'
    """
    vals = {}
    for name, v in (("lon", lon), ("lat", lat)):
        if isinstance(v, bool):
            return f"{name}={excerpt(v)} is not a number; send decimal degrees"
        try:
            f = float(v)
        except (TypeError, ValueError):
            return f"{name}={excerpt(v)} is not a number; send decimal degrees, e.g. lon=113.1 lat=40.05"
        if math.isnan(f):
            return f"{name} is not a number (NaN); send decimal degrees, e.g. lon=113.1 lat=40.05"
        if math.isinf(f):
            return f"{name}={f} is not finite; send decimal degrees, e.g. lon=113.1 lat=40.05"
        vals[name] = f
    x, y = vals["lon"], vals["lat"]
    lon_ok = -180.0 <= x <= 180.0
    lat_ok = -90.0 <= y <= 90.0
    if lon_ok and lat_ok:
        return None
    parts = []
    if not lon_ok:
        parts.append(f"lon={_fmt(x)} is out of range [-180, 180]")
    if not lat_ok:
        parts.append(f"lat={_fmt(y)} is out of range [-90, 90]")
    msg = "; ".join(parts)
    if -180.0 <= y <= 180.0 and -90.0 <= x <= 90.0:
        msg += "; did you swap lon and lat?"
    elif abs(x) > 1000 or abs(y) > 1000:
        msg += (
            "; these look like projected metres, not degrees: pass the CRS they are "
            "in (e.g. crs=EPSG:4547)"
        )
    return msg


def check_lonlat(lon: Any, lat: Any) -> tuple[float, float]:
    """Check a longitude/latitude pair in degrees.

    Parameters
    ----------
    lon, lat : float
        Decimal degrees (WGS84, CGCS2000, GCJ-02 or BD-09 alike).

    Returns
    -------
    (float, float)
        The pair as floats.

    Raises
    ------
    geo.errors.BadCoordinates
        NaN, infinite, non-numeric or out of range; the message says
        "did you swap lon and lat?" when swapping would make both valid.

    Examples
    --------
    >>> check_lonlat(113.1, 40.05)
    (113.1, 40.05)
    >>> check_lonlat(40.05, 113.1)
    Traceback (most recent call last):
    ...
    geo.errors.BadCoordinates: lat=113.1 is out of range [-90, 90]; did you swap lon and lat?
    """
    problem = lonlat_problem(lon, lat)
    if problem is not None:
        raise BadCoordinates(problem, details={"lon": _jsonable(lon), "lat": _jsonable(lat)})
    return float(lon), float(lat)


def _fmt(v: float) -> str:
    """Compact decimal for messages: 113.1 not 113.10000000000001, up to 7 decimals."""
    s = f"{v:.7f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


# ---------------------------------------------------------------------------
# GCJ-02 and BD-09 (vectorised)
# ---------------------------------------------------------------------------


def _arrays(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    x, y = np.broadcast_arrays(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.array(x, dtype=float), np.array(y, dtype=float), scalar


def _out(x: np.ndarray, y: np.ndarray, scalar: bool):
    if scalar:
        return float(x), float(y)
    return x, y


def in_china(lon: Any, lat: Any) -> Any:
    """True where the point lies in the rough China box where GCJ-02 applies.

    Examples
    --------
    >>> bool(in_china(113.1, 40.05)), bool(in_china(2.35, 48.85))
    (True, False)
    """
    x = np.asarray(lon, dtype=float)
    y = np.asarray(lat, dtype=float)
    with np.errstate(invalid="ignore"):
        return (
            (x >= _CHINA_LON[0]) & (x <= _CHINA_LON[1]) & (y >= _CHINA_LAT[0]) & (y <= _CHINA_LAT[1])
        )


def _gcj_offset(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 offset (dlon, dlat) in degrees at WGS84 lon/lat (no China check)."""
    u = x - 105.0
    v = y - 35.0
    su = np.sqrt(np.abs(u))
    upi = u * math.pi
    vpi = v * math.pi
    common = 20.0 * np.sin(6.0 * upi) + 20.0 * np.sin(2.0 * upi)
    dlat = (
        -100.0 + 2.0 * u + 3.0 * v + 0.2 * v * v + 0.1 * u * v + 0.2 * su
        + (common + 20.0 * np.sin(vpi) + 40.0 * np.sin(vpi / 3.0)
           + 160.0 * np.sin(vpi / 12.0) + 320.0 * np.sin(vpi / 30.0)) * 2.0 / 3.0
    )
    dlon = (
        300.0 + u + 2.0 * v + 0.1 * u * u + 0.1 * u * v + 0.1 * su
        + (common + 20.0 * np.sin(upi) + 40.0 * np.sin(upi / 3.0)
           + 150.0 * np.sin(upi / 12.0) + 300.0 * np.sin(upi / 30.0)) * 2.0 / 3.0
    )
    rad = np.radians(y)
    magic = 1.0 - _KRASOVSKY_EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = dlat * 180.0 / ((_KRASOVSKY_A * (1.0 - _KRASOVSKY_EE)) / (magic * sqrt_magic) * math.pi)
    dlon = dlon * 180.0 / (_KRASOVSKY_A / sqrt_magic * np.cos(rad) * math.pi)
    return dlon, dlat


def _gcj_forward(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dx, dy = _gcj_offset(x, y)
    return x + dx, y + dy


def _bd_forward(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = np.hypot(x, y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + _BD_DLON, z * np.sin(theta) + _BD_DLAT


def _bd_rough_inverse(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = x - _BD_DLON
    y = y - _BD_DLAT
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def _invert(
    forward: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
    x: np.ndarray,
    y: np.ndarray,
    x0: np.ndarray,
    y0: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Solve forward(wx, wy) = (x, y) by fixed-point iteration from (x0, y0).

    The offsets change slowly (their Jacobian is ~1e-3 from identity), so each
    step gains about three digits: 3-4 steps reach 1e-10 degrees.
    """
    wx, wy = x0.copy(), y0.copy()
    for _ in range(_INVERSE_MAX_ITER):
        fx, fy = forward(wx, wy)
        ex, ey = fx - x, fy - y
        wx -= ex
        wy -= ey
        if ex.size == 0 or max(np.max(np.abs(ex)), np.max(np.abs(ey))) < _INVERSE_TOL_DEG:
            break
    return wx, wy


def _apply_in_china(fn, lon, lat):
    x, y, scalar = _arrays(lon, lat)
    mask = in_china(x, y) & np.isfinite(x) & np.isfinite(y)
    if mask.any():
        ox, oy = fn(x[mask], y[mask])
        x[mask] = ox
        y[mask] = oy
    return _out(x, y, scalar)


def wgs84_to_gcj02(lon: Any, lat: Any):
    """WGS84 -> GCJ-02 (the forward, published algorithm).

    Parameters
    ----------
    lon, lat : float or array_like
        WGS84 degrees. Points outside China are returned unchanged.

    Returns
    -------
    (lon, lat)
        Floats for scalar input, numpy arrays otherwise.

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02([113.1, 2.35], [40.05, 48.85])
    >>> lon.round(6).tolist(), lat.round(6).tolist()
    ([113.107156, 2.35], [40.051335, 48.85])
    """
    return _apply_in_china(_gcj_forward, lon, lat)


def gcj02_to_wgs84(lon: Any, lat: Any):
    """GCJ-02 -> WGS84, exact inverse by fixed-point iteration (< 1e-10 degrees).

    Examples
    --------
    >>> lon, lat = gcj02_to_wgs84(113.107156, 40.051335)
    >>> round(lon, 5), round(lat, 5)
    (113.1, 40.05)
    """

    def inverse(x, y):
        dx, dy = _gcj_offset(x, y)
        return _invert(_gcj_forward, x, y, x - dx, y - dy)

    return _apply_in_china(inverse, lon, lat)


def gcj02_to_bd09(lon: Any, lat: Any):
    """GCJ-02 -> BD-09 (Baidu). Points outside China are returned unchanged.

    Examples
    --------
    >>> lon, lat = gcj02_to_bd09(113.1, 40.05)
    >>> round(lon, 6), round(lat, 6)
    (113.106601, 40.055654)
    """
    return _apply_in_china(_bd_forward, lon, lat)


def bd09_to_gcj02(lon: Any, lat: Any):
    """BD-09 -> GCJ-02: the closed-form approximate inverse, refined to exact.

    Examples
    --------
    >>> lon, lat = bd09_to_gcj02(*gcj02_to_bd09(113.1, 40.05))
    >>> round(lon, 9), round(lat, 9)
    (113.1, 40.05)
    """

    def inverse(x, y):
        x0, y0 = _bd_rough_inverse(x, y)
        return _invert(_bd_forward, x, y, x0, y0)

    return _apply_in_china(inverse, lon, lat)


def wgs84_to_bd09(lon: Any, lat: Any):
    """WGS84 -> BD-09 (via GCJ-02).

    Examples
    --------
    >>> lon, lat = wgs84_to_bd09(113.1, 40.05)
    >>> round(lon, 6), round(lat, 6)
    (113.113749, 40.057012)
    """
    x, y, scalar = _arrays(lon, lat)
    mask = in_china(x, y) & np.isfinite(x) & np.isfinite(y)
    if mask.any():
        gx, gy = _gcj_forward(x[mask], y[mask])
        x[mask], y[mask] = _bd_forward(gx, gy)
    return _out(x, y, scalar)


def bd09_to_wgs84(lon: Any, lat: Any):
    """BD-09 -> WGS84 (exact inverse of :func:`wgs84_to_bd09`).

    Examples
    --------
    >>> lon, lat = bd09_to_wgs84(*wgs84_to_bd09(113.1, 40.05))
    >>> round(lon, 9), round(lat, 9)
    (113.1, 40.05)
    """
    x, y, scalar = _arrays(lon, lat)
    mask = in_china(x, y) & np.isfinite(x) & np.isfinite(y)
    if mask.any():
        bx, by = x[mask], y[mask]
        gx, gy = _invert(_bd_forward, bx, by, *_bd_rough_inverse(bx, by))
        dx, dy = _gcj_offset(gx, gy)
        x[mask], y[mask] = _invert(_gcj_forward, gx, gy, gx - dx, gy - dy)
    return _out(x, y, scalar)


# ---------------------------------------------------------------------------
# Any accepted CRS <-> WGS84
# ---------------------------------------------------------------------------


def _proj(src: str, dst: str):
    t = transformer(src, dst)

    def fn(lon, lat):
        x, y, scalar = _arrays(lon, lat)
        ox, oy = t.transform(x, y)
        return _out(np.asarray(ox, dtype=float), np.asarray(oy, dtype=float), scalar)

    return fn


def _identity(lon, lat):
    x, y, scalar = _arrays(lon, lat)
    return _out(x, y, scalar)


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


def _transform_geometry(geom, fn):
    def apply(coords: np.ndarray) -> np.ndarray:
        if len(coords) == 0:
            return coords
        x, y = fn(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

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


def require_metric(crs: str) -> str:
    """The canonical name of ``crs`` if it is a projected CRS in metres, else :class:`BadCRS`.

    The one rule for every length, area, density and lattice in gridmap: a geographic CRS
    (degrees), GCJ-02/BD-09 (offset degrees) or anything that is not a projected CRS is refused,
    with a message that names one to use.

    >>> require_metric("epsg:32649")
    'EPSG:32649'
    >>> require_metric("wgs84")
    Traceback (most recent call last):
    ...
    geo.errors.BadCRS: crs='wgs84' is not a projected CRS in metres (it is in degrees); lengths, areas and densities need one such as EPSG:4547
    """
    c = parse_crs(crs)
    if c in (GCJ02, BD09) or _epsg_kind(int(c.split(":")[1])) != "projected":
        what = " (it is in degrees)" if c in (GCJ02, BD09) or is_geographic(c) else ""
        raise BadCRS(
            f"crs={crs!r} is not a projected CRS in metres{what}; lengths, areas and densities need one "
            f"such as {METRIC_CRS_DEFAULT}",
            details={"crs": crs},
        )
    return c


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
