"""geo.coverage: sectors, DORI, occlusion, wall cameras, coverage and gaps, key places,
candidate sites and the greedy placement, against geometry worked out by hand and on
the committed Gaoshan demo data. No database."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
import shapely
from shapely import Point, box
from shapely.testing import assert_geometries_equal

from geo import coverage as cv
from geo.coverage import CameraSpec
from geo.crs import to_metric
from geo.errors import BadInput

DEMO = Path(__file__).resolve().parents[2] / "data" / "boundaries"
# somewhere near Gaoshan Town in EPSG:4547 metres, so the numbers have realistic magnitude
X0, Y0 = 423_000.0, 4_433_000.0


def cam(x=0.0, y=0.0, **kw) -> CameraSpec:
    kw.setdefault("range_m", 20.0)
    return CameraSpec(x=X0 + x, y=Y0 + y, **kw)


def bx(x0, y0, x1, y1):
    return box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def P(x, y) -> Point:
    return Point(X0 + x, Y0 + y)


# ---------------------------------------------------------------------------
# sectors
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# DORI
# ---------------------------------------------------------------------------


def test_dori_ranges_by_hand():
    # D = 1920 / (ppm * 2 tan 45) = 1920 / (2 ppm)
    for level, d in [("detect", 38.4), ("observe", 15.36), ("recognise", 7.68), ("identify", 3.84)]:
        assert cv.dori_range(resolution_px=1920, hfov_deg=90, level=level) == pytest.approx(d, rel=1e-12)
    # fisheye: the circumference rule, D = px / (ppm * 2 pi)
    assert cv.dori_range(resolution_px=3840, hfov_deg=360, level="detect", fisheye=True) == pytest.approx(
        3840 / (25 * 2 * math.pi))
    with pytest.raises(BadInput, match="level"):
        cv.dori_range(resolution_px=1920, hfov_deg=90, level="see")


def test_effective_range_says_which_level():
    derived = CameraSpec(x=0, y=0, hfov_deg=90, resolution_px=1920)
    assert cv.effective_range(derived) == (pytest.approx(15.36), "observe")
    assert cv.effective_range(derived, default_level="detect") == (pytest.approx(38.4), "detect")
    assert cv.nominal_view(derived).area == pytest.approx(math.pi * 15.36**2 / 4, rel=5e-3)
    # a stored range: what it means at this resolution (32 px/m at 30 m: detect)
    stored = CameraSpec(x=0, y=0, hfov_deg=90, resolution_px=1920, range_m=30.0)
    assert cv.effective_range(stored) == (30.0, "detect")
    assert cv.effective_range(CameraSpec(x=0, y=0, hfov_deg=90, resolution_px=1920, range_m=7.0)) == (7.0, "recognise")
    assert cv.effective_range(CameraSpec(x=0, y=0, hfov_deg=90, range_m=30.0)) == (30.0, None)  # no resolution
    assert cv.effective_range(CameraSpec(x=0, y=0, hfov_deg=90, resolution_px=1920, range_m=100.0)) == (100.0, None)


def test_best_dori_by_distance():
    spec = CameraSpec(x=0, y=0, hfov_deg=90, resolution_px=1920, range_m=40.0)
    assert [cv.best_dori(spec, d) for d in (1.0, 3.84, 3.85, 7.68, 15.36, 38.4, 39.0, 41.0)] == [
        "identify", "identify", "recognise", "recognise", "observe", "detect", None, None]
    assert cv.best_dori(CameraSpec(x=0, y=0, range_m=40.0), 5.0) is None


@pytest.mark.parametrize("field,kw", [
    ("azimuth_deg", {"azimuth_deg": 360.0}), ("azimuth_deg", {"azimuth_deg": -1.0}),
    ("hfov_deg", {"hfov_deg": 0.0}), ("hfov_deg", {"hfov_deg": 361.0}),
    ("range_m", {"range_m": 0.0}), ("range_m", {"range_m": 2500.0}),
    ("kind", {"kind": "webcam"}), ("status", {"status": "broken"}), ("x", {"x": math.nan}),
])
def test_bad_camera_values_name_the_field(field, kw):
    args = {"x": 0.0, "y": 0.0, "range_m": 10.0} | kw
    with pytest.raises(BadInput) as err:
        CameraSpec(**args)
    assert err.value.details["field"] == field and field in err.value.message


# ---------------------------------------------------------------------------
# occlusion
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# wall-mounted cameras
# ---------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------
# coverage, watchable space, gaps
# ---------------------------------------------------------------------------


def small_town():
    area = bx(0, 0, 200, 120)
    buildings = [bx(20, 20, 80, 34), bx(110, 20, 170, 34), bx(20, 70, 80, 84), bx(110, 70, 170, 84)]
    specs = [
        cam(x=50, y=34.3, azimuth_deg=0.0, hfov_deg=100.0, range_m=15.0, mount="wall", building_index=0),
        cam(x=140, y=34.3, azimuth_deg=0.0, hfov_deg=100.0, range_m=15.0, mount="wall", building_index=1),
        cam(x=95, y=50, kind="fisheye", hfov_deg=360.0, range_m=25.0),
        cam(x=10, y=10, azimuth_deg=45.0, hfov_deg=80.0, range_m=40.0),
        cam(x=190, y=110, azimuth_deg=225.0, hfov_deg=60.0, range_m=60.0, status="offline"),
        cam(x=190, y=10, azimuth_deg=315.0, hfov_deg=60.0, range_m=60.0, status="fault"),
        cam(x=95, y=100, kind="ptz", azimuth_deg=90.0, hfov_deg=60.0, range_m=80.0),
    ]
    return area, buildings, specs


def test_coverage_plus_gaps_is_the_watchable_area():
    area, buildings, specs = small_town()
    views = cv.visible_views(specs, obstacles=buildings)
    online = np.array([s.online for s in specs])
    covered = cv.coverage(views, online_mask=online)
    assert covered.geom_type == "MultiPolygon" and covered.is_valid
    w = cv.watchable(area, buildings)
    assert w.area == pytest.approx(200 * 120 - 4 * 60 * 14)
    holes = cv.gaps(w, covered)
    assert holes == sorted(holes, key=lambda g: -g.area)
    seen = shapely.intersection(w, covered).area
    assert seen + sum(g.area for g in holes) == pytest.approx(w.area, rel=1e-3)
    st = cv.coverage_stats(area=area, obstacles=buildings, covered=covered)
    assert st["covered_m2"] + st["gap_m2"] == pytest.approx(st["watchable_m2"], rel=1e-3)
    assert st["ratio"] == pytest.approx(seen / w.area)
    assert st["largest_gap_m2"] == pytest.approx(holes[0].area)
    assert st["gap_count"] == sum(g.area >= 1.0 for g in holes)
    assert len(cv.gaps(w, covered, min_area_m2=1.0)) == st["gap_count"]
    # offline and faulty cameras are shown but do not count
    assert covered.area == pytest.approx(shapely.union_all(views[online]).area, rel=1e-9)
    only_offline = P(185, 100)
    assert views[4].contains(only_offline) and not covered.intersects(only_offline)
    assert views[5].contains(P(185, 15)) and not covered.intersects(P(185, 15))
    everyone = cv.coverage(views)
    assert everyone.area > covered.area


def test_coverage_of_nothing():
    assert cv.coverage([], online_mask=[]).is_empty
    area = bx(0, 0, 10, 10)
    st = cv.coverage_stats(area=area, obstacles=[], covered=cv.coverage([]))
    assert st == {"watchable_m2": 100.0, "covered_m2": 0.0, "ratio": 0.0, "gap_m2": 100.0,
                  "largest_gap_m2": 100.0, "gap_count": 1}


def test_threads_do_not_change_the_union():
    area, buildings, specs = small_town()
    many = [CameraSpec(x=s.x + dx, y=s.y + dy, azimuth_deg=s.azimuth_deg, hfov_deg=s.hfov_deg, range_m=s.range_m,
                       kind=s.kind) for s in specs for dx in range(0, 8000, 400) for dy in range(0, 4500, 300)]
    assert len(many) > 2048  # more than one block of cameras
    views = cv.visible_views(many, obstacles=buildings, workers=2)
    assert_geometries_equal(views, cv.visible_views(many, obstacles=buildings, workers=1))
    one = cv.coverage(views, workers=1)
    two = cv.coverage(views, workers=2)
    assert two.is_valid and two.area == pytest.approx(one.area, rel=1e-9)
    assert len(two.geoms) == len(one.geoms)
    assert_geometries_equal(two, one, normalize=True, tolerance=1e-6)


# ---------------------------------------------------------------------------
# key places
# ---------------------------------------------------------------------------


def test_key_place_point_and_polygon():
    area, buildings, specs = small_town()
    specs = [CameraSpec(x=s.x, y=s.y, azimuth_deg=s.azimuth_deg, hfov_deg=s.hfov_deg, range_m=s.range_m,
                        resolution_px=1920, kind=s.kind, mount=s.mount, building_index=s.building_index,
                        status=s.status) for s in specs]
    views = cv.visible_views(specs, obstacles=buildings)
    # a point 5 m in front of the first door camera: 1920 px over 2 tan(50) * 5 m = 161 px/m: recognise
    r = cv.key_place_coverage(place=P(50, 39.3), specs=specs, views=views)
    assert r["covered"] and r["cameras"][0] == 0 and r["best_dori"] == "recognise"
    # a point only the offline camera sees
    r = cv.key_place_coverage(place=P(185, 100), specs=specs, views=views)
    assert r == {"covered": False, "cameras": [], "best_dori": None, "seen_fraction": 0.0}
    # a car park half in the fisheye's disc, half out of every view: covered at >= 50%
    lot = bx(95, 40, 115, 60)  # disc of 25 m around (95, 50) holds the half x < 105 ... and more
    r = cv.key_place_coverage(place=lot, specs=specs, views=views)
    assert 2 in r["cameras"] and r["covered"] and r["seen_fraction"] >= 0.5
    far = bx(180, 40, 199, 60)
    r = cv.key_place_coverage(place=far, specs=specs, views=views)
    assert not r["covered"]
    r = cv.key_place_coverage(place=far, specs=specs, views=views, min_fraction=0.0)
    assert r["covered"]


# ---------------------------------------------------------------------------
# candidate sites and the greedy placement
# ---------------------------------------------------------------------------


def test_candidate_sites_are_on_walls_and_poles_never_inside():
    area, buildings, _ = small_town()
    road = shapely.LineString([(X0 + 0, Y0 + 52), (X0 + 200, Y0 + 52)])
    inside_road = shapely.LineString([(X0 + 50, Y0 + 0), (X0 + 50, Y0 + 120)])  # crosses two buildings
    cands = cv.candidate_sites(obstacles=buildings, roads=[road, inside_road], area=area, spacing_m=15.0)
    pts = shapely.points([c.x for c in cands], [c.y for c in cands])
    fps = shapely.union_all(buildings)
    assert not shapely.intersects(pts, fps).any()
    assert shapely.contains(area, pts).all()
    walls = [c for c in cands if c.mount == "wall"]
    poles = [c for c in cands if c.mount == "pole"]
    assert walls and poles
    d = shapely.distance(shapely.points([c.x for c in walls], [c.y for c in walls]), fps)
    assert d == pytest.approx(np.full(len(walls), 0.3), abs=1e-9)
    # three azimuths a site: outward normal, +-45; the outward one looks away from the building
    by_site = {}
    for c in walls:
        by_site.setdefault(c.site, []).append(c.azimuth_deg)
    assert all(len(a) == 3 for a in by_site.values())
    for c in walls[::3]:
        b = buildings[c.building_index]
        ahead = Point(c.x + 2 * math.sin(math.radians(c.azimuth_deg)), c.y + 2 * math.cos(math.radians(c.azimuth_deg)))
        assert not b.intersects(ahead)
    # poles every 15 m along the road, four azimuths each
    on_road = [c for c in poles if abs(c.y - (Y0 + 52)) < 1e-6]
    assert len({c.site for c in on_road}) == 13 and len(on_road) == 52


def greedy_scene():
    area, buildings, specs = small_town()
    views = cv.visible_views(specs, obstacles=buildings)
    covered = cv.coverage(views, online_mask=[s.online for s in specs])
    w = cv.watchable(area, buildings)
    roads = [shapely.LineString([(X0 + 0, Y0 + 52), (X0 + 200, Y0 + 52)])]
    cands = cv.candidate_sites(obstacles=buildings, roads=roads, area=area, spacing_m=15.0)
    return area, buildings, covered, w, cands


def recomputed_gains(picks, covered, w):
    base = shapely.intersection(w, covered).area
    cov = covered
    out = []
    for p in picks:
        cov = shapely.union(cov, p.view)
        now = shapely.intersection(w, cov).area
        out.append(now - base)
        base = now
    return out


def test_greedy_gains_match_the_recomputed_coverage_and_never_increase():
    area, buildings, covered, w, cands = greedy_scene()
    picks = cv.suggest(k=6, candidates=cands, obstacles=buildings, covered=covered, watchable=w,
                       hfov_deg=90.0, range_m=30.0)
    assert len(picks) == 6
    fps = shapely.union_all(buildings)
    for p in picks:
        assert not fps.intersects(Point(p.x, p.y))
        assert shapely.intersection(p.view, fps).area < 1e-6
        assert p.added_incidents == 0 and p.gain == pytest.approx(p.added_m2)
    again = recomputed_gains(picks, covered, w)
    for p, g in zip(picks, again):
        assert p.added_m2 == pytest.approx(g, rel=5e-3)
    gains = [p.gain for p in picks]
    assert all(a >= b - 1e-6 for a, b in zip(gains, gains[1:]))
    assert len({cands[p.candidate].site for p in picks}) == len(picks)  # one camera a site


def test_incident_weights_pull_the_first_pick_to_the_cluster():
    area, buildings, covered, w, cands = greedy_scene()
    rng = np.random.default_rng(4)
    cluster = np.column_stack([X0 + 12 + rng.normal(0, 2, 40), Y0 + 100 + rng.normal(0, 2, 40)])
    plain = cv.suggest(k=1, candidates=cands, obstacles=buildings, covered=covered, watchable=w, range_m=30.0)
    assert sum(plain[0].view.intersects(Point(*p)) for p in cluster) < 20  # area alone goes elsewhere
    picks = cv.suggest(k=3, candidates=cands, obstacles=buildings, covered=covered, watchable=w,
                       weights=cluster, range_m=30.0)
    first = picks[0]
    inside = sum(first.view.intersects(Point(*p)) for p in cluster)
    assert inside >= 36 and first.added_incidents == inside
    assert first.gain == pytest.approx(first.added_m2 + 100.0 * first.added_incidents)
    assert sum(p.added_incidents for p in picks) <= 40  # an incident counts once
    # weighted points (x, y, weight) and a callable measure behave the same way
    weighted = np.column_stack([cluster, np.full(40, 0.5)])
    half = cv.suggest(k=1, candidates=cands, obstacles=buildings, covered=covered, watchable=w,
                      weights=weighted, range_m=30.0, incident_weight_m2=200.0)
    assert half[0].candidate == first.candidate and half[0].added_incidents == pytest.approx(inside / 2)

    def measure(geoms):
        return np.array([sum(g.intersects(Point(*p)) for p in cluster) for g in geoms], dtype=float)

    by_measure = cv.suggest(k=1, candidates=cands, obstacles=buildings, covered=covered, watchable=w,
                            weights=measure, range_m=30.0)
    assert by_measure[0].view.intersects(Point(*cluster.mean(axis=0)))


def test_greedy_reaches_its_guarantee_against_brute_force():
    area, buildings, covered, w, cands = greedy_scene()
    sub = cands[::17][:14]
    k = 3
    picks = cv.suggest(k=k, candidates=sub, obstacles=buildings, covered=covered, watchable=w, range_m=30.0,
                       one_per_site=False)
    greedy = sum(p.added_m2 for p in picks)
    views = cv.visible_views([CameraSpec(x=c.x, y=c.y, azimuth_deg=c.azimuth_deg, hfov_deg=90.0, range_m=30.0,
                                         mount=c.mount, building_index=c.building_index) for c in sub],
                             obstacles=buildings, rays_per_degree=1)
    unseen = shapely.difference(w, covered)
    best = max(shapely.intersection(unseen, shapely.union_all(views[list(s)])).area
               for s in itertools.combinations(range(len(sub)), k))
    assert greedy >= (1 - 1 / math.e) * best - 1e-6
    assert greedy <= best + 1e-6


# ---------------------------------------------------------------------------
# the Gaoshan demo data
# ---------------------------------------------------------------------------


def _load(name):
    feats = json.loads((DEMO / f"{name}.geojson").read_text(encoding="utf-8"))["features"]
    geoms = np.array([shapely.geometry.shape(f["geometry"]) for f in feats], dtype=object)
    return [f["properties"] for f in feats], to_metric(geoms)


@pytest.fixture(scope="module")
def demo():
    bprops, bgeoms = _load("buildings")
    cprops, cgeoms = _load("cameras")
    _, communities = _load("communities")
    kprops, kgeoms = _load("key_places")
    index = {p["code"]: i for i, p in enumerate(bprops)}
    specs = [CameraSpec.from_record(p, x=g.x, y=g.y, building_index=index.get(p.get("building_code")))
             for p, g in zip(cprops, cgeoms)]
    obstacles = cv.Obstacles(bgeoms)
    views = cv.visible_views(specs, obstacles=obstacles)
    return {"specs": specs, "buildings": bgeoms, "obstacles": obstacles, "views": views,
            "communities": communities, "key_places": kgeoms}


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


def test_demo_town_coverage_and_gaps_add_up(demo):
    specs, views = demo["specs"], demo["views"]
    online = np.array([s.online for s in specs])
    assert (~online).sum() == 22
    covered = cv.coverage(views, online_mask=online)
    assert covered.is_valid
    town = shapely.union_all(demo["communities"])
    st = cv.coverage_stats(area=town, obstacles=demo["obstacles"], covered=covered)
    assert st["covered_m2"] + st["gap_m2"] == pytest.approx(st["watchable_m2"], rel=1e-3)
    assert 0.2 < st["ratio"] < 0.9
    w = cv.watchable(town, demo["obstacles"])
    holes = cv.gaps(w, covered, min_area_m2=1.0)
    assert len(holes) == st["gap_count"] and holes[0].area == pytest.approx(st["largest_gap_m2"])
    assert not shapely.intersects(shapely.union_all(holes), covered.buffer(-0.01))


def test_demo_key_places(demo):
    specs, views = demo["specs"], demo["views"]
    results = [cv.key_place_coverage(place=p, specs=specs, views=views) for p in demo["key_places"]]
    assert len(results) == 108
    covered = [r for r in results if r["covered"]]
    assert len(covered) > 50  # parking lots have fisheyes, gates have cameras
    for r in covered:
        assert r["cameras"] and all(specs[i].online for i in r["cameras"])
    assert any(r["best_dori"] in ("identify", "recognise") for r in covered)


def test_demo_suggestion_in_a_community(demo):
    obstacles, views, specs = demo["obstacles"], demo["views"], demo["specs"]
    community = demo["communities"][0]
    covered = cv.coverage(views, online_mask=[s.online for s in specs])
    w = cv.watchable(community, obstacles)
    _, roads = _load("roads")
    cands = cv.candidate_sites(obstacles=obstacles, roads=list(roads), area=community)
    assert len(cands) > 500
    fps = shapely.union_all(demo["buildings"])
    pts = shapely.points([c.x for c in cands], [c.y for c in cands])
    assert not shapely.intersects(pts, fps).any()
    picks = cv.suggest(k=4, candidates=cands, obstacles=obstacles, covered=covered, watchable=w)
    assert len(picks) == 4
    for p, g in zip(picks, recomputed_gains(picks, covered, w)):
        assert p.added_m2 == pytest.approx(g, rel=5e-3)
        assert not fps.intersects(Point(p.x, p.y))
