"""geo.analysis.kde_grid: what a map needs of a density grid (bounds, Leaflet.heat points, metadata).
No database."""

from __future__ import annotations

import numpy as np

from geo.analysis.kde import kde


def test_kde_outputs_for_the_map(pts):  # the PNG overlay: tests/maps/test_heatmap_png.py
    g = kde(lon=pts[0], lat=pts[1], bandwidth_m=50, cell_m=10)
    (s, w), (n, e) = g.wgs84_bounds
    assert 113.0 < w < e < 113.2 and 40.0 < s < n < 40.1
    assert pts[0].min() > w and pts[0].max() < e and pts[1].min() > s and pts[1].max() < n
    # Leaflet.heat points
    hp = g.to_points(min_fraction=0.05)
    arr = np.array(hp)
    assert arr.shape[1] == 3 and len(hp) < g.density.size
    assert (arr[:, 0] > s).all() and (arr[:, 0] < n).all() and (arr[:, 1] > w).all() and (arr[:, 1] < e).all()
    assert arr[:, 2].max() == 1.0 and arr[:, 2].min() >= 0.05
    assert g.to_points(vmax=g.density.max() * 2, min_fraction=0.0)[0][2] <= 0.5
    meta = g.as_dict()
    assert meta["bounds"] == g.wgs84_bounds and meta["bandwidth_m"] == 50
