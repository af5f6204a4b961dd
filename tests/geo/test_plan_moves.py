"""Moves and swaps of buildings on the demo town (geo.plan_edits, geo.plan_hints): a move changes the two
grids it is between, candidates and swap hints say which targets keep both grids in band and contiguous."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import shapely
from sqlalchemy import Engine

from geo import partition, plan_edits, plans
from geo.plan_checks import Bands, building_grids
from geo.store import plans as store
from geo.store.db import make_engine


@pytest.fixture(scope="module")
def town(module_db: str) -> Iterator[Engine]:
    engine = make_engine(module_db)
    yield engine
    engine.dispose()


def _draft(engine: Engine, name: str) -> int:
    return plans.create_draft(engine, name=name, actor="test")


def _layers(engine: Engine, plan: int):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return store.plan_layers(conn, plan_id=plan)


def _sliver_cases(engine: Engine, plan: int, limit: int = 6) -> list[tuple[str, str, str, int]]:
    """(building, its grid, a neighbouring grid, how many grids its cell touches) for buildings whose cell
    reaches into the most grids: the moves issue 15 saw change five grids."""
    grids, communities, buildings = _layers(engine, plan)
    owner = building_grids(grids, buildings)
    codes = list(grids["code"])
    out = []
    for cid, region in zip(communities["id"], communities.geometry, strict=True):
        mine = grids[grids["community_id"] == cid]
        geoms = dict(zip(mine["code"], mine.geometry, strict=True))
        idx = [i for i in range(len(buildings)) if buildings["community_id"].iloc[i] == cid]
        cells = partition.building_cells(list(buildings.geometry.iloc[idx]), region)
        for i, cell in zip(idx, cells, strict=True):
            src = codes[owner[i]]
            touched = [c for c, g in geoms.items() if shapely.intersection(g, cell).area > partition.CHANGE_M2]
            borders = {c: partition.shared_border(cell, g) for c, g in geoms.items() if c != src}
            neighbours = sorted((c for c in borders if borders[c] > 20), key=lambda c: -borders[c])
            if neighbours:
                out.append((buildings["code"].iloc[i], src, neighbours[0], len(touched)))
    out.sort(key=lambda t: (-t[3], t[0]))
    return out[:limit]


def test_a_one_building_move_changes_exactly_its_grid_and_the_target(town: Engine) -> None:
    plan = _draft(town, "move touches two")
    cases = _sliver_cases(town, plan)
    assert cases[0][3] >= 4, cases  # cells that reach by slivers into four or five grids
    for building, source, target, _touched in cases:
        grids_before, _c, buildings = _layers(town, plan)
        before = dict(zip(grids_before["code"], grids_before.geometry, strict=True))
        version = plans.plan_row(town.connect(), plan_id=plan).version
        result = plan_edits.assign_building(town, plan_id=plan, version=version, building=building, grid=target,
                                            actor="test")
        assert sorted(result.changed) == sorted([source, target]), (building, result)
        assert result.also_changed == []
        grids_after, _c, _b = _layers(town, plan)
        after = dict(zip(grids_after["code"], grids_after.geometry, strict=True))
        moved = [c for c in before if shapely.symmetric_difference(before[c], after[c]).area > 0.01]
        assert sorted(moved) == sorted([source, target]), (building, moved)
        owner_before = building_grids(grids_before, buildings)
        owner_after = building_grids(grids_after, buildings)
        changed_owner = [buildings["code"].iloc[i] for i in range(len(buildings))
                         if grids_before["code"].iloc[owner_before[i]] != grids_after["code"].iloc[owner_after[i]]]
        assert changed_owner == [building]
        with town.connect() as conn:
            report = plans.validate_plan(conn, plan_id=plan)
        # no gap, overlap, split building or detached part: the cell moved whole from one grid to the other
        assert [p.detail for p in report.errors if source in p.grids or target in p.grids] == []
        plan_edits.undo(town, plan_id=plan, version=result.version, actor="test")
