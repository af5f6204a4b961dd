"""bench/coverage — every camera's occluded view, the coverage and the gaps, against a naive ray cast in the same run.

Run: ``.venv/bin/python -m bench.coverage [--scale town|city|both] [--repeat N] [--city-repeat M]
[--sample K] [--naive-repeat R]``

Data (WGS84 GeoJSON, converted to EPSG:4547 metres with pyproj, vectorised):

- town: the committed demo ``data/boundaries/{cameras,buildings,communities}.geojson``
  (725 cameras, 125 buildings, 4 communities);
- city: ``var/city/`` from ``gridmap demo generate --scale city`` (≈101,000 cameras,
  ≈59,500 buildings, 375 communities; not committed).

Each camera becomes a :class:`geo.coverage.CameraSpec` from its properties; a wall
camera's ``building_index`` is the position of its ``building_code`` among the
footprints. Building the specs is input parsing and is not timed.

Per scale, printed (times are the best of the given repeats; the machine is shared
and the figures are noisy):

1. the pipeline, stage by stage, and its total (the sum of the stages' bests):
   ``Obstacles(footprints)`` (edges + STRtree, once per call in the service),
   ``visible_views`` of every camera (2 rays per degree + corner rays, occlusion by
   all footprints), ``coverage`` (union of the online cameras' views), ``watchable``
   (the union of the communities, made once and not timed, minus the footprints) and
   ``gaps`` (watchable minus coverage, in parts); each called with its defaults
   (threads: one per CPU); targets: town < 0.5 s, city < 60 s on 2 cores;
2. the peer: :func:`geo.coverage.naive_visible_view` (one shapely ``LineString`` per
   ray, ``intersection`` with each footprint the STRtree returns, nearest hit; no
   corner rays) on every town camera and on a random sample of ``--sample`` city
   cameras (seed fixed), extrapolated to all cameras in proportion (best of
   ``--naive-repeat``); the ratio naive ÷ ours for the views alone, and for the
   pipeline with the naive views in place of ours; the views' areas compared (mean and max relative difference):
   ours against naive (they differ by the plain casting error at silhouette corners,
   which corner rays remove) and ``visible_views(corner_rays=False)`` against naive
   (the same rays: must agree to rounding);
3. the identity covered + gaps = watchable (target: within 0.1 %), with the covered
   area computed independently of :func:`geo.coverage.gaps`: the sum of the areas of
   the pairwise intersections of watchable's parts with coverage's parts (both sets
   of parts are disjoint).

4. ``--stored`` (issue 12): the same work as the service does it on the stored town —
   ``geo.coverage_service.recompute_all`` on the database of the scale (``--town-db``,
   ``--city-db``; default ``gridmap`` and ``gridmap_city`` in the embedded cluster): once with
   ``force`` (every view cast and stored, then every grid's coverage and gaps stored) and once
   as ``gridmap coverage recompute`` runs after a change elsewhere (views' digests checked,
   none stale; every grid again); each committed, as the command does. Printed with the ratio
   stored ÷ in-process pipeline (target: within 2×).

Nothing is asserted about wall-clock time: this prints figures, it is not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from geo import coverage as cov
from geo.crs import METRIC_CRS_DEFAULT, transformer
from bench.common import progress

ROOT = Path(__file__).resolve().parent.parent
DIRS = {"town": ROOT / "data" / "boundaries", "city": ROOT / "var" / "city"}
TARGET_S = {"town": 0.5, "city": 60.0}
RAYS_PER_DEGREE = 2.0
SEED = 20260301




def fmt_s(s: float) -> str:
    return f"{s * 1e3:8.1f} ms" if s < 1 else f"{s:8.3f} s "


def _best(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    times, out = [], None
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times), out


# --------------------------------------------------------------------------- data


@dataclass
class Scene:
    name: str
    specs: list[cov.CameraSpec]
    footprints: np.ndarray
    communities: np.ndarray
    online: np.ndarray


def _features(path: Path) -> tuple[list[dict[str, Any]], np.ndarray]:
    with open(path, encoding="utf-8") as f:
        feats = json.load(f)["features"]
    geoms = shapely.from_geojson([json.dumps(ft["geometry"]) for ft in feats])
    t = transformer("EPSG:4326", METRIC_CRS_DEFAULT)
    geoms = shapely.transform(geoms, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))
    return [ft["properties"] for ft in feats], np.asarray(geoms, dtype=object)


def load(scale: str) -> Scene:
    d = DIRS[scale]
    missing = [n for n in ("cameras", "buildings", "communities") if not (d / f"{n}.geojson").exists()]
    if missing:
        sys.exit(f"{d}: missing {', '.join(missing)}.geojson"
                 + (" (run `.venv/bin/gridmap demo generate --seed 1 --scale city`)" if scale == "city" else ""))
    bprops, footprints = _features(d / "buildings.geojson")
    cprops, points = _features(d / "cameras.geojson")
    _, communities = _features(d / "communities.geojson")
    position = {p["code"]: i for i, p in enumerate(bprops)}
    xy = shapely.get_coordinates(points)
    specs = [cov.CameraSpec.from_record(
        p, x=x, y=y, building_index=position.get(p.get("building_code")) if p.get("mount") == "wall" else None)
        for p, (x, y) in zip(cprops, xy)]
    online = np.fromiter((s.online for s in specs), bool, len(specs))
    return Scene(scale, specs, footprints, communities, online)


# --------------------------------------------------------------------------- measurements


def rel_diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|a - b| / max(a, b) per element; 0 where both are 0."""
    den = np.maximum(a, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, np.abs(a - b) / np.where(den > 0, den, 1.0), 0.0)


