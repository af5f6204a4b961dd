"""The checks every analysis applies to what it is given: WGS84 points, positive sizes, metric bounds.

Each refusal is a :class:`geo.errors.BadCoordinates` or :class:`geo.errors.BadInput` that names the
first bad value and says what to send instead.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from geo.crs import lonlat_problem
from geo.errors import BadCoordinates, BadInput

__all__ = ["Bounds", "metric_bounds", "positive", "wgs84_points"]

#: ``(xmin, ymin, xmax, ymax)`` in metres of a metric CRS.
Bounds = tuple[float, float, float, float]


def wgs84_points(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validated 1-D float arrays of WGS84 lon/lat (BadCoordinates names the first bad point)."""
    try:
        x = np.asarray(lon, dtype=float).ravel()
        y = np.asarray(lat, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise BadCoordinates(f"lon and lat must be arrays of numbers in decimal degrees ({exc})") from None
    if x.shape != y.shape:
        raise BadCoordinates(
            f"lon has {x.size} values but lat has {y.size}; send one lon and one lat per point",
            details={"lon": int(x.size), "lat": int(y.size)},
        )
    with np.errstate(invalid="ignore"):
        bad = ~(np.isfinite(x) & np.isfinite(y) & (np.abs(x) <= 180.0) & (np.abs(y) <= 90.0))
    if bad.any():
        i = int(np.argmax(bad))
        raise BadCoordinates(
            f"point {i}: {lonlat_problem(x[i], y[i])} ({int(bad.sum())} bad point(s) in all)",
            details={"index": i, "bad_points": int(bad.sum())},
        )
    return x, y


def positive(name: str, v: Any, example: str, unit: str = " of metres") -> float:
    """*v* as a finite float > 0, else BadInput naming *name* and an *example* value."""
    if isinstance(v, bool):
        raise BadInput(f"{name}={v!r} is not a number; use e.g. {name}={example}")
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise BadInput(f"{name}={v!r} is not a number; use e.g. {name}={example}") from None
    if not (math.isfinite(f) and f > 0):
        raise BadInput(f"{name}={v!r} must be a positive number{unit}, e.g. {name}={example}")
    return f


def metric_bounds(bounds_m: Any, crs: str) -> Bounds | None:
    """*bounds_m* as four finite metres of *crs*, non-empty and not degrees (None stays None)."""
    if bounds_m is None:
        return None
    try:
        b = tuple(float(v) for v in bounds_m)
    except (TypeError, ValueError):
        raise BadInput(
            f"bounds_m={bounds_m!r} must be four numbers (xmin, ymin, xmax, ymax) in metres of {crs}"
        ) from None
    if len(b) != 4 or not all(math.isfinite(v) for v in b):
        raise BadInput(
            f"bounds_m={bounds_m!r} must be four finite numbers (xmin, ymin, xmax, ymax) in metres of {crs}"
        )
    if not (b[0] < b[2] and b[1] < b[3]):
        raise BadInput(
            f"bounds_m={b!r} is empty: it needs xmin < xmax and ymin < ymax (xmin, ymin, xmax, ymax)"
        )
    if all(abs(v) <= 360 for v in b):
        raise BadInput(
            f"bounds_m={b!r} look like degrees; bounds_m are metres in {crs} "
            "(project the corners first, e.g. with geo.analysis.project)",
            details={"bounds_m": list(b)},
        )
    return b  # type: ignore[return-value]

