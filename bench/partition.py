"""bench/partition — building cells (geo.partition.building_cells) against the old algorithm.

Run: ``.venv/bin/python -m bench.partition [--repeats N] [--sizes 50,100,200,400] [--no-walkup]``

No database. The peer is the old algorithm, kept in tests/geo/test_partition.py as
``reference_building_cells`` (each cell's overlay ran against the union of *all* footprints);
the layouts are that file's ``rotated_layout`` (n rotated rectangles on a jittered 40 m lattice)
and, unless ``--no-walkup``, a ~170-building walk-up estate made by the demo generator (outline
points every 2.5 m, as in the city). Per size: the best of ``--repeats`` runs of each, all cells
and one cell (``which=``), the ratio old ÷ new, and the largest symmetric difference of a cell
from the reference. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import shapely

from bench.common import loadavg, progress
from geo.demo import CommunitySpec, make_community
from geo.partition import CELL_SPACING_M, building_cells
from tests.geo.test_partition import reference_building_cells, rotated_layout


def _best(fn: Callable[[], list], repeats: int) -> tuple[float, list]:
    best, out = float("inf"), []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _row(label: str, fps: list, region, spacing: float, repeats: int) -> None:
    progress(f"{label}: {len(fps)} buildings")
    t_old, ref = _best(lambda: reference_building_cells(fps, region, spacing=spacing), repeats)
    t_new, new = _best(lambda: building_cells(fps, region, spacing=spacing), repeats)
    k = [len(fps) // 2]
    t_old1, _ = _best(lambda: reference_building_cells(fps, region, spacing=spacing, which=k), repeats)
    t_new1, _ = _best(lambda: building_cells(fps, region, spacing=spacing, which=k), repeats)
    sd = max(shapely.symmetric_difference(a, b).area for a, b in zip(ref, new, strict=True))
    print(f"{label:18s} {len(fps):5d}  {t_old:8.3f} s {t_new:8.3f} s {t_old / t_new:6.1f}x"
          f"  {t_old1 * 1e3:8.1f} ms {t_new1 * 1e3:8.1f} ms {t_old1 / t_new1:6.1f}x  {sd:9.5f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--sizes", default="50,100,200,400")
    ap.add_argument("--no-walkup", action="store_true")
    args = ap.parse_args()
    print(f"bench/partition  repeats={args.repeats} (best of)  load {loadavg()}")
    print(f"{'layout':18s} {'bldgs':>5s}  {'all: old':>10s} {'new':>10s} {'ratio':>7s}"
          f"  {'one: old':>11s} {'new':>11s} {'ratio':>7s}  {'max symdiff m²':>9s}")
    for n in (int(s) for s in args.sizes.split(",")):
        fps, region = rotated_layout(n)
        _row("rotated rectangles", fps, region, CELL_SPACING_M, args.repeats)
    if not args.no_walkup:
        spec = CommunitySpec(code="140214101902", name="多层", name_en="Walk-up", pinyin="Duoceng", aliases=(),
                             width=600.0, units=(2, 2, 2, 3) * 43, style="walkup")
        c = make_community(spec, seed=[1, 9, 0], grid_target=290.0)
        _row("demo walk-up", [b.footprint for b in c.buildings], c.polygon, c.sample_m, args.repeats)


if __name__ == "__main__":
    main()
