"""geo.demo.cameras: codes, kinds, mounts and placement of the town's cameras."""

from __future__ import annotations

import re
from collections import Counter

import shapely

from tests.geo.demo.conftest import Data


def test_cameras(data: Data) -> None:
    props, pts = data.cameras
    codes = [p["code"] for p in props]
    assert all(re.fullmatch(r"\d{20}", c) for c in codes) and len(set(codes)) == len(codes)
    bprops, blds = data.buildings
    bidx = {p["code"]: i for i, p in enumerate(bprops)}
    tree = shapely.STRtree(blds)
    assert len(tree.query(pts, predicate="intersects")[0]) == 0, "a camera inside a building"
    kinds = Counter(p["kind"] for p in props)
    assert set(kinds) == {"bullet", "dome", "ptz", "fisheye"}
    bad = sum(p["status"] != "online" for p in props)
    assert 0.02 * len(props) <= bad <= 0.04 * len(props)
    assert {p["status"] for p in props} == {"online", "offline", "fault"}
    for p, pt in zip(props, pts):
        assert p["mount"] in ("pole", "wall", "ceiling")
        assert 0 <= p["azimuth_deg"] < 360 and 0 < p["hfov_deg"] <= 360 and 0 < p["range_m"] <= 2000
        assert p["resolution_px"] in (1920, 2560, 3840)
        if p["mount"] == "wall":
            b = blds[bidx[p["building_code"]]]
            assert b.distance(pt) <= 0.5 + 1e-6
            assert p["azimuth_deg"] < 20 or p["azimuth_deg"] > 340  # facing north, away from the wall
            assert 95 <= p["hfov_deg"] <= 105 and 10 <= p["range_m"] <= 15
        else:
            assert p["building_code"] is None
        if p["mount"] == "pole" and p["kind"] in ("bullet", "dome"):
            assert 3.5 <= p["height_m"] <= 6.0
        if p["kind"] == "fisheye":
            assert p["hfov_deg"] == 360
        if p["kind"] == "ptz":
            assert 80 <= p["range_m"] <= 150
    assert sum(p["mount"] == "wall" for p in props) == 390  # one above each unit door