def covered_area(watch: Any, covered: Any) -> float:
    """Area of watchable ∩ coverage, summed over pairs of their (disjoint) parts."""
    wp = np.asarray(shapely.get_parts(watch), dtype=object)
    cp = np.asarray(shapely.get_parts(covered), dtype=object)
    if wp.size == 0 or cp.size == 0:
        return 0.0
    ci, wi = shapely.STRtree(wp).query(cp, predicate="intersects")
    return float(shapely.area(shapely.intersection(wp[wi], cp[ci])).sum())


def run_scale(scale: str, repeat: int, heavy_repeat: int, sample: int, naive_repeat: int) -> dict[str, Any]:
    print(f"\n=== {scale}: {DIRS[scale].relative_to(ROOT)} ===", flush=True)
    t0 = time.perf_counter()
    sc = load(scale)
    n = len(sc.specs)
    progress(f"{scale}: loaded {n:,} cameras ({int(sc.online.sum()):,} online), {len(sc.footprints):,} buildings, "
         f"{len(sc.communities):,} communities, converted to {METRIC_CRS_DEFAULT} in "
         f"{time.perf_counter() - t0:.1f} s (not timed)")

    rows: list[tuple[str, float, float, int]] = []

    def stage(label: str, fn: Callable[[], Any], rep: int) -> Any:
        best, med, out = _best(fn, rep)
        rows.append((label, best, med, rep))
        progress(f"{scale}: {label}: best {best:.3f} s of {rep}")
        return out

    # 1. the pipeline
    obs = stage("Obstacles(footprints): edges + STRtree", lambda: cov.Obstacles(sc.footprints), repeat)
    views = stage(f"visible_views, {n:,} cameras, {RAYS_PER_DEGREE:g} rays/degree + corner rays",
                  lambda: cov.visible_views(sc.specs, obstacles=obs, rays_per_degree=RAYS_PER_DEGREE), repeat)
    n_online = int((sc.online & ~shapely.is_empty(views)).sum())
    covered = stage(f"coverage: union of {n_online:,} online views",
                    lambda: cov.coverage(views, online_mask=sc.online), heavy_repeat)
    area = shapely.union_all(sc.communities)
    watch = stage(f"watchable: {len(sc.communities)} communities − footprints",
                  lambda: cov.watchable(area, obs), heavy_repeat)
    holes = stage("gaps: watchable − coverage, in parts", lambda: cov.gaps(watch, covered), heavy_repeat)
    total = sum(r[1] for r in rows)
    target = TARGET_S[scale]
    verts = shapely.get_num_coordinates(views[sc.online])
    print(f"\n--- {scale}: 1. views, coverage, gaps (best of {repeat} for the first two stages, "
          f"of {heavy_repeat} for the others) ---")
    w = max(len(r[0]) for r in rows)
    print(f"{'stage':<{w}}  {'best':>11}  {'median':>11}  runs")
    print(f"{'-' * w}  {'-' * 11}  {'-' * 11}  ----")
    for label, best, med, rep in rows:
        print(f"{label:<{w}}  {fmt_s(best)}  {fmt_s(med)}  {rep:>4}")
    print(f"{'TOTAL (sum of the bests)':<{w}}  {fmt_s(total)}")
    print(f"TOTAL {scale}: {total:.3f} s (target < {target:g} s: {'met' if total < target else 'MISSED'}); "
          f"coverage {covered.area / 1e6:,.3f} km² in {shapely.get_num_geometries(covered):,} parts, "
          f"{shapely.get_num_coordinates(covered):,} vertices (online views: {verts.mean():.0f} vertices "
          f"on average); watchable {watch.area / 1e6:,.3f} km²; {len(holes):,} gaps, largest "
          f"{(holes[0].area if holes else 0.0):,.0f} m²")

    # 2. the peer
    rng = np.random.default_rng(SEED)
    if sample <= 0 or sample >= n:
        idx = np.arange(n)
    else:
        idx = np.sort(rng.choice(n, sample, replace=False))
    sub = [sc.specs[i] for i in idx]
    print(f"\n--- {scale}: 2. peer: naive_visible_view (one LineString per ray, shapely intersection per "
          f"footprint), {'all' if idx.size == n else 'a random sample of'} {idx.size:,} cameras ---", flush=True)
    t_naive, _, naive = _best(lambda: [cov.naive_visible_view(s, obstacles=obs, rays_per_degree=RAYS_PER_DEGREE)
                                       for s in sub], naive_repeat)
    naive = np.asarray(naive, dtype=object)
    progress(f"{scale}: naive on {idx.size:,} cameras: best {t_naive:.2f} s of {naive_repeat}")
    t_ours_s, _, _ = _best(lambda: cov.visible_views(sub, obstacles=obs, rays_per_degree=RAYS_PER_DEGREE), repeat)
    _, _, plain = _best(lambda: cov.visible_views(sub, obstacles=obs, rays_per_degree=RAYS_PER_DEGREE,
                                                  corner_rays=False), 1)
    t_views = rows[1][1]
    scale_up = n / idx.size
    t_naive_all = t_naive * scale_up
    how = "" if idx.size == n else f" (extrapolated ×{scale_up:,.1f} from the sample)"
    print(f"naive_visible_view, {idx.size:,} cameras: {t_naive:.2f} s = {t_naive / idx.size * 1e3:.2f} ms/camera "
          f"(best of {naive_repeat}); visible_views on the same cameras: {t_ours_s * 1e3:.1f} ms "
          f"(best of {repeat}) = {t_ours_s / idx.size * 1e6:.1f} µs/camera")
    print(f"naive, all {n:,} cameras: {t_naive_all:,.1f} s{how}; visible_views, all: {t_views:.3f} s")
    pipe_naive = total - t_views + t_naive_all  # the naive cast uses the same Obstacles (its STRtree)
    print(f"RATIO views naive / ours = {t_naive_all / t_views:,.0f}x (same sample: {t_naive / t_ours_s:,.0f}x); "
          f"pipeline with naive views / ours = {pipe_naive:,.1f} s / {total:.3f} s = {pipe_naive / total:,.1f}x")
    a_ours, a_naive, a_plain = shapely.area(views[idx]), shapely.area(naive), shapely.area(plain)
    d1, d2 = rel_diff(a_ours, a_naive), rel_diff(a_plain, a_naive)
    e_ours, e_naive = shapely.is_empty(views[idx]), shapely.is_empty(naive)
    print(f"areas, ours (corner rays) vs naive: mean rel diff {d1.mean():.2e}, max {d1.max():.2e}, "
          f"{(d1 > 1e-3).sum():,} of {idx.size:,} cameras differ by > 0.1 %; total {a_ours.sum():,.0f} vs "
          f"{a_naive.sum():,.0f} m² ({(a_ours.sum() - a_naive.sum()) / a_naive.sum():+.2e})")
    print(f"areas, ours with corner_rays=False (the same rays) vs naive: mean rel diff {d2.mean():.2e}, "
          f"max {d2.max():.2e}; empty views: ours {int(e_ours.sum())}, naive {int(e_naive.sum())}, "
          f"disagreeing {int((e_ours != e_naive).sum())}")

    # 3. the identity
    t_id, _, seen = _best(lambda: covered_area(watch, covered), 1)
    gap_m2 = float(sum(h.area for h in holes))
    w_m2 = float(watch.area)
    err = (seen + gap_m2 - w_m2) / w_m2
    print(f"\n--- {scale}: 3. covered + gaps = watchable ---")
    print(f"covered (Σ area of watchable part ∩ coverage part, {t_id:.1f} s) {seen:,.1f} m² "
          f"+ gaps {gap_m2:,.1f} m² = {seen + gap_m2:,.1f} m²; watchable {w_m2:,.1f} m²; relative error {err:+.1e} "
          f"(target |error| < 1e-3: {'met' if abs(err) < 1e-3 else 'MISSED'}); coverage ratio {seen / w_m2:.1%}")
    progress(f"{scale}: done")
    return {"scale": scale, "n": n, "total": total, "target": target, "views": t_views, "naive": t_naive_all,
            "sampled": idx.size < n, "pipe_ratio": pipe_naive / total, "area_mean": d1.mean(),
            "area_max": d1.max(), "identity": err, "stages": rows}


