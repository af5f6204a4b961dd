"""bench/gdal_city — GDAL's OAPIF driver over every collection of /ogc on the city database (issue 13).

    .venv/bin/python -m bench.gdal_city                          # database gridmap_city, several minutes
    .venv/bin/python -m bench.gdal_city --db gridmap --page-size 1000        # the town, quicker
    .venv/bin/python -m bench.gdal_city --only grids,buildings --keep var/gdal-city

Serves the app (``gridmap serve --no-setup --workers 1``, as bench/ogc.py) on a loopback port, makes a
viewer key (revoked at the end, also on error) and drives Debian's ``ogrinfo``/``ogr2ogr`` (GDAL 3.6)
with ``--config GDAL_HTTP_HEADERS "Authorization: Bearer <key>"``, as tests/api/test_ogc_gdal.py does:

1. ``ogrinfo -so OAPIF:<base>/ogc``: the collections GDAL lists, against ``GET /ogc/collections``.
2. Every collection read fully, page by page (``ogr2ogr -f GPKG ... -oo PAGE_SIZE=N``): features
   written against the collection's ``numberMatched``, pages GDAL fetched (its ``--debug`` Fetch lines),
   seconds and features/s.
3. A bbox (``-spat``, sent by GDAL as ``bbox=``) on every collection, against numberMatched of the same
   ``bbox`` over HTTP.
4. A CQL2 filter on every collection (``-where "id <= 1000"`` with ``OGR_OAPIF_ALLOW_CQL_TEXT=YES``:
   GDAL 3.6 sends it as ``filter=...&filter-lang=cql-text``, checked in its log: evaluated by the server)
   and an attribute filter with a bbox on incidents, against numberMatched over HTTP.
5. A CRS, EPSG:4547 (CGCS2000 / 3-degree Gauss-Kruger CM 114E): GDAL 3.6 has no ``CRS`` open option
   (OAPIF Part 2 came with GDAL 3.7). The server's ``crs=`` can be asked through the collection URL as
   the dataset (``OAPIF:<base>/ogc/collections/grids?crs=...``: GDAL 3.6 keeps the query on every items
   request) — but it then labels the layer CRS84; and ``-t_srs EPSG:4547`` has GDAL reproject the CRS84
   features. Both are compared with the HTTP answer's coordinates (the server sends EPSG:4547's axis
   order, northing first; GDAL writes easting first).
6. The GeoPackage of one collection (``--gpkg``, default grids) in EPSG:4547, read back by ``ogrinfo``
   with its warnings printed (none expected).

Prints counts and timings; exits 1 when a count differs (that would be a bug). The database is read
only (the key is the one write).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import make_url, text

from bench.common import loadavg, progress
from bench.load import Serve
from geo.config import Settings
from geo.keys import create_key, revoke_key
from geo.store.db import cluster_for, make_engine

CRS_4547 = "http://www.opengis.net/def/crs/EPSG/0/4547"
FILTER = "id <= 1000"


def gdal(*args: str, key: str, log: list[str] | None = None, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    run = subprocess.run([*args, "--config", "GDAL_HTTP_HEADERS", f"Authorization: Bearer {key}", "--debug", "ON"],
                         capture_output=True, text=True, timeout=timeout)
    if log is not None:
        log += [ln for ln in run.stderr.splitlines() if "Fetch(" in ln]
    if run.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])} ... failed ({run.returncode}):\n{run.stderr[-3000:]}")
    return run


def gpkg_count(path: Path, layer: str) -> int:
    run = subprocess.run(["ogrinfo", "-ro", "-so", str(path), layer], capture_output=True, text=True, check=True)
    return int(next(ln for ln in run.stdout.splitlines() if ln.startswith("Feature Count:")).split(":")[1])


def matched(http: httpx.Client, cid: str, **params: str) -> int:
    r = http.get(f"/ogc/collections/{cid}/items", params={"limit": "1", **params})
    r.raise_for_status()
    return int(r.json()["numberMatched"])


def first_coords(geom: dict[str, Any]) -> list[float]:
    c: Any = geom["coordinates"]
    while isinstance(c[0], list):
        c = c[0]
    return [float(v) for v in c[:2]]


def main() -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.gdal_city", description=__doc__.splitlines()[0])
    ap.add_argument("--db", default="gridmap_city", help="database name in the embedded cluster, or a URL")
    ap.add_argument("--page-size", type=int, default=10_000, help="GDAL's PAGE_SIZE (default 10,000, the maximum)")
    ap.add_argument("--only", default="", help="comma-separated collections for the full reads (default all)")
    ap.add_argument("--gpkg", default="grids", help="the collection written as a GeoPackage in EPSG:4547")
    ap.add_argument("--keep", default="", help="a folder to keep the GeoPackages in (default: a temporary one)")
    args = ap.parse_args()
    for tool in ("ogrinfo", "ogr2ogr"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is not installed: apt-get install gdal-bin (scripts/bootstrap.sh test)")
    url = args.db if "://" in args.db else cluster_for(Settings()).url(args.db)
    engine = make_engine(url, pool_size=1)
    info, key = create_key(engine, role="viewer", name="bench/gdal_city")
    tmp = tempfile.mkdtemp(prefix="bench-gdal-")
    out = Path(args.keep) if args.keep else Path(tmp)
    out.mkdir(parents=True, exist_ok=True)
    bad: list[str] = []
    version = subprocess.run(["ogrinfo", "--version"], capture_output=True, text=True).stdout.strip()
    print(f"bench/gdal_city — {version}, database {make_url(url).database}, PAGE_SIZE={args.page_size}, "
          f"load {loadavg()}", flush=True)
    try:
        with Serve(url, 1, tmp) as server, \
                httpx.Client(base_url=server.base, headers={"Authorization": f"Bearer {key}"}, timeout=300) as http:
            base = f"OAPIF:{server.base}/ogc"
            ids = [c["id"] for c in http.get("/ogc/collections").json()["collections"]]

            # 1. the collections
            t = time.perf_counter()
            run = gdal("ogrinfo", "-ro", "-so", base, key=key)
            listed = re.findall(r"^\d+: (\S+) \(title:", run.stdout, re.M)
            print(f"\n1. ogrinfo lists {len(listed)} collections in {time.perf_counter() - t:.2f} s: {', '.join(listed)}"
                  f" — {'same as' if listed == ids else 'DIFFERENT from'} GET /ogc/collections")
            if listed != ids:
                bad.append("collections")

            # 2. every collection, fully, page by page
            only = [c for c in args.only.split(",") if c] or ids
            print(f"\n2. full reads (ogr2ogr -f GPKG, -oo PAGE_SIZE={args.page_size})")
            print(f"{'collection':14s} {'numberMatched':>13s} {'read':>9s} {'pages':>5s} {'seconds':>8s} "
                  f"{'features/s':>10s}  result")
            for cid in only:
                n = matched(http, cid)
                log: list[str] = []
                gpkg = out / f"{cid}.gpkg"
                gpkg.unlink(missing_ok=True)
                t = time.perf_counter()
                gdal("ogr2ogr", "-f", "GPKG", str(gpkg), "-oo", f"PAGE_SIZE={args.page_size}", base, cid,
                     key=key, log=log)
                took = time.perf_counter() - t
                got = gpkg_count(gpkg, cid)
                pages = sum(f"/collections/{cid}/items" in ln for ln in log)
                ok = got == n
                bad += [] if ok else [f"full read {cid}"]
                print(f"{cid:14s} {n:13,d} {got:9,d} {pages:5d} {took:8.1f} {got / took:10,.0f}  "
                      f"{'OK' if ok else 'MISMATCH'}", flush=True)
                if cid != args.gpkg and not args.keep:
                    gpkg.unlink(missing_ok=True)
            progress("full reads done")

            # 3. a bbox on every collection; 4. a CQL2 filter on every collection
            with engine.connect() as conn:
                c = conn.execute(text("SELECT ST_X(p) AS x, ST_Y(p) AS y FROM (SELECT ST_PointOnSurface(geom) AS p "
                                      "FROM building ORDER BY id OFFSET (SELECT count(*) / 2 FROM building) "
                                      "LIMIT 1) s")).one()
            box = (round(c.x - 0.01, 5), round(c.y - 0.008, 5), round(c.x + 0.01, 5), round(c.y + 0.008, 5))
            box_s = ",".join(map(str, box))
            print(f"\n3./4. bbox {box_s} (-spat) and CQL2 '{FILTER}' (-where, OGR_OAPIF_ALLOW_CQL_TEXT=YES)")
            print(f"{'collection':14s} {'bbox HTTP':>9s} {'GDAL':>7s} {'s':>5s}  {'filter HTTP':>11s} {'GDAL':>7s} "
                  f"{'s':>5s} {'server-side':>11s}  result")
            for cid in ids:
                want_box = matched(http, cid, bbox=box_s)
                gpkg = out / f"box-{cid}.gpkg"
                t = time.perf_counter()
                log = []
                gdal("ogr2ogr", "-f", "GPKG", str(gpkg), "-oo", f"PAGE_SIZE={args.page_size}", "-spat", *map(str, box),
                     base, cid, key=key, log=log)
                t_box = time.perf_counter() - t
                got_box = gpkg_count(gpkg, cid)
                sent_box = any("bbox=" in ln for ln in log)
                gpkg.unlink()
                want_f = matched(http, cid, filter=FILTER)
                gpkg = out / f"filter-{cid}.gpkg"
                log = []
                t = time.perf_counter()
                gdal("ogr2ogr", "-f", "GPKG", str(gpkg), "-oo", f"PAGE_SIZE={args.page_size}", "-where", FILTER,
                     "--config", "OGR_OAPIF_ALLOW_CQL_TEXT", "YES", base, cid, key=key, log=log)
                t_f = time.perf_counter() - t
                got_f = gpkg_count(gpkg, cid)
                server_side = any("filter=" in ln for ln in log)
                gpkg.unlink()
                ok = got_box == want_box and got_f == want_f and sent_box and server_side
                bad += [] if ok else [f"bbox/filter {cid}"]
                print(f"{cid:14s} {want_box:9,d} {got_box:7,d} {t_box:5.1f}  {want_f:11,d} {got_f:7,d} {t_f:5.1f} "
                      f"{'yes' if server_side else 'NO':>11s}  {'OK' if ok else 'MISMATCH'}", flush=True)
            where = "category = 'dispute' AND severity >= 2"
            want = matched(http, "incidents", bbox=box_s, filter=where.replace(" = ", "=").replace(" >= ", ">="))
            gpkg = out / "incidents-filter.gpkg"
            log = []
            t = time.perf_counter()
            gdal("ogr2ogr", "-f", "GPKG", str(gpkg), "-oo", f"PAGE_SIZE={args.page_size}", "-spat", *map(str, box),
                 "-where", where, "--config", "OGR_OAPIF_ALLOW_CQL_TEXT", "YES", base, "incidents", key=key, log=log)
            got = gpkg_count(gpkg, "incidents")
            ok = got == want and any("filter=" in ln and "bbox=" in ln for ln in log)
            bad += [] if ok else ["incidents bbox+filter"]
            print(f"incidents: bbox + \"{where}\": HTTP {want:,}, GDAL {got:,} in {time.perf_counter() - t:.1f} s, "
                  f"filter and bbox sent to the server: {'OK' if ok else 'MISMATCH'}")
            gpkg.unlink()

            # 5. a CRS: EPSG:4547
            print(f"\n5. crs EPSG:4547 on {args.gpkg}")
            ref = http.get(f"/ogc/collections/{args.gpkg}/items", params={"limit": "1", "crs": CRS_4547})
            ref.raise_for_status()
            ref_xy = first_coords(ref.json()["features"][0]["geometry"])
            for how, cmd in (
                ("crs= in the dataset URL (OAPIF:.../collections/grids?crs=...)",
                 ["ogr2ogr", "-f", "GeoJSON", "/vsistdout/", "-limit", "1",
                  f"OAPIF:{server.base}/ogc/collections/{args.gpkg}?crs={CRS_4547}"]),
                ("-t_srs EPSG:4547 (GDAL reprojects CRS84)",
                 ["ogr2ogr", "-f", "GeoJSON", "/vsistdout/", "-limit", "1", "-t_srs", "EPSG:4547", base, args.gpkg]),
            ):
                log = []
                try:
                    run = gdal(*cmd, key=key, log=log)
                except RuntimeError as e:
                    print(f"  {how}: GDAL failed: {str(e)[-300:]}")
                    continue
                fc = json.loads(run.stdout)
                ft = fc["features"][0]
                xy = first_coords(ft["geometry"])
                label = fc.get("crs", {}).get("properties", {}).get("name", "?")
                sent = any("crs=" in ln for ln in log)
                same = max(abs(a - b) for a, b in zip(xy, ref_xy)) < 0.01
                swapped = max(abs(a - b) for a, b in zip(xy, ref_xy[::-1])) < 0.01
                print(f"  {how}: first vertex {xy[0]:.3f}, {xy[1]:.3f}, labelled {label}; crs= sent to the server: "
                      f"{'yes' if sent else 'no'}; the server's crs=EPSG:4547 answer {ref_xy[0]:.3f}, {ref_xy[1]:.3f} "
                      "(northing, easting: EPSG:4547's axis order) — "
                      + ("the same numbers" if same else "the same point, easting first (GIS order)" if swapped
                         else "DIFFERENT"))
                if not (same or swapped) or ft["properties"].get("code") != ref.json()["features"][0]["properties"]["code"]:
                    bad.append(f"crs ({how})")

            # 6. the GeoPackage of one collection, in EPSG:4547
            gpkg = out / f"{args.gpkg}-4547.gpkg"
            gpkg.unlink(missing_ok=True)
            t = time.perf_counter()
            gdal("ogr2ogr", "-f", "GPKG", str(gpkg), "-t_srs", "EPSG:4547", "-oo", f"PAGE_SIZE={args.page_size}", base,
                 args.gpkg, key=key)
            took = time.perf_counter() - t
            info_run = subprocess.run(["ogrinfo", "-ro", "-so", str(gpkg), args.gpkg], capture_output=True, text=True)
            n = gpkg_count(gpkg, args.gpkg)
            srs = "EPSG:4547" if 'ID["EPSG",4547]' in info_run.stdout else "?"
            warn = [ln for ln in info_run.stderr.splitlines() if ln.strip()]
            ok = n == matched(http, args.gpkg) and srs == "EPSG:4547" and not warn
            bad += [] if ok else ["gpkg"]
            print(f"\n6. {gpkg.name}: {n:,} features, {srs}, {gpkg.stat().st_size / 1e6:.1f} MB in {took:.1f} s; "
                  f"ogrinfo warnings: {warn or 'none'} — {'OK' if ok else 'PROBLEM'}")
    finally:
        try:
            revoke_key(engine, prefix=info.prefix, actor="bench/gdal_city")
        finally:
            engine.dispose()
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"\n{'all counts equal' if not bad else 'PROBLEMS: ' + ', '.join(bad)}  (load {loadavg()})")
    return 1 if bad else 0


if __name__ == "__main__":
    os.environ.setdefault("CPL_LOG_ERRORS", "ON")
    sys.exit(main())
