"""geo.coverage.visibility: occlusion against geometry worked out by hand, wall cameras, PTZ envelopes,
and the demo town's views against a finer cast and the naive reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from shapely.testing import assert_geometries_equal

from geo import coverage as cv
from tests.geo.coverage.scenes import X0, Y0, P, bx, cam


def test_ptz_has_its_sector_and_a_360_envelope():
    spec = cam(kind="ptz", azimuth_deg=120.0, hfov_deg=60.0, range_m=80.0)
    assert cv.nominal_view(spec).area == pytest.approx(math.pi * 6400 / 6, rel=5e-3)
    env = cv.ptz_envelope(spec)
    assert env.area == pytest.approx(math.pi * 6400, rel=5e-3)
    assert env.covers(cv.nominal_view(spec).buffer(-0.01))
    # with obstacles: the visible part of the disc
    wall = bx(-100, 30, 100, 32)
    seen = cv.ptz_envelope(spec, obstacles=[wall])
    assert not seen.contains(P(0, 50)) and seen.contains(P(0, -50)) and seen.contains(P(0, 29))


def test_wide_wall_across_the_view_leaves_a_triangle():
    # camera at the origin looking north (90 degrees, 20 m); a long wall at y = 10:
    # it sees the triangle (0,0), (-10,10), (10,10): area 100, the rest of the sector is shadow
    spec = cam(hfov_deg=90.0, range_m=20.0)
    wall = bx(-50, 10, 50, 12)
    tri = shapely.Polygon([(X0, Y0), (X0 - 10, Y0 + 10), (X0 + 10, Y0 + 10)])
    v = cv.visible_view(spec, obstacles=[wall])
    assert v.area == pytest.approx(100.0, rel=1e-9)
    assert shapely.symmetric_difference(v, tri).area < 1e-6
    assert shapely.intersection(v, wall).area < 1e-9


def shadow_case():
    # camera at the origin looking north, 90 degrees, 20 m; a 4 m square at 8..12 m north.
    # Shadow: the wedge between the bearings of its near corners (+-atan(2/8)) beyond y = 8,
    # i.e. the 20 m wedge of half-angle a minus the triangle (0,0), (-2,8), (2,8).
    spec = cam(hfov_deg=90.0, range_m=20.0)
    square = bx(-2, 8, 2, 12)
    a = math.atan(2 / 8)
    shadow = 20.0**2 * a - 8 * 4 / 2
    visible = math.pi * 400 / 4 - shadow
    return spec, square, visible


def test_point_behind_a_building_is_hidden_and_one_beside_it_is_seen():
    spec, square, visible = shadow_case()
    v = cv.visible_view(spec, obstacles=[square])
    assert v.is_valid
    assert not v.intersects(P(0, 15))  # straight behind the square
    assert not v.intersects(P(1.5, 19))  # in the shadow, off-axis
    assert v.contains(P(0, 5))  # in front of it
    assert v.contains(P(8, 15))  # beside it, outside the shadow
    assert v.contains(P(-5.5, 18))  # just outside the shadow (bearing 17 > 14 degrees)
    assert shapely.intersection(v, square).area < 1e-6
    assert v.area == pytest.approx(visible, rel=1e-3)  # exact but for the arc chords (1.3e-5)


def test_plain_ray_casting_error_is_within_its_wedge_bound():
    spec, square, visible = shadow_case()
    r = 20.0
    for k in (1.0, 2.0, 5.0):
        plain = cv.visible_view(spec, obstacles=[square], rays_per_degree=k, corner_rays=False)
        d = math.radians(1.0 / k)
        bound = 2 * r * r * d / 2 + math.pi * r * r / 4 * d * d / 6  # 2 silhouette corners + arc chords
        assert abs(plain.area - visible) <= bound
        naive = cv.naive_visible_view(spec, obstacles=[square], rays_per_degree=k)
        assert abs(naive.area - visible) <= bound
        assert naive.area == pytest.approx(plain.area, rel=1e-9)  # the same rays, two implementations
    # with corner rays the error is the arc chords only
    exact = cv.visible_view(spec, obstacles=[square], rays_per_degree=1)
    assert abs(exact.area - visible) <= math.pi * r * r / 4 * math.radians(1) ** 2 / 6 + 1e-9


def test_shadows_of_several_buildings_and_a_fisheye():
    # a fisheye in a courtyard of four buildings with gaps between them: sees out only through the gaps
    spec = cam(kind="fisheye", hfov_deg=360.0, range_m=30.0)
    blocks = [bx(-8, 10, 8, 12), bx(-8, -12, 8, -10), bx(10, -8, 12, 8), bx(-12, -8, -10, 8)]
    v = cv.visible_view(spec, obstacles=blocks)
    assert v.is_valid
    assert v.contains(P(0, 9.9)) and v.contains(P(20, 20)) and v.contains(P(-20, -20))
    assert not v.intersects(P(-25, -10))  # through the west block
    assert not v.intersects(P(0, 15)) and not v.intersects(P(15, 0)) and not v.intersects(P(0, -20))
    assert sum(shapely.intersection(v, b).area for b in blocks) < 1e-6
    # the court plus four diagonal wedges out to 30 m: compare with fine casting
    # plain casting at 20 rays/degree is within 8 silhouette corners x r^2 d / 2 of it
    fine = cv.visible_view(spec, obstacles=blocks, rays_per_degree=20, corner_rays=False)
    assert abs(v.area - fine.area) <= 8 * 30.0**2 * math.radians(1 / 20) / 2
    assert v.area == pytest.approx(fine.area, rel=5e-3)


def test_obstacles_as_strtree_array_or_prepared_give_the_same_view():
    spec, square, _ = shadow_case()
    other = bx(30, 30, 40, 40)
    a = cv.visible_view(spec, obstacles=[square, other])
    b = cv.visible_view(spec, obstacles=shapely.STRtree([square, other]))
    c = cv.visible_view(spec, obstacles=cv.Obstacles(np.array([square, other])))
    assert_geometries_equal(a, b, normalize=True)
    assert_geometries_equal(a, c, normalize=True)


def test_indoor_camera_sees_no_outdoor_space():
    v = cv.visible_view(cam(x=5, y=5, hfov_deg=90.0, mount="ceiling"), obstacles=[bx(0, 0, 10, 10)])
    assert v.is_empty


SLAB = bx(0, 0, 30, 12)  # a 30 x 12 m slab, door on the north wall at x = 15


@pytest.mark.parametrize("offset", [0.3, 0.5, 0.0, -0.2])
def test_wall_camera_sees_outward_not_into_or_behind_its_building(offset):
    # offset: metres outside the north wall (0: on it, negative: a little inside it)
    neighbour = bx(20, 20, 30, 25)
    obstacles = [SLAB, neighbour]
    door = cam(x=15, y=12 + offset, azimuth_deg=0.0, hfov_deg=100.0, range_m=15.0, mount="wall", building_index=0)
    v = cv.visible_view(door, obstacles=obstacles)
    assert v.is_valid and not v.is_empty
    assert v.contains(P(15, 20)) and v.contains(P(13, 15)) and v.contains(P(19, 16))
    assert not v.intersects(P(15, 6))  # inside its own building
    assert not v.intersects(P(24, 26.5))  # behind the neighbouring building
    assert shapely.intersection(v, SLAB).area < 0.01
    assert shapely.intersection(v, neighbour).area < 1e-6
    # a fisheye on the same wall: still nothing of or behind its own building
    fish = cam(x=15, y=12 + offset, kind="fisheye", hfov_deg=360.0, range_m=20.0, mount="wall", building_index=0)
    f = cv.visible_view(fish, obstacles=obstacles)
    assert f.is_valid
    assert f.contains(P(15, 25)) and f.contains(P(-3, 12.5))
    assert not f.intersects(P(15, -5)) and not f.intersects(P(15, 6)) and not f.intersects(P(32, 4))
    assert shapely.intersection(f, SLAB).area < 0.01
    # fine casting agrees
    fine = cv.visible_view(door, obstacles=obstacles, rays_per_degree=20)
    assert v.area == pytest.approx(fine.area, rel=1e-3)


def test_wall_camera_deep_inside_its_building_is_indoors():
    door = cam(x=15, y=11.0, azimuth_deg=0.0, hfov_deg=100.0, range_m=15.0, mount="wall", building_index=0)
    assert cv.visible_view(door, obstacles=[SLAB]).is_empty
    assert cv.naive_visible_view(door, obstacles=[SLAB]).is_empty


def test_wall_camera_in_a_re_entrant_corner():
    # an L-shaped block; the camera 0.14 m inside the inner corner (10, 10), looking north-east.
    # Moving it out along either wall's normal lands on the other wing: the fallback rule applies
    ell = shapely.union(bx(0, 0, 20, 10), bx(0, 10, 10, 20))
    for kind, fov in (("dome", 90.0), ("fisheye", 360.0)):
        c = cam(x=9.9, y=9.9, kind=kind, azimuth_deg=45.0, hfov_deg=fov, range_m=15.0, mount="wall",
                building_index=0)
        v = cv.visible_view(c, obstacles=[ell])
        assert v.is_valid and v.area > 100
        assert v.contains(P(15, 15)) and v.contains(P(14, 18)) and v.contains(P(18, 13))
        assert not v.intersects(P(5, 5)) and not v.intersects(P(5, 25)) and not v.intersects(P(25, 5))
        assert shapely.intersection(v, ell).area < 0.01
        naive = cv.naive_visible_view(c, obstacles=[ell], rays_per_degree=2)
        assert naive.area == pytest.approx(v.area, rel=0.02)


def test_wall_camera_outside_its_wall_is_the_same_as_an_ordinary_camera():
    door = cam(x=15, y=12.4, azimuth_deg=10.0, hfov_deg=100.0, range_m=15.0, mount="wall", building_index=0)
    pole = cam(x=15, y=12.4, azimuth_deg=10.0, hfov_deg=100.0, range_m=15.0, mount="pole")
    assert_geometries_equal(cv.visible_view(door, obstacles=[SLAB]), cv.visible_view(pole, obstacles=[SLAB]),
                            normalize=True, tolerance=1e-9)


def test_demo_views_are_valid_and_never_see_into_buildings(demo):
    specs, views, fps = demo["specs"], demo["views"], demo["buildings"]
    assert len(specs) == 725
    assert shapely.is_valid(views).all()
    online = np.array([s.online for s in specs])
    assert not shapely.is_empty(views[online]).any()
    assert all(v.geom_type == "Polygon" for v in views)
    vi, bi = shapely.STRtree(fps).query(views, predicate="intersects")
    overlap = shapely.area(shapely.intersection(views[vi], fps[bi]))
    assert overlap.max(initial=0.0) < 0.01
    # wall cameras stand outside their own building and look away from it
    walls = [i for i, s in enumerate(specs) if s.building_index is not None]
    assert len(walls) > 300
    for i in walls:
        assert shapely.intersection(views[i], fps[specs[i].building_index]).area < 0.01


def test_demo_views_against_20_rays_per_degree(demo):
    specs, obstacles, views = demo["specs"], demo["obstacles"], demo["views"]
    fine = cv.visible_views(specs, obstacles=obstacles, rays_per_degree=20)
    a, f = shapely.area(views), shapely.area(fine)
    # corner rays: only the arc chords differ, d^2/6 = 1.3e-5 at 2 rays per degree
    assert np.all(np.abs(a - f) <= f * 2e-5 + 1e-9)
    # plain casting (no corner rays): under 1% in total, and every camera within its wedge bound
    plain = cv.visible_views(specs, obstacles=obstacles, rays_per_degree=2, corner_rays=False)
    p = shapely.area(plain)
    assert abs(p.sum() - f.sum()) < 0.01 * f.sum()
    r = np.array([cv.effective_range(s)[0] for s in specs])
    corners = 4 * np.bincount(shapely.STRtree(demo["buildings"]).query(
        shapely.buffer(shapely.points([s.x for s in specs], [s.y for s in specs]), r))[0], minlength=len(specs))
    assert np.all(np.abs(p - f) <= corners * r * r * math.radians(0.5) / 2 + f * 2e-5 + 1e-9)


def test_demo_naive_reference_agrees(demo):
    specs, obstacles, views = demo["specs"], demo["obstacles"], demo["views"]
    pick = list(range(0, len(specs), 29))  # 25 cameras of every kind
    for i in pick:
        naive = cv.naive_visible_view(specs[i], obstacles=obstacles, rays_per_degree=2)
        assert naive.is_valid
        assert naive.area == pytest.approx(views[i].area, rel=0.01, abs=0.5)