def run_stored(scale: str, database: str) -> dict[str, float]:
    """The stored recompute on ``database`` (a name in the embedded cluster, or a URL): forced, then again."""
    from geo import coverage_service
    from geo.config import Settings
    from geo.store.db import database_url, make_engine

    url = database if "://" in database else database_url(Settings(pg_database=database))
    engine = make_engine(url)
    out: dict[str, float] = {}
    try:
        for label, force in (("force", True), ("unchanged", False)):
            t0 = time.perf_counter()
            counts = coverage_service.recompute_all(engine, force=force)
            out[label] = time.perf_counter() - t0
            progress(f"{scale}: stored recompute ({label}): {out[label]:.1f} s, {counts}")
    finally:
        engine.dispose()
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.coverage", description=__doc__.splitlines()[0])
    ap.add_argument("--scale", choices=("town", "city", "both"), default="both")
    ap.add_argument("--repeat", type=int, default=5,
                    help="runs per stage, best taken (default 5); at city scale only for Obstacles and views")
    ap.add_argument("--city-repeat", type=int, default=2,
                    help="runs of the city's coverage, watchable and gaps stages, best taken (default 2; "
                         "≈25-65 s a run)")
    ap.add_argument("--sample", type=int, default=1000,
                    help="city cameras the naive peer runs on, extrapolated (default 1,000); the town: all")
    ap.add_argument("--naive-repeat", type=int, default=2, help="runs of the naive peer, best taken (default 2)")
    ap.add_argument("--stored", action="store_true",
                    help="also run the service's stored recompute on each scale's database (writes to it)")
    ap.add_argument("--town-db", default="gridmap", help="the town's database for --stored (default gridmap)")
    ap.add_argument("--city-db", default="gridmap_city", help="the city's database for --stored (default gridmap_city)")
    args = ap.parse_args(argv)
    print(f"bench/coverage — {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, shapely {shapely.__version__} "
          f"(GEOS {shapely.geos_version_string}), numpy {np.__version__}; {RAYS_PER_DEGREE:g} rays/degree; "
          f"--repeat {args.repeat}, --city-repeat {args.city_repeat}, --naive-repeat {args.naive_repeat}, "
          f"--sample {args.sample:,}", flush=True)
    scales = ["town", "city"] if args.scale == "both" else [args.scale]
    out = []
    for s in scales:
        heavy = args.repeat if s == "town" else args.city_repeat
        out.append(run_scale(s, args.repeat, heavy, 0 if s == "town" else args.sample, args.naive_repeat))
        if args.stored:
            st = run_stored(s, args.town_db if s == "town" else args.city_db)
            out[-1]["stored"] = st
            print(f"\n--- {s}: 4. stored recompute (geo.coverage_service.recompute_all, committed) ---")
            for label, secs in st.items():
                r = secs / out[-1]["total"]
                print(f"stored, {label}: {secs:.1f} s; RATIO stored / in-process pipeline = {r:.2f}x "
                      f"(target <= 2x: {'met' if r <= 2 else 'MISSED'})")
    print("\n=== summary ===")
    head = ["scale", "cameras", "total (target)", "views", "naive views", "views naive/ours",
            "pipeline naive/ours", "area diff mean / max", "identity"]
    body = [[r["scale"], f"{r['n']:,}",
             f"{r['total']:.3f} s (< {r['target']:g} s: {'met' if r['total'] < r['target'] else 'MISSED'})",
             f"{r['views']:.3f} s", f"{r['naive']:,.1f} s{' (extrap.)' if r['sampled'] else ''}",
             f"{r['naive'] / r['views']:,.0f}x", f"{r['pipe_ratio']:.1f}x",
             f"{r['area_mean']:.1e} / {r['area_max']:.1e}", f"{r['identity']:+.1e}"] for r in out]
    widths = [max(len(x[i]) for x in [head, *body]) for i in range(len(head))]
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip())
    print("  ".join("-" * w for w in widths))
    for row in body:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
    for r in out:
        if "stored" in r:
            st = r["stored"]
            print(f"{r['scale']}: stored recompute force {st['force']:.1f} s ({st['force'] / r['total']:.2f}x the "
                  f"in-process {r['total']:.1f} s), views unchanged {st['unchanged']:.1f} s "
                  f"({st['unchanged'] / r['total']:.2f}x)")
    progress("done")


if __name__ == "__main__":
    main()
