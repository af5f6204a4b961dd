"""Suggested grid partitions of one community: whole buildings, contiguous, compact, in the bands.

A planner asks for a division of one community into grids. The atoms are the
buildings' *cells* (the part of the community nearer to a building than to any
other, so the cells tile the community): a building is never split, every grid
is one connected piece, as compact as possible, and inside both bands (200–300
households and 400–500 people in Gaoshan; the bands are arguments).

Two regionalisation methods run on every call and the better result wins:

``maxp``
    spopt's :class:`~spopt.region.MaxPHeuristic`: as many regions as possible
    with at least the lower household band each, compact in the cells'
    centroid coordinates (spopt's construction phase, then its annealing on at
    most three of the maximal constructions: see :func:`_maxp_labels`). Max-p
    knows only the floor: a region above the upper household band, or outside
    the population band, is a band violation.
``balanced``
    Hand-written (spopt has no regionalisation with an *upper* bound on an
    extensive attribute, nor with two bands: max-p enforces a floor only, AZP
    and Skater fix the number of regions and bound nothing, or only the number
    of areas). When buildings are large (a town: 2–4 per grid) the connected
    sets of buildings under 1.5 × the upper household band (and 2 × the
    population band) are few (hundreds to a few thousand): they are enumerated
    and the division is an exact set partitioning (HiGHS, via
    :func:`scipy.optimize.milp`) with the ranking below:
    fewest violations, then least household excess, then most compact. When
    they are too many (a city estate: ~10 walk-ups per grid) a heuristic runs:
    for each plausible number of grids *k*, start solutions come from dynamic
    programming over three space-filling orders of the cells (row snake, column
    snake, Hilbert curve: the best cut of the order into *k* connected runs) and
    from seeded region growing (the smallest region grows first); a local search
    then moves single boundary buildings to a neighbouring grid, or swaps two,
    while that lowers the cost (band violations, then the distance outside the
    bands, then 1 − Polsby–Popper) and keeps both grids connected. (Small cells
    make the bands easy to meet by local moves; large ones jump over a 100-household
    band in one move, which is why the town case is solved exactly.)

The winner has the fewest band violations, then the smallest household excess
(the sum over grids of how far each lies outside the household band), then the
highest mean Polsby–Popper compactness 4πA/P² of the dissolved grids; a method
whose grids are not all connected is disqualified. Ties go to the method
listed first in :data:`METHODS`.

Cells are neighbours when they share at least :data:`MIN_SHARED_M` of boundary
(a point contact is no connection); cells closer than :data:`SNAP_M` count as
touching, so a tessellation with millimetre gaps still works. Disconnected parts
of a community are divided separately.

Everything here is pure: numpy, shapely, geopandas, libpysal, spopt; no FastAPI,
folium or database. spopt (slow to import) is imported on first use.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import box
>>> cells = gpd.GeoDataFrame(
...     {"code": list("abcdef"), "households": [120, 110, 100, 130, 90, 115],
...      "population": [230, 220, 200, 250, 190, 225]},
...     geometry=[box(x, y, x + 50, y + 40) for y in (40, 0) for x in (0, 50, 100)],
...     crs="EPSG:4547")
>>> s = suggest_partition(cells=cells, households_band=(200, 300), population_band=(400, 500))
>>> s.labels.tolist(), s.scores[s.method]["band_violations"]   # three north-south pairs
([0, 1, 2, 0, 1, 2], 0.0)
"""

from __future__ import annotations

import math
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from geo.numbering import reading_order
from geo.errors import BadCRS, BadInput, InvalidGeometry

__all__ = ["METHODS", "MIN_SHARED_M", "SNAP_M", "Suggestion", "adjacency", "suggest_partition"]

#: The methods compared on every call, in tie-breaking order.
METHODS = ("balanced", "maxp")
#: Cells sharing less boundary than this (metres) are not neighbours.
MIN_SHARED_M = 0.5
#: Cells closer than this (metres) count as touching (tessellations with tiny gaps).
SNAP_M = 0.05
#: Two cells overlapping by more than this (m²) are not a tessellation.
MAX_OVERLAP_M2 = 1.0
#: Columns ``cells`` must have.
REQUIRED_COLUMNS = ("code", "households", "population", "geometry")

# Cost of one grid in the local search: a violation outweighs any deviation, a deviation
# of 1/1000 band width outweighs any compactness (1 - Polsby-Popper is in [0, 1]).
_VIOLATION = 1.0e6
_DEVIATION = 1.0e3
_EPS = 1e-9
# At most this many numbers of grids are tried by the balanced method (nearest the target).
_MAX_K_TRIED = 3
# Region-growing starts per number of grids.
_GROW_STARTS = 2
# Exact set partitioning: at most this many candidate grids (connected sets), else the
# heuristic; a solver call that runs out of time (a safety net: calls take 0.01-1 s of
# CPU at 30-40 buildings) also falls back to the heuristic.
_EXACT_CAP = 10_000
_EXACT_SECONDS = 10.0
# Relative optimality gap accepted on the sum of Polsby-Popper values (~0.001 per grid).
_EXACT_PP_GAP = 1e-3
# Max-p: at most this many of its maximal constructions are annealed (see _maxp_labels).
_MAXP_ANNEALED = 3
# spopt's max-p draws from numpy's global RNG: seeding it is serialised across threads.
_GLOBAL_RNG_LOCK = threading.Lock()


