"""bench/suggest — suggested partitions (geo.suggest) of demo communities, with spopt's own max-p as the peer.

Run: ``.venv/bin/python -m bench.suggest [--repeats N] [--seed S]``

No database: the communities are made by the demo generator (:func:`geo.demo.make_community`), a
high-rise compound of 40 buildings (the town case: exact set partitioning) and a walk-up estate of
about 170 (the city case: the heuristic), their cells by :func:`geo.partition.building_cells`.
Printed per community (best and median of ``--repeats``): :func:`geo.suggest.suggest_partition`
in all, each method's own ``seconds`` score, and the peer: ``MaxPHeuristic.solve`` of spopt,
which anneals every maximal construction, against the bounded max-p that anneals at most
:data:`geo.suggest.maxp.MAXP_ANNEALED` of them (ratio = bounded ÷ spopt). The tests assert no
time (this replaced test_suggest's 60 s and 30 s bounds).
"""

from __future__ import annotations

import argparse
import statistics
import time

import geopandas as gpd

from bench.common import loadavg, progress
from geo.demo import CommunitySpec, make_community
from geo.partition import building_cells
from geo.suggest import suggest_partition
from geo.suggest.cells import Bands, check_cells, connected_parts
from geo.suggest.maxp import import_spopt, solve_maxp

BANDS = ((200, 300), (400, 500))


def _cells(spec: CommunitySpec, seed: int) -> gpd.GeoDataFrame:
    c = make_community(spec, seed=[seed, 9, 0], grid_target=290.0 if spec.style == "walkup" else 250.0)
    cells = building_cells([b.footprint for b in c.buildings], c.polygon, spacing=c.sample_m)
    return gpd.GeoDataFrame({"code": [f"{spec.code}-{b.number:03d}" for b in c.buildings],
                             "households": [int(b.households.sum()) for b in c.buildings],
                             "population": [int(b.population.sum()) for b in c.buildings]},
                            geometry=cells, crs="EPSG:4547")


def _best_median(xs: list[float]) -> str:
    return f"best {min(xs):7.3f} s  median {statistics.median(xs):7.3f} s"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    print(f"bench/suggest  repeats={args.repeats}  load {loadavg()}")
    import_spopt()  # once, outside the timings
    specs = [
        CommunitySpec(code="140214101901", name="高层", name_en="High-rise", pinyin="Gaoceng", aliases=(),
                      width=540.0, units=(2, 3, 4, 3) * 10),
        CommunitySpec(code="140214101902", name="多层", name_en="Walk-up", pinyin="Duoceng", aliases=(),
                      width=600.0, units=(2, 2, 2, 3) * 43, style="walkup"),
    ]
    bands = Bands(*BANDS[0], *BANDS[1])
    for spec in specs:
        progress(f"{spec.name_en}: making the community")
        cells = _cells(spec, args.seed)
        total, per_method = [], {}
        for r in range(args.repeats):
            t0 = time.perf_counter()
            s = suggest_partition(cells=cells, households_band=BANDS[0], population_band=BANDS[1], seed=r)
            total.append(time.perf_counter() - t0)
            for m, sc in s.scores.items():
                per_method.setdefault(m, []).append(sc["seconds"])
        print(f"{spec.name_en:9s} {len(cells):4d} buildings  suggest_partition {_best_median(total)}  winner {s.method}")
        for m, xs in per_method.items():
            print(f"{'':24s}{m:9s} {_best_median(xs)}")
        parts = [p for p in connected_parts(*check_cells(cells)) if p.h.sum() >= bands.h_lo]
        bounded, peer = [], []
        for r in range(args.repeats):
            t0 = time.perf_counter()
            for p in parts:
                solve_maxp(p, bands, r)
            bounded.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            for p in parts:
                solve_maxp(p, bands, r, annealed=None)
            peer.append(time.perf_counter() - t0)
        print(f"{'':24s}max-p bounded {_best_median(bounded)}  spopt solve {_best_median(peer)}  "
              f"ratio {statistics.median(bounded) / statistics.median(peer):.2f}")


if __name__ == "__main__":
    main()
