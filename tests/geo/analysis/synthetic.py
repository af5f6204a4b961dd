"""Synthetic incidents around Gaoshan Town for the analysis tests: points placed in metres, sent as WGS84."""

from __future__ import annotations

import numpy as np

from geo.crs import transformer

CRS = "EPSG:4547"
TO_M = transformer("EPSG:4326", CRS)
TO_LL = transformer(CRS, "EPSG:4326")
# a point in Gaoshan Town's neighbourhood (Datong), in metres of EPSG:4547
X0, Y0 = (float(v) for v in TO_M.transform(113.10, 40.05))


def lonlat(x, y):
    lon, lat = TO_LL.transform(np.asarray(x, float), np.asarray(y, float))
    return np.asarray(lon), np.asarray(lat)


def clustered(seed: int = 42, n_bg: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """A background over ~2 km x 2 km plus three Gaussian clusters (WGS84)."""
    rng = np.random.default_rng(seed)
    x = [X0 + rng.random(n_bg) * 2000]
    y = [Y0 + rng.random(n_bg) * 2000]
    for cx, cy, sd, m in [(450, 420, 90, 150), (1500, 1300, 120, 100), (800, 1650, 70, 60)]:
        x.append(X0 + cx + rng.normal(0, sd, m))
        y.append(Y0 + cy + rng.normal(0, sd, m))
    return lonlat(np.concatenate(x), np.concatenate(y))
