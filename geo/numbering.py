"""How grids are numbered inside a community: west→east, north→south (the grid-code rule of DESIGN.md).

Shared by the demo generator (which numbers the generated grids) and the partition suggester (which
numbers the grids it proposes): one rule, one place.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["reading_order"]


def reading_order(xy: np.ndarray, band_m: float = 30.0) -> np.ndarray:
    """Indices of points in reading order: north to south in bands, west to east in a band.

    Points are taken from the northernmost down; a point starts a new band when it lies
    more than ``band_m`` south of the first (northernmost) point of the current band.

    >>> reading_order(np.array([[10.0, 0.0], [0.0, 5.0], [5.0, 100.0]])).tolist()
    [2, 1, 0]
    """
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    by_y = np.lexsort((xy[:, 0], -xy[:, 1]))
    band = np.empty(len(xy), dtype=int)
    b, top = -1, math.inf
    for i in by_y:
        if b < 0 or top - xy[i, 1] > band_m:
            b += 1
            top = xy[i, 1]
        band[i] = b
    return np.lexsort((xy[:, 0], band))
