"""Checks of longitude/latitude pairs in degrees, with messages that say what to send instead.

The same rules for every geographic CRS (WGS84, CGCS2000, GCJ-02, BD-09): finite numbers, lon in
[-180, 180], lat in [-90, 90], a "did you swap lon and lat?" hint when swapping would make both valid
and a "projected metres" hint for numbers far out of range.
"""

from __future__ import annotations

import math
from typing import Any

from geo.errors import BadCoordinates, excerpt


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
