"""geo.coverage.key_places: points and polygons watched or not, and their DORI level."""

from __future__ import annotations

from geo import coverage as cv
from geo.coverage import CameraSpec
from tests.geo.coverage.scenes import P, bx, small_town


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


def test_demo_key_places(demo):
    specs, views = demo["specs"], demo["views"]
    results = [cv.key_place_coverage(place=p, specs=specs, views=views) for p in demo["key_places"]]
    assert len(results) == 108
    covered = [r for r in results if r["covered"]]
    assert len(covered) > 50  # parking lots have fisheyes, gates have cameras
    for r in covered:
        assert r["cameras"] and all(specs[i].online for i in r["cameras"])
    assert any(r["best_dori"] in ("identify", "recognise") for r in covered)