@dataclass(frozen=True)
class Suggestion:
    """A suggested division of one community's buildings into grids.

    Attributes
    ----------
    labels : numpy.ndarray
        Grid index (0 … n_regions − 1) of every input row, in input order; grids are
        numbered in reading order of their centroids: north to south in bands, west to
        east within a band (:func:`geo.numbering.reading_order`, as the grid codes are).
    method : str
        Name of the winning method (one of :data:`METHODS`).
    scores : dict of str to dict of str to float
        For every method tried: ``regions``, ``band_violations`` (grids outside either
        band), ``households_excess`` (sum over grids of the distance outside the
        household band), ``population_excess`` (the same for population),
        ``mean_polsby_popper`` (mean 4πA/P² of the dissolved grids), ``contiguous``
        (1.0 when every grid is one connected piece, else 0.0: disqualified) and
        ``seconds`` (wall time of the method).
    """

    labels: np.ndarray
    method: str
    scores: dict[str, dict[str, float]]


# --------------------------------------------------------------------------------------
# Input
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Bands:
    h_lo: float
    h_hi: float
    p_lo: float
    p_hi: float

    @property
    def h_width(self) -> float:
        return max(self.h_hi - self.h_lo, 1.0)

    @property
    def p_width(self) -> float:
        return max(self.p_hi - self.p_lo, 1.0)


@dataclass
class _Part:
    """One connected set of cells, in local indices 0 … m − 1."""

    index: np.ndarray  # global row of each local cell
    h: np.ndarray
    p: np.ndarray
    area: np.ndarray
    perim: np.ndarray
    xy: np.ndarray  # cell centroids
    nbrs: list[tuple[int, ...]]
    shared: list[dict[int, float]]  # shared[i][j]: boundary length between neighbours i, j

    @property
    def m(self) -> int:
        return len(self.index)


def _band(name: str, band: Any) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in band)
    except (TypeError, ValueError):
        raise BadInput(f"{name} must be a pair (low, high) of numbers, not {band!r}",
                       details={"field": name}) from None
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo <= hi):
        raise BadInput(f"{name} must satisfy 0 < low <= high, not {band!r}", details={"field": name})
    return lo, hi


def _counts(cells: gpd.GeoDataFrame, column: str) -> np.ndarray:
    try:
        v = pd.to_numeric(cells[column], errors="raise").to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise BadInput(f"cells.{column} must be numbers", details={"field": column}) from None
    bad = ~np.isfinite(v) | (v < 0)
    if bad.any():
        codes = cells["code"].astype(str).to_numpy()[bad][:10].tolist()
        raise BadInput(f"cells.{column} must be finite and >= 0; not so for building(s) {codes}",
                       details={"field": column, "codes": codes})
    return v


