"""The in-memory index one plan answers lookups from: grid and building polygons in STRtrees.

Pure: records and polygons in, answers out (geo/lookup.py loads them from the database and keeps
them current). Why an in-memory index, and the boundary rule (**among the grids that cover a point,
the one with the lowest grid code wins**), are explained in :mod:`geo.lookup`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely import STRtree

from geo.address import Gazetteer, chinese_numeral_to_int, normalise

#: "<community> [第] <n> 网格" after :func:`geo.address.normalise` (which drops spaces, turns 第4 into 4
#: but keeps Chinese numerals after 第).
_GRID_NUMBER = re.compile(r"(?P<c>.+?)第?(?P<n>\d+|[零〇一二两三四五六七八九十百]+)网格")


def _grid_number(name: str) -> int | None:
    m = re.search(r"第(\d+)网格$", name)
    return int(m.group(1)) if m else None

NO_MATCH = -1


@dataclass(frozen=True)
class GridRecord:
    id: int
    code: str
    name: str
    community_code: str
    community_name: str
    grid_member: str | None
    grid_member_phone: str | None


@dataclass(frozen=True)
class BuildingRecord:
    id: int
    code: str
    name: str
    address: str
    floors: int
    height_m: float


class Polygons:
    """Polygons in an STRtree, each prepared; ``locate`` answers the lowest index that covers each point.

    The polygons must be given in priority order (for grids: by code), so the
    lowest index is the documented tie-break on shared boundaries.
    """

    def __init__(self, geoms: np.ndarray) -> None:
        self.geoms = geoms
        shapely.prepare(self.geoms)
        self.tree = STRtree(self.geoms)
        self.bounds = shapely.bounds(self.geoms).reshape(-1, 4)

    def locate(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`locate_one` for many points.

        The points are sorted by x once; each polygon takes the slice of points
        inside its x-range (two binary searches), keeps those inside its y-range
        and tests them exactly with ``intersects_xy`` on the prepared polygon.
        This avoids creating a shapely Point per input point (half the cost of
        an ``STRtree.query`` over a million points), and costs O(n log n + Σ
        candidates) for any number of polygons.
        """
        n = len(x)
        out = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
        if n and len(self.geoms):
            order = np.argsort(x, kind="stable")
            xs = x[order]
            lo = np.searchsorted(xs, self.bounds[:, 0], side="left")
            hi = np.searchsorted(xs, self.bounds[:, 2], side="right")
            for j in np.flatnonzero(hi > lo):
                idx = order[lo[j]:hi[j]]
                yy = y[idx]
                cand = idx[(yy >= self.bounds[j, 1]) & (yy <= self.bounds[j, 3])]
                if len(cand):
                    hit = cand[shapely.intersects_xy(self.geoms[j], x[cand], y[cand])]
                    out[hit] = np.minimum(out[hit], j)  # polygons are visited in priority order
        out[out == np.iinfo(np.int64).max] = NO_MATCH
        return out

    def locate_one(self, x: float, y: float) -> int:
        best = NO_MATCH
        for j in self.tree.query(shapely.Point(x, y)):
            if (best == NO_MATCH or j < best) and shapely.intersects_xy(self.geoms[j], x, y):
                best = int(j)
        return best


@dataclass(frozen=True)
class Places:
    """What does not depend on the plan: building footprints and the address gazetteer.

    Rebuilt only when its fingerprint changes (see :func:`places_fingerprint`), so a
    plan switch at city scale (60,000 buildings) only rebuilds the grid part.
    """

    fingerprint: tuple[Any, ...]
    buildings: tuple[BuildingRecord, ...]
    building_index: Polygons
    #: a point inside each building (its point on surface), x and y arrays
    inside: tuple[np.ndarray, np.ndarray]
    gazetteer: Gazetteer


def make_places(*, fingerprint: tuple[Any, ...], buildings: tuple[BuildingRecord, ...], wkb: list[bytes],
                gazetteer: Gazetteer) -> Places:
    """:class:`Places` from the buildings (in code order) and their footprints' WKB."""
    geoms = np.asarray(shapely.from_wkb(wkb) if wkb else [], dtype=object)
    inside = shapely.point_on_surface(geoms)
    return Places(fingerprint, buildings, Polygons(geoms),
                  (shapely.get_x(inside).astype(float), shapely.get_y(inside).astype(float)), gazetteer)


