"""geo.crs.transform: PROJ round trips, to/from a metric CRS, cached transformers, geometries."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely import Point, Polygon
from shapely.testing import assert_geometries_equal

from geo import crs as gc
from geo.errors import BadCRS
from tests.geo.crs.points import DATONG, GEOD, grid_arrays, metres


def test_nan_propagates_without_disturbing_other_points():
    lon = np.array([113.1, np.nan, 113.2])
    lat = np.array([40.05, 40.05, np.nan])
    for name in ("gcj02", "bd09", "EPSG:4547"):
        fx, fy = gc.from_wgs84(lon, lat, crs=name)
        assert np.isfinite(fx[0]) and np.isfinite(fy[0])
        assert np.isnan(fx[1]) or np.isnan(fy[1])
        bx, by = gc.to_wgs84(fx, fy, crs=name)
        assert metres(lon[0], lat[0], bx[0], by[0]) < 1e-3
    assert gc.to_wgs84(float("nan"), 40.0, crs="gcj02")[0] != gc.to_wgs84(float("nan"), 40.0, crs="gcj02")[0]


def test_epsg4547_round_trip_points():
    lon, lat = grid_arrays()
    near = np.abs(lon - 114) < 6  # a Gauss-Kruger zone is only good near its meridian
    x, y = gc.from_wgs84(lon[near], lat[near], crs="EPSG:4547")
    bx, by = gc.to_wgs84(x, y, crs="EPSG:4547")
    assert metres(lon[near], lat[near], bx, by).max() < 1e-3
    ex, ey = gc.from_wgs84(114.0, 40.0, crs="EPSG:4547")
    assert ex == pytest.approx(500000.0, abs=1e-3)  # central meridian 114E, false easting 500 km


def test_to_metric_and_back():
    poly = Polygon([(113.10, 40.05), (113.11, 40.05), (113.11, 40.058), (113.10, 40.058)])
    m = gc.to_metric(poly)
    # ~853 m x ~888 m
    area, _ = GEOD.geometry_area_perimeter(poly)
    assert m.area == pytest.approx(abs(area), rel=1e-3)
    back = gc.from_metric(m)
    assert_geometries_equal(back, poly, tolerance=1e-9)
    assert gc.to_metric(poly, crs="EPSG:32649").area == pytest.approx(abs(area), rel=2e-3)


def test_to_metric_rejects_geographic_crs():
    with pytest.raises(BadCRS, match="not a projected CRS"):
        gc.to_metric(Point(113.1, 40.05), crs="wgs84")
    with pytest.raises(BadCRS):
        gc.to_metric(Point(113.1, 40.05), crs="gcj02")


def test_cgcs2000_is_wgs84_at_metre_level():
    x, y = gc.to_wgs84(*DATONG, crs="cgcs2000")
    assert metres(*DATONG, x, y) < 1.0
    assert gc.parse_crs("cgcs2000") == "EPSG:4490"


def test_transformer_is_cached_and_xy():
    t1 = gc.transformer("EPSG:4326", "EPSG:4547")
    assert t1 is gc.transformer("EPSG:4326", "EPSG:4547")
    x, y = t1.transform(113.1, 40.05)
    assert 400000 < x < 500000 and 4_400_000 < y < 4_450_000


def test_geometry_conversion_matches_pointwise_and_drops_z():
    poly = Polygon([(113.10, 40.05, 3.0), (113.11, 40.05, 3.0), (113.11, 40.058, 3.0), (113.10, 40.05, 3.0)])
    for name in ("gcj02", "bd09", "EPSG:4547", "cgcs2000"):
        out = gc.from_wgs84_geometry(poly, crs=name)
        assert not out.has_z
        coords = shapely.get_coordinates(poly)
        ex, ey = gc.from_wgs84(coords[:, 0], coords[:, 1], crs=name)
        assert_geometries_equal(out, Polygon(np.column_stack([ex, ey])), tolerance=1e-9)
        back = gc.to_wgs84_geometry(out, crs=name)
        assert_geometries_equal(back, shapely.force_2d(poly), tolerance=1e-8)


def test_geometry_arrays_and_missing():
    arr = np.array([Point(113.1, 40.05), None, Point(116.39, 39.9)], dtype=object)
    out = gc.from_wgs84_geometry(arr, crs="gcj02")
    assert out[1] is None
    assert_geometries_equal(out[0], Point(gc.from_wgs84(113.1, 40.05, crs="gcj02")), tolerance=1e-12)


def test_to_wgs84_rejects_unknown_crs():
    with pytest.raises(BadCRS):
        gc.to_wgs84(113.1, 40.05, crs="baidu-mercator-ish")
