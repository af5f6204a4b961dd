"""Hints before an edit: which grids a building can move to, and which buildings it can be swapped with,
keeping both grids in band and contiguous (the editor's candidate colours and swap hints).

A service that only reads: the community's grids and buildings from :mod:`geo.store.plans`, the cells
from :mod:`geo.partition`, the judging in :mod:`geo.moves`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from geo import moves, partition
from geo.crs import METRIC_CRS_DEFAULT
from geo.errors import BadInput
from geo.plan_checks import Bands
from geo.plans import no_building, plan_row
from geo.store import plans as store

__all__ = ["move_candidates", "swap_candidates"]

#: Most buildings one candidates question may name (a brush stroke is at most 500; the hint is for a few).
MAX_BUILDINGS = 50


def _layout(conn: Connection, *, plan_id: int, codes: list[str], metric_crs: str
            ) -> tuple[moves.Layout, Any, list[str]]:
    """The community of ``codes`` as a :class:`geo.moves.Layout` (no cells yet), its region, the building order."""
    plan_row(conn, plan_id=plan_id)
    found = store.building_communities(conn, codes=codes)
    missing = [c for c in codes if c not in found]
    if missing:
        raise no_building(missing)
    communities = set(found.values())
    if len(communities) > 1:
        raise BadInput.say("hint.other_communities")
    grids, region, buildings = store.plan_layers(conn, plan_id=plan_id, metric_crs=metric_crs,
                                                 community_id=communities.pop())
    lay = moves.Layout(
        grids=dict(zip(grids["code"], grids.geometry, strict=True)),
        buildings={c: moves.Building(c, g, int(h), int(p)) for c, g, h, p in zip(
            buildings["code"], buildings.geometry, buildings["households"], buildings["population"], strict=True)},
        cells={})
    return lay, region.geometry.iloc[0], list(buildings["code"])


def _with_cells(lay: moves.Layout, region: Any, order: list[str], codes: list[str]) -> None:
    ks = [order.index(c) for c in codes]
    cells = partition.building_cells([lay.buildings[c].footprint for c in order], region, which=ks)
    lay.cells = dict(zip(codes, cells, strict=True))


def _bands(bands: Bands) -> dict[str, list[int]]:
    return {"households": list(bands.households), "population": list(bands.population)}


def move_candidates(conn: Connection, *, plan_id: int, buildings: list[str], bands: Bands = Bands(),
                    metric_crs: str = METRIC_CRS_DEFAULT) -> dict[str, Any]:
    """Each grid neighbouring the buildings' grids, and whether moving the buildings there keeps every grid
    it changes in band and contiguous (``ok``), else why not (``reasons``)."""
    codes = list(dict.fromkeys(buildings))
    if not codes:
        raise BadInput.say("hint.no_buildings")
    if len(codes) > MAX_BUILDINGS:
        raise BadInput.say("hint.too_many", limit=MAX_BUILDINGS, n=len(codes))
    lay, region, order = _layout(conn, plan_id=plan_id, codes=codes, metric_crs=metric_crs)
    _with_cells(lay, region, order, codes)
    outcomes = moves.move_outcomes(lay, codes, bands=bands)
    return {"buildings": codes, "from": sorted({g for c in codes if (g := lay.owner.get(c))}),
            "bands": _bands(bands), "candidates": [o.as_dict() for o in outcomes]}


def swap_candidates(conn: Connection, *, plan_id: int, building: str, bands: Bands = Bands(),
                    metric_crs: str = METRIC_CRS_DEFAULT, limit: int = 30) -> dict[str, Any]:
    """The buildings of the grids neighbouring ``building``'s grid, best swap first: whether swapping
    them keeps both grids in band and contiguous (``ok``), else why not."""
    lay, region, order = _layout(conn, plan_id=plan_id, codes=[building], metric_crs=metric_crs)
    x = lay.owner.get(building)
    if x is None:
        raise BadInput.say("hint.no_grid", building=building)
    others = [b for y in moves.neighbours(lay.grids, [x]) for b in lay.members(y)]
    _with_cells(lay, region, order, [building, *others])
    outcomes = moves.swap_outcomes(lay, building, bands=bands)
    return {"building": building, "from": x, "bands": _bands(bands),
            "candidates": [o.as_dict() for o in outcomes[:limit]]}
