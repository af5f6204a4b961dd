"""Validation and balance metrics of a grid plan — the server's authority on whether it may be published.

Pure geometry in a metric CRS (metres): the caller passes the plan's grids, the
communities and the buildings as GeoDataFrames (:func:`geo.store.plans.plan_layers`
loads them from PostGIS).

Problem kinds (severity ``error`` blocks publishing, ``warning`` needs the
planner's explicit acknowledgement):

==================  ========  ====================================================
kind                severity  when
==================  ========  ====================================================
invalid_geometry    error     a grid is empty, not polygonal or not OGC-valid
outside_community   error     more than :data:`SLIVER_M2` of a grid lies outside its community
overlap             error     two grids share more than :data:`SLIVER_M2` of area
gap                 error     a piece of a community over :data:`SLIVER_M2` is in no grid
building_split      error     more than :data:`SLIVER_M2` of a building's footprint lies in a
                              grid other than the one holding most of it
non_contiguous      error     a grid has two or more parts over :data:`SLIVER_M2`
households_band     warning   households outside the band (200–300 by default)
population_band     warning   population outside the band (400–500 by default)
==================  ========  ====================================================

A building belongs to the grid covering its point-on-surface, the lowest code
on a shared edge — the same rule as the lookups and the database queries.

Tolerances: :data:`SLIVER_M2` (1 m²) absorbs the rounding of coordinates stored
in degrees and reprojected (measured: ~0.1 m² per community after an edit);
anything a planner can see on a map is far larger.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely import Geometry

from geo import messages
from geo.config import Settings
from geo.messages import Msg
from geo.validation import explain_invalid
from geo.vocabulary import HOUSEHOLDS_BAND, POPULATION_BAND

#: Areas (m²) at or below this are rounding, not problems.
SLIVER_M2 = 1.0

ERROR, WARNING = "error", "warning"
KINDS = {
    "invalid_geometry": ERROR, "outside_community": ERROR, "overlap": ERROR, "gap": ERROR,
    "building_split": ERROR, "non_contiguous": ERROR, "households_band": WARNING, "population_band": WARNING,
}


@dataclass(frozen=True)
class Bands:
    """Inclusive bands a grid's households and population should fall in."""

    households: tuple[int, int] = HOUSEHOLDS_BAND
    population: tuple[int, int] = POPULATION_BAND

    @classmethod
    def of(cls, settings: Settings) -> Bands:
        """The bands a deployment set (``GRIDMAP_GRID_HOUSEHOLDS_MIN`` ... ``_POPULATION_MAX``)."""
        return cls(households=(settings.grid_households_min, settings.grid_households_max),
                   population=(settings.grid_population_min, settings.grid_population_max))


@dataclass(frozen=True)
class Problem:
    """One problem: its *kind*, the grids (and buildings) involved, *detail* (English) and, when it was made
    from the message catalogue (:func:`problem`: every problem :func:`validate` finds), the catalogue
    entry ``plan.<kind>`` and its *fields*: :attr:`detail_zh` is its Chinese."""

    kind: str
    grids: tuple[str, ...]
    detail: str
    geometry: Geometry | None = None  # metric CRS
    buildings: tuple[str, ...] = ()
    fields: dict[str, Any] | None = field(default=None, compare=False)

    @property
    def severity(self) -> str:
        return KINDS[self.kind]

    @property
    def message_id(self) -> str | None:
        return f"plan.{self.kind}" if self.fields is not None else None

    @property
    def detail_zh(self) -> str | None:
        return messages.zh(f"plan.{self.kind}", **self.fields) if self.fields is not None else None


def problem(kind: str, grids: tuple[str, ...], geometry: Geometry | None = None, *,
            buildings: tuple[str, ...] = (), **fields: Any) -> Problem:
    """A problem of *kind* whose detail is catalogue entry ``plan.<kind>`` (geo/messages.py) with *fields*."""
    return Problem(kind, grids, messages.en(f"plan.{kind}", **fields), geometry, buildings=buildings, fields=fields)


@dataclass
class Report:
    problems: list[Problem] = field(default_factory=list)
    metrics: list[dict[str, Any]] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == WARNING]

    @property
    def valid(self) -> bool:
        return not self.errors


def _m2(a: float) -> str:
    return f"{a:,.1f} m²"


