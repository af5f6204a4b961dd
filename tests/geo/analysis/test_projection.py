"""geo.analysis.projection: the polynomial fast path agrees with PROJ, and falls back to it. No database."""

from __future__ import annotations

import numpy as np

from geo.analysis.projection import project
from tests.geo.analysis.synthetic import TO_M


def test_project_fast_path_matches_proj():
    rng = np.random.default_rng(11)
    lon = 113.08 + rng.random(50_000) * 0.05
    lat = 40.03 + rng.random(50_000) * 0.04
    x, y = project(lon=lon, lat=lat)
    px, py = TO_M.transform(lon, lat)
    assert np.abs(x - px).max() < 1e-3 and np.abs(y - py).max() < 1e-3
    # a province-wide extent falls back to PROJ for every point
    lon = 110.0 + rng.random(30_000) * 4
    lat = 35.0 + rng.random(30_000) * 5
    x, y = project(lon=lon, lat=lat)
    px, py = TO_M.transform(lon, lat)
    assert np.abs(x - px).max() < 1e-6
