"""geo.address: normalisation, numerals, parsing and the gazetteer on the committed demo data.

No database: the gazetteer is built from data/boundaries/*.geojson read with json,
as the lead's loader would feed it rows.
"""

from __future__ import annotations

import csv
import doctest
import json
from collections import Counter
from pathlib import Path

import pytest

import geo.address
from geo.address import (
    THRESHOLD,
    Building,
    Community,
    Gazetteer,
    Match,
    chinese_numeral_to_int,
    normalise,
)

DEMO = Path(__file__).resolve().parents[2] / "data" / "boundaries"


def _features(name: str) -> list[dict]:
    with open(DEMO / name, encoding="utf-8") as fh:
        return [f["properties"] for f in json.load(fh)["features"]]


COMMUNITIES = [Community.from_record(p) for p in _features("communities.geojson")]
BUILDINGS = [Building.from_record(p) for p in _features("buildings.geojson")]
COMMUNITY_CODE = {c.name: c.code for c in COMMUNITIES}
BY_KEY = {(b.community_code, b.number): b for b in BUILDINGS}
NUMBERS = Counter(b.number for b in BUILDINGS)


def code(community: str, number: int) -> str:
    """The demo building code of ``community`` (standard name) + number."""
    return BY_KEY[(COMMUNITY_CODE[community], number)].code


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return Gazetteer(communities=COMMUNITIES, buildings=BUILDINGS)


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


