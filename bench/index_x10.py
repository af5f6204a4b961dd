"""The lookup index at ten times the city, in process only (no database): build time and memory.

The issue's "city × 10" is 60,000 grids; the city set has 6,087 grids of ~110 vertices each and 59,533
buildings, so this synthesises 60,000 grids of 112 vertices (squares of 0.0015°, ~130 m, their edges
jagged inward so they stay valid) and 10 rectangular buildings in each (600,000), then times what a
worker does when it builds its index (geo/grid_index.py): the buildings' places (``make_places``: the
footprints' tree and points on surface), the gazetteer of 600 communities × 1,000 buildings, and the
grids' index (``make_index``: WKB → polygons, prepared, STRtree, each building's grid). Memory is the
process's resident set before and after each stage (GEOS allocations included; Python's tracemalloc
would miss them). Then single lookups (``locate``) at random points, and a batch of points.

Not measured here: loading the WKB rows from PostgreSQL (``geo.lookup.build_index`` over a 60,000-grid
plan, ~110 MB of WKB), tiles, and a database of ten times the city (docs/scale-out.md says why).

    .venv/bin/python -m bench.index_x10 [--grids 60000] [--buildings-per-grid 10] [--points 1000000]
"""

from __future__ import annotations

import argparse
import gc
import math
import time

import numpy as np
import shapely

from bench.common import loadavg
from geo.address import Building, Community, Gazetteer
from geo.grid_index import BuildingRecord, GridRecord, make_index, make_places

CELL = 0.0015  # degrees: ~130 m at Datong's latitude (the city: 6,087 grids over ~0.15° × 0.13°)
X0, Y0 = 113.0, 39.9
PER_EDGE = 28  # points per edge: 4 × 28 = 112 vertices, the city's grids have ~110


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def grid_wkb(n: int, rng: np.random.Generator) -> tuple[list[bytes], int]:
    cols = math.ceil(math.sqrt(n))
    t = np.linspace(0, 1, PER_EDGE, endpoint=False)
    out = []
    for i in range(n):
        r, c = divmod(i, cols)
        x0, y0 = X0 + c * CELL, Y0 + r * CELL
        jag = rng.uniform(0, 0.04 * CELL, size=4 * PER_EDGE)  # inward: the ring stays simple
        xs = np.concatenate([x0 + t * CELL, np.full(PER_EDGE, x0 + CELL), x0 + CELL - t * CELL, np.full(PER_EDGE, x0)])
        ys = np.concatenate([np.full(PER_EDGE, y0), y0 + t * CELL, np.full(PER_EDGE, y0 + CELL), y0 + CELL - t * CELL])
        xs = xs + np.concatenate([np.zeros(PER_EDGE), -jag[PER_EDGE:2 * PER_EDGE], np.zeros(PER_EDGE),
                                  jag[3 * PER_EDGE:]])
        ys = ys + np.concatenate([jag[:PER_EDGE], np.zeros(PER_EDGE), -jag[2 * PER_EDGE:3 * PER_EDGE],
                                  np.zeros(PER_EDGE)])
        out.append(shapely.to_wkb(shapely.Polygon(np.column_stack([xs, ys]))))
    return out, cols