def _check_cells(cells: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validated geometries, households and population of ``cells``."""
    if not isinstance(cells, gpd.GeoDataFrame):
        raise BadInput(f"cells must be a GeoDataFrame, not {type(cells).__name__}")
    have = set(cells.columns) | ({"geometry"} if cells._geometry_column_name in cells.columns else set())
    missing = [c for c in REQUIRED_COLUMNS if c not in have]
    if missing:
        raise BadInput(f"cells lacks column(s) {missing}; it needs {list(REQUIRED_COLUMNS)} "
                       "(one row per building, geometry = the building's cell)",
                       details={"missing": missing})
    if len(cells) == 0:
        raise BadInput("cells is empty: send one row per building of the community")
    if cells.crs is not None and cells.crs.is_geographic:
        raise BadCRS(f"cells are in a geographic CRS ({cells.crs.to_string()}); project them to a metric "
                       "CRS (e.g. EPSG:4547) first", details={"crs": cells.crs.to_string()})
    codes = cells["code"].astype(str)
    dup = codes[codes.duplicated()].unique().tolist()
    if dup:
        raise BadInput(f"building code(s) {dup[:10]} appear more than once", details={"codes": dup[:10]})
    geoms = np.asarray(cells.geometry.values, dtype=object)
    kinds = shapely.get_type_id(geoms)
    bad = shapely.is_missing(geoms) | shapely.is_empty(geoms) | ~np.isin(kinds, (3, 6))
    if bad.any():
        raise InvalidGeometry(f"the cells of building(s) {codes[bad].tolist()[:10]} are not (multi)polygons",
                              details={"codes": codes[bad].tolist()[:10]})
    bad = ~shapely.is_valid(geoms)
    if bad.any():
        raise InvalidGeometry(f"the cells of building(s) {codes[bad].tolist()[:10]} are not valid polygons "
                              "(self-intersections?); repair them (shapely.make_valid) first",
                              details={"codes": codes[bad].tolist()[:10]})
    return geoms, _counts(cells, "households"), _counts(cells, "population")


def adjacency(geoms: Sequence[Any] | np.ndarray, *, min_shared_m: float = MIN_SHARED_M,
              snap_m: float = SNAP_M) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Neighbouring cells and the length of boundary they share.

    Parameters
    ----------
    geoms : sequence of shapely polygons
        The cells (metric CRS), forming a tessellation.
    min_shared_m : float
        Pairs sharing less boundary (metres) are not neighbours.
    snap_m : float
        Boundary within this distance (metres) of the other cell counts as shared.

    Returns
    -------
    i, j : numpy.ndarray of int
        Neighbour pairs, ``i < j``.
    shared : numpy.ndarray of float
        Boundary length shared by each pair, in metres.

    Raises
    ------
    geo.errors.BadInput
        Two cells overlap by more than :data:`MAX_OVERLAP_M2`.

    Examples
    --------
    >>> from shapely import box
    >>> i, j, s = adjacency([box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 1, 3, 2)])
    >>> i.tolist(), j.tolist(), s.round(6).tolist()
    ([0], [1], [1.0])
    """
    g = np.asarray(geoms, dtype=object)
    tree = shapely.STRtree(g)
    a, b = tree.query(g, predicate="dwithin", distance=snap_m)
    keep = a < b
    a, b = a[keep], b[keep]
    if len(a) == 0:
        return a.astype(int), b.astype(int), np.zeros(0)
    overlap = shapely.area(shapely.intersection(g[a], g[b]))
    if (overlap > MAX_OVERLAP_M2).any():
        k = int(np.argmax(overlap))
        raise BadInput(f"cells {int(a[k])} and {int(b[k])} overlap by {overlap[k]:.1f} m²: the cells must tile "
                       "the community without overlaps", details={"rows": [int(a[k]), int(b[k])]})
    bnd = shapely.boundary(g)
    shared = shapely.length(shapely.intersection(bnd[a], bnd[b]))  # exact for shared edges
    near = shared < min_shared_m
    if near.any():  # edges that nearly meet (gaps, vertices off by rounding)
        # The part of a's boundary within snap_m of b, and of b's within snap_m of a, less
        # the snap_m that each end of a common stretch adds on the boundaries running away.
        grown = shapely.buffer(g, snap_m, quad_segs=2)
        an, bn = a[near], b[near]
        ab = shapely.length(shapely.intersection(bnd[an], grown[bn]))
        ba = shapely.length(shapely.intersection(bnd[bn], grown[an]))
        shared[near] = np.maximum(0.5 * (ab + ba) - 2.0 * snap_m, shared[near])
    keep = shared >= min_shared_m
    return a[keep].astype(int), b[keep].astype(int), shared[keep]


def _parts(geoms: np.ndarray, h: np.ndarray, p: np.ndarray) -> list[_Part]:
    n = len(geoms)
    ia, ib, sl = adjacency(geoms)
    area = shapely.area(geoms)
    perim = shapely.length(geoms)
    cent = shapely.get_coordinates(shapely.centroid(geoms))
    graph = csr_matrix((np.ones(len(ia)), (ia, ib)), shape=(n, n))
    ncomp, comp = connected_components(graph, directed=False)
    nbr: list[dict[int, float]] = [{} for _ in range(n)]
    for x, y, s in zip(ia.tolist(), ib.tolist(), sl.tolist(), strict=True):
        nbr[x][y] = s
        nbr[y][x] = s
    parts = []
    for c in range(ncomp):
        idx = np.flatnonzero(comp == c)
        local = {int(g): k for k, g in enumerate(idx)}
        shared = [{local[j]: s for j, s in sorted(nbr[int(g)].items())} for g in idx]
        parts.append(_Part(index=idx, h=h[idx], p=p[idx], area=area[idx], perim=perim[idx], xy=cent[idx],
                           nbrs=[tuple(d) for d in shared], shared=shared))
    return parts


# --------------------------------------------------------------------------------------
# Scores
# --------------------------------------------------------------------------------------


def _polsby_popper(area: float, perimeter: float) -> float:
    return 4.0 * math.pi * area / perimeter**2 if perimeter > 0 else 0.0


def _dissolve(members: np.ndarray) -> Any:
    try:  # exact tessellations: fast and noding-free
        return shapely.coverage_union_all(members)
    except shapely.errors.GEOSException:
        return shapely.union_all(members)


def _score(labels: np.ndarray, geoms: np.ndarray, h: np.ndarray, p: np.ndarray, bands: _Bands,
           graph: csr_matrix) -> dict[str, float]:
    k = int(labels.max()) + 1
    hs = np.bincount(labels, weights=h, minlength=k)
    ps = np.bincount(labels, weights=p, minlength=k)
    hx = np.maximum(0.0, np.maximum(bands.h_lo - hs, hs - bands.h_hi))
    px = np.maximum(0.0, np.maximum(bands.p_lo - ps, ps - bands.p_hi))
    pp, contiguous = [], True
    for r in range(k):
        rows = np.flatnonzero(labels == r)
        shape = _dissolve(geoms[rows])
        pp.append(_polsby_popper(shape.area, shape.length))
        if len(rows) > 1 and connected_components(graph[rows][:, rows], directed=False)[0] != 1:
            contiguous = False
    return {
        "regions": float(k),
        "band_violations": float(np.count_nonzero((hx > 0) | (px > 0))),
        "households_excess": float(hx.sum()),
        "population_excess": float(px.sum()),
        "mean_polsby_popper": float(np.mean(pp)),
        "contiguous": 1.0 if contiguous else 0.0,
    }


def _rank(score: dict[str, float]) -> tuple[float, float, float]:
    """Sort key: fewest violations, then least household excess, then most compact."""
    return score["band_violations"], score["households_excess"], -score["mean_polsby_popper"]


# --------------------------------------------------------------------------------------
# Method: balanced (orders + dynamic programming, region growing, local search)
# --------------------------------------------------------------------------------------


class _Cost:
    """Cost of one grid from its sums: violation, then deviation, then 1 − Polsby–Popper."""

    def __init__(self, bands: _Bands):
        self.b = bands

    def __call__(self, hh: float, pop: float, area: float, perim: float) -> float:
        b = self.b
        dh = b.h_lo - hh if hh < b.h_lo else (hh - b.h_hi if hh > b.h_hi else 0.0)
        dp = b.p_lo - pop if pop < b.p_lo else (pop - b.p_hi if pop > b.p_hi else 0.0)
        c = 1.0 - (4.0 * math.pi * area / (perim * perim) if perim > 0 else 0.0)
        if dh > 0 or dp > 0:
            c += _VIOLATION + _DEVIATION * (dh / b.h_width + dp / b.p_width)
        return c


def _k_candidates(part: _Part, bands: _Bands) -> list[int]:
    """Plausible numbers of grids, nearest the target first."""
    hh, pop, m = float(part.h.sum()), float(part.p.sum()), part.m
    target = 0.5 * (hh / (0.5 * (bands.h_lo + bands.h_hi)) + pop / (0.5 * (bands.p_lo + bands.p_hi)))
    lo = max(math.ceil(hh / bands.h_hi - 1e-9), math.ceil(pop / bands.p_hi - 1e-9), 1)
    hi = min(math.floor(hh / bands.h_lo + 1e-9), math.floor(pop / bands.p_lo + 1e-9), m)
    if lo > hi:  # no k fits both totals: the ones around the target
        ks = {math.floor(target), math.ceil(target), lo, hi}
        ks = {min(max(k, 1), m) for k in ks}
    else:
        ks = set(range(lo, hi + 1))
    return sorted(ks, key=lambda k: (abs(k - target), k))[:_MAX_K_TRIED]


def _snake(xy: np.ndarray, band_m: float, axis: int) -> np.ndarray:
    """Boustrophedon order: bands across ``axis`` (0: rows north to south, 1: columns
    west to east), alternating direction along each band."""
    along, across = (xy[:, 0], -xy[:, 1]) if axis == 0 else (-xy[:, 1], xy[:, 0])
    by = np.lexsort((along, across))
    band = np.empty(len(xy), dtype=int)
    b, top = -1, -math.inf
    for i in by:
        if b < 0 or across[i] - top > band_m:
            b += 1
            top = across[i]
        band[i] = b
    return np.lexsort((np.where(band % 2 == 0, along, -along), band))


def _hilbert(xy: np.ndarray, bits: int = 16) -> np.ndarray:
    """Order of the points along a Hilbert curve over their bounding box."""
    span = np.ptp(xy, axis=0)
    side = float(max(span.max(), 1e-9))
    q = np.floor((xy - xy.min(axis=0)) / side * (2**bits - 1)).astype(np.int64)
    x, y = q[:, 0].copy(), q[:, 1].copy()
    d = np.zeros(len(xy), dtype=np.int64)
    s = 2 ** (bits - 1)
    while s > 0:
        rx = (x & s) > 0
        ry = (y & s) > 0
        d += s * s * ((3 * rx) ^ ry)
        flip = ~ry
        swap_x = np.where(flip & rx, s - 1 - x, x)
        swap_y = np.where(flip & rx, s - 1 - y, y)
        x, y = np.where(flip, swap_y, swap_x), np.where(flip, swap_x, swap_y)
        s //= 2
    return np.argsort(d, kind="stable")


def _dp_cuts(part: _Part, order: np.ndarray, ks: list[int], cost: _Cost, bands: _Bands) -> dict[int, np.ndarray]:
    """For each k in ``ks``, the cheapest cut of ``order`` into k runs that are each
    connected (labels per local cell), when one exists."""
    m = part.m
    h, p, area, perim, shared = part.h, part.p, part.area, part.perim, part.shared
    runs_i, runs_j, runs_c = [], [], []
    cap = 2.0 * bands.h_hi
    for i in range(m):
        parent: dict[int, int] = {}

        def find(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        comps, hh, pop, ar, per = 0, 0.0, 0.0, 0.0, 0.0
        for j in range(i, m):
            c = int(order[j])
            parent[c] = c
            comps += 1
            hh += h[c]
            pop += p[c]
            ar += area[c]
            per += perim[c]
            for nb, s in shared[c].items():
                if nb in parent:
                    per -= 2.0 * s
                    ra, rb = find(nb), find(c)
                    if ra != rb:
                        parent[ra] = rb
                        comps -= 1
            if comps == 1:
                runs_i.append(i)
                runs_j.append(j + 1)
                runs_c.append(cost(hh, pop, ar, per))
            if hh >= cap:
                break
    ri, rj, rc = np.array(runs_i), np.array(runs_j), np.array(runs_c)
    kmax = max(ks)
    best = np.full((kmax + 1, m + 1), np.inf)
    arg = np.full((kmax + 1, m + 1), -1, dtype=int)
    best[0, 0] = 0.0
    for g in range(1, kmax + 1):
        cand = best[g - 1, ri] + rc
        ok = np.isfinite(cand)
        if not ok.any():
            break
        ci, cj, cc = ri[ok], rj[ok], cand[ok]
        o = np.lexsort((cc, cj))  # per end: cheapest first
        first = np.r_[True, cj[o][1:] != cj[o][:-1]]
        sel = o[first]
        best[g, cj[sel]] = cc[sel]
        arg[g, cj[sel]] = ci[sel]
    out: dict[int, np.ndarray] = {}
    for k in ks:
        if not np.isfinite(best[k, m]):
            continue
        lab = np.empty(m, dtype=int)
        j = m
        for g in range(k, 0, -1):
            i = int(arg[g, j])
            lab[order[i:j]] = g - 1
            j = i
        out[k] = lab
    return out


def _grow(part: _Part, k: int, rng: np.random.Generator) -> np.ndarray:
    """Seeded region growing: k far-apart seeds; the region with the fewest households
    that can still grow takes its most compact unassigned neighbour; leftovers join the
    neighbouring region with the fewest households."""
    m, xy, h = part.m, part.xy, part.h
    seeds = [int(rng.integers(m))]
    dist = np.linalg.norm(xy - xy[seeds[0]], axis=1)
    while len(seeds) < k:
        nxt = int(np.argmax(dist))
        seeds.append(nxt)
        dist = np.minimum(dist, np.linalg.norm(xy - xy[nxt], axis=1))
    lab = np.full(m, -1, dtype=int)
    hh = np.zeros(k)
    sx = np.zeros((k, 2))
    wt = np.zeros(k)
    for r, s in enumerate(seeds):
        lab[s] = r
        hh[r] = h[s]
        sx[r] = xy[s] * part.area[s]
        wt[r] = part.area[s]
    active = set(range(k))
    while active:
        r = min(active, key=lambda q: (hh[q], q))
        frontier = {nb for c in np.flatnonzero(lab == r) for nb in part.nbrs[c] if lab[nb] < 0}
        if not frontier:
            active.discard(r)
            continue
        centre = sx[r] / wt[r]
        c = min(sorted(frontier), key=lambda f: float(np.hypot(*(xy[f] - centre))))
        lab[c] = r
        hh[r] += h[c]
        sx[r] += xy[c] * part.area[c]
        wt[r] += part.area[c]
    return lab  # connected part, so every cell is reached


class _Search:
    """Local search over a labelling: single moves and swaps of boundary cells."""

    def __init__(self, part: _Part, lab: np.ndarray, cost: _Cost):
        self.part, self.cost = part, cost
        self.lab = [int(v) for v in lab]
        k = max(self.lab) + 1
        self.members: list[set[int]] = [set() for _ in range(k)]
        for c, r in enumerate(self.lab):
            self.members[r].add(c)
        self.hh = [0.0] * k
        self.pop = [0.0] * k
        self.area = [0.0] * k
        self.per = [0.0] * k
        for r in range(k):
            for c in self.members[r]:
                self.hh[r] += part.h[c]
                self.pop[r] += part.p[c]
                self.area[r] += part.area[c]
                self.per[r] += part.perim[c] - sum(s for nb, s in part.shared[c].items() if self.lab[nb] == r)
        self.costs = [cost(self.hh[r], self.pop[r], self.area[r], self.per[r]) for r in range(k)]

    def _shared_with(self, c: int) -> dict[int, float]:
        out: dict[int, float] = {}
        lab = self.lab
        for nb, s in self.part.shared[c].items():
            r = lab[nb]
            out[r] = out.get(r, 0.0) + s
        return out

    def _connected(self, cells: set[int]) -> bool:
        if len(cells) <= 1:
            return True
        nbrs = self.part.nbrs
        start = next(iter(cells))
        seen = {start}
        stack = [start]
        while stack:
            c = stack.pop()
            for nb in nbrs[c]:
                if nb in cells and nb not in seen:
                    seen.add(nb)
                    stack.append(nb)
        return len(seen) == len(cells)

    def _apply(self, c: int, b: int, s_a: float, s_b: float) -> None:
        part, a = self.part, self.lab[c]
        self.members[a].discard(c)
        self.members[b].add(c)
        self.lab[c] = b
        self.hh[a] -= part.h[c]
        self.pop[a] -= part.p[c]
        self.area[a] -= part.area[c]
        self.per[a] += -part.perim[c] + 2.0 * s_a
        self.hh[b] += part.h[c]
        self.pop[b] += part.p[c]
        self.area[b] += part.area[c]
        self.per[b] += part.perim[c] - 2.0 * s_b
        for r in (a, b):
            self.costs[r] = self.cost(self.hh[r], self.pop[r], self.area[r], self.per[r])

    def _try_move(self, c: int) -> bool:
        part, a = self.part, self.lab[c]
        if len(self.members[a]) == 1:
            return False
        sw = self._shared_with(c)
        if len(sw) == 1 and a in sw:
            return False
        s_a = sw.get(a, 0.0)
        ca = self.cost(self.hh[a] - part.h[c], self.pop[a] - part.p[c], self.area[a] - part.area[c],
                       self.per[a] - part.perim[c] + 2.0 * s_a)
        best, best_b = -_EPS, -1
        for b, s_b in sorted(sw.items()):
            if b == a:
                continue
            cb = self.cost(self.hh[b] + part.h[c], self.pop[b] + part.p[c], self.area[b] + part.area[c],
                           self.per[b] + part.perim[c] - 2.0 * s_b)
            d = ca + cb - self.costs[a] - self.costs[b]
            if d < best:
                best, best_b = d, b
        if best_b < 0 or not self._connected(self.members[a] - {c}):
            return False
        self._apply(c, best_b, s_a, sw[best_b])
        return True

    def _try_swap(self, c: int) -> bool:
        part, lab, a = self.part, self.lab, self.lab[c]
        sw_c = self._shared_with(c)
        for b in sorted(sw_c):
            if b == a:
                continue
            for d in sorted(self.members[b]):
                if not any(lab[x] == a for x in part.nbrs[d]):
                    continue
                sw_d = self._shared_with(d)
                l_cd = part.shared[c].get(d, 0.0)
                # a' = a - c + d ; b' = b - d + c
                per_a = self.per[a] - part.perim[c] + 2.0 * sw_c.get(a, 0.0) + part.perim[d] \
                    - 2.0 * (sw_d.get(a, 0.0) - l_cd)
                per_b = self.per[b] - part.perim[d] + 2.0 * sw_d.get(b, 0.0) + part.perim[c] \
                    - 2.0 * (sw_c.get(b, 0.0) - l_cd)
                ca = self.cost(self.hh[a] - part.h[c] + part.h[d], self.pop[a] - part.p[c] + part.p[d],
                               self.area[a] - part.area[c] + part.area[d], per_a)
                cb = self.cost(self.hh[b] - part.h[d] + part.h[c], self.pop[b] - part.p[d] + part.p[c],
                               self.area[b] - part.area[d] + part.area[c], per_b)
                if ca + cb - self.costs[a] - self.costs[b] >= -_EPS:
                    continue
                new_a = (self.members[a] - {c}) | {d}
                new_b = (self.members[b] - {d}) | {c}
                if not (self._connected(new_a) and self._connected(new_b)):
                    continue
                # Two moves through the state keep every sum exact.
                self._apply(c, b, sw_c.get(a, 0.0), sw_c.get(b, 0.0))
                sw_d = self._shared_with(d)
                self._apply(d, a, sw_d.get(b, 0.0), sw_d.get(a, 0.0))
                return True
        return False

    def run(self, rng: np.random.Generator, max_rounds: int = 200) -> np.ndarray:
        m = self.part.m
        for _ in range(max_rounds):
            order = rng.permutation(m).tolist()
            moved = False
            for c in order:
                moved |= self._try_move(c)
            if moved:
                continue
            for c in order:
                if self._try_swap(c):
                    moved = True
            if not moved:
                break
        return np.array(self.lab, dtype=int)

    def key(self) -> tuple[float, float, float]:
        b = self.cost.b
        viol, hx, pps = 0, 0.0, []
        for r in range(len(self.members)):
            dh = max(0.0, b.h_lo - self.hh[r], self.hh[r] - b.h_hi)
            dp = max(0.0, b.p_lo - self.pop[r], self.pop[r] - b.p_hi)
            viol += dh > 0 or dp > 0
            hx += dh
            pps.append(_polsby_popper(self.area[r], self.per[r]))
        return float(viol), hx, -float(np.mean(pps))


def _connected_sets(part: _Part, h_cap: float, p_cap: float, cap: int
                    ) -> list[tuple[int, float, float, float, float]] | None:
    """Every connected set of cells with at most ``h_cap`` households and ``p_cap`` people
    (and every single cell), as (bit mask, households, people, area, perimeter); None when
    there are more than ``cap`` (small cells: a city community)."""
    m, h, p, area, perim, shared = part.m, part.h, part.p, part.area, part.perim, part.shared
    nbr_mask = [sum(1 << nb for nb in part.nbrs[c]) for c in range(m)]
    seen: set[int] = set()
    out = []
    stack = [(1 << c, nbr_mask[c], h[c], p[c], area[c], perim[c]) for c in range(m)]
    while stack:
        mask, front, hh, pop, ar, per = stack.pop()
        if mask in seen:
            continue
        seen.add(mask)
        if len(seen) > cap:
            return None
        out.append((mask, hh, pop, ar, per))
        rest = front
        while rest:
            low = rest & -rest
            rest ^= low
            f = low.bit_length() - 1
            h2, p2 = hh + h[f], pop + p[f]
            new = mask | low
            if h2 > h_cap or p2 > p_cap or new in seen:
                continue
            per2 = per + perim[f] - 2.0 * sum(s for nb, s in shared[f].items() if mask >> nb & 1)
            stack.append((new, (front | nbr_mask[f]) & ~new, h2, p2, ar + area[f], per2))
    return out


def _exact(part: _Part, bands: _Bands) -> np.ndarray | None:
    """The best division into connected sets of at most 1.5 × the upper household band
    and 2 × the upper population band, by set partitioning (HiGHS through
    :func:`scipy.optimize.milp`), or None when there are more such sets than
    :data:`_EXACT_CAP` or the solver runs out of time.

    Lexicographic, as the methods are ranked: the fewest grids outside a band; among
    those the least household excess; among those, for each number of grids k, the
    largest sum of Polsby–Popper values, and the k with the best mean wins.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    sets = _connected_sets(part, 1.5 * bands.h_hi, 2.0 * bands.p_hi, _EXACT_CAP)
    if sets is None:
        return None
    m, n = part.m, len(sets)
    hh = np.array([x[1] for x in sets])
    pop = np.array([x[2] for x in sets])
    pp = np.array([_polsby_popper(x[3], x[4]) for x in sets])
    dev = np.maximum(0.0, np.maximum(bands.h_lo - hh, hh - bands.h_hi))
    viol = ((dev > 0) | (pop < bands.p_lo) | (pop > bands.p_hi)).astype(float)
    rows, cols = [], []
    for j, x in enumerate(sets):
        rest = x[0]
        while rest:
            low = rest & -rest
            rest ^= low
            rows.append(low.bit_length() - 1)
            cols.append(j)
    cover = LinearConstraint(csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(m, n)), 1, 1)
    binary, unit = np.ones(n), Bounds(0, 1)

    def solve(c: np.ndarray, *extra: LinearConstraint, gap: float = 0.0) -> Any:
        res = milp(c, integrality=binary, bounds=unit, constraints=[cover, *extra],
                   options={"time_limit": _EXACT_SECONDS, "mip_rel_gap": gap})
        # 0: optimal; 1: out of time, but with a (feasible) division for compactness
        return res if res.status == 0 or (gap > 0 and res.x is not None) else None

    def pick(x: np.ndarray, keep: np.ndarray | None = None) -> np.ndarray:
        cols = np.flatnonzero(x > 0.5)
        return cols if keep is None else keep[cols]

    def labels(chosen: np.ndarray) -> np.ndarray:
        lab = np.empty(m, dtype=int)
        for r, j in enumerate(chosen):
            rest = sets[j][0]
            while rest:
                low = rest & -rest
                rest ^= low
                lab[low.bit_length() - 1] = r
        return lab

    # First with the in-band sets alone (a small problem, solved in milliseconds): when
    # they can divide the part, the most compact such division for each possible k.
    inband = np.flatnonzero(viol == 0)
    if len(inband):
        sub = LinearConstraint(cover.A[:, inband], 1, 1)
        total_h, total_p = float(part.h.sum()), float(part.p.sum())
        k_lo = max(math.ceil(total_h / bands.h_hi - 1e-9), math.ceil(total_p / bands.p_hi - 1e-9), 1)
        k_hi = min(math.floor(total_h / bands.h_lo + 1e-9), math.floor(total_p / bands.p_lo + 1e-9), m)
        best, best_cols = -1.0, None
        for k in range(k_lo, k_hi + 1):
            res = milp(-pp[inband], integrality=np.ones(len(inband)), bounds=unit,
                       constraints=[sub, LinearConstraint(np.ones((1, len(inband))), k, k)],
                       options={"time_limit": _EXACT_SECONDS, "mip_rel_gap": _EXACT_PP_GAP})
            if res.x is not None and float(pp[inband] @ res.x) / k > best + 1e-12:
                best, best_cols = float(pp[inband] @ res.x) / k, pick(res.x, inband)
        if best_cols is not None:
            return labels(best_cols)

    # No division inside the bands: fewest violations, then least household excess.
    first = solve(viol)
    if first is None:
        return None
    v_max = LinearConstraint(viol[None, :], -np.inf, round(first.fun) + 0.5)
    second = solve(dev, v_max)
    if second is None:
        return None
    d_best = float(dev @ second.x)
    d_max = LinearConstraint(dev[None, :], -np.inf, d_best + 1e-6 * max(1.0, d_best))
    k_used = int(round(second.x.sum()))
    best_x = second.x
    best = -1.0
    for k in range(max(1, k_used - 1), min(m, k_used + 1) + 1):
        res = solve(-pp, v_max, d_max, LinearConstraint(np.ones((1, n)), k, k), gap=_EXACT_PP_GAP)
        if res is not None and float(pp @ res.x) / k > best + 1e-12:
            best, best_x = float(pp @ res.x) / k, res.x
    return labels(pick(best_x))


def _balanced(part: _Part, bands: _Bands, rng: np.random.Generator) -> np.ndarray:
    # Large cells (a town: 2-4 per grid) jump over the band in one move, so the local search
    # alone misses divisions that exist: with few candidate grids, solve exactly instead.
    exact = _exact(part, bands)
    if exact is not None:
        return exact
    cost = _Cost(bands)
    ks = _k_candidates(part, bands)
    band_m = 0.5 * math.sqrt(float(np.median(part.area)))
    starts: list[np.ndarray] = []
    for order in (_snake(part.xy, band_m, 0), _snake(part.xy, band_m, 1), _hilbert(part.xy)):
        cuts = _dp_cuts(part, order, ks, cost, bands)
        starts.extend(cuts[k] for k in ks if k in cuts)
    for k in ks:
        starts.extend(_grow(part, k, rng) for _ in range(_GROW_STARTS))
    best_key, best_lab = None, None
    for lab in starts:
        search = _Search(part, lab, cost)
        out = search.run(rng)
        key = search.key()
        if best_key is None or key < best_key:
            best_key, best_lab = key, out
    assert best_lab is not None
    return best_lab


# --------------------------------------------------------------------------------------
# Method: spopt max-p
# --------------------------------------------------------------------------------------


def _import_spopt() -> tuple[Any, Any]:
    """libpysal.weights.W and spopt's MaxPHeuristic (spopt takes ~2 s to import once)."""
    from libpysal.weights import W
    from spopt.region import MaxPHeuristic

    return W, MaxPHeuristic


def _maxp_phases() -> tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]] | None:
    """spopt 0.7's max-p construction and annealing phases, or None when they moved."""
    try:
        from spopt.region.maxp import _calculate_within_region_distance, _construction_phase, _perform_sa
    except ImportError:
        return None
    return _construction_phase, _perform_sa, _calculate_within_region_distance