def test_doctests():
    result = doctest.testmod(geo.address, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 10 and result.failed == 0


# ----------------------------------------------------------------------------- numerals

@pytest.mark.parametrize(
    "text, value",
    [
        ("零", 0), ("〇", 0), ("一", 1), ("二", 2), ("两", 2), ("三", 3), ("九", 9),
        ("十", 10), ("十二", 12), ("二十", 20), ("二十一", 21), ("九十九", 99),
        ("一百", 100), ("一百零五", 105), ("一百一十", 110), ("一百一", 110),
        ("两百三十四", 234), ("一千零一", 1001), ("三千五", 3500), ("一万", 10000),
        ("一二零三", 1203), ("幺零一", 101), ("12", 12), ("１２", 12),
    ],
)
def test_chinese_numeral_to_int(text, value):
    assert chinese_numeral_to_int(text) == value


@pytest.mark.parametrize("bad", ["", "  ", "三号", "abc", "十x"])
def test_chinese_numeral_to_int_rejects(bad):
    with pytest.raises(ValueError):
        chinese_numeral_to_int(bad)


# ----------------------------------------------------------------------------- normalise

@pytest.mark.parametrize(
    "q, expected",
    [
        ("春安新区３号楼２单元", "春安新区3号楼2单元"),
        ("春安新区三号楼", "春安新区3号楼"),
        ("宁丰社区十二栋二单元", "宁丰社区12号楼2单元"),
        ("宏盛家园5#楼", "宏盛家园5号楼"),
        ("5#", "5号楼"),
        ("#5楼", "5号楼"),
        ("宏盛家园5幢", "宏盛家园5号楼"),
        ("宏盛家园5号", "宏盛家园5号楼"),
        ("宏盛家园5座2门", "宏盛家园5号楼2单元"),
        ("春安 新区，3 号楼-2单元", "春安新区3号楼2单元"),
        ("【春安新区】3号楼", "春安新区3号楼"),
        ("3 - 2 - 1203", "3-2-1203"),
        ("3—2—1203", "3-2-1203"),
        ("3栋2单元1203", "3号楼2单元1203"),
        ("3号楼2单元1203号", "3号楼2单元1203室"),
        ("第三栋第二单元", "3号楼2单元"),
        ("3号楼2单元12楼", "3号楼2单元12层"),
        ("3楼", "3号楼"),
        ("宁丰社区十二号楼二单元一二零三室", "宁丰社区12号楼2单元1203室"),
        ("Chun'an New District Building 3 Unit 2", "chunannewdistrict3号楼2单元"),
        ("chunan xinqu 3 hao lou 2 danyuan", "chunanxinqu3号楼2单元"),
        ("Room 1203, Unit 2, Bldg 3", "1203室2单元3号楼"),
        ("No. 3 Building", "3号楼"),
        ("", ""),
    ],
)
def test_normalise(q, expected):
    assert normalise(q) == expected


# ----------------------------------------------------------------------------- parse

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


# ----------------------------------------------------------------------------- lookup variants

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


# ----------------------------------------------------------------------------- ambiguity

def test_missing_community_is_ambiguous_and_ranked(gaz):
    ms = gaz.lookup("3号楼2单元", limit=10)
    having = sorted(b.code for b in BUILDINGS if b.number == 3)
    assert len(having) >= 2
    assert sorted(m.building_code for m in ms) == having
    assert all(m.building == 3 and m.unit == 2 for m in ms)
    full = gaz.lookup("春安新区3号楼2单元")[0].score
    assert ms[0].score <= 70 and ms[0].score <= full - 25
    assert ms[0].score < THRESHOLD  # ambiguous: no answer, candidates listed
    assert [m.score for m in ms] == sorted((m.score for m in ms), reverse=True)
    assert gaz.lookup_many(["3号楼2单元"]) == [None]


@pytest.mark.parametrize("q", ["3-2-1203", "3栋2单元1203", "5#"])
def test_other_ambiguous_forms(gaz, q):
    ms = gaz.lookup(q)
    assert len(ms) >= 2 and len({m.community_code for m in ms}) == len(ms)
    assert ms[0].score < THRESHOLD


def test_missing_community_ranks_buildings_that_have_the_unit_first(gaz):
    # Building 3 of every community, asked for a unit only some of them have.
    units = {b.community_code: b.units for b in BUILDINGS if b.number == 3}
    u = max(units.values())
    assert min(units.values()) < u, "demo data: building 3s all have the same unit count"
    ms = gaz.lookup(f"3号楼{u}单元", limit=10)
    with_unit = [m for m in ms if m.unit == u]
    without = [m for m in ms if m.unit is None]
    assert with_unit and without
    assert min(m.score for m in with_unit) > max(m.score for m in without)
    assert {m.community_code for m in with_unit} == {c for c, n in units.items() if n >= u}


def test_missing_community_unique_number_answers(gaz):
    unique = sorted(n for n, k in NUMBERS.items() if k == 1)
    assert unique, "demo data: every building number is shared"
    n = unique[0]
    b = next(b for b in BUILDINGS if b.number == n)
    ms = gaz.lookup(f"{n}号楼")
    assert [m.building_code for m in ms] == [b.code]
    assert THRESHOLD <= ms[0].score <= 70


def test_limit(gaz):
    assert len(gaz.lookup("3号楼", limit=2)) == 2
    assert len(gaz.lookup("3号楼", limit=10)) == NUMBERS[3]


# ----------------------------------------------------------------------------- no confident match

def test_building_missing_everywhere_gives_empty(gaz):
    assert gaz.lookup("春安新区999号楼") == []
    assert gaz.lookup_many(["春安新区999号楼"]) == [None]


def test_building_missing_in_named_community_gives_low_candidates(gaz):
    ningfeng = COMMUNITY_CODE["宁丰社区"]
    n = next(n for n in sorted(NUMBERS) if (ningfeng, n) not in BY_KEY)
    ms = gaz.lookup(f"宁丰社区{n}号楼")
    assert ms, "another community has that number"
    assert all(m.community_code != ningfeng and m.building == n for m in ms)
    assert all(m.score < THRESHOLD for m in ms)
    assert gaz.lookup_many([f"宁丰社区{n}号楼"]) == [None]


def test_unit_beyond_building_keeps_building_with_lower_score(gaz):
    b = BY_KEY[(COMMUNITY_CODE["春安新区"], 3)]
    bad = b.units + 1
    m = gaz.lookup(f"春安新区3号楼{bad}单元1203室")[0]
    assert m.building_code == b.code
    assert m.unit is None and m.room is None  # the room belongs to the missing unit
    assert m.address == "春安新区3号楼"
    assert THRESHOLD <= m.score == 100 - 15
    assert gaz.lookup("春安新区3号楼0单元")[0].unit is None


def test_room_on_a_floor_the_building_lacks_is_dropped(gaz):
    b = BY_KEY[(COMMUNITY_CODE["春安新区"], 3)]
    assert b.floors is not None
    m = gaz.lookup(f"春安新区3号楼2单元{b.floors + 1}01室")[0]
    assert (m.building_code, m.unit, m.room) == (b.code, 2, None)
    assert m.score == 95


def test_unrecognised_community_is_below_threshold(gaz):
    ms = gaz.lookup("北京市朝阳区3号楼")
    assert ms and ms[0].score < THRESHOLD
    assert all(m.building == 3 for m in ms)


def test_leftover_text_costs_a_little(gaz):
    m = gaz.lookup("春安新区3号楼2单元旁边的超市")[0]
    assert (m.building_code, m.unit) == (code("春安新区", 3), 2)
    assert 90 <= m.score < 100


def test_generic_two_character_text_does_not_match_by_sound(gaz):
    # 家园 sounds like the alias 佳苑 (jiayuan) and ends 宏盛家园: neither is a match.
    ms = gaz.lookup("家园3号楼")
    assert ms[0].score < THRESHOLD


# ----------------------------------------------------------------------------- threshold and batches

def test_threshold(gaz):
    assert 0 < THRESHOLD < 70
    queries = ["春安新区3号楼", "3号楼", "北京市朝阳区3号楼", "春安新区3号楼99单元", "宁丰小区3号楼"]
    many = gaz.lookup_many(queries)
    for q, got in zip(queries, many):
        ms = gaz.lookup(q)
        if ms and ms[0].score >= THRESHOLD:
            assert got == ms[0]
        else:
            assert got is None


@pytest.mark.parametrize("garbage", ["", "asdfgh", "北京市朝阳区", "   ", "！！！", "春安新区", "12345678901"])
def test_garbage_gives_nothing(gaz, garbage):
    assert gaz.lookup_many([garbage]) == [None]
    assert all(m.score < THRESHOLD for m in gaz.lookup(garbage))


def test_lookup_many_keeps_order_and_repeats(gaz):
    qs = ["宁丰12栋", "", "春安新区3号楼2单元", "asdfgh", "宏胜家园5号楼", "北京市朝阳区",
          "春安新区3号楼2单元", "3号楼2单元", "Ningfeng Community Bldg 12"]
    got = gaz.lookup_many(qs)
    assert len(got) == len(qs)
    codes = [m.building_code if m else None for m in got]
    assert codes == [code("宁丰社区", 12), None, code("春安新区", 3), None, code("宏盛家园", 5),
                     None, code("春安新区", 3), None, code("宁丰社区", 12)]
    assert all(isinstance(m, Match) for m in got if m is not None)
    # A second gazetteer (cold caches) gives the same answers.
    fresh = Gazetteer(communities=COMMUNITIES, buildings=BUILDINGS)
    assert fresh.lookup_many(qs) == got


def test_lookup_many_large_batch(gaz):
    qs = [f"{c.name}{b.number}号楼{1 + i % b.units}单元" for i, b in enumerate(BUILDINGS * 40)
          for c in COMMUNITIES if c.code == b.community_code]
    got = gaz.lookup_many(qs)
    assert len(got) == len(qs) == 40 * len(BUILDINGS)
    assert all(m is not None and m.score == 100 for m in got)
    assert [m.building_code for m in got] == [b.code for b in BUILDINGS * 40]


# ----------------------------------------------------------------------------- records

@pytest.mark.parametrize("aliases", [["春安", "春安小区"], '["春安", "春安小区"]', "春安,春安小区", "春安、春安小区"])
def test_community_from_record_aliases(aliases):
    c = Community.from_record({"code": "1", "name": "春安新区", "aliases": aliases})
    assert c.aliases == ("春安", "春安小区") and c.name_en is None and c.pinyin is None


def test_community_without_pinyin_gets_generated_pinyin():
    gaz = Gazetteer(communities=[Community(code="A", name="宁丰社区")],
                    buildings=[Building(code="A-1", community_code="A", number=1, units=2)])
    assert gaz.lookup("ningfeng shequ 1 hao lou")[0].score == 95


def test_building_of_unknown_community_is_rejected():
    with pytest.raises(ValueError, match="unknown community"):
        Gazetteer(communities=COMMUNITIES,
                  buildings=[Building(code="X-1", community_code="nope", number=1, units=1)])


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