def building_wkb(n_grids: int, per_grid: int, cols: int, rng: np.random.Generator) -> list[bytes]:
    out = []
    w = CELL / 8
    for i in range(n_grids):
        r, c = divmod(i, cols)
        x0, y0 = X0 + c * CELL, Y0 + r * CELL
        for k in range(per_grid):
            bx = x0 + CELL * (0.1 + 0.8 * (k % 5) / 5)
            by = y0 + CELL * (0.2 + 0.4 * (k // 5 % 2))
            out.append(shapely.to_wkb(shapely.box(bx, by, bx + w, by + w / 2)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--grids", type=int, default=60_000)
    ap.add_argument("--buildings-per-grid", type=int, default=10)
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--singles", type=int, default=20_000)
    args = ap.parse_args()
    rng = np.random.default_rng(20260301)

    print(f"load average before: {loadavg()} (a shared machine: times are from one run, not a quiet one)")
    base = rss_mb()
    t = time.perf_counter()
    gwkb, cols = grid_wkb(args.grids, rng)
    bwkb = building_wkb(args.grids, args.buildings_per_grid, cols, rng)
    print(f"synthesised {len(gwkb):,} grids ({sum(map(len, gwkb)) / 1e6:.0f} MB of WKB), {len(bwkb):,} buildings "
          f"in {time.perf_counter() - t:.1f} s (not part of a worker's build)")
    n_comm = max(1, len(bwkb) // 1000)
    grids = tuple(GridRecord(i, f"1402141{i // 100:05d}{i % 100:03d}", f"网格{i}", f"c{i * n_comm // args.grids}",
                             "社区", "member", "13800000000") for i in range(args.grids))
    brecs = tuple(BuildingRecord(i, f"b{i:07d}", f"{i % 1000 + 1}号楼", "", 6, 18.0) for i in range(len(bwkb)))
    gc.collect()
    before = rss_mb()

    t = time.perf_counter()
    gaz = Gazetteer(communities=[Community(code=f"c{j}", name=f"社区{j}") for j in range(n_comm)],
                    buildings=[Building(code=b.code, community_code=f"c{b.id // 1000}", number=b.id % 1000 + 1,
                                        units=3) for b in brecs])
    t_gaz = time.perf_counter() - t
    m_gaz = rss_mb()
    t = time.perf_counter()
    places = make_places(fingerprint=("x10",), buildings=brecs, wkb=bwkb, gazetteer=gaz)
    t_places = time.perf_counter() - t
    m_places = rss_mb()
    t = time.perf_counter()
    index = make_index(plan={"id": 1, "version": 1}, grids=grids, wkb=gwkb, places=places)
    t_index = time.perf_counter() - t
    m_index = rss_mb()
    located = sum(1 for g in index.building_grid.values() if g >= 0)

    print(f"gazetteer ({n_comm:,} communities, {len(brecs):,} buildings): {t_gaz:6.2f} s  +{m_gaz - before:6.0f} MB")
    print(f"places (buildings' tree, points on surface):        {t_places:6.2f} s  +{m_places - m_gaz:6.0f} MB")
    print(f"grids' index (polygons, prepared, STRtree, {located:,} buildings' grids): {t_index:6.2f} s  "
          f"+{m_index - m_places:6.0f} MB")
    print(f"a plan switch rebuilds the grids' index only: {t_index:.2f} s; a worker's start builds all three: "
          f"{t_gaz + t_places + t_index:.2f} s, +{m_index - before:.0f} MB resident "
          f"(process {m_index:.0f} MB, {base:.0f} MB before the data was made)")

    span = cols * CELL
    xs = X0 + rng.uniform(0, span, args.singles)
    ys = Y0 + rng.uniform(0, span * args.grids / cols ** 2, args.singles)
    t = time.perf_counter()
    hits = sum(1 for x, y in zip(xs, ys) if index.locate(float(x), float(y))[0] is not None)
    dt_one = (time.perf_counter() - t) / args.singles
    print(f"single lookups (PlanIndex.locate, grid and building): {dt_one * 1e6:.1f} µs each over {args.singles:,} "
          f"random points ({hits / args.singles:.0%} inside a grid)")
    if args.points:
        px = X0 + rng.uniform(0, span, args.points)
        py = Y0 + rng.uniform(0, span * args.grids / cols ** 2, args.points)
        t = time.perf_counter()
        found = index.locate_many(px, py)
        dt_many = time.perf_counter() - t
        print(f"batch of {args.points:,} points (PlanIndex.locate_many): {dt_many:.2f} s "
              f"({args.points / dt_many:,.0f} points/s, {(found >= 0).mean():.0%} inside a grid)")


if __name__ == "__main__":
    main()
