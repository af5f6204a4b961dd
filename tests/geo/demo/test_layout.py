"""geo.demo.layout: south-facing slabs inside the wall, clear of roads, places and each other."""

from __future__ import annotations

from collections import Counter

import shapely

from tests.geo.demo.conftest import Data


def test_buildings_are_south_facing_slabs(data: Data) -> None:
    props, geoms = data.buildings
    for p, g in zip(props, geoms):
        assert 2 <= p["units"] <= 4 and 11 <= p["floors"] <= 18
        assert p["floors"] * 3.0 < p["height_m"] <= p["floors"] * 3.0 + 2.0
        x0, y0, x1, y1 = g.bounds
        assert x1 - x0 > y1 - y0  # long axis east–west
        assert 12.0 <= y1 - y0 <= 16.0
        assert abs((x1 - x0) / p["units"] - 15.0) < 1.0
        assert p["address"] == f"{_community_name(data, p['community_code'])}{p['number']}号楼"
        assert p["code"] == f"{p['community_code']}-{p['number']:02d}"


def _community_name(data: Data, code: str) -> str:
    return next(p["name"] for p in data.communities[0] if p["code"] == code)


def test_layout_is_clean(data: Data) -> None:
    cprops, comms = data.communities
    by_code = dict(zip((p["code"] for p in cprops), comms))
    bprops, blds = data.buildings
    for p, b in zip(bprops, blds):
        assert by_code[p["community_code"]].contains(b)
    tree = shapely.STRtree(blds)
    pairs = tree.query(blds, predicate="intersects")
    assert (pairs[0] == pairs[1]).all(), "buildings overlap"
    rprops, roads = data.roads
    areas = shapely.buffer(roads, [p["width_m"] / 2 for p in rprops], cap_style="flat")
    assert len(tree.query(areas, predicate="intersects")[0]) == 0, "a road crosses a building"
    for p, r in zip(rprops, roads):
        assert 6.0 <= p["width_m"] <= 30.0 and p["kind"] in ("street", "internal")
        if p["kind"] == "internal":
            assert 6.0 <= p["width_m"] <= 9.0
            assert by_code[p["community_code"]].buffer(0.5).contains(r)
        else:
            assert p["community_code"] is None
    # compounds are separated by streets 20-40 m wide
    for i in range(len(comms)):
        d = [comms[i].distance(comms[j]) for j in range(len(comms)) if j != i]
        assert 20.0 <= min(d) <= 40.0
    kinds = Counter(p["kind"] for p in data.places[0])
    assert {"gate", "square", "parking", "kindergarten", "market", "clinic"} <= set(kinds)
    for cp in cprops:
        gates = [p for p in data.places[0] if p["kind"] == "gate" and p["community_code"] == cp["code"]]
        assert 1 <= len(gates) <= 3
