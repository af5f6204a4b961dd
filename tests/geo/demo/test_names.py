"""geo.demo.names: the staff's fictional names and phone numbers, one per post."""

from __future__ import annotations

import re


from tests.geo.demo.conftest import Data


def test_staff(data: Data) -> None:
    phones = [r["phone"] for r in data.staff]
    assert all(re.fullmatch(r"0352-0\d{6}", p) for p in phones)
    assert len(set(phones)) == len(phones)
    assert all(re.fullmatch(r"[\u4e00-\u9fff]{2,3}", r["name"]) for r in data.staff)
    grids = {p["code"] for p in data.grids[0]}
    buildings = {p["code"] for p in data.buildings[0]}
    assert {r["grid_code"] for r in data.staff if r["role"] == "grid_member"} == grids
    assert {r["building_code"] for r in data.staff if r["role"] == "building_chief"} == buildings
    units = {(r["building_code"], r["number"]) for r in data.units}
    assert {(r["building_code"], r["unit_number"]) for r in data.staff if r["role"] == "unit_chief"} == units
