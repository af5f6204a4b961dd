"""geo.address.match: the community part of a query (names, English and pinyin, aliases, typos), through
Gazetteer.lookup on the committed demo data."""

from __future__ import annotations

import pytest

from geo.address import THRESHOLD, Building, Community, Gazetteer
from tests.geo.address.demo_data import code


# query, community, building, unit, room, lowest and highest acceptable score
VARIANTS = [
    # exact community (+ unit): >= 95
    ("春安新区3号楼2单元", "春安新区", 3, 2, None, 100, 100),
    ("春安新区３号楼２单元", "春安新区", 3, 2, None, 100, 100),
    ("春安新区三号楼", "春安新区", 3, None, None, 100, 100),
    ("宁丰社区十二栋二单元", "宁丰社区", 12, 2, None, 100, 100),
    ("宏盛家园5#楼", "宏盛家园", 5, None, None, 100, 100),
    ("宏盛家园5#", "宏盛家园", 5, None, None, 100, 100),
    ("宏盛家园5幢", "宏盛家园", 5, None, None, 100, 100),
    ("宏盛家园5栋", "宏盛家园", 5, None, None, 100, 100),
    ("宏盛家园5号", "宏盛家园", 5, None, None, 100, 100),
    ("春安 新区，3 号楼-2单元", "春安新区", 3, 2, None, 100, 100),
    ("【春安新区】3号楼", "春安新区", 3, None, None, 100, 100),
    ("春安新区3号楼2单元1203室", "春安新区", 3, 2, "1203", 100, 100),
    ("春安新区3-2-1203", "春安新区", 3, 2, "1203", 100, 100),
    ("春安新区3栋2单元1203", "春安新区", 3, 2, "1203", 100, 100),
    ("宁丰社区第十二栋第二单元一二零三室", "宁丰社区", 12, 2, "1203", 100, 100),
    ("山西省大同市云冈区高山镇春安新区3号楼", "春安新区", 3, None, None, 100, 100),
    ("山西大同云冈高山镇宏盛家园5号楼", "宏盛家园", 5, None, None, 100, 100),
    ("高山佳苑3号楼2单元", "高山佳苑", 3, 2, None, 100, 100),
    ("北京市朝阳区春安新区3号楼", "春安新区", 3, None, None, 95, 99),  # name inside noise
    # English / pinyin: 95
    ("Chun'an New District Building 3 Unit 2", "春安新区", 3, 2, None, 95, 95),
    ("chunan xinqu 3 hao lou", "春安新区", 3, None, None, 95, 95),
    ("Ningfeng Community Bldg 12", "宁丰社区", 12, None, None, 95, 95),
    ("Room 1203, Unit 2, Bldg 3, Ningfeng Community", "宁丰社区", 3, 2, "1203", 95, 95),
    ("gaoshan jiayuan 3 hao lou 2 danyuan", "高山佳苑", 3, 2, None, 95, 95),
    # aliases: >= 90
    ("春安3号楼", "春安新区", 3, None, None, 90, 94),
    ("宁丰12栋", "宁丰社区", 12, None, None, 90, 94),
    ("高山3号楼", "高山佳苑", 3, None, None, 90, 94),
    ("ningfeng 12-2", "宁丰社区", 12, 2, None, 90, 94),
    # typos: ~80-90
    ("春按新区3号楼", "春安新区", 3, None, None, 80, 90),
    ("宏胜家园5号楼", "宏盛家园", 5, None, None, 80, 90),
    ("春女新区3号楼", "春安新区", 3, None, None, 80, 90),
    ("宁丰小区3号楼", "宁丰社区", 3, None, None, THRESHOLD, 90),
    ("寧豐社區十二號樓二單元1203號", "宁丰社区", 12, 2, "1203", 80, 90),  # traditional characters
]


@pytest.mark.parametrize("q, community, number, unit, room, lo, hi", VARIANTS)
def test_lookup_variants(gaz, q, community, number, unit, room, lo, hi):
    ms = gaz.lookup(q)
    assert ms, q
    best = ms[0]
    assert best.building_code == code(community, number)
    assert (best.building, best.unit, best.room) == (number, unit, room)
    assert lo <= best.score <= hi, (q, best.score)
    assert best.score >= THRESHOLD
    expected = f"{community}{number}号楼" + (f"{unit}单元" if unit else "") + (f"{room}室" if room else "")
    assert best.address == expected
    # lookup_many agrees with lookup
    assert gaz.lookup_many([q]) == [best]


def test_score_tiers(gaz):
    top = {q: gaz.lookup(q)[0].score for q in
           ["春安新区3号楼2单元", "Chun'an New District Building 3 Unit 2", "春安3号楼2单元",
            "春按新区3号楼2单元", "3号楼2单元"]}
    exact, english, alias, typo, missing = top.values()
    assert exact >= 95 and english >= 95 and alias >= 90
    assert exact >= english > alias > typo > missing
    assert 80 <= typo <= 90
    assert missing <= 70


def test_generic_two_character_text_does_not_match_by_sound(gaz):
    # 家园 sounds like the alias 佳苑 (jiayuan) and ends 宏盛家园: neither is a match.
    ms = gaz.lookup("家园3号楼")
    assert ms[0].score < THRESHOLD


def test_community_without_pinyin_gets_generated_pinyin():
    gaz = Gazetteer(communities=[Community(code="A", name="宁丰社区")],
                    buildings=[Building(code="A-1", community_code="A", number=1, units=2)])
    assert gaz.lookup("ningfeng shequ 1 hao lou")[0].score == 95


def test_shared_alias_is_ambiguous():
    gaz = Gazetteer(
        communities=[Community(code="A", name="东园小区", aliases=("东园",)),
                     Community(code="B", name="东园新村", aliases=("东园",))],
        buildings=[Building(code="A-1", community_code="A", number=1, units=2),
                   Building(code="B-1", community_code="B", number=1, units=2)],
    )
    ms = gaz.lookup("东园1号楼")
    assert {m.building_code for m in ms} == {"A-1", "B-1"}
    assert ms[0].score < THRESHOLD
    assert gaz.lookup("东园新村1号楼")[0].building_code == "B-1"
