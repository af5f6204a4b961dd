"""Scores of a division: band violations, distance outside the bands, Polsby–Popper compactness
of the dissolved grids, contiguity; and the ranking of methods by them."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from geo.suggest.cells import BandLimits


def polsby_popper(area: float, perimeter: float) -> float:
    return 4.0 * math.pi * area / perimeter**2 if perimeter > 0 else 0.0


def dissolve(members: np.ndarray) -> Any:
    try:  # exact tessellations: fast and noding-free
        return shapely.coverage_union_all(members)
    except shapely.errors.GEOSException:
        return shapely.union_all(members)


def score_labels(labels: np.ndarray, geoms: np.ndarray, h: np.ndarray, p: np.ndarray, bands: BandLimits,
           graph: csr_matrix) -> dict[str, float]:
    k = int(labels.max()) + 1
    hs = np.bincount(labels, weights=h, minlength=k)
    ps = np.bincount(labels, weights=p, minlength=k)
    hx = np.maximum(0.0, np.maximum(bands.h_lo - hs, hs - bands.h_hi))
    px = np.maximum(0.0, np.maximum(bands.p_lo - ps, ps - bands.p_hi))
    pp, contiguous = [], True
    for r in range(k):
        rows = np.flatnonzero(labels == r)
        shape = dissolve(geoms[rows])
        pp.append(polsby_popper(shape.area, shape.length))
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


def rank(score: dict[str, float]) -> tuple[float, float, float]:
    """Sort key: fewest violations, then least household excess, then most compact."""
    return score["band_violations"], score["households_excess"], -score["mean_polsby_popper"]

