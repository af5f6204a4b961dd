"""geo.coverage.areas: coverage + gaps = watchable, on the small town and the demo town."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.testing import assert_geometries_equal

from geo import coverage as cv
from geo.coverage import CameraSpec
from tests.geo.coverage.scenes import P, bx, small_town


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
