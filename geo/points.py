"""Query points in any accepted CRS → WGS84, with a reason for every bad row.

Geographic input (wgs84, cgcs2000, gcj02, bd09, a geographic EPSG) is checked
*before* conversion, so a swapped lon/lat gets the "did you swap" hint; projected
input (EPSG:4547, ...) is converted first and the result checked.
"""

from __future__ import annotations

import numpy as np

from geo.crs import is_geographic, lonlat_problem, parse_crs, to_wgs84
from geo.errors import BadCoordinates


def point_to_wgs84(lon: float, lat: float, *, crs: str | None = None) -> tuple[float, float]:
    """One point; raises :class:`BadCoordinates` (or ``BadCRS``) with a message that helps."""
    lons, lats, errors = points_to_wgs84(np.array([lon], dtype=float), np.array([lat], dtype=float), crs=crs)
    if errors[0] is not None:
        raise BadCoordinates(errors[0], details={"lon": lon, "lat": lat, "crs": crs or "wgs84"})
    return float(lons[0]), float(lats[0])


def points_to_wgs84(lon: np.ndarray, lat: np.ndarray, *, crs: str | None = None
                    ) -> tuple[np.ndarray, np.ndarray, list[str | None]]:
    """Vectorised: WGS84 lon/lat arrays (NaN where bad) and a reason (or None) per row."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    source = parse_crs(crs)
    errors: list[str | None] = [None] * len(lon)
    geographic = is_geographic(source)
    with np.errstate(invalid="ignore"):
        if geographic:
            ok = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90)
        else:
            ok = np.isfinite(lon) & np.isfinite(lat)
    for i in np.flatnonzero(~ok):
        errors[i] = lonlat_problem(lon[i], lat[i]) or "coordinates must be finite numbers"
    out_lon = np.full(len(lon), np.nan)
    out_lat = np.full(len(lat), np.nan)
    if ok.any():
        x, y = to_wgs84(lon[ok], lat[ok], crs=source)
        out_lon[ok], out_lat[ok] = x, y
    if not geographic:
        with np.errstate(invalid="ignore"):
            bad = ok & ~((np.abs(out_lon) <= 180) & (np.abs(out_lat) <= 90) & np.isfinite(out_lon))
        for i in np.flatnonzero(bad):
            errors[i] = (f"({lon[i]:g}, {lat[i]:g}) in {crs} is outside the area that CRS covers; "
                         "check the CRS and the coordinates' order (x = easting, y = northing)")
            out_lon[i] = out_lat[i] = np.nan
    return out_lon, out_lat, errors
