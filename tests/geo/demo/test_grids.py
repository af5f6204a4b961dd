"""geo.demo.grids: grids of whole buildings that tile their community, inside the bands, numbered in
reading order; households and population per unit."""

from __future__ import annotations

import re
from collections import defaultdict

import numpy as np
import shapely

from geo.numbering import reading_order
from tests.geo.demo.conftest import Data


def test_grid_bands(data: Data) -> None:
    b_grid = {p["code"]: p["grid_code"] for p in data.buildings[0]}
    hh: dict[str, int] = defaultdict(int)
    pop: dict[str, int] = defaultdict(int)
    for u in data.units:
        hh[b_grid[u["building_code"]]] += int(u["households"])
        pop[b_grid[u["building_code"]]] += int(u["population"])
    assert set(hh) == {p["code"] for p in data.grids[0]}
    for p in data.grids[0]:
        assert 200 <= hh[p["code"]] <= 300, p["code"]
        assert 400 <= pop[p["code"]] <= 500, p["code"]
        assert (p["households"], p["population"]) == (hh[p["code"]], pop[p["code"]])


def test_units_are_plausible(data: Data) -> None:
    floors = {p["code"]: p["floors"] for p in data.buildings[0]}
    n_units = {p["code"]: p["units"] for p in data.buildings[0]}
    seen: dict[str, list[int]] = defaultdict(list)
    for u in data.units:
        h, p = int(u["households"]), int(u["population"])
        assert 0 < h <= 2 * floors[u["building_code"]]
        assert h <= p <= 5 * h
        seen[u["building_code"]].append(int(u["number"]))
    assert all(sorted(v) == list(range(1, n_units[k] + 1)) for k, v in seen.items())


def test_every_building_in_exactly_one_grid(data: Data) -> None:
    gprops, grids = data.grids
    bprops, blds = data.buildings
    tree = shapely.STRtree(grids)
    for p, b in zip(bprops, blds):
        hits = tree.query(b, predicate="intersects")
        areas = {gprops[i]["code"]: shapely.intersection(b, grids[i]).area for i in hits}
        assert areas[p["grid_code"]] >= 0.999 * b.area, p["code"]
        assert sum(areas.values()) - areas[p["grid_code"]] < 0.001 * b.area, p["code"]


def test_grids_partition_their_community(data: Data) -> None:
    cprops, comms = data.communities
    gprops, grids = data.grids
    for cp, cg in zip(cprops, comms):
        mine = grids[[p["community_code"] == cp["code"] for p in gprops]]
        assert len(mine) > 0
        for i in range(len(mine)):
            for j in range(i + 1, len(mine)):
                assert shapely.intersection(mine[i], mine[j]).area < 0.01
        union = shapely.union_all(mine)
        assert abs(union.area - cg.area) < 0.1
        assert shapely.difference(union, cg).area < 0.1
        assert shapely.difference(cg, union).area < 0.1


def test_grid_codes_and_reading_order(data: Data) -> None:
    gprops, grids = data.grids
    codes = [p["code"] for p in gprops]
    assert len(set(codes)) == len(codes)
    for cp in data.communities[0]:
        assert re.fullmatch(r"140214101\d{3}", cp["code"])
        idx = [i for i, p in enumerate(gprops) if p["community_code"] == cp["code"]]
        for i in idx:
            assert re.fullmatch(r"\d{15}", codes[i]) and codes[i].startswith(cp["code"])
            assert gprops[i]["name"] == f"{cp['name']}第{int(codes[i][-3:])}网格"
        numbers = [int(codes[i][-3:]) for i in idx]
        assert sorted(numbers) == list(range(1, len(idx) + 1))
        cent = shapely.get_coordinates(shapely.centroid(grids[idx]))
        expected = np.empty(len(idx), dtype=int)
        expected[reading_order(cent)] = np.arange(1, len(idx) + 1)
        assert numbers == expected.tolist()
        first = cent[numbers.index(1)]
        assert first[1] >= cent[:, 1].max() - 30.0  # number 1 is in the northern band
