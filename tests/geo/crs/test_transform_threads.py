"""geo.crs.transform: a large array is transformed in threads, with the same result as one thread."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.testing import assert_geometries_equal

from geo.crs import transform
from geo.crs.transform import from_metric, to_metric


def test_a_large_array_in_threads_equals_one_thread(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(1)
    lon, lat = 113.0 + rng.random(5000) * 0.2, 40.0 + rng.random(5000) * 0.1
    geoms = shapely.buffer(shapely.points(lon, lat), 0.0005, quad_segs=4)
    threaded = to_metric(geoms, crs="EPSG:4547")
    monkeypatch.setattr(transform, "THREADED_FROM", 10**9)
    single = to_metric(geoms, crs="EPSG:4547")
    assert len(threaded) == 5000
    assert_geometries_equal(threaded, single)  # exactly: same coordinates, same order
    assert_geometries_equal(from_metric(threaded, crs="EPSG:4547"), geoms, tolerance=1e-9)