def _maxp_labels(frame: gpd.GeoDataFrame, w: Any, threshold: float, *, annealed: int | None) -> Any:
    """spopt's max-p heuristic (``MaxPHeuristic(top_n=2, max_iterations_construction=99,
    max_iterations_sa=1)``), annealing at most ``annealed`` of the maximal constructions.

    ``MaxPHeuristic.solve`` anneals *every* construction that reaches the maximal p, and
    how many do is luck: at 160 cells each annealing takes 0.1–0.7 s and 1–20 of the 99
    constructions qualify (measured: up to 16 s for one community). This runs spopt's own
    two phases, with spopt's parameters (alpha 0.998, tabu length 10, n non-improving
    moves), on the first ``annealed`` constructions; with ``annealed=None``, or when
    spopt's phases are no longer where 0.7 kept them, it is ``MaxPHeuristic.solve``.
    """
    from scipy.spatial.distance import pdist, squareform

    W, MaxPHeuristic = _import_spopt()
    phases = _maxp_phases() if annealed is not None else None
    if phases is None:
        model = MaxPHeuristic(frame, w, ["x", "y"], "households", threshold, top_n=2,
                              max_iterations_construction=99, max_iterations_sa=1)
        model.solve()
        return model.labels_
    construct, anneal, within = phases
    attr = frame[["x", "y"]].to_numpy()
    values = frame["households"].to_numpy()
    dist = squareform(pdist(attr, metric="cityblock"))
    n = len(frame)
    _, solutions = construct(np.arange(n), attr, values, dist, w, threshold, 2, 99)
    best, best_labels = np.inf, None
    for labels, regions, sums in solutions[:annealed]:
        labels, regions, _ = anneal(labels, regions, sums, values, w, dist, threshold, 0.998, 10, n)
        total = within(regions, dist)
        if total < best:
            best, best_labels = total, labels
    return best_labels


