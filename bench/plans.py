"""bench/plans — loading, validating, editing and publishing a grid plan, with PostGIS SQL as the validation peer.

Run: ``.venv/bin/python -m bench.plans [--scale town|city|both] [--repeats N] [--town-db NAME] [--city-db NAME]
[--profile] [--keep-drafts]``

Databases (embedded cluster, migrated to head): the town ``gridmap`` (50 grids, 125
buildings) and the city ``gridmap_city`` (≈6,000 grids, ≈59,500 buildings); a full
SQLAlchemy URL works too.

Per scale the bench makes three drafts of the published plan (:func:`geo.plans.create_draft`,
timed): *clean* (validated and published), *injected* (problems put in on purpose) and
*edits* (buildings moved and moved back). Printed (best and median of ``--repeats``;
default 5 at town scale, 3 at city scale):

1. load: :func:`geo.store.plans.plan_layers` (PostGIS → GeoDataFrames in EPSG:4547);
2. validate: :func:`geo.plan_checks.validate` on the loaded layers (all 8 kinds + the
   per-grid metrics);
3. the peer: the same checks in PostGIS SQL on the same plan, from the stored WGS84
   geometries (ST_Transform to EPSG:4547 into indexed temporary tables, then one query per
   check: invalid, outside the community, overlaps (``&&`` self-join, ``ST_Relate
   'T********'``, intersection > 1 m²), gaps (community − ST_Union of its grids, parts
   > 1 m²), buildings split (sum of the shares − the largest > 1 m²), non-contiguous (parts
   > 1 m²), households and population per grid (point on surface covered by the grid, lowest
   code on ties; the band test on the totals). The problems both find are compared, kind by
   kind, on the clean plan and on the injected one (grids on a community's edge shifted 5 m
   away from its centre — 1 in the town, 10 in the city, in different communities — and one
   grid given a detached 20 × 20 m square inside a neighbour, over the edge of one of its
   buildings, all with ``reshape_grid(neighbours="keep")``): any difference is printed as MISMATCH;
   ratio = ours ÷ PostGIS, for load + validate (both start from the database) and for
   validate alone;
4. publish: ``publish(check=False)`` (the bare swap), ``publish(check=True,
   acknowledge_warnings=True)`` and, when ``publish`` takes ``on_published``, the API's call
   (with :func:`geo.coverage_service.on_plan_published`); ratio checked ÷ bare. Each
   publish runs in a transaction the bench rolls back (``publish`` gets a stand-in whose
   ``begin()`` hands out that transaction's connection), after ``SET CONSTRAINTS ALL
   IMMEDIATE`` has run the deferred checks a COMMIT would run; the published plan never
   changes. Inside that transaction, with the draft published but not committed, the
   lookup switch is timed: ``published_plan`` + ``build_index`` with the current index's
   places reused, which is what a worker's ``LookupService.refresh`` does (it polls every
   0.25 s);
5. edits: ``assign_building`` (a building at a grid border moved to the nearest other grid of
   its community) then ``undo``, ``--repeats`` different buildings on the *edits* draft, each
   with the number of buildings in its community (``assign_building`` tessellates the whole
   community) and of grids it changed; at the end the draft's grids must be byte-identical to
   the published plan's.

``--profile`` adds cProfile's top functions for one ``validate`` and one ``assign_building``.

Left behind: nothing in the plans — the three drafts are deleted at the end (``--keep-drafts``
keeps them), the publishes were rolled back; the audit log keeps the drafts' copy and edit
rows, and plan/grid ids move on. The published plan's grids are fingerprinted (md5 of codes
+ WKB) before and after, and the result printed.

Nothing is asserted about wall-clock time: this prints figures, it is not a test.
"""

from __future__ import annotations

import argparse
import cProfile
import inspect
import io
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
import shapely.affinity
from sqlalchemy import Connection, Engine, text

from geo import plan_edits, plans
from geo.store import plans as plan_store
from geo.config import Settings
from geo.crs import METRIC_CRS_DEFAULT, from_metric
from geo.lookup import build_index
from geo.plan_checks import KINDS, SLIVER_M2, Bands, Report, validate
from geo.store.db import cluster_for, make_engine
from geo.store.queries import published_plan
from bench.common import T0, loadavg, progress

ACTOR = "bench/plans"
SEED = 20260301
SHIFT_M = 5.0
SQUARE_M = 20.0
BANDS = Bands()
EPSG = int(METRIC_CRS_DEFAULT.split(":")[1])


