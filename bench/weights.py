"""bench/weights — Gi*'s spatial weights: geo.analysis.weights against libpysal's builders, in one run.

Run: ``.venv/bin/python -m bench.weights [--repeat R] [--city-repeat R] [--town-cells N] [--city-cells N]``

On a lattice of 100 m square cells laid over an empty square extent (a town: ~5,000 cells; a city:
~100,000 cells), each weights kind the service offers is built three ways:

- ``ours``: :func:`geo.analysis.weights` (binary, self-weight included: the CSR matrix Gi* uses);
- ``W``: ``libpysal.weights.DistanceBand`` / ``KNN`` / ``Queen.from_iterable``, then ``.sparse`` plus the
  identity (what Gi* would need from it);
- ``Graph``: ``libpysal.graph.Graph.build_distance_band`` / ``build_knn`` / ``build_contiguity``
  (rook=False), then ``.sparse`` plus the identity.

libpysal is given the cell centres and polygons ready made (their cost is not counted: it is ours).
Printed per kind and size: the best of ``--repeat`` (town) / ``--city-repeat`` (city) times, the ratios libpysal / ours, and whether the
neighbour sets are identical (``same``), or how many cells' sets differ. kNN with k=8 on a square
lattice has ties at equal distance on the edges; ours breaks them by lower cell id (documented and
tested), libpysal by its k-d tree's order.

The Gi* statistic's peer (``esda.G_Local``) is in bench/hotspots.py.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp


def _best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _with_self(m: sp.spmatrix) -> sp.csr_matrix:
    """libpysal's neighbours (no diagonal) as Gi*'s binary matrix: the identity added, sorted CSR."""
    b = sp.csr_matrix(m, dtype=float)
    b.data[:] = 1.0
    b = sp.csr_matrix(b + sp.eye(b.shape[0], format="csr"))
    b.sum_duplicates()
    b.sort_indices()
    return b


def _differing_rows(a: sp.csr_matrix, b: sp.csr_matrix) -> int:
    """Cells whose neighbour sets differ between two binary matrices."""
    d = sp.csr_matrix(abs((a != 0).astype(np.int8) - (b != 0).astype(np.int8)))
    return int((np.diff(d.indptr) > 0).sum())


def _square_lattice(cells: int):
    from geo.analysis import lattice
    from geo.crs import transformer

    x0, y0 = (float(v) for v in transformer("EPSG:4326", "EPSG:4547").transform(113.10, 40.05))
    side = round(cells**0.5) * 100.0
    x0, y0 = np.floor(x0 / 100) * 100, np.floor(y0 / 100) * 100
    return lattice(lon=[], lat=[], cell_m=100, bounds_m=(x0, y0, x0 + side, y0 + side))


def run(cells: int, repeat: int) -> list[tuple[str, float, float, float, str, str]]:
    import geopandas as gpd
    import libpysal
    from libpysal.graph import Graph

    from geo.analysis import weights

    lt = _square_lattice(cells)
    centres = lt.centres_m
    polys = gpd.GeoSeries(lt.polygons_m)
    poly_list = list(lt.polygons_m)
    kinds: dict[str, tuple[Callable[[], Any], Callable[[], Any], Callable[[], Any]]] = {
        "distance_band 150 m": (
            lambda: weights(lt, kind="distance_band", threshold_m=150, transform="B")[0],
            lambda: _with_self(libpysal.weights.DistanceBand(centres, threshold=150, binary=True,
                                                             silence_warnings=True).sparse),
            lambda: _with_self(Graph.build_distance_band(centres, 150).sparse),
        ),
        "knn k=8": (
            lambda: weights(lt, kind="knn", k=8, transform="B")[0],
            lambda: _with_self(libpysal.weights.KNN(centres, k=8, silence_warnings=True).sparse),
            lambda: _with_self(Graph.build_knn(centres, k=8).sparse),
        ),
        "queen": (
            lambda: weights(lt, kind="queen", transform="B")[0],
            lambda: _with_self(libpysal.weights.Queen.from_iterable(poly_list, silence_warnings=True).sparse),
            lambda: _with_self(Graph.build_contiguity(polys, rook=False).sparse),
        ),
    }
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, (ours_fn, w_fn, g_fn) in kinds.items():
            t_ours, ours = _best(ours_fn, repeat)
            t_w, w = _best(w_fn, repeat)
            t_g, g = _best(g_fn, repeat)
            same_w = _differing_rows(ours, w)
            same_g = _differing_rows(ours, g)
            out.append((name, t_ours, t_w, t_g, "same" if same_w == 0 else f"{same_w} cells differ",
                        "same" if same_g == 0 else f"{same_g} cells differ"))
            print(f"{lt.n:>7,} cells  {name:<20} ours {t_ours * 1e3:8.1f} ms | W {t_w * 1e3:8.1f} ms "
                  f"({t_w / t_ours:5.1f}x, {out[-1][4]}) | Graph {t_g * 1e3:8.1f} ms "
                  f"({t_g / t_ours:5.1f}x, {out[-1][5]})", flush=True)
    return out


def main(argv: list[str] | None = None) -> None:
    import libpysal

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs per timing on the town lattice")
    ap.add_argument("--city-repeat", type=int, default=1, help="runs per timing on the city lattice")
    ap.add_argument("--town-cells", type=int, default=5_000)
    ap.add_argument("--city-cells", type=int, default=100_000)
    args = ap.parse_args(argv)
    print(f"bench/weights — {dt.date.today()}, {os.cpu_count()} CPUs, libpysal {libpysal.__version__}, "
          f"best of {args.repeat}; RATIO = libpysal time / ours")
    for cells, repeat in ((args.town_cells, args.repeat), (args.city_cells, args.city_repeat)):
        run(cells, repeat)


if __name__ == "__main__":
    main()
