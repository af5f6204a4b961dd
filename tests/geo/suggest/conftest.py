"""Shared by the tests of geo.suggest: synthetic walled communities of slab buildings (built with
shapely, cells from geo.partition.building_cells) with a known division inside both bands, and the
checks of a partition. No database."""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass

import geopandas as gpd
import libpysal
import numpy as np
import pytest
import shapely
from shapely import box

from geo import suggest as sg
from geo.partition import building_cells

CRS = "EPSG:4547"
X0, Y0 = 380_000.0, 4_435_000.0  # Gaoshan, in metres of EPSG:4547
HH = (200, 300)
POP = (400, 500)


@dataclass
class Community:
    cells: gpd.GeoDataFrame
    footprints: list
    truth: np.ndarray  # a known division inside both bands


def _split(rng: np.random.Generator, total: int, parts: int, lo: int, hi: int) -> np.ndarray:
    """``total`` split into ``parts`` integers in [lo, hi] (rejection sampling)."""
    for _ in range(10_000):
        v = np.floor(rng.dirichlet(np.full(parts, 6.0)) * total).astype(int)
        v[-1] += total - v.sum()
        if (v >= lo).all() and (v <= hi).all():
            return v
    raise AssertionError("cannot split")


def community(*, seed: int, cols: int, rows: int, slab: tuple[float, float], gap: float, pitch: float,
              block: tuple[int, int], per_building: tuple[int, int], margin: float = 20.0,
              size_jitter: float = 0.0) -> Community:
    """Rows of south-facing slab buildings in a walled rectangle.

    The buildings fall into blocks of ``block`` = (columns, rows) neighbours (the last
    block of a row may be longer); each block gets households in [205, 295] and people
    in [405, 495], spread over its buildings (each within ``per_building`` households),
    so a division inside both bands exists. Cells come from :func:`geo.partition.building_cells`.
    """
    rng = np.random.default_rng(seed)
    sw, sd = slab
    width = 2 * margin + cols * sw + (cols - 1) * gap
    height = 2 * margin + (rows - 1) * pitch + sd
    region = box(X0, Y0, X0 + width, Y0 + height)
    fps, where = [], []
    for r in range(rows):  # r = 0 is the northern row
        y = Y0 + height - margin - sd - r * pitch
        for c in range(cols):
            x = X0 + margin + c * (sw + gap)
            dw = rng.uniform(-size_jitter, size_jitter) * sw
            fps.append(box(x + max(dw, 0), y, x + sw + min(dw, 0), y + sd))
            where.append((r, c))
    bc, br = block
    col_starts = list(range(0, cols - cols % bc if cols % bc else cols, bc))
    truth = np.empty(len(fps), dtype=int)
    for k, (r, c) in enumerate(where):
        bcol = min(c // bc, len(col_starts) - 1)
        truth[k] = (r // br) * len(col_starts) + bcol
    truth = np.unique(truth, return_inverse=True)[1]
    hh = np.zeros(len(fps), dtype=int)
    pop = np.zeros(len(fps), dtype=int)
    lo_b, hi_b = per_building
    for g in range(truth.max() + 1):
        members = np.flatnonzero(truth == g)
        s = len(members)
        t = int(rng.integers(max(205, s * lo_b), min(295, s * hi_b) + 1))
        hh[members] = _split(rng, t, s, lo_b, hi_b)
        p_total = int(rng.integers(405, 496))
        share = hh[members] * rng.uniform(0.9, 1.1, s)
        pm = np.floor(share / share.sum() * p_total).astype(int)
        pm[-1] += p_total - pm.sum()
        pop[members] = pm
    cells = building_cells(fps, region)
    frame = gpd.GeoDataFrame({"code": [f"140214101001{k:04d}" for k in range(len(fps))],
                              "households": hh, "population": pop}, geometry=cells, crs=CRS)
    return Community(cells=frame, footprints=fps, truth=truth)


@functools.cache
def _town(seed: int) -> Community:
    return community(seed=seed, cols=5, rows=6, slab=(60.0, 13.0), gap=15.0, pitch=50.0, block=(2, 1),
                     per_building=(60, 150), size_jitter=0.1)


def town(seed: int) -> Community:
    """~400 m × 300 m, 30 slabs of 60 m × 13 m, 60–150 households each (2–3 per grid); a copy."""
    c = _town(seed)
    return Community(c.cells.copy(), list(c.footprints), c.truth.copy())


@functools.cache
def _city(seed: int) -> Community:
    return community(seed=seed, cols=10, rows=16, slab=(40.0, 11.0), gap=12.0, pitch=45.0, block=(5, 2),
                     per_building=(15, 40), size_jitter=0.15)


def city(seed: int) -> Community:
    """~560 m × 700 m, 160 walk-up slabs of 40 m × 11 m, 15–40 households each (~10 per grid); a copy."""
    c = _city(seed)
    return Community(c.cells.copy(), list(c.footprints), c.truth.copy())


def suggest(c: Community, seed: int = 0) -> sg.Suggestion:
    return sg.suggest_partition(cells=c.cells, households_band=HH, population_band=POP, seed=seed)


def rook_graph(cells: gpd.GeoDataFrame) -> libpysal.weights.W:
    """Independent adjacency: libpysal's rook contiguity (a shared edge)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return libpysal.weights.Rook.from_dataframe(cells, use_index=False, silence_warnings=True)


def connected(rows: np.ndarray, w: libpysal.weights.W) -> bool:
    rows = set(int(r) for r in rows)
    start = next(iter(rows))
    seen, stack = {start}, [start]
    while stack:
        for nb in w.neighbors[stack.pop()]:
            if nb in rows and nb not in seen:
                seen.add(nb)
                stack.append(nb)
    return seen == rows


def totals(cells: gpd.GeoDataFrame, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return (np.bincount(labels, weights=cells["households"].to_numpy(float)),
            np.bincount(labels, weights=cells["population"].to_numpy(float)))


def check_partition(c: Community, labels: np.ndarray) -> None:
    """Every building in exactly one grid; every grid one connected piece."""
    n = len(c.cells)
    assert labels.shape == (n,) and labels.dtype.kind == "i"
    k = labels.max() + 1
    assert set(labels.tolist()) == set(range(k))  # numbered 0 .. k-1, none empty
    w = rook_graph(c.cells)
    for r in range(k):
        rows = np.flatnonzero(labels == r)
        assert connected(rows, w), f"grid {r} is not contiguous"
        shape = shapely.union_all(c.cells.geometry.values[rows], grid_size=0.001)
        assert shape.geom_type == "Polygon", f"grid {r} is {shape.geom_type}"
        # whole buildings: every footprint lies inside its own grid only
        for i in rows:
            assert shape.buffer(0.01).contains(c.footprints[i])


@pytest.fixture(scope="module")
def towns() -> list[Community]:
    return [town(s) for s in range(3)]


@pytest.fixture(scope="module")
def town_results(towns: list[Community]) -> list[sg.Suggestion]:
    return [suggest(c, seed=s) for s, c in enumerate(towns)]
