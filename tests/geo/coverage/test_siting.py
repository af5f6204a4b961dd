"""geo.coverage.siting: candidate sites on walls and poles, and the greedy placement against recomputed
coverage and brute force."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import shapely
from shapely import Point

from geo import coverage as cv
from geo.coverage import CameraSpec
from tests.geo.coverage.scenes import X0, Y0, load_layer, small_town


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


def test_demo_suggestion_in_a_community(demo):
    obstacles, views, specs = demo["obstacles"], demo["views"], demo["specs"]
    community = demo["communities"][0]
    covered = cv.coverage(views, online_mask=[s.online for s in specs])
    w = cv.watchable(community, obstacles)
    _, roads = load_layer("roads")
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
