"""A laid-out community divided into grids of whole buildings inside the household band,
with households and population drawn per unit (:func:`partition_community`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from shapely import Polygon

from geo.demo.model import Community, Grid, seeded_rng
from geo.numbering import reading_order
from geo.partition import building_cells

# What is drawn inside the bands (a little margin on both sides).
_HH_DRAW = (203, 297)
_POP_DRAW = (405, 495)
# A grid's capacity (2 households per floor per unit) must allow a household count in the
# band at a believable occupancy (resettled families often got more than one flat, so
# 70-96 % of the flats are lived in): 203 at <= 96 %, 297 at >= 70 %.
_OCCUPANCY = (0.70, 0.96)
_CAP_BOUNDS = (math.ceil(_HH_DRAW[0] / _OCCUPANCY[1]), math.floor(_HH_DRAW[1] / _OCCUPANCY[0]))


def building_regions(c: Community) -> np.ndarray:
    """The part of the community nearer to each building than to any other (clipped to the wall).

    These are the buildings' cells of :func:`geo.partition.building_cells` (one implementation of
    the tessellation: the planner's edits move the same cells), with outline points sampled every
    ``c.sample_m`` metres (1 m in high-rise compounds, 2.5 m in walk-up estates).
    """
    cells = building_cells([b.footprint for b in c.buildings], c.polygon, spacing=c.sample_m)
    regions = np.empty(len(cells), dtype=object)
    regions[:] = cells
    return regions


def _snake(c: Community) -> list[int]:
    """Buildings row by row, north to south, each row starting at the end nearer to where
    the previous one ended (west to east in the first row)."""
    rows: dict[int, list[int]] = {}
    for k, b in enumerate(c.buildings):
        rows.setdefault(b.row, []).append(k)
    out: list[int] = []
    for r in sorted(rows, reverse=True):  # north to south
        ks = sorted(rows[r], key=lambda k: c.buildings[k].footprint.bounds[0])
        if out:  # start the row at the end nearer to where the previous row ended
            x = c.buildings[out[-1]].footprint.centroid.x
            if abs(c.buildings[ks[-1]].footprint.centroid.x - x) < abs(c.buildings[ks[0]].footprint.centroid.x - x):
                ks = ks[::-1]
        out.extend(ks)
    return out


def _dp_groups(caps: np.ndarray, adj: np.ndarray, k: int, lo: int, hi: int) -> list[tuple[int, int]] | None:
    """Cut ``caps`` (in order) into ``k`` contiguous runs with sums in [lo, hi], runs not
    crossing a non-adjacent pair (``adj[t]`` is False between t and t+1), minimising the
    squared deviation of the sums from their mean. Returns [start, stop) pairs or None."""
    n = len(caps)
    if k < 1 or k > n:
        return None
    pre = np.concatenate([[0], np.cumsum(caps)])
    target = pre[-1] / k
    earliest = np.zeros(n + 1, dtype=int)
    last_break = 0
    for j in range(1, n + 1):
        if j >= 2 and not adj[j - 2]:
            last_break = j - 1
        earliest[j] = last_break
    INF = math.inf
    dp = np.full((k + 1, n + 1), INF)
    arg = np.full((k + 1, n + 1), -1, dtype=int)
    dp[0, 0] = 0.0
    for g in range(1, k + 1):
        prev = dp[g - 1]
        for j in range(g, n + 1):
            best, bi = INF, -1
            for i in range(j - 1, earliest[j] - 1, -1):
                s = pre[j] - pre[i]
                if s > hi:
                    break
                if s < lo or prev[i] == INF:
                    continue
                v = prev[i] + (s - target) ** 2
                if v < best:
                    best, bi = v, i
            dp[g, j], arg[g, j] = best, bi
    if dp[k, n] == INF:
        return None
    out = []
    j = n
    for g in range(k, 0, -1):
        i = int(arg[g, j])
        out.append((i, j))
        j = i
    return out[::-1]


def _partition_inputs(c: Community, regions: np.ndarray | None = None
                      ) -> tuple[np.ndarray, list[int], np.ndarray, np.ndarray]:
    """Building regions, snake order, capacities in that order, and whether each
    consecutive pair of the order has touching regions."""
    if regions is None:
        regions = building_regions(c)
    order = _snake(c)
    caps = np.array([2 * c.buildings[k].floors * c.buildings[k].units for k in order])
    bnd = shapely.boundary(regions)
    a, b = np.array(order[:-1], dtype=int), np.array(order[1:], dtype=int)
    adj = shapely.length(shapely.intersection(bnd[a], bnd[b])) > 1.0 if len(a) else np.array([], dtype=bool)
    return regions, order, caps, adj


def _grid_count_range(caps: np.ndarray) -> range:
    total = int(caps.sum())
    return range(max(1, math.ceil(total / _CAP_BOUNDS[1])), math.floor(total / _CAP_BOUNDS[0]) + 1)


def feasible_grid_counts(c: Community, regions: np.ndarray | None = None) -> list[int]:
    """Every number of grids ``c`` can be divided into (see :func:`partition_community`)."""
    _, _, caps, adj = _partition_inputs(c, regions)
    return [k for k in _grid_count_range(caps) if _dp_groups(caps, adj, k, *_CAP_BOUNDS) is not None]


def partition_community(c: Community, *, seed: int | Sequence[int], n_grids: int | None = None,
                        grid_target: float = 250.0, regions: np.ndarray | None = None) -> None:
    """Divide ``c`` into grids and fill in households and population per unit.

    Parameters
    ----------
    c : Community
        A community from :func:`layout_community` (local coordinates).
    seed : int or sequence of int
        Seed for the household and population draws.
    n_grids : int, optional
        Number of grids; by default the feasible count nearest to capacity / ``grid_target``.
    grid_target : float
        Mean household capacity per grid used when ``n_grids`` is None.
    regions : array of Polygon, optional
        The buildings' Voronoi regions, when already computed.

    Raises
    ------
    ValueError
        When no division into ``n_grids`` grids fits the household band.

    Notes
    -----
    Each grid is a run of whole buildings in snake order (north row west to east, the next
    row east to west, ...), never crossing between buildings whose regions do not touch,
    so its polygon (the union of the run's regions) is one piece. The runs are chosen by
    dynamic programming so that each grid's capacity (2 × floors per unit) lies in
    [212, 424]; the grid's households are then drawn in [203, 297] at 70–96 % occupancy
    and its population in [405, 495], and both are spread over its units (a unit never
    holds more than 2 households per floor, and never fewer people than households).
    The community polygon is replaced by the exact union of its grids (it moves by less
    than a centimetre), so the grids tile it without gaps or overlaps.
    """
    rng = seeded_rng(seed)
    regions, order, caps, adj = _partition_inputs(c, regions)
    if n_grids is None:
        want = caps.sum() / grid_target
        cands = sorted(_grid_count_range(caps), key=lambda k: (abs(k - want), k))
    else:
        cands = [n_grids]
    runs = None
    for k in cands:
        runs = _dp_groups(caps, adj, k, *_CAP_BOUNDS)
        if runs is not None:
            break
    if runs is None:
        raise ValueError(f"{c.spec.name}: no division into {n_grids or 'any number of'} grids fits the band")
    groups = [[order[t] for t in range(i, j)] for i, j in runs]

    polys = np.array([shapely.union_all(regions[g]) for g in groups], dtype=object)
    polys = np.array([largest_polygon(p) for p in polys], dtype=object)
    fps = np.array([bd.footprint for bd in c.buildings], dtype=object)
    owner = np.empty(len(fps), dtype=int)
    for gi, g in enumerate(groups):
        owner[g] = gi

    def contains_all(ps: np.ndarray) -> bool:
        inside = shapely.area(shapely.intersection(fps, ps[owner]))
        return bool((inside >= shapely.area(fps) - 1e-6).all())

    simple = shapely.coverage_simplify(polys, 0.8, simplify_boundary=False)
    simple = shapely.set_precision(simple, 0.01)
    if all(isinstance(p, Polygon) for p in simple) and contains_all(simple):
        polys = simple
    else:
        polys = shapely.set_precision(polys, 0.01)
    polys = np.array([shapely.orient_polygons(largest_polygon(p)) for p in polys], dtype=object)
    if not contains_all(polys):
        raise AssertionError(f"{c.spec.name}: a grid does not contain its buildings")
    union = shapely.union_all(polys)
    if not isinstance(union, Polygon):
        raise AssertionError(f"{c.spec.name}: grids do not form one polygon")
    c.polygon = shapely.orient_polygons(union)

    # Grid numbers: reading order of the grid centroids.
    cent = shapely.get_coordinates(shapely.centroid(polys))
    ro = reading_order(cent)
    c.grids = []
    for num, gi in enumerate(ro, start=1):
        c.grids.append(Grid(number=num, polygon=polys[gi], buildings=sorted(groups[gi])))
    for gi, g in enumerate(c.grids):
        for k in g.buildings:
            c.buildings[k].grid = gi

    # Households and population per unit, per grid inside the bands.
    for g in c.grids:
        ucap = np.concatenate([np.full(c.buildings[k].units, 2 * c.buildings[k].floors) for k in g.buildings])
        cap = int(ucap.sum())
        occ = rng.uniform(max(_OCCUPANCY[0], _HH_DRAW[0] / cap), min(_OCCUPANCY[1], _HH_DRAW[1] / cap))
        hh = min(int(np.clip(round(cap * occ), *_HH_DRAW)), cap)
        pop = int(rng.integers(_POP_DRAW[0], _POP_DRAW[1] + 1))
        units_hh = _allocate(hh, ucap * rng.uniform(0.8, 1.0, len(ucap)), ucap)
        units_pop = units_hh + rng.multinomial(pop - hh, units_hh / units_hh.sum())
        pos = 0
        for k in g.buildings:
            n = c.buildings[k].units
            c.buildings[k].households = units_hh[pos:pos + n]
            c.buildings[k].population = units_pop[pos:pos + n]
            pos += n
        g.households, g.population = int(units_hh.sum()), int(units_pop.sum())


def largest_polygon(g: Any) -> Polygon:
    """The largest polygon of ``g`` (tiny slivers from snapping are dropped)."""
    if isinstance(g, Polygon):
        return g
    parts = [p for p in shapely.get_parts(g) if isinstance(p, Polygon)]
    parts.sort(key=lambda p: -p.area)
    if len(parts) > 1 and parts[1].area > 0.01:
        raise AssertionError(f"a grid is in {len(parts)} pieces (second: {parts[1].area:.2f} m²)")
    return parts[0]


def _allocate(total: int, weights: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """Integers summing to ``total``, proportional to ``weights``, each <= its cap."""
    out = np.zeros(len(weights), dtype=np.int64)
    free = np.ones(len(weights), dtype=bool)
    remaining = total
    while remaining > 0:
        w = np.where(free, weights, 0.0)
        share = remaining * w / w.sum()
        take = np.minimum(np.floor(share).astype(np.int64), caps - out)
        out += take
        left = remaining - int(take.sum())
        if left > 0:
            frac = np.where(free & (out < caps), share - np.floor(share), -1.0)
            for i in np.argsort(-frac, kind="stable")[:left]:
                if frac[i] >= 0 and out[i] < caps[i]:
                    out[i] += 1
        remaining = total - int(out.sum())
        free = out < caps
        if remaining > 0 and not free.any():
            raise ValueError("households exceed capacity")
    return out


