"""The driver: both methods on every connected part, the winner by score, grids numbered in
reading order (:func:`suggest_partition`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from scipy.sparse import csr_matrix

from geo.errors import BadInput
from geo.numbering import reading_order
from geo.suggest.balanced import solve_balanced
from geo.suggest.cells import BandLimits, Part, check_band, check_cells, connected_parts
from geo.suggest.maxp import import_spopt, solve_maxp
from geo.suggest.score import rank, score_labels

#: The methods compared on every call, in tie-breaking order.
METHODS = ("balanced", "maxp")


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


def _per_part(parts: list[Part], n: int, bands: BandLimits,
              solve: Callable[[Part, int], np.ndarray]) -> np.ndarray:
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
    h_lo, h_hi = check_band("households_band", households_band)
    p_lo, p_hi = check_band("population_band", population_band)
    bands = BandLimits(h_lo, h_hi, p_lo, p_hi)
    geoms, h, p = check_cells(cells)
    if h.sum() < h_lo:
        raise BadInput(f"the community has {h.sum():g} households, fewer than the lower band {h_lo:g}: "
                       "it cannot hold even one grid in the band; join it with a neighbouring community "
                       "or lower the band", details={"households": float(h.sum()), "band": [h_lo, h_hi]})
    if p.sum() < p_lo:
        raise BadInput(f"the community has {p.sum():g} people, fewer than the lower band {p_lo:g}: "
                       "it cannot hold even one grid in the band; join it with a neighbouring community "
                       "or lower the band", details={"population": float(p.sum()), "band": [p_lo, p_hi]})
    n = len(geoms)
    parts = connected_parts(geoms, h, p)
    rows, cols = [], []
    for part in parts:
        for i, nb in enumerate(part.nbrs):
            rows.extend([int(part.index[i])] * len(nb))
            cols.extend(int(part.index[j]) for j in nb)
    graph = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))

    solvers: dict[str, Callable[[Part, int], np.ndarray]] = {
        "balanced": lambda part, pi: solve_balanced(part, bands, np.random.default_rng([int(seed), pi])),
        "maxp": lambda part, pi: solve_maxp(part, bands, int((int(seed) * 1_000_003 + pi) % 2**32)),
    }
    import_spopt()  # once per process, outside the timings
    results: dict[str, np.ndarray] = {}
    scores: dict[str, dict[str, float]] = {}
    for name in METHODS:
        t0 = time.perf_counter()
        labels = _per_part(parts, n, bands, solvers[name])
        seconds = time.perf_counter() - t0
        results[name] = labels
        scores[name] = score_labels(labels, geoms, h, p, bands, graph) | {"seconds": seconds}
    eligible = [m for m in METHODS if scores[m]["contiguous"] == 1.0]
    if not eligible:  # the balanced method only ever makes connected grids
        raise AssertionError("no method produced connected grids")
    winner = min(eligible, key=lambda m: rank(scores[m]))  # min is stable: ties go to METHODS order
    labels = _number(results[winner], geoms)
    labels.setflags(write=False)
    return Suggestion(labels=labels, method=winner, scores=scores)