def building_grids(grids: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame) -> np.ndarray:
    """Index into ``grids`` of each building's grid (-1 for none): point-on-surface, lowest code on ties."""
    out = np.full(len(buildings), -1, dtype=np.int64)
    if len(grids) == 0 or len(buildings) == 0:
        return out
    geoms = shapely.make_valid(np.asarray(grids.geometry.values))
    tree = shapely.STRtree(geoms)
    pts = shapely.point_on_surface(np.asarray(buildings.geometry.values))
    b, g = tree.query(pts, predicate="covered_by")
    codes = np.asarray(grids["code"].values)
    order = np.lexsort((codes[g], b))  # by building, then code
    b, g = b[order], g[order]
    first = np.ones(len(b), dtype=bool)
    first[1:] = b[1:] != b[:-1]
    out[b[first]] = g[first]
    return out


def metrics(grids: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame, bands: Bands,
            *, owner: np.ndarray | None = None) -> list[dict[str, Any]]:
    """Per-grid balance: households, population, buildings, units, area, Polsby–Popper, contiguity, deviation."""
    owner = building_grids(grids, buildings) if owner is None else owner
    n = len(grids)
    inside = owner >= 0
    hh = np.bincount(owner[inside], weights=buildings["households"].values[inside], minlength=n)
    pop = np.bincount(owner[inside], weights=buildings["population"].values[inside], minlength=n)
    units = np.bincount(owner[inside], weights=buildings["units"].values[inside], minlength=n)
    nb = np.bincount(owner[inside], minlength=n)
    geoms = np.asarray(grids.geometry.values)
    area = shapely.area(geoms)
    perim = shapely.length(geoms)
    parts, idx = shapely.get_parts(geoms, return_index=True)
    big = shapely.area(parts) > SLIVER_M2
    nparts = np.bincount(idx[big], minlength=n)
    out = []
    for i, (code, community) in enumerate(zip(grids["code"], grids["community_code"], strict=True)):
        h, p = int(hh[i]), int(pop[i])
        dh = h - min(max(h, bands.households[0]), bands.households[1])
        dp = p - min(max(p, bands.population[0]), bands.population[1])
        band = "over" if (dh > 0 or (dh == 0 and dp > 0)) else "under" if (dh < 0 or dp < 0) else "ok"
        out.append({
            "code": code, "community_code": community, "households": h, "population": p,
            "buildings": int(nb[i]), "units": int(units[i]), "area_m2": round(float(area[i]), 1),
            "perimeter_m": round(float(perim[i]), 1),
            "polsby_popper": round(float(4 * math.pi * area[i] / perim[i] ** 2), 4) if perim[i] > 0 else 0.0,
            "parts": int(nparts[i]), "contiguous": bool(nparts[i] == 1),
            "households_deviation": dh, "population_deviation": dp, "band": band,
        })
    return out


