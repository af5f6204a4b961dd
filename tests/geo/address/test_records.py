"""geo.address.records: communities and buildings read from records, and the demo data the cases assume."""

from __future__ import annotations

import csv
from collections import Counter

import pytest

from geo.address import Community
from tests.geo.address.demo_data import BUILDINGS, BY_KEY, COMMUNITIES, COMMUNITY_CODE, DEMO


def test_demo_data_is_what_the_cases_assume():
    names = {c.name for c in COMMUNITIES}
    assert {"春安新区", "宁丰社区", "宏盛家园", "高山佳苑"} <= names
    assert "春安" in next(c for c in COMMUNITIES if c.name == "春安新区").aliases
    assert "宁丰" in next(c for c in COMMUNITIES if c.name == "宁丰社区").aliases
    for name, n in [("春安新区", 3), ("宁丰社区", 12), ("宏盛家园", 5)]:
        assert BY_KEY[(COMMUNITY_CODE[name], n)].units >= 2
    # units.csv agrees with the buildings' unit counts.
    with open(DEMO / "units.csv", encoding="utf-8") as fh:
        per_building = Counter(row["building_code"] for row in csv.DictReader(fh))
    assert all(per_building[b.code] == b.units for b in BUILDINGS)


@pytest.mark.parametrize("aliases", [["春安", "春安小区"], '["春安", "春安小区"]', "春安,春安小区", "春安、春安小区"])
def test_community_from_record_aliases(aliases):
    c = Community.from_record({"code": "1", "name": "春安新区", "aliases": aliases})
    assert c.aliases == ("春安", "春安小区") and c.name_en is None and c.pinyin is None