def _maxp(part: _Part, bands: _Bands, seed: int, *, annealed: int | None = _MAXP_ANNEALED) -> np.ndarray:
    W, _ = _import_spopt()
    frame = gpd.GeoDataFrame({"x": part.xy[:, 0], "y": part.xy[:, 1], "households": part.h},
                             geometry=gpd.points_from_xy(part.xy[:, 0], part.xy[:, 1]))
    w = W({i: list(nb) for i, nb in enumerate(part.nbrs)}, silence_warnings=True)
    with _GLOBAL_RNG_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. geopandas' FutureWarning on drop(inplace=...)
        state = np.random.get_state()
        np.random.seed(seed)
        try:
            labels = _maxp_labels(frame, w, bands.h_lo, annealed=annealed)
        finally:
            np.random.set_state(state)
    if labels is None:
        return np.zeros(part.m, dtype=int)
    return np.unique(np.asarray(labels), return_inverse=True)[1].reshape(-1)


# --------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------


def _per_part(parts: list[_Part], n: int, bands: _Bands,
              solve: Callable[[_Part, int], np.ndarray]) -> np.ndarray:
    """Run ``solve`` on every part (a part too small for one grid is one grid)."""
    labels = np.empty(n, dtype=int)
    offset = 0
    for pi, part in enumerate(parts):
        if part.m == 1 or part.h.sum() < bands.h_lo or part.p.sum() < bands.p_lo:
            local = np.zeros(part.m, dtype=int)
        else:
            local = solve(part, pi)
        local = np.unique(local, return_inverse=True)[1].reshape(-1)
        labels[part.index] = local + offset
        offset += int(local.max()) + 1
    return labels


