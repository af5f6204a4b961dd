"""geo.address.gazetteer: ambiguity, penalties, the threshold and batches on the committed demo data."""

from __future__ import annotations

import pytest

from geo.address import THRESHOLD, Building, Gazetteer, Match
from tests.geo.address.demo_data import BUILDINGS, BY_KEY, COMMUNITIES, COMMUNITY_CODE, NUMBERS, code


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


def test_building_of_unknown_community_is_rejected():
    with pytest.raises(ValueError, match="unknown community"):
        Gazetteer(communities=COMMUNITIES,
                  buildings=[Building(code="X-1", community_code="nope", number=1, units=1)])