@dataclass(frozen=True)
class PlanIndex:
    """Everything one plan answers with; immutable, so it can be shared across threads."""

    plan: dict[str, Any]
    grids: tuple[GridRecord, ...]
    grid_index: Polygons
    places: Places
    #: building code → index into ``grids`` (by the building's point on surface), for address lookups.
    building_grid: dict[str, int]

    @property
    def buildings(self) -> tuple[BuildingRecord, ...]:
        return self.places.buildings

    @property
    def gazetteer(self) -> Gazetteer:
        return self.places.gazetteer

    def locate(self, lon: float, lat: float) -> tuple[GridRecord | None, BuildingRecord | None]:
        g = self.grid_index.locate_one(lon, lat)
        b = self.places.building_index.locate_one(lon, lat)
        return (self.grids[g] if g != NO_MATCH else None, self.buildings[b] if b != NO_MATCH else None)

    def grid_of_building(self, building_code: str) -> GridRecord | None:
        g = self.building_grid.get(building_code, NO_MATCH)
        return self.grids[g] if g != NO_MATCH else None

    def grid_named(self, q: str) -> GridRecord | None:
        """The grid a query names, if it names one: its code (``140214101002004``), its name
        (``宁丰社区第4网格``) or a community and a grid number (``宁丰第四网格``, ``宁丰社区4网格``),
        the community as loosely as an address's (aliases, pinyin, typos; see :mod:`geo.address`).

        People type grid names where an address is asked for; read as an address, "第4网格" would be
        building 4, which lies in another grid.

        Examples
        --------
        >>> from geo.address import Building, Community
        >>> gaz = Gazetteer(communities=[Community(code="C1", name="宁丰社区", aliases=("宁丰",))],
        ...                 buildings=[Building(code="C1-04", community_code="C1", number=4, units=2)])
        >>> g = GridRecord(7, "C1004", "宁丰社区第4网格", "C1", "宁丰社区", None, None)
        >>> places = make_places(fingerprint=(), buildings=(), wkb=[], gazetteer=gaz)
        >>> index = PlanIndex({"id": 1}, (g,), Polygons(np.asarray([], dtype=object)), places, {})
        >>> [index.grid_named(q).code for q in ("宁丰社区第4网格", "宁丰第四网格", " c1004 ")]
        ['C1004', 'C1004', 'C1004']
        >>> index.grid_named("宁丰社区4号楼") is None, index.grid_named("宁丰第9网格") is None
        (True, True)
        """
        text = normalise(q)
        for g in self.grids:
            if text == g.code.lower() or text == normalise(g.name):
                return g
        m = _GRID_NUMBER.fullmatch(text)
        if m is None:
            return None
        number = m.group("n")
        n = int(number) if number.isdigit() else chinese_numeral_to_int(number)
        resolved = self.gazetteer.resolve_community(m.group("c")) if m.group("c") else None
        if not resolved or n is None:
            return None
        best = resolved[0][1]
        communities = {code for code, score in resolved if score == best}
        found = [g for g in self.grids if g.community_code in communities and _grid_number(g.name) == n]
        return found[0] if len(found) == 1 else None

    def locate_many(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Index into ``grids`` for each point, or ``NO_MATCH`` (−1)."""
        return self.grid_index.locate(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))


def make_index(*, plan: dict[str, Any], grids: tuple[GridRecord, ...], wkb: list[bytes], places: Places) -> PlanIndex:
    """A :class:`PlanIndex` from the plan's grids (in code order, the tie-break) and their polygons' WKB."""
    grid_index = Polygons(np.asarray(shapely.from_wkb(wkb) if wkb else [], dtype=object))
    owner = grid_index.locate(*places.inside)
    building_grid = {b.code: int(g) for b, g in zip(places.buildings, owner)}
    return PlanIndex(plan, grids, grid_index, places, building_grid)
