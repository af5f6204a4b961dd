"""Plan edits: assign buildings, reshape, add, remove, split, merge, import, suggest, undo and redo.

Each edit is one transaction (:func:`_edit`): lock the draft's row first
(:func:`geo.plans.lock_draft`, which checks the version), compute the new grids with
:mod:`geo.partition`, then write them through :mod:`geo.store.plans` — the grids, the
edit log (``plan_edit`` with every touched grid before and after, for undo/redo), an
audit row and the version + 1. An error anywhere (a bad input, the geometry engine
giving up) rolls the whole edit back: nothing is half done.

Split from :mod:`geo.plans` (drafts, versions, validation, publishing), which is
what this module builds on; the plans never call into the edits.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely import Geometry
from sqlalchemy import Connection, Engine

from geo import moves, partition
from geo.crs import METRIC_CRS_DEFAULT, from_metric, to_metric
from geo.errors import (
    BadInput,
    Conflict,
    InvalidGeometry,
    excerpt,
    NotFound,
    NothingToRedo,
    NothingToUndo,
    OverBudget,
)
from geo.messages import Msg
from geo.plan_checks import Bands
from geo.plans import copy_plan, lock_draft, no_building, plan_row
from geo.store import audit
from geo.store import plans as store
from geo.store.db import reading

__all__ = [
    "EDIT_MAX_VERTICES", "EditResult", "add_grid", "assign_building", "check_vertices", "merge_grids", "redo",
    "remove_grid", "replace_grids", "reshape_grid", "split_grid", "suggest_draft", "swap_buildings", "undo",
]


@dataclass(frozen=True)
class EditResult:
    plan_id: int
    version: int
    seq: int
    changed: list[str]
    created: list[str]
    removed: list[str]

    #: grids changed beyond the two a move or swap is between, with why: [{"grid", "why"}]
    also_changed: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"changed": self.changed, "created": self.created, "removed": self.removed, "seq": self.seq,
                "also_changed": self.also_changed}


# ---------------------------------------------------------------------------- writing


#: Stored grid coordinates are snapped to this grid (degrees; ~1 mm), the demo data's precision and
#: the GeoJSON output's (``queries.PRECISION``): a hair-thin sliver left by an overlay collapses here,
#: instead of turning into a self-touching spike when the grid is written out with fewer decimals.
STORE_PRECISION_DEG = 1e-8


def _to_db(geom: Geometry, metric_crs: str) -> bytes:
    g = partition.polygonal(shapely.make_valid(from_metric(geom, crs=metric_crs)))
    g = partition.polygonal(shapely.set_precision(g, STORE_PRECISION_DEG))  # valid output, snap-rounded
    if g.is_empty:
        raise BadInput.say("edit.no_area")
    return shapely.to_wkb(g)


def _write(conn: Connection, *, plan: Any, actor: str, op: str, summary: dict[str, Any],
           changes: dict[str, Geometry | None], new_grids: dict[str, tuple[int, str]] | None = None,
           metric_crs: str) -> EditResult:
    """Write changed grids (metric geometry, None = remove), log the edit, bump the version."""
    new_grids = new_grids or {}
    if not changes:  # nothing to do (e.g. an outline saved unchanged): no edit, no new version
        return EditResult(plan.id, plan.version, 0, [], [], [])
    for code, geom in changes.items():
        if geom is not None and geom.is_empty:
            raise BadInput.say("edit.grid_no_area", grid=code)
    rows = store.grids_by_code(conn, plan_id=plan.id, codes=changes)
    seq = store.next_edit_seq(conn, plan_id=plan.id)
    store.drop_redo_stack(conn, plan_id=plan.id)  # a new edit discards the redo stack
    version = plan.version + 1
    edit_id = store.insert_edit(conn, plan_id=plan.id, seq=seq, version=version, actor=actor, op=op,
                                summary={**summary, "grids": sorted(changes)})
    created, removed, changed = [], [], []
    for code, geom in sorted(changes.items()):
        old = rows.get(code)
        if old is None and geom is None:
            continue
        community_id, name = (old.community_id, old.name) if old is not None else new_grids[code]
        grid = {"plan_id": plan.id, "code": code}
        log = {**grid, "edit_id": edit_id, "community_id": community_id, "name": name}
        if old is not None:  # the grid before the edit ...
            store.log_grid_before(conn, **log)
        if old is None:
            store.insert_grid(conn, **grid, community_id=community_id, name=name, wkb=_to_db(geom, metric_crs))
            created.append(code)
        elif geom is None:
            store.delete_grid(conn, **grid)
            removed.append(code)
        else:
            store.update_grid(conn, **grid, wkb=_to_db(geom, metric_crs))
            changed.append(code)
        # ... and after it (NULL when it removed it; a created grid has no "before")
        store.log_grid_after(conn, **log, logged_before=old is not None)
    store.set_version(conn, plan_id=plan.id, version=version)
    audit.record(conn, actor=actor, action=op, entity="grid_plan", entity_id=str(plan.id),
                 before={"version": plan.version},
                 after={"version": version, "edit": seq, **summary,
                        "changed": changed, "created": created, "removed": removed})
    return EditResult(plan.id, version, seq, changed, created, removed, list(summary.get("also_changed", [])))


#: Most vertices of one geometry an edit takes (a drawn boundary, a split line, one imported grid).
#: The town's grids have at most 70; the edit's overlay and snapping work grows with this number
#: and runs while the plan row is locked. A setting: ``GRIDMAP_EDIT_MAX_VERTICES``.
EDIT_MAX_VERTICES = 5_000


def check_vertices(geometry: Geometry, *, what: Msg, limit: int = EDIT_MAX_VERTICES) -> None:
    """Refuse a geometry with more than *limit* vertices before any work (and before the plan is locked);
    *what* names it (a catalogue message: ``Msg("edit.what_split_line")``).

    Raises
    ------
    geo.errors.OverBudget
        Naming the count, the limit, its setting and how to get under it.
    """
    n = int(shapely.get_num_coordinates(geometry))
    if n > limit:
        raise OverBudget.say(
            "edit.too_many_vertices", what=what, n=n, limit=limit,
            details={"budget": "edit_vertices", "estimate": n, "limit": limit, "setting": "GRIDMAP_EDIT_MAX_VERTICES"})


def _edit(engine: Engine, *, plan_id: int, version: int | None, actor: str, op: str,
          compute: Callable[[Connection, Any], tuple[dict[str, Any], dict[str, Geometry | None],
                                                     dict[str, tuple[int, str]] | None]],
          metric_crs: str) -> EditResult:
    with engine.begin() as conn:
        plan = lock_draft(conn, plan_id=plan_id, version=version)
        try:
            summary, changes, new_grids = compute(conn, plan)
        except shapely.errors.GEOSException as e:  # the geometry engine gave up on this input: the client's problem
            raise InvalidGeometry.say("edit.geos_failed", op=op, reason=str(e).splitlines()[0][:160],
                                      details={"op": op}) from None
        return _write(conn, plan=plan, actor=actor, op=op, summary=summary, changes=changes,
                      new_grids=new_grids, metric_crs=metric_crs)


def _community_of_grid(conn: Connection, plan_id: int, code: str) -> int:
    cid = store.grid_community(conn, plan_id=plan_id, code=code)
    if cid is None:
        raise NotFound.say("edit.no_grid", grid=code, plan=plan_id)
    return cid


def _community_grids(conn: Connection, plan_id: int, community_id: int, metric_crs: str
                     ) -> tuple[dict[str, Geometry], Geometry, gpd.GeoDataFrame]:
    grids, communities, buildings = store.plan_layers(conn, plan_id=plan_id, metric_crs=metric_crs,
                                                      community_id=community_id)
    return dict(zip(grids["code"], grids.geometry, strict=True)), communities.geometry.iloc[0], buildings


#: Most buildings one assignment (a brush stroke) moves.
ASSIGN_MAX_BUILDINGS = 500


def assign_building(engine: Engine, *, plan_id: int, version: int | None, building: str | list[str], grid: str,
                    actor: str, metric_crs: str = METRIC_CRS_DEFAULT) -> EditResult:
    """Move one building or several (a brush stroke) — each with its cell of the community
    (:func:`geo.partition.building_cells`) — to ``grid``, as one edit."""
    codes = [building] if isinstance(building, str) else list(dict.fromkeys(building))
    if not codes:
        raise BadInput.say("edit.assign_none")
    if len(codes) > ASSIGN_MAX_BUILDINGS:
        raise BadInput.say("edit.assign_too_many", limit=ASSIGN_MAX_BUILDINGS, n=len(codes))

    def compute(conn: Connection, plan: Any):
        found = store.building_communities(conn, codes=codes)
        missing = [c for c in codes if c not in found]
        if missing:
            raise no_building(missing)
        community = _community_of_grid(conn, plan.id, grid)
        elsewhere = [c for c in codes if found[c] != community]
        if elsewhere:
            raise BadInput.say("edit.assign_other_community", building=elsewhere[0], grid=grid,
                               details={"buildings": elsewhere})
        grids, region, buildings = _community_grids(conn, plan.id, community, metric_crs)
        order = list(buildings["code"])
        ks = [order.index(c) for c in codes]
        cells = partition.building_cells(list(buildings.geometry), region, which=ks)
        current: dict[str, Geometry] = dict(grids)
        changes: dict[str, Geometry | None] = {}
        moved_from: set[str] = set()
        for k, cell in zip(ks, cells, strict=True):
            footprint = buildings.geometry.iloc[k]
            moved_from |= set(partition.holders(current, footprint)) - {grid}
            step = partition.assign(current, cell=cell, target=grid, footprint=footprint)
            current.update(step)
            changes.update(step)
        summary = {"buildings": codes, "to": grid, "from": sorted(moved_from)}
        if len(codes) == 1:
            summary["building"] = codes[0]
        also = _also_changed(changes, involved=moved_from | {grid})
        if also:
            summary["also_changed"] = also
        return summary, changes, None
    return _edit(engine, plan_id=plan_id, version=version, actor=actor, op="assign", compute=compute,
                 metric_crs=metric_crs)


def swap_buildings(engine: Engine, *, plan_id: int, version: int | None, buildings: list[str], actor: str,
                   metric_crs: str = METRIC_CRS_DEFAULT) -> EditResult:
    """Swap two buildings of neighbouring grids (A of grid X goes to Y, B of grid Y to X), each with its
    cell's share of its grid (:func:`geo.partition.assign` with the footprint), as one edit: one version,
    one undo step, one audit entry.

    Both grids are checked before anything is written: a swap that would leave X or Y in several parts
    (or without land) is refused (:class:`geo.errors.BadInput`, naming the grid; the swap candidates,
    :func:`geo.plan_hints.swap_candidates`, list the swaps that keep both whole). Households or
    population out of band are not refused (validation warns, as after any edit): the answer's summary
    names them.
    """
    if len(buildings) != 2 or buildings[0] == buildings[1]:
        raise BadInput.say("edit.swap_two_buildings")
    a, b = buildings

    def compute(conn: Connection, plan: Any):
        found = store.building_communities(conn, codes=[a, b])
        missing = [c for c in (a, b) if c not in found]
        if missing:
            raise no_building(missing)
        if found[a] != found[b]:
            raise BadInput.say("edit.swap_other_community", a=a, b=b)
        grids, region, frame = _community_grids(conn, plan.id, found[a], metric_crs)
        order = list(frame["code"])
        ka, kb = order.index(a), order.index(b)
        cells = partition.building_cells(list(frame.geometry), region, which=[ka, kb])
        lay = moves.Layout(grids=grids, cells={a: cells[0], b: cells[1]}, buildings={
            c: moves.Building(c, frame.geometry.iloc[k], int(frame["households"].iloc[k]),
                              int(frame["population"].iloc[k])) for c, k in ((a, ka), (b, kb))})
        x, y = lay.owner[a], lay.owner[b]
        if x is None or y is None:
            raise BadInput.say("edit.swap_no_grid", building=a if x is None else b)
        if x == y:
            raise BadInput.say("edit.swap_same_grid", a=a, b=b, grid=x)
        outcome = moves.swap_outcome(lay, a, b, bands=Bands())  # the bands do not matter here: only the parts
        broken = [r for r in outcome.reasons if r["kind"] in ("non_contiguous", "empty")]
        if broken:
            first = broken[0]
            reason = (Msg("move.empty", grid=first["grid"]) if first["kind"] == "empty" else
                      Msg("move.non_contiguous", grid=first["grid"], parts=outcome.grids[first["grid"]]["parts"]))
            raise BadInput.say("edit.swap_broken", a=a, b=b, reason=reason, plan=plan.id, details={"reasons": broken})
        current: dict[str, Geometry] = dict(grids)
        changes: dict[str, Geometry | None] = {}
        for code, to in ((a, y), (b, x)):
            k = order.index(code)
            step = partition.assign(current, cell=lay.cells[code], target=to, footprint=frame.geometry.iloc[k])
            current.update(step)
            changes.update(step)
        summary: dict[str, Any] = {"buildings": [a, b], "swap": {a: [x, y], b: [y, x]}}
        also = _also_changed(changes, involved={x, y})
        if also:
            summary["also_changed"] = also
        return summary, changes, None
    return _edit(engine, plan_id=plan_id, version=version, actor=actor, op="swap", compute=compute,
                 metric_crs=metric_crs)


def _also_changed(changes: dict[str, Geometry | None], *, involved: set[str]) -> list[dict[str, str]]:
    """The grids a move changed besides the ones it moved buildings between, each with why."""
    return [{"grid": code, "why": f"a detached piece of land under {partition.FRAGMENT_M2:g} m² that the move "
                                  f"left behind went to grid {code}, its neighbour with the longest shared border"}
            for code in sorted(set(changes) - involved)]


def reshape_grid(engine: Engine, *, plan_id: int, version: int | None, code: str, geometry: Geometry,
                 neighbours: str = "adjust", actor: str, metric_crs: str = METRIC_CRS_DEFAULT,
                 max_vertices: int = EDIT_MAX_VERTICES) -> EditResult:
    """Give grid ``code`` a new boundary (``geometry`` in WGS84).

    ``neighbours="adjust"``: snapped and clipped, neighbours follow, buildings kept whole
    (:func:`geo.partition.reshape`); ``"keep"``: stored as given, validation reports the result.
    A boundary of more than ``max_vertices`` vertices is refused before the plan is locked.
    """
    if neighbours not in ("adjust", "keep"):
        raise BadInput.say("edit.neighbours_value", value=neighbours)
    check_vertices(geometry, what=Msg("edit.what_boundary", grid=code), limit=max_vertices)
    new = to_metric(geometry, crs=metric_crs)

    def compute(conn: Connection, plan: Any):
        community = _community_of_grid(conn, plan.id, code)
        if neighbours == "keep":
            return {"grid": code, "neighbours": neighbours}, {code: partition.polygonal(new)}, None
        grids, region, buildings = _community_grids(conn, plan.id, community, metric_crs)
        changes = _reshape_in(conn, community, grids, region, buildings, code=code, new=new, metric_crs=metric_crs)
        return {"grid": code, "neighbours": neighbours}, changes, None
    return _edit(engine, plan_id=plan_id, version=version, actor=actor, op="reshape", compute=compute,
                 metric_crs=metric_crs)


def _reshape_in(conn: Connection, community: int, grids: dict[str, Geometry], region: Geometry,
                buildings: gpd.GeoDataFrame, *, code: str, new: Geometry, metric_crs: str) -> dict[str, Geometry | None]:
    """:func:`geo.partition.reshape` of grid ``code`` to ``new`` (metric), snapping to the community's
    edge and roads, buildings kept whole."""
    roads = store.community_roads(conn, community_id=community)
    snap = [region.boundary]
    if roads is not None:
        snap.append(to_metric(roads, crs=metric_crs))
    return partition.reshape(grids, code=code, geometry=new, region=region,
                             footprints=list(buildings.geometry), snap_to=shapely.union_all(snap))


def add_grid(engine: Engine, *, plan_id: int, version: int | None, geometry: Geometry, actor: str,
             code: str | None = None, community_code: str | None = None, name: str | None = None,
             metric_crs: str = METRIC_CRS_DEFAULT, max_vertices: int = EDIT_MAX_VERTICES) -> EditResult:
    """A new grid with boundary ``geometry`` (WGS84), taking its land from the grids it overlaps.

    The community is ``community_code``, else the one ``code`` names (its first 12 digits), else the
    one holding most of the polygon. The boundary is treated as :func:`reshape_grid` treats a new
    boundary of a grid that had no land: snapped to the community's edge and roads, clipped to the
    community, the neighbours lose what it covers, buildings stay whole (a building it cuts goes to the
    grid holding most of it). So the community's grids stay a partition: no gap (the new grid only takes
    land that was gridded), no overlap. ``code`` is the next free number of the community when not given
    (codes outlive plans, see :func:`_next_code`); a given code must be the community's and unused in
    the plan. ``name`` defaults to "<community>第<n>网格", as :func:`split_grid` names its new grid.

    Raises
    ------
    geo.errors.BadInput
        A malformed code, an unknown community, a polygon outside the community, or one that would hold
        no land (or leave a neighbour without any).
    geo.errors.Conflict
        ``code`` is already a grid of the plan.
    """
    check_vertices(geometry, what=Msg("edit.what_new_grid"), limit=max_vertices)
    if code is not None and not re.fullmatch(r"\d{15}", code):
        raise BadInput.say("edit.add_bad_code", code=excerpt(code, chars=17))
    if name is not None and not (0 < len(name.strip()) <= 100):
        raise BadInput.say("edit.add_bad_name")
    new = to_metric(geometry, crs=metric_crs)

    def compute(conn: Connection, plan: Any):
        communities = store.community_ids(conn)
        if community_code is not None:
            if community_code not in communities:
                raise BadInput.say("edit.unknown_community", community=excerpt(community_code, chars=14))
            ccode = community_code
        elif code is not None:
            ccode = code[:12]
            if ccode not in communities:
                raise BadInput.say("edit.code_names_no_community", code=code, community=ccode)
        else:
            cid = store.community_under(conn, wkb=shapely.to_wkb(geometry))
            if cid is None:
                raise BadInput.say("edit.add_outside_communities")
            ccode = next(k for k, v in communities.items() if v == cid)
        cid = communities[ccode]
        new_code = code if code is not None else _next_code(conn, cid)
        if new_code[:12] != ccode:
            raise BadInput.say("edit.add_code_other_community", code=new_code, community=ccode)
        existing = store.grid_community(conn, plan_id=plan.id, code=new_code)
        if existing is not None:
            raise Conflict.say("edit.add_code_exists", code=new_code, plan=plan.id, details={"code": new_code})
        grids, region, buildings = _community_grids(conn, plan.id, cid, metric_crs)
        if not new.intersects(region):
            raise BadInput.say("edit.add_not_in_community", community=ccode)
        grids[new_code] = partition.polygonal(None)
        changes = _reshape_in(conn, cid, grids, region, buildings, code=new_code, new=new, metric_crs=metric_crs)
        if changes.get(new_code) is None or changes[new_code].is_empty:
            raise BadInput.say("edit.add_no_land", community=ccode)
        cname = store.community_name(conn, community_id=cid)
        label = name.strip() if name is not None else f"{cname}第{int(new_code[-3:])}网格"
        taken = sorted(c for c in changes if c != new_code)
        return ({"grid": new_code, "community": ccode, "from": taken}, changes, {new_code: (cid, label)})
    return _edit(engine, plan_id=plan_id, version=version, actor=actor, op="add", compute=compute,
                 metric_crs=metric_crs)


def remove_grid(engine: Engine, *, plan_id: int, version: int | None, code: str, actor: str,
                metric_crs: str = METRIC_CRS_DEFAULT) -> EditResult:
    """Remove grid ``code``: its land (and its buildings) go to the neighbour of its community sharing the
    longest border with it — a :func:`merge_grids` that keeps the neighbour's code.

    Why merge rather than refuse or share out: a community's land must all belong to a grid (a gap
    blocks publishing), so the land has to go somewhere; the neighbour with the longest shared border
    gives the most compact grid and moves the buildings as whole buildings, with one predictable
    result the planner can see (the answer names the neighbour), adjust with a split or a reshape,
    or take back with undo. Sharing the land out building by building would scatter households over
    several grids in ways that are hard to foresee.

    Raises
    ------
    geo.errors.NotFound
        No grid ``code`` in the plan.
    geo.errors.Conflict
        The grid is its community's only one, or shares a border with none of its community's grids.
    """
    def compute(conn: Connection, plan: Any):
        community = _community_of_grid(conn, plan.id, code)
        grids, _region, _b = _community_grids(conn, plan.id, community, metric_crs)
        borders = {other: partition.shared_border(grids[code], g) for other, g in grids.items() if other != code}
        if not borders:
            raise Conflict.say("edit.remove_only_grid", grid=code, details={"code": code})
        into = max(sorted(borders), key=lambda c: borders[c])
        if borders[into] <= 0:
            raise Conflict.say("edit.remove_no_neighbour", grid=code, details={"code": code})
        return ({"grid": code, "into": into, "shared_border_m": round(borders[into], 1)},
                partition.merge(grids, keep=into, drop=code), None)
    return _edit(engine, plan_id=plan_id, version=version, actor=actor, op="remove", compute=compute,
                 metric_crs=metric_crs)


def _next_code(conn: Connection, community_id: int) -> str:
    """A grid code not used by any plan in the community (codes outlive plans: staff and incidents keep them)."""
    row = store.last_grid_code(conn, community_id=community_id)
    last = int(row.last[-3:]) if row.last else 0
    if last >= 999:
        raise Conflict.say("edit.codes_used_up", community=row.community_code)
    return f"{row.community_code}{last + 1:03d}"  # grid code = 12-digit community code + 3 digits


def split_grid(engine: Engine, *, plan_id: int, version: int | None, code: str, line: Geometry, actor: str,
               metric_crs: str = METRIC_CRS_DEFAULT, max_vertices: int = EDIT_MAX_VERTICES) -> EditResult:
    """Cut grid ``code`` in two along ``line`` (WGS84); the side with more households keeps the code."""
    check_vertices(line, what=Msg("edit.what_split_line"), limit=max_vertices)
    cut = to_metric(line, crs=metric_crs)

    def compute(conn: Connection, plan: Any):
        community = _community_of_grid(conn, plan.id, code)
        grids, _region, buildings = _community_grids(conn, plan.id, community, metric_crs)
        mine = buildings[buildings.intersects(grids[code])]
        left, right = partition.split(grids[code], cut, footprints=list(mine.geometry))
        pts = shapely.point_on_surface(np.asarray(mine.geometry.values))
        hh = mine["households"].to_numpy()
        keep_left = hh[shapely.covers(left, pts)].sum() >= hh[shapely.covers(right, pts)].sum()
        new_code = _next_code(conn, community)
        name = store.community_name(conn, community_id=community)
        new_name = f"{name}第{int(new_code[-3:])}网格"
        kept, given = (left, right) if keep_left else (right, left)
        return ({"grid": code, "new": new_code}, {code: kept, new_code: given}, {new_code: (community, new_name)})
    return _edit(engine, plan_id=plan_id, version=version, actor=actor, op="split", compute=compute,
                 metric_crs=metric_crs)


def merge_grids(engine: Engine, *, plan_id: int, version: int | None, codes: list[str], actor: str,
                metric_crs: str = METRIC_CRS_DEFAULT) -> EditResult:
    """Merge two neighbouring grids of one community; the lower code is kept."""
    if len(codes) != 2 or codes[0] == codes[1]:
        raise BadInput.say("edit.merge_two_codes")
    keep, drop = sorted(codes)

    def compute(conn: Connection, plan: Any):
        ca, cb = (_community_of_grid(conn, plan.id, c) for c in (keep, drop))
        if ca != cb:
            raise BadInput.say("edit.merge_other_community", a=keep, b=drop)
        grids, _region, _b = _community_grids(conn, plan.id, ca, metric_crs)
        return {"grids": [keep, drop], "kept": keep}, partition.merge(grids, keep=keep, drop=drop), None
    return _edit(engine, plan_id=plan_id, version=version, actor=actor, op="merge", compute=compute,
                 metric_crs=metric_crs)


def replace_grids(engine: Engine, *, plan_id: int, version: int | None, grids: list[dict[str, Any]], actor: str,
                  source: str, metric_crs: str = METRIC_CRS_DEFAULT,
                  max_vertices: int = EDIT_MAX_VERTICES) -> EditResult:
    """Replace every grid of a draft (an import): ``grids`` = [{code, name, community_code, geometry (WGS84)}].

    The caller has checked each feature's geometry; codes must be unique and
    communities known; each grid has at most ``max_vertices`` vertices. One edit:
    undo restores the plan as it was.
    """
    for i, g in enumerate(grids):
        check_vertices(g["geometry"], what=Msg("edit.what_feature", i=i, grid=str(g.get("code") or "")[:15]),
                       limit=max_vertices)
    def compute(conn: Connection, plan: Any):
        communities = store.community_ids(conn)
        current = store.grid_communities(conn, plan_id=plan.id)
        changes: dict[str, Geometry | None] = {c: None for c in current}
        new: dict[str, tuple[int, str]] = {}
        seen = set()
        for i, g in enumerate(grids):
            code, ccode = str(g.get("code") or ""), str(g.get("community_code") or "")
            if not re.fullmatch(r"\d{15}", code):
                raise BadInput.say("import.feature_code", i=i, code=excerpt(code, chars=17))
            if code in seen:
                raise BadInput.say("import.feature_twice", i=i, code=code)
            seen.add(code)
            if ccode not in communities:
                raise BadInput.say("import.feature_community", i=i, community=excerpt(ccode, chars=14))
            changes[code] = partition.polygonal(to_metric(g["geometry"], crs=metric_crs))
            if code not in current or current[code] != communities[ccode]:
                if code in current:  # moved to another community: remove and re-create
                    raise BadInput.say("import.feature_other_community", i=i, code=code)
                new[code] = (communities[ccode], str(g.get("name") or f"网格{code[-3:]}"))
        return {"source": source, "features": len(grids)}, changes, new
    return _edit(engine, plan_id=plan_id, version=version, actor=actor, op="import", compute=compute,
                 metric_crs=metric_crs)


def suggest_draft(engine: Engine, *, plan_id: int, community: str, actor: str, bands: Bands = Bands(),
                  seed: int = 0, name: str | None = None, metric_crs: str = METRIC_CRS_DEFAULT
                  ) -> tuple[int, Any, EditResult]:
    """A new draft copied from ``plan_id`` whose grids in ``community`` are a suggested partition.

    The partition (:func:`geo.suggest.suggest_partition`) groups the community's
    building cells into contiguous grids inside the bands; grid geometries are the
    unions of their cells. The community's existing codes are reused in reading
    order (north to south, west to east), new ones get the next unused numbers.
    The replacement is the new draft's first edit (``suggest``): undo restores the
    copy. Returns (new plan id, the suggestion, the edit).
    """
    from geo.suggest import suggest_partition

    with reading(engine) as conn:
        plan_row(conn, plan_id=plan_id)
        cid = store.community_id(conn, code=community)
        if cid is None:
            raise NotFound.say("plan.no_community", community=community)
        grids, region, buildings = _community_grids(conn, plan_id, cid, metric_crs)
    if len(buildings) == 0:
        raise BadInput.say("suggest.no_buildings", community=community)
    cells = partition.building_cells(list(buildings.geometry), region)
    frame = gpd.GeoDataFrame({"code": buildings["code"], "households": buildings["households"],
                              "population": buildings["population"]},
                             geometry=gpd.GeoSeries(cells, crs=metric_crs), crs=metric_crs)
    suggestion = suggest_partition(cells=frame, households_band=bands.households,
                                   population_band=bands.population, seed=seed)
    new_id = copy_plan(engine, source_id=plan_id, name=name or f"suggested {community} (seed {seed})", actor=actor)
    labels = np.asarray(suggestion.labels)
    shapes = [partition.union(*(cells[i] for i in np.nonzero(labels == r)[0])) for r in range(labels.max() + 1)]

    def compute(conn: Connection, plan: Any):
        old = sorted(grids)
        changes: dict[str, Geometry | None] = {c: None for c in old}
        new_grids: dict[str, tuple[int, str]] = {}
        cname = store.community_name(conn, community_id=cid)
        for r, shape in enumerate(shapes):
            if r < len(old):
                code = old[r]
            else:
                code = _next_code(conn, cid)
                while code in new_grids:  # _next_code sees only stored grids
                    code = code[:-3] + f"{int(code[-3:]) + 1:03d}"
                new_grids[code] = (cid, f"{cname}第{int(code[-3:])}网格")
            changes[code] = shape
        summary = {"community": community, "method": suggestion.method, "seed": seed,
                   "scores": suggestion.scores, "grids_before": len(old), "grids_after": len(shapes)}
        return summary, changes, new_grids
    result = _edit(engine, plan_id=new_id, version=1, actor=actor, op="suggest", compute=compute,
                   metric_crs=metric_crs)
    return new_id, suggestion, result


def _step(engine: Engine, *, plan_id: int, version: int | None, actor: str, undo_: bool) -> EditResult:
    with engine.begin() as conn:
        plan = lock_draft(conn, plan_id=plan_id, version=version)
        if undo_:
            edit = store.undo_candidate(conn, plan_id=plan_id)
            if edit is None:
                raise NothingToUndo.say("plan.nothing_to_undo", plan=plan_id)
        else:
            edit = store.redo_candidate(conn, plan_id=plan_id)
            if edit is None:
                raise NothingToRedo.say("plan.nothing_to_redo", plan=plan_id)
        side = "before" if undo_ else "after"
        created, removed, changed = [], [], []
        for g in store.logged_grids(conn, edit_id=edit.id, plan_id=plan_id, side=side):
            if g.gone:
                store.delete_grid(conn, plan_id=plan_id, code=g.code)
                removed.append(g.code)
            else:
                store.restore_grid(conn, edit_id=edit.id, plan_id=plan_id, code=g.code, side=side,
                                   present=g.present)
                (changed if g.present else created).append(g.code)
        version = plan.version + 1
        store.mark_edit(conn, edit_id=edit.id, undone=undo_, version=version)
        store.set_version(conn, plan_id=plan_id, version=version)
        op = "undo" if undo_ else "redo"
        audit.record(conn, actor=actor, action=op, entity="grid_plan", entity_id=str(plan_id),
                     before={"version": plan.version},
                     after={"version": version, "edit": edit.seq, "op": edit.op,
                            "changed": changed, "created": created, "removed": removed})
        return EditResult(plan_id, version, edit.seq, changed, created, removed)


def undo(engine: Engine, *, plan_id: int, version: int | None, actor: str) -> EditResult:
    """Take back the plan's latest edit (whoever made it)."""
    return _step(engine, plan_id=plan_id, version=version, actor=actor, undo_=True)


def redo(engine: Engine, *, plan_id: int, version: int | None, actor: str) -> EditResult:
    """Re-apply the edit undo took back last (a new edit empties the redo stack)."""
    return _step(engine, plan_id=plan_id, version=version, actor=actor, undo_=False)