# --------------------------------------------------------------------------- output




def fmt_s(s: float) -> str:
    return f"{s * 1e3:.1f} ms" if s < 1 else f"{s:.2f} s"


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    out = ["  ".join(str(h).ljust(w) for h, w in zip(header, widths)).rstrip(), "  ".join("-" * w for w in widths)]
    for r in rows:
        out.append("  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                             for i, (c, w) in enumerate(zip(r, widths))).rstrip())
    return "\n".join(out)


@dataclass
class Timing:
    label: str
    times: list[float] = field(default_factory=list)

    @property
    def best(self) -> float:
        return min(self.times)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    def row(self) -> list[str]:
        return [self.label, fmt_s(self.best), fmt_s(self.median), str(len(self.times))]


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def database_url(name: str) -> str:
    return name if "://" in name else cluster_for(Settings()).url(name)


def fingerprint(conn: Connection, plan_id: int) -> tuple[int, str]:
    """(grids, md5 of every code and WKB) of a plan."""
    row = conn.execute(text(
        "SELECT count(*) AS n, md5(string_agg(code || ':' || encode(ST_AsBinary(geom), 'hex'), ',' ORDER BY code)) "
        "AS h FROM grid WHERE plan_id = :p"), {"p": plan_id}).one()
    return int(row.n), str(row.h)


def plan_version(engine: Engine, plan_id: int) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT version FROM grid_plan WHERE id = :p"), {"p": plan_id}).scalar_one())


# --------------------------------------------------------------------------- the PostGIS peer

PEER_SETUP = [
    ("transform + index grids",
     f"CREATE TEMP TABLE v_grid ON COMMIT DROP AS SELECT g.code, g.community_id, ST_Transform(g.geom, {EPSG}) AS geom "
     "FROM grid g WHERE g.plan_id = :p; CREATE INDEX ON v_grid USING gist (geom); ANALYZE v_grid"),
    ("transform communities",
     f"CREATE TEMP TABLE v_comm ON COMMIT DROP AS SELECT c.id, c.code, ST_Transform(c.geom, {EPSG}) AS geom "
     "FROM community c; ANALYZE v_comm"),
    ("transform + index buildings",
     f"CREATE TEMP TABLE v_building ON COMMIT DROP AS SELECT b.id, b.code, ST_Transform(b.geom, {EPSG}) AS geom "
     "FROM building b; CREATE INDEX ON v_building USING gist (geom); ANALYZE v_building"),
]
S = SLIVER_M2
PEER_CHECKS = {
    "invalid_geometry": "SELECT code FROM v_grid WHERE ST_IsEmpty(geom) OR NOT ST_IsValid(geom) "
                        "OR GeometryType(geom) NOT IN ('POLYGON', 'MULTIPOLYGON')",
    "outside_community": f"SELECT g.code FROM v_grid g JOIN v_comm c ON c.id = g.community_id "
                         f"WHERE ST_Area(ST_Difference(g.geom, c.geom)) > {S}",
    "overlap": f"""SELECT a.code, b.code FROM v_grid a JOIN v_grid b ON a.code < b.code AND a.geom && b.geom
                  WHERE ST_Relate(a.geom, b.geom, 'T********') AND ST_Area(ST_Intersection(a.geom, b.geom)) > {S}""",
    "gap": f"""SELECT c.code, ST_Area(d.geom) FROM v_comm c
              CROSS JOIN LATERAL (SELECT ST_Union(g.geom) AS u FROM v_grid g WHERE g.community_id = c.id) x
              CROSS JOIN LATERAL ST_Dump(ST_Difference(c.geom, coalesce(x.u, 'POLYGON EMPTY'::geometry))) d
              WHERE ST_Area(d.geom) > {S}""",
    "building_split": f"""WITH hits AS (SELECT b.id AS bid, g.code AS gcode, count(*) OVER (PARTITION BY b.id) AS n
                                     FROM v_building b JOIN v_grid g ON ST_Intersects(b.geom, g.geom)),
                         shares AS (SELECT h.bid, ST_Area(ST_Intersection(b.geom, g.geom)) AS a FROM hits h
                                    JOIN v_building b ON b.id = h.bid JOIN v_grid g ON g.code = h.gcode WHERE h.n > 1)
                         SELECT b.code FROM shares s JOIN v_building b ON b.id = s.bid
                         GROUP BY b.code HAVING sum(s.a) - max(s.a) > {S}""",
    "non_contiguous": f"""SELECT code FROM (SELECT g.code, (ST_Dump(g.geom)).geom AS part FROM v_grid g) d
                         WHERE ST_Area(part) > {S} GROUP BY code HAVING count(*) > 1""",
    "totals": """WITH pts AS MATERIALIZED (SELECT id, ST_PointOnSurface(geom) AS pt FROM v_building),
                 owner AS (SELECT DISTINCT ON (b.id) b.id, g.code FROM pts b
                           JOIN v_grid g ON ST_CoveredBy(b.pt, g.geom) ORDER BY b.id, g.code),
                 hh AS (SELECT building_id, sum(households) AS h, sum(population) AS p FROM unit GROUP BY building_id)
                 SELECT g.code, coalesce(sum(hh.h), 0) AS h, coalesce(sum(hh.p), 0) AS p
                 FROM v_grid g LEFT JOIN owner o ON o.code = g.code LEFT JOIN hh ON hh.building_id = o.id
                 GROUP BY g.code""",
}


@dataclass
class Found:
    """Problems in a comparable form: kind -> keys (gap: areas), and per-grid (households, population)."""

    keys: dict[str, set[Any]]
    gap_areas: list[float]
    totals: dict[str, tuple[int, int]]


def band_keys(totals: dict[str, tuple[int, int]], bands: Bands) -> dict[str, set[Any]]:
    hh = {c for c, (h, _p) in totals.items() if not bands.households[0] <= h <= bands.households[1]}
    pop = {c for c, (_h, p) in totals.items() if not bands.population[0] <= p <= bands.population[1]}
    return {"households_band": hh, "population_band": pop}


def peer_validate(engine: Engine, plan_id: int, bands: Bands) -> tuple[Found, dict[str, float]]:
    """The checks in PostGIS SQL, in one transaction rolled back at the end (temporary tables)."""
    steps: dict[str, float] = {}
    with engine.connect() as conn:
        for label, sql in PEER_SETUP:
            t = time.perf_counter()
            for stmt in sql.split("; "):
                conn.execute(text(stmt), {"p": plan_id})
            steps[label] = time.perf_counter() - t
        rows: dict[str, list[Any]] = {}
        for kind, sql in PEER_CHECKS.items():
            t = time.perf_counter()
            rows[kind] = conn.execute(text(sql)).all()
            steps[kind if kind != "totals" else "households + population per grid"] = time.perf_counter() - t
        conn.rollback()
    keys: dict[str, set[Any]] = {k: set() for k in KINDS}
    for kind in ("invalid_geometry", "outside_community", "non_contiguous"):
        keys[kind] = {r[0] for r in rows[kind]}
    keys["overlap"] = {(r[0], r[1]) for r in rows["overlap"]}
    keys["building_split"] = {r[0] for r in rows["building_split"]}
    gaps = [float(r[1]) for r in rows["gap"]]
    keys["gap"] = {(r[0], i) for i, r in enumerate(sorted(rows["gap"]))}
    totals = {r.code: (int(r.h), int(r.p)) for r in rows["totals"]}
    keys.update(band_keys(totals, bands))  # the band test on the SQL's totals (a comparison per grid)
    return Found(keys, gaps, totals), steps


def ours_found(report: Report, communities: gpd.GeoDataFrame) -> Found:
    keys: dict[str, set[Any]] = {k: set() for k in KINDS}
    gaps: list[tuple[str, float]] = []
    for p in report.problems:
        if p.kind == "overlap":
            keys["overlap"].add(tuple(p.grids))
        elif p.kind == "building_split":
            keys["building_split"].add(p.buildings[0])
        elif p.kind == "gap":
            inside = shapely.covered_by(shapely.point_on_surface(p.geometry), np.asarray(communities.geometry.values))
            gaps.append((str(communities["code"].iloc[int(np.argmax(inside))]), float(p.geometry.area)))
        else:
            keys[p.kind].add(p.grids[0])
    keys["gap"] = {(c, i) for i, (c, _a) in enumerate(sorted(gaps))}
    totals = {m["code"]: (int(m["households"]), int(m["population"])) for m in report.metrics}
    return Found(keys, [a for _c, a in gaps], totals)


def compare(ours: Found, peer: Found) -> tuple[list[list[str]], list[str]]:
    """Rows kind | severity | ours | PostGIS | agree, and the mismatches spelled out."""
    rows, bad = [], []
    for kind, severity in KINDS.items():
        a, b = ours.keys[kind], peer.keys[kind]
        if kind == "gap":  # pieces: compare how many per community, and the total area
            per = lambda keys: sorted(c for c, _i in keys)  # noqa: E731
            sa, sb = sum(ours.gap_areas), sum(peer.gap_areas)
            same = per(a) == per(b) and abs(sa - sb) <= max(0.01 * max(sa, sb), 0.5)
            extra = f" ({sa:,.1f} vs {sb:,.1f} m²)" if (a or b) else ""
            if not same:
                bad.append(f"gap: ours {len(a)} pieces {sa:,.1f} m², PostGIS {len(b)} pieces {sb:,.1f} m²")
        else:
            same, extra = a == b, ""
            if not same:
                bad.append(f"{kind}: only ours {sorted(a - b)[:5]}, only PostGIS {sorted(b - a)[:5]}")
        rows.append([kind, severity, f"{len(a):,}{extra}", f"{len(b):,}", "yes" if same else "MISMATCH"])
    diff = [c for c in ours.totals.keys() | peer.totals.keys() if ours.totals.get(c) != peer.totals.get(c)]
    rows.append(["(per-grid households, population)", "", f"{len(ours.totals):,} grids", f"{len(peer.totals):,} grids",
                 "yes" if not diff else f"MISMATCH on {len(diff)}"])
    if diff:
        bad.append("per-grid totals differ: " + ", ".join(
            f"{c} ours {ours.totals.get(c)} PostGIS {peer.totals.get(c)}" for c in sorted(diff)[:5]))
    return rows, bad


# --------------------------------------------------------------------------- problems on purpose


def inject(engine: Engine, plan_id: int, grids: gpd.GeoDataFrame, communities: gpd.GeoDataFrame,
           buildings: gpd.GeoDataFrame, shifts: int) -> list[str]:
    """Shift ``shifts`` border grids 5 m outwards; give another a detached square over a neighbour's building (keep)."""
    geoms = np.asarray(grids.geometry.values)
    codes = np.asarray(grids["code"])
    ccode = np.asarray(grids["community_code"])
    region = dict(zip(communities["code"], communities.geometry))
    tree = shapely.STRtree(geoms)
    touching = tree.query(geoms, predicate="touches")
    neighbours = np.bincount(touching[0], minlength=len(geoms))
    done: list[str] = []
    # 1. grids on their community's edge, with neighbours, pushed 5 m away from the community's centre
    border = [i for i in range(len(geoms)) if neighbours[i] >= 2
              and shapely.intersection(geoms[i].boundary, region[ccode[i]].boundary).length > 50]
    if not border:
        border = [int(np.argmax(neighbours))]
    picked: list[int] = []
    for i in border[len(border) // (2 * shifts)::max(1, len(border) // shifts)]:
        if len(picked) < shifts and ccode[i] not in {ccode[p] for p in picked}:
            picked.append(i)
    for a in picked:
        c0, c1 = region[ccode[a]].centroid, geoms[a].centroid
        d = np.array([c1.x - c0.x, c1.y - c0.y])
        d = d / (np.linalg.norm(d) or 1.0) * SHIFT_M
        moved = shapely.affinity.translate(geoms[a], d[0], d[1])
        plan_edits.reshape_grid(engine, plan_id=plan_id, version=plan_version(engine, plan_id), code=codes[a],
                           geometry=from_metric(moved), neighbours="keep", actor=ACTOR)
    done.append(f"{len(picked)} grid(s) shifted {SHIFT_M:g} m outwards ({', '.join(codes[picked][:3])}"
                f"{', ...' if len(picked) > 3 else ''})")
    used = {ccode[p] for p in picked}
    # 2. a grid of another community given a detached square inside a grid of its community it does not
    #    touch, over the east edge of one of that grid's buildings (so the building is split too)
    from geo.plan_checks import building_grids

    owner = building_grids(grids, buildings)
    fps = np.asarray(buildings.geometry.values)
    for b in range(len(geoms)):
        if ccode[b] in used:
            continue
        for j in np.nonzero(ccode == ccode[b])[0]:
            if j == b or geoms[j].intersects(geoms[b]):
                continue
            for k in np.nonzero(owner == j)[0]:
                _x0, y0, x1, y1 = fps[k].bounds
                cy, h = (y0 + y1) / 2, SQUARE_M / 2
                sq = shapely.box(x1 - h, cy - h, x1 + h, cy + h)
                if geoms[j].contains(sq) and shapely.intersection(sq, fps[k]).area > 5 * SLIVER_M2:
                    plan_edits.reshape_grid(engine, plan_id=plan_id, version=plan_version(engine, plan_id),
                                       code=codes[b], geometry=from_metric(shapely.union(geoms[b], sq)),
                                       neighbours="keep", actor=ACTOR)
                    done.append(f"grid {codes[b]} given a detached {SQUARE_M:g} × {SQUARE_M:g} m square inside grid "
                                f"{codes[j]}, over building {buildings['code'].iloc[k]}")
                    return done
    return done


def pick_moves(grids: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame, k: int,
               rng: np.random.Generator) -> list[tuple[str, str, float, int]]:
    """``3k`` candidate (building, target grid, distance m, buildings in its community): buildings at a border,
    moved to the nearest other grid of their own community."""
    from geo.plan_checks import building_grids

    owner = building_grids(grids, buildings)
    geoms = np.asarray(grids.geometry.values)
    gcomm = np.asarray(grids["community_code"])
    bcomm = np.asarray(buildings["community_code"])
    fps = np.asarray(buildings.geometry.values)
    bi, gi = shapely.STRtree(geoms).query(fps, predicate="dwithin", distance=30.0)
    ok = (owner[bi] >= 0) & (gi != owner[bi]) & (gcomm[gi] == bcomm[bi])
    bi, gi = bi[ok], gi[ok]
    dist = shapely.distance(fps[bi], geoms[gi])
    best: dict[int, tuple[float, int]] = {}
    for b, g, dd in zip(bi, gi, dist):
        if b not in best or dd < best[b][0]:
            best[b] = (float(dd), int(g))
    cand = sorted(best)
    pick = rng.choice(len(cand), min(len(cand), 3 * k), replace=False) if cand else []
    codes = np.asarray(grids["code"])
    bcodes = np.asarray(buildings["code"])
    size = buildings["community_code"].value_counts()
    return [(str(bcodes[cand[i]]), str(codes[best[cand[i]][1]]), best[cand[i]][0], int(size[bcomm[cand[i]]]))
            for i in pick]


# --------------------------------------------------------------------------- publishing without committing


class InTransaction:
    """Stands in for the Engine given to ``publish``: ``begin()`` hands out one connection whose
    transaction the caller rolls back."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        yield self.conn


def profile_top(fn: Callable[[], Any], n: int = 12) -> str:
    pr = cProfile.Profile()
    pr.enable()
    fn()
    pr.disable()
    out = io.StringIO()
    pstats.Stats(pr, stream=out).sort_stats("tottime").print_stats(n)
    lines = [ln for ln in out.getvalue().splitlines() if ln.strip()]
    start = next((i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls")), 0)
    head = next((ln.strip() for ln in lines if "function calls" in ln), "")
    return "\n".join([head, *[ln.replace(os.getcwd() + "/", "") for ln in lines[start:]]])


# --------------------------------------------------------------------------- one scale


def run_scale(scale: str, database: str, repeats: int, args: argparse.Namespace) -> dict[str, Any]:
    print(f"\n=== {scale}: database {database.rsplit('/', 1)[-1]} ===", flush=True)
    engine = make_engine(database_url(database), pool_size=2)
    with engine.connect() as conn:
        current = published_plan(conn)
        if current is None:
            raise SystemExit(f"{database}: no published plan; load the data first (see bench/README.md)")
        rev = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        if not conn.execute(text("SELECT to_regclass('plan_edit') IS NOT NULL")).scalar():
            raise SystemExit(f"{database}: schema at {rev}, without plan_edit; migrate: "
                             f"GRIDMAP_PG_DATABASE={database} .venv/bin/gridmap db migrate")
        before = fingerprint(conn, current["id"])
    summary: dict[str, Any] = {"scale": scale}
    created: list[int] = []
    try:
        # drafts
        t_draft = Timing("create_draft (copy of the published plan)")
        for name in ("clean", "injected", "edits"):
            dt, pid = timed(lambda: plans.create_draft(engine, name=f"{ACTOR} {name}", actor=ACTOR))
            created.append(pid)
            t_draft.times.append(dt)
        clean, injected, edits_id = created
        progress(f"{scale}: published plan {current['id']} ({before[0]:,} grids); drafts {created} in "
                 f"{sum(t_draft.times):.1f} s")

        # 1-3. load, validate, the peer (interleaved, so that they share the noise)
        t_load, t_val, t_both, t_peer = (Timing(x) for x in (
            "load: plan_layers (PostGIS → GeoDataFrames, EPSG:4547)",
            "validate: plan_checks.validate (8 kinds + metrics)",
            "ours: load + validate", "PostGIS SQL: transform + all checks"))
        steps_all: list[dict[str, float]] = []
        for r in range(repeats):
            with engine.connect() as conn:
                dt, layers = timed(lambda: plan_store.plan_layers(conn, plan_id=clean))
            t_load.times.append(dt)
            grids, communities, buildings = layers
            dv, report = timed(lambda: validate(grids, communities, buildings, bands=BANDS))
            t_val.times.append(dv)
            t_both.times.append(dt + dv)
            dp, (peer, steps) = timed(lambda: peer_validate(engine, clean, BANDS))
            t_peer.times.append(dp)
            steps_all.append(steps)
            progress(f"{scale}: run {r + 1}/{repeats}: load {dt:.2f} s, validate {dv:.2f} s, PostGIS {dp:.2f} s")
        nb = len(buildings)
        print(f"\n--- {scale}: 1-3. load and validate the clean draft {clean} ({len(grids):,} grids, "
              f"{len(communities):,} communities, {nb:,} buildings), against PostGIS SQL ---")
        print(table([t.row() for t in (t_draft, t_load, t_val, t_both, t_peer)], ["step", "best", "median", "runs"]))
        best_steps = min(steps_all, key=lambda s: sum(s.values()))
        print("PostGIS SQL, its fastest run by step: " + ", ".join(f"{k} {fmt_s(v)}" for k, v in best_steps.items()))
        r_both, r_val = t_both.best / t_peer.best, t_val.best / t_peer.best
        print(f"RATIO validation: ours (load + validate) / PostGIS = {r_both:.2f} "
              f"(medians {t_both.median / t_peer.median:.2f}); validate alone / PostGIS = {r_val:.2f}")
        rows, bad_clean = compare(ours_found(report, communities), peer)

        # the injected plan
        progress(f"{scale}: injecting problems into draft {injected}")
        what = inject(engine, injected, grids, communities, buildings, 1 if scale == "town" else 10)
        with engine.connect() as conn:
            dl, (g2, c2, b2) = timed(lambda: plan_store.plan_layers(conn, plan_id=injected))
        dv2, report2 = timed(lambda: validate(g2, c2, b2, bands=BANDS))
        dp2, (peer2, _s) = timed(lambda: peer_validate(engine, injected, BANDS))
        rows2, bad_inj = compare(ours_found(report2, c2), peer2)
        print(f"\nproblems found, ours vs PostGIS — clean draft {clean}:")
        print(table(rows, ["kind", "severity", "ours", "PostGIS", "agree"]))
        print(f"injected draft {injected} ({'; '.join(what)}); ours {dl + dv2:.2f} s, PostGIS {dp2:.2f} s:")
        print(table(rows2, ["kind", "severity", "ours", "PostGIS", "agree"]))
        bad = bad_clean + bad_inj
        for b in bad:
            print(f"MISMATCH ours vs PostGIS: {b}")
        verdict = "all kinds agree on both plans" if not bad else f"{len(bad)} MISMATCH(ES)"
        print(f"AGREEMENT ours vs PostGIS: {verdict}; "
              f"problems on the injected plan: {len(report2.problems)} "
              f"({', '.join(f'{k} {len(v)}' for k, v in ours_found(report2, c2).keys.items() if v)})")

        # 4. publish, rolled back
        hook = None
        if "on_published" in inspect.signature(plans.publish).parameters:
            from geo.coverage_service import on_plan_published as hook
        variants: list[tuple[str, dict[str, Any]]] = [
            ("publish(check=False): the bare swap", {"check": False}),
            ("publish(check=True, acknowledge_warnings=True)", {"check": True, "acknowledge_warnings": True})]
        if hook is not None:
            variants.append(("  + on_published=coverage_service.on_plan_published (the API's call)",
                             {"check": True, "acknowledge_warnings": True, "on_published": hook}))
        t_pub = {label: Timing(label) for label, _ in variants}
        t_switch = Timing("lookup switch: published_plan + build_index (places reused)")
        with engine.connect() as conn:
            old_index = build_index(conn, plan=current)
        for r in range(repeats):
            for label, kw in variants[r % len(variants):] + variants[:r % len(variants)]:
                with engine.connect() as conn:
                    conn.begin()
                    version = int(conn.execute(text("SELECT version FROM grid_plan WHERE id = :p"),
                                               {"p": clean}).scalar_one())
                    t = time.perf_counter()
                    plans.publish(InTransaction(conn), plan_id=clean, actor=ACTOR, version=version, bands=BANDS, **kw)
                    conn.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))  # the deferred checks of a COMMIT
                    t_pub[label].times.append(time.perf_counter() - t)
                    if kw.get("check") and "on_published" not in kw:
                        t = time.perf_counter()
                        now = published_plan(conn)
                        index = build_index(conn, plan=now, places=old_index.places)
                        t_switch.times.append(time.perf_counter() - t)
                        assert now["id"] == clean and len(index.grids) == len(grids), "the switch saw another plan"
                    conn.rollback()
            progress(f"{scale}: publish run {r + 1}/{repeats}: "
                     + ", ".join(f"{fmt_s(t.times[-1])}" for t in t_pub.values()))
        bare, checked = t_pub[variants[0][0]], t_pub[variants[1][0]]
        print(f"\n--- {scale}: 4. publish draft {clean} (each in a transaction rolled back) ---")
        print(table([t.row() for t in [*t_pub.values(), t_switch]], ["step", "best", "median", "runs"]))
        if hook is not None:
            with engine.connect() as conn:
                cov = conn.execute(text(
                    "SELECT (SELECT count(*) FROM grid_coverage c JOIN grid g ON g.geom_key = c.geom_key "
                    "WHERE g.plan_id = :p) AS grids, (SELECT count(*) FROM camera_view) AS views"),
                    {"p": current["id"]}).one()
            print(f"the hook computes the changed grids only (stored coverage is keyed by geometry): the published plan has it for "
                  f"{cov.grids:,} of {before[0]:,} grids ({cov.views:,} stored camera views)")
        print(f"RATIO publish: check=True / check=False = {checked.best / bare.best:,.0f}x "
              f"(validation inside publish: +{fmt_s(checked.best - bare.best)}; load + validate alone: "
              f"{fmt_s(t_both.best)}); lookups follow within the 0.25 s poll + {fmt_s(t_switch.best)}")

        # 5. edits
        moves = pick_moves(grids, buildings, repeats, np.random.default_rng(SEED))
        t_assign, t_undo = Timing("assign_building (one building to a neighbouring grid)"), Timing("undo")
        per_move: list[list[str]] = []
        for building, target, dist, size in moves:
            if len(t_assign.times) >= repeats:
                break
            v = plan_version(engine, edits_id)
            try:
                da, res = timed(lambda: plan_edits.assign_building(engine, plan_id=edits_id, version=v, building=building,
                                                              grid=target, actor=ACTOR))
            except Exception as e:  # noqa: BLE001 — a refused move is reported, and another building tried
                print(f"assign_building {building} → {target} refused: {type(e).__name__}: {e}")
                continue
            du, _u = timed(lambda: plan_edits.undo(engine, plan_id=edits_id, version=res.version, actor=ACTOR))
            t_assign.times.append(da)
            t_undo.times.append(du)
            touched = len(res.changed) + len(res.created) + len(res.removed)
            per_move.append([building, target, f"{dist:.1f} m", f"{size:,}", str(touched), fmt_s(da), fmt_s(du)])
            progress(f"{scale}: assign {building} → {target} ({size} buildings in the community) {da:.2f} s, "
                     f"undo {du:.3f} s")
        with engine.connect() as conn:
            after_edits = fingerprint(conn, edits_id)
        print(f"\n--- {scale}: 5. edits on draft {edits_id} ({len(t_assign.times)} buildings moved and moved back) ---")
        print(table([t_assign.row(), t_undo.row()], ["step", "best", "median", "runs"]))
        print(table(per_move, ["building", "to grid", "distance", "buildings in its community", "grids changed",
                               "assign", "undo"]))
        print(f"after the undos the draft's grids are "
              f"{'byte-identical to' if after_edits == before else 'DIFFERENT FROM'} the published plan's")

        if args.profile:
            print(f"\n--- {scale}: profile of one validate (top by own time) ---")
            print(profile_top(lambda: validate(grids, communities, buildings, bands=BANDS)))
            if moves:
                building, target, _d, _n = moves[0]
                v = plan_version(engine, edits_id)
                holder: dict[str, Any] = {}
                print(f"\n--- {scale}: profile of one assign_building ({building} → {target}) ---")
                print(profile_top(lambda: holder.setdefault("r", plan_edits.assign_building(
                    engine, plan_id=edits_id, version=v, building=building, grid=target, actor=ACTOR))))
                plan_edits.undo(engine, plan_id=edits_id, version=holder["r"].version, actor=ACTOR)

        summary.update(grids=len(grids), buildings=nb, load=t_load.best, validate=t_val.best, both=t_both.best,
                       peer=t_peer.best, ratio=r_both, ratio_val=r_val, bare=bare.best, checked=checked.best,
                       switch=t_switch.best, assign=t_assign.best if t_assign.times else float("nan"),
                       assign_med=t_assign.median if t_assign.times else float("nan"),
                       undo=t_undo.best if t_undo.times else float("nan"), agree=not bad,
                       full=t_pub[variants[-1][0]].best if hook is not None else None)
    finally:
        if created and not args.keep_drafts:
            with engine.begin() as conn:
                conn.execute(text("DELETE FROM grid_plan WHERE id = ANY(:ids) AND status = 'draft'"), {"ids": created})
        with engine.connect() as conn:
            now = published_plan(conn)
            after = fingerprint(conn, now["id"]) if now else (0, "")
        same = now is not None and now["id"] == current["id"] and after == before
        print(f"published plan after the bench: {'unchanged' if same else 'CHANGED'} (plan {now and now['id']}, "
              f"{after[0]:,} grids, md5 {after[1][:12]}); drafts {created} "
              f"{'kept' if args.keep_drafts else 'deleted'}")
        engine.dispose()
    return summary


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.plans", description=__doc__.splitlines()[0])
    ap.add_argument("--scale", choices=("town", "city", "both"), default="both")
    ap.add_argument("--repeats", type=int, default=None,
                    help="runs of each measurement, best and median shown (default 5 at town, 3 at city scale)")
    ap.add_argument("--town-db", default="gridmap", help="database name in the embedded cluster, or a URL")
    ap.add_argument("--city-db", default="gridmap_city", help="database name in the embedded cluster, or a URL")
    ap.add_argument("--profile", action="store_true", help="print cProfile's top functions of validate and assign")
    ap.add_argument("--keep-drafts", action="store_true", help="keep the three drafts the bench makes per scale")
    args = ap.parse_args(argv)
    print(f"bench/plans — {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, shapely {shapely.__version__} "
          f"(GEOS {shapely.geos_version_string}), geopandas {gpd.__version__}; bands households "
          f"{BANDS.households}, population {BANDS.population}; load average at start {loadavg()}", flush=True)
    scales = [("town", args.town_db), ("city", args.city_db)]
    if args.scale != "both":
        scales = [s for s in scales if s[0] == args.scale]
    out = [run_scale(name, db, args.repeats or (5 if name == "town" else 3), args) for name, db in scales]
    print("\n=== summary (best of the runs) ===")
    rows = [[s["scale"], f"{s['grids']:,}", fmt_s(s["load"]), fmt_s(s["validate"]), fmt_s(s["peer"]),
             f"{s['ratio']:.2f} / {s['ratio_val']:.2f}", "yes" if s["agree"] else "MISMATCH",
             fmt_s(s["bare"]), fmt_s(s["checked"]), f"{s['checked'] / s['bare']:,.0f}x",
             fmt_s(s["full"]) if s["full"] is not None else "-", fmt_s(s["switch"]), fmt_s(s["assign"]),
             fmt_s(s["undo"])] for s in out]
    print(table(rows, ["scale", "grids", "load", "validate", "PostGIS", "ours/PostGIS (l+v / v)", "agree",
                       "publish bare", "publish checked", "checked/bare", "+ coverage hook", "lookup switch",
                       "assign", "undo"]))
    progress(f"done in {time.monotonic() - T0:.0f} s")


if __name__ == "__main__":
    main()