def _number(labels: np.ndarray, geoms: np.ndarray) -> np.ndarray:
    """Renumber grids in reading order of their centroids."""
    k = int(labels.max()) + 1
    area = shapely.area(geoms)
    cxy = shapely.get_coordinates(shapely.centroid(geoms))
    w = np.bincount(labels, weights=area, minlength=k)
    cent = np.column_stack([np.bincount(labels, weights=area * cxy[:, d], minlength=k) for d in (0, 1)]) / w[:, None]
    order = reading_order(cent)
    rank = np.empty(k, dtype=int)
    rank[order] = np.arange(k)
    return rank[labels]


def suggest_partition(*, cells: gpd.GeoDataFrame, households_band: tuple[int, int],
                      population_band: tuple[int, int], seed: int = 0) -> Suggestion:
    """Suggest a division of one community's buildings into grids.

    Parameters
    ----------
    cells : geopandas.GeoDataFrame
        One row per building of the community, in a metric CRS (metres), with columns
        ``code`` (unique), ``households`` and ``population`` (numbers >= 0) and
        ``geometry``: the building's cell, a polygon; the cells tile the community
        without overlaps (e.g. the Voronoi regions of the footprints, clipped).
    households_band, population_band : tuple of (int, int)
        Inclusive (low, high) bands every grid should lie in, e.g. (200, 300), (400, 500).
    seed : int
        Seed (>= 0) of every random choice: the same input and seed give the same result.

    Returns
    -------
    Suggestion
        The winner's labels (reading order), its name and every method's scores.

    Raises
    ------
    geo.errors.BadInput
        ``cells`` lacks a column, is empty, is in degrees (:class:`~geo.errors.BadCRS`),
        has repeated codes, negative or missing counts or overlapping cells; a band is
        not 0 < low <= high; the community's households or population are below the
        lower band (no grid can be formed); ``seed`` is negative.
    geo.errors.InvalidGeometry
        A cell is missing, empty, not a (multi)polygon or not valid.

    Notes
    -----
    Both methods of :data:`METHODS` run on every call (see the module docstring). On
    two (busy) cores a 30-building town community takes ~0.1 s (up to ~1.5 s when no
    division fits the bands and the fewest violations must be proved), a 160-building
    walk-up estate 1–2.5 s; the first call in a process also imports spopt (~2.5 s).
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise BadInput(f"seed must be an integer >= 0, not {seed!r}", details={"field": "seed"})
    h_lo, h_hi = _band("households_band", households_band)
    p_lo, p_hi = _band("population_band", population_band)
    bands = _Bands(h_lo, h_hi, p_lo, p_hi)
    geoms, h, p = _check_cells(cells)
    if h.sum() < h_lo:
        raise BadInput(f"the community has {h.sum():g} households, fewer than the lower band {h_lo:g}: "
                       "it cannot hold even one grid in the band; join it with a neighbouring community "
                       "or lower the band", details={"households": float(h.sum()), "band": [h_lo, h_hi]})
    if p.sum() < p_lo:
        raise BadInput(f"the community has {p.sum():g} people, fewer than the lower band {p_lo:g}: "
                       "it cannot hold even one grid in the band; join it with a neighbouring community "
                       "or lower the band", details={"population": float(p.sum()), "band": [p_lo, p_hi]})
    n = len(geoms)
    parts = _parts(geoms, h, p)
    rows, cols = [], []
    for part in parts:
        for i, nb in enumerate(part.nbrs):
            rows.extend([int(part.index[i])] * len(nb))
            cols.extend(int(part.index[j]) for j in nb)
    graph = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))

    solvers: dict[str, Callable[[_Part, int], np.ndarray]] = {
        "balanced": lambda part, pi: _balanced(part, bands, np.random.default_rng([int(seed), pi])),
        "maxp": lambda part, pi: _maxp(part, bands, int((int(seed) * 1_000_003 + pi) % 2**32)),
    }
    _import_spopt()  # once per process, outside the timings
    results: dict[str, np.ndarray] = {}
    scores: dict[str, dict[str, float]] = {}
    for name in METHODS:
        t0 = time.perf_counter()
        labels = _per_part(parts, n, bands, solvers[name])
        seconds = time.perf_counter() - t0
        results[name] = labels
        scores[name] = _score(labels, geoms, h, p, bands, graph) | {"seconds": seconds}
    eligible = [m for m in METHODS if scores[m]["contiguous"] == 1.0]
    if not eligible:  # the balanced method only ever makes connected grids
        raise AssertionError("no method produced connected grids")
    winner = min(eligible, key=lambda m: _rank(scores[m]))  # min is stable: ties go to METHODS order
    labels = _number(results[winner], geoms)
    labels.setflags(write=False)
    return Suggestion(labels=labels, method=winner, scores=scores)
