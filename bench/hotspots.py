"""bench/hotspots — 1,000,000 incidents → heatmap (KDE) and Gi* hot spots, against esda in the same run.

Run: ``.venv/bin/python -m bench.hotspots [--points N] [--repeat R]``

The points are synthetic and clustered (half uniform over a 2 km × 2 km town
extent around Gaoshan, half in 20 Gaussian clusters of σ = 60 m), fixed seed.
Printed:

- ``kde``: 10 m cells, 50 m bandwidth (binning + Gaussian convolution);
- ``hotspots``: 100 m square cells, distance band 150 m, binary weights, Gi*;
- the target: both together < 1 s on 2 cores;
- the peer: ``esda.G_Local(counts, W, star=True, permutations=0)`` on the *same*
  cells, counts and weights, and with esda's default 999 permutations; the ratio
  is esda time / ours; and the largest |z − esda.Zs| (must be < 1e-6).

Times are the best of ``--repeat`` runs (the machine is shared and noisy).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np


def _best(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times), out


def synthetic(n: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    from geo.crs import transformer

    to_m, to_ll = transformer("EPSG:4326", "EPSG:4547"), transformer("EPSG:4547", "EPSG:4326")
    x0, y0 = to_m.transform(113.10, 40.05)
    rng = np.random.default_rng(seed)
    half = n // 2
    xs, ys = [x0 + rng.random(half) * 2000], [y0 + rng.random(half) * 2000]
    centres = rng.random((20, 2)) * 2000
    for (cx, cy), m in zip(centres, rng.multinomial(n - half, np.ones(20) / 20)):
        xs.append(x0 + cx + rng.normal(0, 60, m))
        ys.append(y0 + cy + rng.normal(0, 60, m))
    lon, lat = to_ll.transform(np.concatenate(xs), np.concatenate(ys))
    return np.asarray(lon), np.asarray(lat)


def main(argv: list[str] | None = None) -> None:
    import esda
    import libpysal

    from geo import analysis

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)

    print(f"bench/hotspots — {os.cpu_count()} CPUs, {args.points:,} points, best of {args.repeat}")
    lon, lat = synthetic(args.points)
    tk, tkm, grid = _best(lambda: analysis.kde(lon=lon, lat=lat, bandwidth_m=50, cell_m=10), args.repeat)
    print(f"kde      10 m cells, 50 m bandwidth: {grid.density.size:,} cells   best {tk * 1e3:7.1f} ms  "
          f"median {tkm * 1e3:7.1f} ms  (mass {grid.mass:,.0f} of {args.points:,})")
    th, thm, res = _best(lambda: analysis.hotspots(lon=lon, lat=lat, cell_m=100), args.repeat)
    lattice = res.lattice
    print(f"hotspots 100 m cells, {res.spec.as_dict()['kind']} {res.spec.as_dict().get('threshold_m')} m, "
          f"{res.spec.as_dict()['transform']}: {lattice.n:,} cells  best {th * 1e3:7.1f} ms  median {thm * 1e3:7.1f} ms")
    total = tk + th
    print(f"TOTAL kde + hotspots: best {total * 1e3:.0f} ms (target < 1000 ms: {'met' if total < 1 else 'MISSED'})")

    w, _ = analysis.weights(lattice, kind="distance_band", transform="B")
    to, _, (z, _) = _best(lambda: analysis.gi_star(lattice.counts, w), max(args.repeat, 20))
    W = libpysal.weights.WSP(w).to_W(silence_warnings=True)

    def esda_run(permutations: int) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return esda.G_Local(lattice.counts, W, transform="B", star=True, permutations=permutations)

    te0, _, g0 = _best(lambda: esda_run(0), args.repeat)
    te9, _, _ = _best(lambda: esda_run(999), max(1, args.repeat // 2))
    print(f"Gi* on the same {lattice.n:,} cells and weights: ours {to * 1e3:.3f} ms | esda.G_Local permutations=0 "
          f"{te0 * 1e3:.2f} ms | permutations=999 {te9 * 1e3:.0f} ms")
    print(f"RATIO esda(perm=0) / ours = {te0 / to:.0f}x; esda(perm=999) / ours = {te9 / to:.0f}x; "
          f"max |z - esda.Zs| = {np.abs(z - g0.Zs).max():.1e}")


if __name__ == "__main__":
    main()
