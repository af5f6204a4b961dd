"""The ``maxp`` method: spopt's max-p heuristic (construction, then annealing of at most
:data:`MAXP_ANNEALED` maximal constructions)."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np

from geo.suggest.cells import BandLimits, Part

# Max-p: at most this many of its maximal constructions are annealed (see _maxp_labels).
MAXP_ANNEALED = 3
# spopt's max-p draws from numpy's global RNG: seeding it is serialised across threads.
_GLOBAL_RNG_LOCK = threading.Lock()


def import_spopt() -> tuple[Any, Any]:
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

    W, MaxPHeuristic = import_spopt()
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


def solve_maxp(part: Part, bands: BandLimits, seed: int, *, annealed: int | None = MAXP_ANNEALED) -> np.ndarray:
    W, _ = import_spopt()
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

