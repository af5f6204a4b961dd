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


# --- geo.moves on a small synthetic layout ----------------------------------------------------------

def _layout():  # type: ignore[no-untyped-def]
    """Three grids in a row, A | B | C (100 m each); A and B have a building west or east, one in the top
    and one in the bottom corner by their shared edge; C two in a row. Population = 2 × households."""
    from shapely import box

    from geo.moves import Building, Layout

    grids = {"A": box(0, 0, 100, 100), "B": box(100, 0, 200, 100), "C": box(200, 0, 300, 100)}
    fps = {"a1": box(20, 30, 40, 70), "a2": box(70, 70, 90, 90), "a3": box(70, 10, 90, 30),
           "b1": box(110, 70, 130, 90), "b2": box(110, 10, 130, 30), "b3": box(160, 30, 180, 70),
           "c1": box(220, 30, 240, 70), "c2": box(260, 30, 280, 70)}
    households = {"a1": 100, "a2": 70, "a3": 80, "b1": 80, "b2": 90, "b3": 80, "c1": 100, "c2": 110}
    order = list(fps)
    cells = dict(zip(order, partition.building_cells([fps[c] for c in order], box(0, 0, 300, 100)), strict=True))
    return Layout(grids=grids, cells=cells,
                  buildings={c: Building(c, fps[c], households[c], 2 * households[c]) for c in fps})


BANDS = Bands(households=(200, 300), population=(400, 600))


def test_move_outcomes_judge_each_neighbour_with_the_reason() -> None:
    from geo.moves import move_outcomes

    lay = _layout()
    outcomes = {o.target: o for o in move_outcomes(lay, ["b3"], bands=BANDS)}
    assert set(outcomes) == {"A", "C"}  # B's neighbours
    to_c = outcomes["C"]  # B 250 -> 170 (under 200), C 210 -> 290: out of band on B's side only
    assert not to_c.ok and to_c.grids["B"]["households_after"] == 170 and to_c.grids["C"]["households_after"] == 290
    assert [r["detail"] for r in to_c.reasons] == ["out of band: grid B would have 170 households < 200",
                                                   "out of band: grid B would have 340 population < 400"]
    to_a = outcomes["A"]  # b3 is on B's far side: its cell does not touch A, so A would be in two parts
    assert "would split grid A into 2 parts" in [r["detail"] for r in to_a.reasons]
    assert "out of band: grid A would have 330 households > 300" in [r["detail"] for r in to_a.reasons]
    # and in Chinese, from the message catalogue (the editor shows "中文 — English")
    assert [r["detail_zh"] for r in to_c.reasons] == ["超出范围：网格 B 将有 170 户 < 200",
                                                      "超出范围：网格 B 将有 340 人 < 400"]
    assert "会把网格 A 分成 2 块" in [r["detail_zh"] for r in to_a.reasons]


def test_swap_outcomes_find_the_swap_that_keeps_both_grids_in_band() -> None:
    from geo.moves import swap_outcomes

    lay = _layout()
    # a2 (top corner of A, 70) <-> b2 (bottom corner of B, 90): A 270, B 230, both whole (the land trades
    # diagonally); b1 (top corner of B) would leave its land touching A at a point only: A in two parts
    outcomes = swap_outcomes(lay, "a2", bands=BANDS)
    assert outcomes[0].building == "b2" and {o.building for o in outcomes} == {"b1", "b2", "b3"}
    best = outcomes[0]
    assert best.ok and best.reasons == [] and best.target == "B"
    assert best.grids["A"]["households_after"] == 270 and best.grids["B"]["households_after"] == 230
    for other in outcomes[1:]:
        assert not other.ok and any(r["kind"] == "non_contiguous" for r in other.reasons), other
    # the partition the ok swap makes: both grids single parts, still tiling the row
    current = dict(lay.grids)
    for code, to in (("a2", "B"), ("b2", "A")):
        current.update(partition.assign(current, cell=lay.cells[code], target=to,
                                        footprint=lay.buildings[code].footprint))
    assert all(len(shapely.get_parts(current[c])) == 1 for c in ("A", "B"))
    assert shapely.union_all(list(current.values())).area == pytest.approx(30_000, abs=0.01)
    assert sum(g.area for g in current.values()) == pytest.approx(30_000, abs=0.01)
