"""geo.suggest.balanced: the exact set partitioning and the heuristic."""

from __future__ import annotations

import functools
import math

import geopandas as gpd
import numpy as np
import shapely
from shapely import box

import geo.suggest as sg
import geo.suggest.balanced as sgb
import geo.suggest.cells as sgc
from tests.geo.suggest.conftest import CRS, HH, POP, X0, Y0, check_partition, city, suggest, town


def test_infeasible_building_is_reported_as_a_violation_not_an_error() -> None:
    c = town(7)
    c.cells.loc[4, "households"] = 320  # one building alone above the band
    c.cells.loc[4, "population"] = 560
    s = suggest(c)
    check_partition(c, s.labels)
    sc = s.scores[s.method]
    assert sc["band_violations"] >= 1 and sc["households_excess"] >= 20
    assert all(v["contiguous"] == 1.0 for v in s.scores.values())


def _set_partitions(items: list[int]):
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for part in _set_partitions(rest):
        yield [[first], *part]
        for i in range(len(part)):
            yield [*part[:i], [first, *part[i]], *part[i + 1:]]


def test_exact_division_is_the_brute_force_best_on_a_small_infeasible_community() -> None:
    """3 × 3 blocks whose households admit no division inside both bands: the exact
    set partitioning has the fewest violations, then the least household excess, then
    (within the solver's 0.1 % gap) the best mean compactness of all 21,147 divisions
    into connected grids (under the same size cap: 1.5 × and 2 × the upper bands)."""
    hh = [150, 140, 90, 130, 160, 60, 120, 70, 155]
    pop = [300, 260, 200, 250, 330, 130, 230, 150, 300]
    geoms = [box(X0 + 50 * c, Y0 - 50 * r, X0 + 50 * (c + 1), Y0 - 50 * (r - 1)) for r in range(3) for c in range(3)]
    cells = gpd.GeoDataFrame({"code": list("abcdefghi"), "households": hh, "population": pop},
                             geometry=geoms, crs=CRS)
    adj = {i: {j for j in range(9) if geoms[i].touches(geoms[j]) and
               geoms[i].intersection(geoms[j]).length > 0} for i in range(9)}

    def connected_block(b: list[int]) -> bool:
        seen, stack = {b[0]}, [b[0]]
        while stack:
            for nb in adj[stack.pop()]:
                if nb in b and nb not in seen:
                    seen.add(nb)
                    stack.append(nb)
        return len(seen) == len(b)

    @functools.cache
    def pp(block: frozenset) -> float:
        g = shapely.union_all([geoms[i] for i in block])
        return 4 * math.pi * g.area / g.length**2

    best = None
    for division in _set_partitions(list(range(9))):
        if not all(connected_block(b) for b in division):
            continue
        hs = [sum(hh[i] for i in b) for b in division]
        ps = [sum(pop[i] for i in b) for b in division]
        if max(hs) > 1.5 * HH[1] or max(ps) > 2 * POP[1]:
            continue
        viol = sum(not (HH[0] <= a <= HH[1] and POP[0] <= b <= POP[1]) for a, b in zip(hs, ps, strict=True))
        dev = sum(max(0, HH[0] - a, a - HH[1]) for a in hs)
        key = (viol, dev, -np.mean([pp(frozenset(b)) for b in division]))
        best = key if best is None or key < best else best
    assert best is not None and best[0] >= 1  # infeasible indeed

    geoms_a, h, p = sgc.check_cells(cells)
    (part,) = sgc.connected_parts(geoms_a, h, p)
    lab = sgb._exact(part, sgc.BandLimits(*HH, *POP))
    assert lab is not None
    s = sg.suggest_partition(cells=cells, households_band=HH, population_band=POP)
    sc = s.scores["balanced"]
    assert (sc["band_violations"], sc["households_excess"]) == best[:2]
    assert sc["mean_polsby_popper"] >= -best[2] - 2e-3
    assert s.method == "balanced"


def test_heuristic_alone_keeps_a_town_in_band(monkeypatch, towns) -> None:
    """Without the exact set partitioning (as for a city estate), the local search."""
    monkeypatch.setattr(sgb, "_EXACT_CAP", 0)
    for s, c in enumerate(towns):
        geoms, h, p = sgc.check_cells(c.cells)
        (part,) = sgc.connected_parts(geoms, h, p)
        assert sgb._exact(part, sgc.BandLimits(*HH, *POP)) is None
        r = suggest(c, seed=s)
        check_partition(c, r.labels)
        assert r.scores["balanced"]["band_violations"] == 0


def test_exact_engine_runs_for_a_town_not_for_a_city(towns) -> None:
    bands = sgc.BandLimits(*HH, *POP)
    geoms, h, p = sgc.check_cells(towns[0].cells)
    (part,) = sgc.connected_parts(geoms, h, p)
    sets = sgb._connected_sets(part, 1.5 * HH[1], 2 * POP[1], sgb._EXACT_CAP)
    assert sets is not None and 100 < len(sets) < sgb._EXACT_CAP
    c = city(1)
    geoms, h, p = sgc.check_cells(c.cells)
    (part,) = sgc.connected_parts(geoms, h, p)
    assert sgb._connected_sets(part, 1.5 * HH[1], 2 * POP[1], sgb._EXACT_CAP) is None
    assert sgb._exact(part, bands) is None
