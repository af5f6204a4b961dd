"""geo.suggest.suggestion: suggested grid partitions of a community (whole buildings, contiguous,
compact, in the bands), on synthetic communities built with shapely. No database."""

from __future__ import annotations

import math
import subprocess
import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely import box

import geo.suggest as sg
from geo.errors import BadInput
from geo.numbering import reading_order
import geo.suggest.maxp as sgm
import geo.suggest.suggestion as sgs
from tests.geo.suggest.conftest import CRS, HH, POP, Community, check_partition, city, suggest, totals, town


def test_synthetic_town_is_feasible(towns: list[Community]) -> None:
    for c in towns:
        assert len(c.cells) == 30
        assert c.cells["households"].between(60, 150).all()
        hs, ps = totals(c.cells, c.truth)
        assert ((hs >= HH[0]) & (hs <= HH[1])).all() and ((ps >= POP[0]) & (ps <= POP[1])).all()
        check_partition(c, c.truth)
        # the cells tile the community
        region = box(*shapely.total_bounds(c.cells.geometry.values))
        assert math.isclose(c.cells.area.sum(), region.area, rel_tol=1e-6)


def test_town_partition_is_contiguous_whole_and_in_band(towns, town_results) -> None:
    for c, s in zip(towns, town_results, strict=True):
        check_partition(c, s.labels)
        hs, ps = totals(c.cells, s.labels)
        assert ((hs >= HH[0]) & (hs <= HH[1])).all(), hs
        assert ((ps >= POP[0]) & (ps <= POP[1])).all(), ps
        best = s.scores[s.method]
        assert best["band_violations"] == 0 and best["households_excess"] == 0
        assert best["regions"] == s.labels.max() + 1
        # 2-3 buildings of 60-150 households per grid
        sizes = np.bincount(s.labels)
        assert sizes.min() >= 2 and sizes.max() <= 5


def test_grids_are_numbered_in_reading_order(towns, town_results) -> None:
    for c, s in zip(towns, town_results, strict=True):
        k = s.labels.max() + 1
        cent = np.array([shapely.union_all(c.cells.geometry.values[s.labels == r]).centroid.coords[0]
                         for r in range(k)])
        assert reading_order(cent).tolist() == list(range(k))
        # grid 0 holds the north-west building's neighbourhood: it is in the northern row
        assert cent[0, 1] > np.median(cent[:, 1])


def test_deterministic_for_a_seed(towns, town_results) -> None:
    c, first = towns[0], town_results[0]
    again = suggest(c, seed=0)
    assert again.method == first.method
    np.testing.assert_array_equal(again.labels, first.labels)
    for m in sg.METHODS:
        a = {k: v for k, v in again.scores[m].items() if k != "seconds"}
        b = {k: v for k, v in first.scores[m].items() if k != "seconds"}
        assert a == b
    # row order does not matter beyond numbering: the same grids come back for shuffled rows
    perm = np.random.default_rng(5).permutation(len(c.cells))
    shuffled = Community(c.cells.iloc[perm].reset_index(drop=True), [c.footprints[i] for i in perm], c.truth[perm])
    s2 = suggest(shuffled, seed=0)
    check_partition(shuffled, s2.labels)
    assert s2.scores[s2.method]["band_violations"] == 0


def test_labels_are_read_only(town_results) -> None:
    with pytest.raises(ValueError):
        town_results[0].labels[0] = 99


@pytest.mark.slow
def test_city_size_community_is_in_band_with_bounded_maxp_work(monkeypatch) -> None:
    """A 160-building walk-up estate: in band, and max-p anneals at most MAXP_ANNEALED of its
    maximal constructions (unbounded, spopt anneals every one that qualifies: up to 16 s for one
    community). The time it takes is measured by bench/suggest.py, not asserted here."""
    c = city(1)
    assert len(c.cells) == 160
    check_partition(c, c.truth)
    phases = sgm._maxp_phases()
    assert phases is not None
    construct, anneal, within = phases
    constructions: list[int] = []
    annealings: list[int] = []

    def counting_construct(*args):
        found = construct(*args)
        constructions.append(len(found[1]))
        return found

    def counting_anneal(*args):
        annealings.append(1)
        return anneal(*args)

    monkeypatch.setattr(sgm, "_maxp_phases", lambda: (counting_construct, counting_anneal, within))
    s = suggest(c, seed=0)
    check_partition(c, s.labels)
    assert s.scores[s.method]["band_violations"] == 0
    assert len(constructions) == 1  # one connected part
    assert len(annealings) == min(constructions[0], sgm.MAXP_ANNEALED) >= 1


def test_disconnected_community_keeps_each_grid_in_one_piece() -> None:
    """Two blocks 30 m apart (a road outside the community): no grid spans the gap."""
    a, b = town(3), town(4)
    shift = a.cells.total_bounds[2] - a.cells.total_bounds[0] + 30.0
    moved = b.cells.copy()
    moved["geometry"] = moved.geometry.translate(xoff=shift)
    moved["code"] = moved["code"].str.replace("101001", "101002")
    cells = gpd.GeoDataFrame(
        pd.concat([a.cells, moved], ignore_index=True), geometry="geometry", crs=CRS)
    fps = a.footprints + [shapely.affinity.translate(f, xoff=shift) for f in b.footprints]
    both = Community(cells, fps, np.r_[a.truth, b.truth + a.truth.max() + 1])
    s = suggest(both)
    check_partition(both, s.labels)
    assert not set(s.labels[:30]) & set(s.labels[30:])
    assert s.scores[s.method]["band_violations"] == 0


def test_a_non_contiguous_method_is_disqualified(monkeypatch, towns) -> None:
    c = towns[0]

    def scattered(part, bands, rng):  # pairs far apart: in band, maybe, but not contiguous
        return np.arange(part.m) % (part.m // 2)

    monkeypatch.setattr(sgs, "solve_balanced", scattered)
    s = suggest(c)
    assert s.scores["balanced"]["contiguous"] == 0.0
    assert s.method == "maxp"
    check_partition(c, s.labels)


def test_too_few_households_for_one_grid() -> None:
    c = town(0)
    small = c.cells.iloc[:1].copy()  # one building: 60-150 households
    with pytest.raises(BadInput, match="households.*lower band"):
        sg.suggest_partition(cells=small, households_band=HH, population_band=POP)


def test_too_few_people_for_one_grid() -> None:
    c = town(0)
    cells = c.cells.copy()
    cells["population"] = 1
    with pytest.raises(BadInput, match="people.*lower band"):
        sg.suggest_partition(cells=cells, households_band=HH, population_band=POP)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"households_band": (300, 200)}, "households_band"),
    ({"population_band": (0, 500)}, "population_band"),
    ({"households_band": "200-300"}, "households_band"),
    ({"seed": -1}, "seed"),
])
def test_bad_arguments(kwargs: dict, match: str) -> None:
    args = {"cells": town(0).cells, "households_band": HH, "population_band": POP} | kwargs
    with pytest.raises(BadInput, match=match):
        sg.suggest_partition(**args)


def test_module_is_pure() -> None:
    out = subprocess.run([sys.executable, "-c",
                          "import sys, geo.suggest; print(sorted(m for m in ('fastapi', 'folium', 'sqlalchemy', "
                          "'spopt') if m in sys.modules))"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"  # spopt too: imported on first use only
