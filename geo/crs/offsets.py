"""GCJ-02 and BD-09: the offset "CRSs" of Chinese maps, which PROJ does not know, vectorised in numpy.

GCJ-02 is the published algorithm (Krasovsky 1940 ellipsoid, a = 6378245.0,
e^2 = 0.00669342162296594323); BD-09 is Baidu's extra offset on top of it. Points outside the rough
China bounding box (72.004-137.8347 E, 0.8293-55.8271 N) get no offset, for both. The inverses
(GCJ-02 -> WGS84, BD-09 -> GCJ-02) iterate the forward transformation to a fixed point, so round
trips are exact to ~1e-9 m.

Every function takes scalars or array_likes and gives floats for scalars, numpy arrays otherwise
(:func:`coordinate_arrays`, :func:`coordinate_result`, shared with :mod:`geo.crs.transform`).
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

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


def coordinate_arrays(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    """*lon*, *lat* as two broadcast float arrays (fresh copies: the caller's input is never modified in
    place), and whether both were scalars (see :func:`coordinate_result`)."""
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    x, y = np.broadcast_arrays(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.array(x, dtype=float), np.array(y, dtype=float), scalar


def coordinate_result(x: np.ndarray, y: np.ndarray, scalar: bool):
    """Two floats when the input was scalar (*scalar* from :func:`coordinate_arrays`), else the arrays."""
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
    x, y, scalar = coordinate_arrays(lon, lat)
    mask = in_china(x, y) & np.isfinite(x) & np.isfinite(y)
    if mask.any():
        ox, oy = fn(x[mask], y[mask])
        x[mask] = ox
        y[mask] = oy
    return coordinate_result(x, y, scalar)


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
    x, y, scalar = coordinate_arrays(lon, lat)
    mask = in_china(x, y) & np.isfinite(x) & np.isfinite(y)
    if mask.any():
        gx, gy = _gcj_forward(x[mask], y[mask])
        x[mask], y[mask] = _bd_forward(gx, gy)
    return coordinate_result(x, y, scalar)


def bd09_to_wgs84(lon: Any, lat: Any):
    """BD-09 -> WGS84 (exact inverse of :func:`wgs84_to_bd09`).

    Examples
    --------
    >>> lon, lat = bd09_to_wgs84(*wgs84_to_bd09(113.1, 40.05))
    >>> round(lon, 9), round(lat, 9)
    (113.1, 40.05)
    """
    x, y, scalar = coordinate_arrays(lon, lat)
    mask = in_china(x, y) & np.isfinite(x) & np.isfinite(y)
    if mask.any():
        bx, by = x[mask], y[mask]
        gx, gy = _invert(_bd_forward, bx, by, *_bd_rough_inverse(bx, by))
        dx, dy = _gcj_offset(gx, gy)
        x[mask], y[mask] = _invert(_gcj_forward, gx, gy, gx - dx, gy - dy)
    return coordinate_result(x, y, scalar)
