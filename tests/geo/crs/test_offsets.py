"""geo.crs.offsets: GCJ-02/BD-09 against independent implementations (prcoords, eviltransform), exact inverses,
round trips, no offset outside China, scalars and arrays."""

from __future__ import annotations

import math
import warnings

import eviltransform
import numpy as np
import prcoords
import pytest

from geo import crs as gc
from tests.geo.crs.points import DATONG, OUTSIDE, grid_arrays, metres


def test_wgs84_to_gcj02_matches_prcoords():
    lon, lat = grid_arrays()
    glon, glat = gc.wgs84_to_gcj02(lon, lat)
    for x, y, gx, gy in zip(lon, lat, glon, glat):
        ref = prcoords.wgs_gcj((y, x))
        assert abs(gx - ref.lon) < 1e-6 and abs(gy - ref.lat) < 1e-6, (x, y)
    # the offset is real (hundreds of metres), not an identity passing by accident
    assert metres(lon, lat, glon, glat).min() > 50


def test_wgs84_to_gcj02_matches_eviltransform():
    # eviltransform uses a = 6378137 instead of Krasovsky's 6378245: ~1e-7 degrees apart.
    lon, lat = grid_arrays()
    glon, glat = gc.wgs84_to_gcj02(lon, lat)
    for x, y, gx, gy in zip(lon, lat, glon, glat):
        ry, rx = eviltransform.wgs2gcj(y, x)
        assert abs(gx - rx) < 1e-6 and abs(gy - ry) < 1e-6, (x, y)


def test_wgs84_to_bd09_matches_prcoords_and_eviltransform():
    lon, lat = grid_arrays()
    blon, blat = gc.wgs84_to_bd09(lon, lat)
    for x, y, bx, by in zip(lon, lat, blon, blat):
        ref = prcoords.wgs_bd((y, x))
        assert abs(bx - ref.lon) < 1e-6 and abs(by - ref.lat) < 1e-6, (x, y)
        ey, ex = eviltransform.wgs2bd(y, x)
        assert abs(bx - ex) < 1e-6 and abs(by - ey) < 1e-6, (x, y)


def test_gcj02_to_bd09_matches_eviltransform():
    lon, lat = grid_arrays()
    blon, blat = gc.gcj02_to_bd09(lon, lat)
    for x, y, bx, by in zip(lon, lat, blon, blat):
        ey, ex = eviltransform.gcj2bd(y, x)
        assert abs(bx - ex) < 1e-9 and abs(by - ey) < 1e-9


def test_datong_known_values():
    # Checked against prcoords: Datong's GCJ-02 offset is about 610 m east-north-east.
    gx, gy = gc.from_wgs84(*DATONG, crs="gcj02")
    ref = prcoords.wgs_gcj((DATONG[1], DATONG[0]))
    assert (gx, gy) == pytest.approx((ref.lon, ref.lat), abs=1e-9)
    assert 500 < metres(*DATONG, gx, gy) < 800


def test_inverse_matches_prcoords_bored():
    lon, lat = grid_arrays()
    glon, glat = gc.wgs84_to_gcj02(lon, lat)
    wlon, wlat = gc.gcj02_to_wgs84(glon, glat)
    for gx, gy, wx, wy in zip(glon, glat, wlon, wlat):
        ref = prcoords.gcj_wgs_bored((gy, gx))  # prcoords' own iterative inverse (~1e-5 deg eps)
        assert abs(wx - ref.lon) < 1e-5 and abs(wy - ref.lat) < 1e-5


@pytest.mark.parametrize("name", ["gcj02", "bd09"])
def test_round_trip_wgs84_via_offset_crs_under_half_metre(name):
    lon, lat = grid_arrays()
    fx, fy = gc.from_wgs84(lon, lat, crs=name)
    bx, by = gc.to_wgs84(fx, fy, crs=name)
    d = metres(lon, lat, bx, by)
    assert d.max() < 0.5
    assert d.max() < 1e-3  # in fact exact to well below a millimetre


@pytest.mark.parametrize("name", ["gcj02", "bd09"])
def test_round_trip_offset_crs_via_wgs84(name):
    lon, lat = grid_arrays()
    wx, wy = gc.to_wgs84(lon, lat, crs=name)
    fx, fy = gc.from_wgs84(wx, wy, crs=name)
    assert metres(lon, lat, fx, fy).max() < 1e-3


def test_bd09_gcj02_exact_inverse_beats_closed_form():
    lon, lat = grid_arrays()
    bx, by = gc.gcj02_to_bd09(lon, lat)
    gx, gy = gc.bd09_to_gcj02(bx, by)
    assert metres(lon, lat, gx, gy).max() < 1e-4
    # the closed form alone (as in prcoords.bd_gcj) is only decimetre-accurate
    rough = [prcoords.bd_gcj((y, x)) for x, y in zip(bx, by)]
    rough_err = metres(lon, lat, [r.lon for r in rough], [r.lat for r in rough])
    assert metres(lon, lat, gx, gy).max() <= rough_err.max()


@pytest.mark.parametrize("name", ["gcj02", "bd09"])
def test_outside_china_is_identity(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for x, y in OUTSIDE:
            assert gc.from_wgs84(x, y, crs=name) == (x, y)
            assert gc.to_wgs84(x, y, crs=name) == (x, y)
    assert not gc.in_china(*OUTSIDE[0])
    assert gc.in_china(*DATONG)


def test_scalars_give_floats_and_arrays_keep_shape():
    x, y = gc.from_wgs84(113.1, 40.05, crs="gcj02")
    assert type(x) is float and type(y) is float
    lon = np.full((2, 3), 113.1)
    lat = np.full((2, 3), 40.05)
    ax, ay = gc.from_wgs84(lon, lat, crs="bd09")
    assert ax.shape == (2, 3) and ay.shape == (2, 3)
    assert np.allclose(ax, gc.from_wgs84(113.1, 40.05, crs="bd09")[0])
    # inputs are not modified in place
    assert np.all(lon == 113.1)
    lx, ly = gc.to_wgs84([113.1, 113.2], [40.05, 40.06], crs="gcj02")
    assert isinstance(lx, np.ndarray) and lx.shape == (2,)


def test_empty_arrays():
    x, y = gc.to_wgs84(np.array([]), np.array([]), crs="gcj02")
    assert x.shape == (0,) and y.shape == (0,)


def test_gcj_offset_is_hundreds_of_metres_everywhere_in_grid():
    lon, lat = grid_arrays()
    gx, gy = gc.wgs84_to_gcj02(lon, lat)
    d = metres(lon, lat, gx, gy)
    assert d.max() < 1000 and not math.isnan(d.max())
