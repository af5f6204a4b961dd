"""OGC API – Features items pages: ms per page (p50/p99) and bytes, one client, over real HTTP.

``python -m bench.ogc_items [--db gridmap] [--requests 30]`` serves the app (bench/server.py, one
uvicorn worker) on a loopback port, makes a viewer key, and times each kind of page sequentially.
It prints figures; nothing is asserted. (The comparison with tipg is bench/ogc.py.)
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import time

import httpx
from sqlalchemy import make_url

from geo.config import get_settings
from geo.keys import create_key, revoke_key
from geo.store.db import cluster_for, database_url, make_engine

CASES = [
    ("incidents, limit 100", "/ogc/collections/incidents/items?limit=100"),
    ("incidents, limit 1000", "/ogc/collections/incidents/items?limit=1000"),
    ("incidents, limit 1000, offset 2000", "/ogc/collections/incidents/items?limit=1000&offset=2000"),
    ("incidents, limit 1000, crs EPSG:4547", "/ogc/collections/incidents/items?limit=1000&crs=EPSG:4547"),
    ("incidents, bbox", "/ogc/collections/incidents/items?limit=1000&bbox=113.095,40.047,113.100,40.050"),
    ("incidents, CQL2 attribute+time", "/ogc/collections/incidents/items?limit=1000&filter=category%3D'dispute'"
     "%20AND%20T_AFTER(occurred_at,TIMESTAMP('2026-06-01T00:00:00Z'))"),
    ("incidents, CQL2 S_INTERSECTS", "/ogc/collections/incidents/items?limit=1000&filter=S_INTERSECTS(geometry,"
     "POLYGON((113.095%2040.047,113.1%2040.047,113.1%2040.05,113.095%2040.05,113.095%2040.047)))"),
    ("grids, limit 100 (with totals)", "/ogc/collections/grids/items?limit=100"),
    ("buildings, limit 100", "/ogc/collections/buildings/items?limit=100"),
    ("cameras, limit 1000", "/ogc/collections/cameras/items?limit=1000"),
]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default="gridmap", help="database name in the embedded cluster, or a full URL")
    ap.add_argument("--requests", type=int, default=30, help="requests per case (after 3 warm-up ones)")
    args = ap.parse_args()
    settings = get_settings()
    url = args.db if "://" in args.db else (cluster_for(settings).url(args.db) if settings.database_url is None
                                            else make_url(database_url(settings)).set(database=args.db).render_as_string(False))
    engine = make_engine(url)
    info, key = create_key(engine, role="viewer", name="bench/ogc_items")
    port = _port()
    server = subprocess.Popen([sys.executable, "-m", "bench.server", "--url", url, "--port", str(port)])
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
            for _ in range(300):
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            print(f"{'page':42s} {'p50 ms':>8s} {'p99 ms':>8s} {'returned':>9s} {'matched':>8s} {'bytes':>10s}")
            for name, path in CASES:
                times = []
                for i in range(args.requests + 3):
                    t = time.perf_counter()
                    r = client.get(path)
                    dt_ms = (time.perf_counter() - t) * 1000
                    assert r.status_code == 200, r.text[:300]
                    if i >= 3:
                        times.append(dt_ms)
                body = r.json()
                times.sort()
                p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
                print(f"{name:42s} {statistics.median(times):8.1f} {p99:8.1f} {body['numberReturned']:9d} "
                      f"{body['numberMatched']:8d} {len(r.content):10,d}")
    finally:
        server.terminate()
        server.wait(timeout=10)
        revoke_key(engine, prefix=info.prefix)
        engine.dispose()


if __name__ == "__main__":
    main()
