"""Points shared by the geo.crs tests: a grid over China (inside the GCJ box), a few cities, points outside
China, and geodesic metres between points."""

from __future__ import annotations

import numpy as np
from pyproj import Geod

GEOD = Geod(ellps="WGS84")
DATONG = (113.1, 40.05)

# A grid over China (inside the GCJ box), plus Datong and a few cities.
_LONS = np.arange(74.0, 135.0, 2.5)
_LATS = np.arange(18.0, 53.5, 2.5)
GRID = [(float(x), float(y)) for x in _LONS for y in _LATS] + [
    DATONG,
    (113.2954, 40.0904),  # Datong city centre
    (116.391, 39.907),  # Beijing
    (121.4737, 31.2304),  # Shanghai
    (105.0, 35.0),  # the algorithm's origin (sqrt(|x|) kink)
]
OUTSIDE = [(2.3522, 48.8566), (-74.006, 40.7128), (139.6917, 35.6895), (151.2093, -33.8688), (0.0, 0.0)]


def metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    _, _, d = GEOD.inv(np.asarray(lon1), np.asarray(lat1), np.asarray(lon2), np.asarray(lat2))
    return np.asarray(d)


def grid_arrays():
    a = np.array(GRID)
    return a[:, 0], a[:, 1]
