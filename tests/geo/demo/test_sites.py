"""geo.demo.sites: the town's numbers as in the source, its metadata, and one community made whole."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import shapely
import shapely.testing

from geo.demo import CommunitySpec, make_community
from tests.geo.demo.conftest import Data


def test_counts_match_the_source(data: Data) -> None:
    assert len(data.buildings[0]) == 125
    assert len(data.units) == 390
    assert sum(p["units"] for p in data.buildings[0]) == 390
    assert len(data.grids[0]) == 50
    assert len(data.communities[0]) >= 3
    names = {p["name"] for p in data.communities[0]}
    assert {"春安新区", "宁丰社区", "宏盛家园"} <= names
    roles = Counter(r["role"] for r in data.staff)
    assert roles == {"cadre": 32, "grid_member": 50, "building_chief": 125, "unit_chief": 390}
    assert 700 <= len(data.cameras[0]) <= 760
    assert 2500 <= len(data.incidents) <= 3500


def test_town_metadata(data: Data) -> None:
    t = data.town
    assert t["code"] == "140214101" and t["district_code"] == "140214"
    assert t["name"] == "高山镇" and t["district"] == "云冈区" and t["city"] == "大同市" and t["province"] == "山西省"
    assert t["plan"]["published_at"] == "2026-01-01T00:00:00+08:00"
    assert t["seed"] == 1 and t["scale"] == "town"


def test_one_community() -> None:
    units = (3, 4, 2, 3, 3, 4, 3, 2, 4, 3, 3, 3, 4, 2, 3, 3, 4, 3)
    spec = CommunitySpec(code="140214101009", name="测试家园", name_en="Test Homeland", pinyin="Ceshi Jiayuan",
                         aliases=("测试",), width=460.0, units=units)
    c = make_community(spec, seed=[5, 5])
    assert len(c.buildings) == len(units) and sum(b.units for b in c.buildings) == sum(units)
    fps = np.array([b.footprint for b in c.buildings], dtype=object)
    grids = np.array([g.polygon for g in c.grids], dtype=object)
    assert shapely.is_valid(grids).all() and shapely.is_valid(c.polygon)
    assert abs(shapely.union_all(grids).area - c.polygon.area) < 1e-6
    assert sum(g.area for g in grids) == pytest.approx(c.polygon.area, abs=1e-6)
    for g in c.grids:
        assert 200 <= g.households <= 300 and 400 <= g.population <= 500
        for k in g.buildings:
            assert shapely.difference(fps[k], g.polygon).area < 1e-6
    assert sorted(k for g in c.grids for k in g.buildings) == list(range(len(units)))
    assert [g.number for g in c.grids] == list(range(1, len(c.grids) + 1))
    # same seed, same community
    again = make_community(spec, seed=[5, 5])
    for g1, g2 in zip(c.grids, again.grids):
        shapely.testing.assert_geometries_equal(g1.polygon, g2.polygon)
    assert len(c.cameras) > sum(units)
