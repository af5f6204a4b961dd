"""geo.address.parse: the community text, building, unit and room of a query (through Gazetteer.parse)."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "q, community_text, building, unit, room",
    [
        ("春安新区3号楼2单元1203室", "春安新区", 3, 2, "1203"),
        ("山西省大同市云冈区高山镇春安新区3号楼", "春安新区", 3, None, None),
        ("大同市春安新区3号楼", "春安新区", 3, None, None),
        ("高山镇3号楼", None, 3, None, None),
        ("高山佳苑3号楼", "高山佳苑", 3, None, None),
        ("3-2-1203", None, 3, 2, "1203"),
        ("3-2", None, 3, 2, None),
        ("3号楼1203", None, 3, None, "1203"),
        ("春安新区3号楼2单元12层03室", "春安新区", 3, 2, "1203"),
        ("Building 3, Chun'an New District", "chunannewdistrict", 3, None, None),
        ("北京市朝阳区", "朝阳区", None, None, None),
        ("", None, None, None, None),
    ],
)
def test_parse(gaz, q, community_text, building, unit, room):
    p = gaz.parse(q)
    assert (p.community_text, p.building, p.unit, p.room) == (community_text, building, unit, room)


@pytest.mark.parametrize("q, normalised", [
    (" 春安新区３号楼 ", "春安新区3号楼"),            # full-width digits, outer spaces
    ("春安新区 3 号楼 2 单元", "春安新区3号楼2单元"),   # inner spaces
    ("Building 3, Chun'an New District", "3号楼chunannewdistrict"),  # English form
])
def test_parse_keeps_the_normalised_query(gaz, q, normalised):
    assert gaz.parse(q).normalised == normalised
