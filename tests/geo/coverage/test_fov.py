"""geo.coverage.fov: nominal sectors and discs against pi r^2 and their bearings."""

from __future__ import annotations

import math

import pytest

from geo import coverage as cv
from tests.geo.coverage.scenes import X0, Y0, P, cam

@pytest.mark.parametrize("fov", [10.0, 45.0, 90.0, 103.4, 180.0, 270.0, 359.0, 360.0])
def test_sector_area_is_pi_r2_fov_over_360(fov):
    r = 25.0
    spec = cam(azimuth_deg=30.0, hfov_deg=fov, range_m=r)
    expected = math.pi * r * r * fov / 360.0
    for view in (cv.nominal_view(spec), cv.visible_view(spec, obstacles=[])):
        assert view.is_valid
        assert view.area == pytest.approx(expected, rel=5e-3)
        # the chord bound: a relative loss of d^2/6 (d = 1 degree for nominal, 0.5 for 2 rays/degree)
        assert view.area <= expected
        assert view.area >= expected * (1 - math.radians(1.0) ** 2 / 6 - 1e-9)


def test_fisheye_is_a_full_disc_whatever_its_hfov():
    spec = cam(kind="fisheye", hfov_deg=180.0, range_m=10.0)
    v = cv.nominal_view(spec)
    assert v.area == pytest.approx(math.pi * 100, rel=5e-3)
    assert v.centroid.distance(P(0, 0)) < 1e-6


@pytest.mark.parametrize("az,dx,dy", [(0.0, 0, 1), (90.0, 1, 0), (180.0, 0, -1), (270.0, -1, 0), (45.0, 1, 1)])
def test_sector_points_along_its_azimuth_clockwise_from_north(az, dx, dy):
    spec = cam(azimuth_deg=az, hfov_deg=60.0, range_m=10.0)
    for view in (cv.nominal_view(spec), cv.visible_view(spec)):
        c = view.centroid
        ux, uy = c.x - X0, c.y - Y0
        norm = math.hypot(ux, uy)
        assert norm > 3.0
        assert (ux / norm, uy / norm) == pytest.approx((dx / math.hypot(dx, dy), dy / math.hypot(dx, dy)), abs=1e-6)