def validate(grids: gpd.GeoDataFrame, communities: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame,
             *, bands: Bands) -> Report:
    """Every problem of a plan, and its per-grid metrics.

    Parameters
    ----------
    grids : GeoDataFrame
        Columns ``code``, ``community_code``, geometry (metric CRS).
    communities : GeoDataFrame
        Columns ``code``, geometry.
    buildings : GeoDataFrame
        Columns ``code``, ``community_code``, ``households``, ``population``, ``units``, geometry (footprints).
    bands : Bands

    Returns
    -------
    Report
    """
    report = Report()
    problems = report.problems
    codes = list(grids["code"])
    raw = np.asarray(grids.geometry.values)
    # invalid geometry: reported, then repaired so that the other checks can run
    geoms = raw.copy()
    for i, g in enumerate(raw):
        reason = None
        if g is None or g.is_empty:
            reason = Msg("plan.no_area")
        elif g.geom_type not in ("Polygon", "MultiPolygon"):
            reason = Msg("plan.not_polygonal", type=g.geom_type)
        elif not g.is_valid:
            reason = explain_invalid(g)
        if reason:
            problems.append(problem("invalid_geometry", (codes[i],), g, grid=codes[i], reason=reason))
            fixed = shapely.make_valid(g) if g is not None else None
            geoms[i] = fixed if fixed is not None else shapely.Polygon()
    grids = grids.set_geometry(gpd.GeoSeries(geoms, crs=grids.crs, index=grids.index))

    community_geom = dict(zip(communities["code"], communities.geometry, strict=True))
    by_community: dict[str, list[int]] = {}
    for i, c in enumerate(grids["community_code"]):
        by_community.setdefault(c, []).append(i)

    # outside its community: the difference only for grids not covered by their community (a
    # prepared covered_by test first: most grids are inside, and the difference is the costly part)
    regions = np.array([community_geom.get(c) for c in grids["community_code"]], dtype=object)
    known = np.array([r is not None for r in regions], dtype=bool) & ~np.asarray(shapely.is_empty(geoms), dtype=bool)
    inside_area = np.asarray(shapely.area(geoms), dtype=float)  # each grid's area inside its community
    if known.any():
        shapely.prepare(regions[known])
        inside = np.zeros(len(geoms), dtype=bool)
        inside[known] = shapely.covered_by(geoms[known], regions[known])
        for i in np.nonzero(known & ~inside)[0]:
            code = codes[i]
            outside = shapely.difference(geoms[i], regions[i])
            inside_area[i] -= outside.area
            if outside.area > SLIVER_M2:
                problems.append(problem("outside_community", (code,), outside, area=_m2(outside.area), grid=code,
                                        community=grids["community_code"].iloc[i]))

    # overlaps between any two grids
    overlap_in = dict.fromkeys(community_geom, 0.0)  # total pairwise overlap per community, slivers too
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    if len(a):
        interior = shapely.relate_pattern(geoms[a], geoms[b], "T********")
        for i, j in zip(a[interior], b[interior], strict=True):
            common = shapely.intersection(geoms[i], geoms[j])
            for c in {grids["community_code"].iloc[i], grids["community_code"].iloc[j]}:
                if c in overlap_in:
                    overlap_in[c] += common.area
            if common.area > SLIVER_M2:
                problems.append(problem("overlap", (codes[i], codes[j]), common, a=codes[i], b=codes[j],
                                        area=_m2(common.area)))

    # gaps inside each community. The uncovered area is at most community − Σ(grid ∩ community) +
    # Σ(pairwise overlaps) (inclusion–exclusion); when that bound is within SLIVER_M2 no gap can exceed
    # it and the union (the costliest step at city scale) is skipped.
    for ccode, region in community_geom.items():
        members = by_community.get(ccode, [])
        bound = region.area - float(inside_area[members].sum()) + overlap_in[ccode] if members else region.area
        if bound <= SLIVER_M2:
            continue
        covered = shapely.union_all(geoms[members]) if members else shapely.Polygon()
        for piece in shapely.get_parts(shapely.difference(region, covered)):
            if piece.area <= SLIVER_M2:
                continue
            near = tuple(codes[k] for k in members if geoms[k].distance(piece) < 0.01)
            problems.append(problem("gap", near, piece, area=_m2(piece.area), community=ccode))

    # buildings split across grids
    fps = np.asarray(buildings.geometry.values)
    bcodes = list(buildings["code"])
    bi, gi = tree.query(fps, predicate="intersects")
    if len(bi):
        counts = np.bincount(bi, minlength=len(fps))
        multi = counts[bi] > 1
        bi, gi = bi[multi], gi[multi]
        shares = shapely.area(shapely.intersection(fps[bi], geoms[gi]))
        for k in np.unique(bi):
            sel = bi == k
            s, gs = shares[sel], gi[sel]
            order = np.lexsort((np.asarray(codes, dtype=object)[gs].astype(str), -s))  # largest share, then code
            rest = s[order][1:]
            if rest.sum() > SLIVER_M2:
                involved = tuple(codes[g] for g, a_ in zip(gs[order], s[order], strict=True) if a_ > SLIVER_M2 / 10)
                problems.append(problem(
                    "building_split", involved, fps[k], buildings=(bcodes[k],), building=bcodes[k],
                    codes=", ".join(involved), area=_m2(rest.sum()), main=codes[gs[order][0]]))

    # contiguity
    parts, idx = shapely.get_parts(geoms, return_index=True)
    big = shapely.area(parts) > SLIVER_M2
    for i in np.unique(idx[big]):
        mine = parts[(idx == i) & big]
        if len(mine) > 1:
            mine = sorted(mine, key=lambda p: p.area, reverse=True)
            detached = shapely.union_all(mine[1:])
            problems.append(problem("non_contiguous", (codes[i],), detached, grid=codes[i], parts=len(mine),
                                    area=_m2(detached.area)))

    # balance
    report.metrics = metrics(grids, buildings, bands)
    for i, m in enumerate(report.metrics):
        for what, dev, band in (("households", m["households_deviation"], bands.households),
                                ("population", m["population_deviation"], bands.population)):
            if dev:
                side = Msg("plan.above" if dev > 0 else "plan.below")
                problems.append(problem(f"{what}_band", (m["code"],), geoms[i], grid=m["code"], value=m[what],
                                        off=abs(dev), side=side, low=band[0], high=band[1]))
    return report


def problem_dict(p: Problem, *, geometry: dict[str, Any] | None) -> dict[str, Any]:
    return {"kind": p.kind, "severity": p.severity, "grids": list(p.grids), "buildings": list(p.buildings),
            "detail": p.detail, "detail_zh": p.detail_zh, "geometry": geometry}
