"""The input of a suggestion: the bands, the validated cells, their adjacency and the connected
parts of the community (each divided separately)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from geo.errors import BadCRS, BadInput, InvalidGeometry

#: Cells sharing less boundary than this (metres) are not neighbours.
MIN_SHARED_M = 0.5
#: Cells closer than this (metres) count as touching (tessellations with tiny gaps).
SNAP_M = 0.05
#: Two cells overlapping by more than this (m²) are not a tessellation.
MAX_OVERLAP_M2 = 1.0
#: Columns ``cells`` must have.
REQUIRED_COLUMNS = ("code", "households", "population", "geometry")


@dataclass(frozen=True)
class BandLimits:
    """The solver's float view of the bands (geo.plan_checks.Bands is the one definition; the caller
    passes its tuples to :func:`geo.suggest.suggest_partition`), with the widths the scores divide by."""

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
class Part:
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


def check_band(name: str, band: Any) -> tuple[float, float]:
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


def check_cells(cells: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


def connected_parts(geoms: np.ndarray, h: np.ndarray, p: np.ndarray) -> list[Part]:
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
        parts.append(Part(index=idx, h=h[idx], p=p[idx], area=area[idx], perim=perim[idx], xy=cent[idx],
                           nbrs=[tuple(d) for d in shared], shared=shared))
    return parts

