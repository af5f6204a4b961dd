"""Vector tiles over real HTTP: ms per tile (p50/p99) cold (built) and warm (If-None-Match → 304), and the
bytes of the tiles plain and gzip'd, for grids, buildings and incidents at z14–z18 over the town.

    .venv/bin/python -m bench.tiles                  # the town (database `gridmap`), ~30 s
    .venv/bin/python -m bench.tiles --db gridmap_city --rounds 1

The app is served by uvicorn in this process (one worker, as `gridmap serve`), on a free 127.0.0.1
port; a viewer key is made for the run and revoked at the end. "cold" builds every tile of the zoom
once per round (PostGIS's own caches are warm after the first round: it is the tile's build, not the
disk); "warm" sends each tile's ETag back and gets a 304 (two indexed row reads, no tile built).

tipg, the peer, is compared on the same tiles by bench/ogc.py (it has no ETag, so only "cold").
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import threading
import time
from typing import Any

import httpx
import uvicorn
from sqlalchemy import make_url

from api.app import create_app
from api.cli import UVICORN_OPTIONS
from bench.common import loadavg, progress
from geo import tiles
from geo.config import get_settings
from geo.keys import create_key, revoke_key
from geo.store import queries
from geo.store.db import database_url, make_engine

LAYERS = ("grids", "buildings", "incidents")
ZOOMS = range(14, 19)


def _pct(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def _serve(settings: Any) -> tuple[uvicorn.Server, threading.Thread, str]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning",
                                           **UVICORN_OPTIONS))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{port}"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.tiles", description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="", help="database of the embedded cluster (default: the settings')")
    parser.add_argument("--rounds", type=int, default=3, help="times each tile is built (default 3)")
    args = parser.parse_args()
    base = get_settings()
    url = database_url(base)
    if args.db:
        url = make_url(url).set(database=args.db).render_as_string(hide_password=False)
    settings = base.model_copy(update={"database_url": url, "rate_limit_key_per_s": 0, "rate_limit_address_per_s": 0})
    engine = make_engine(url)
    info, key = create_key(engine, role="viewer", name="bench/tiles")
    with engine.connect() as conn:
        town = queries.bounds(conn)
    assert town, "no communities: load the demo data first (gridmap demo load)"
    server, thread, base_url = _serve(settings)
    print(f"bench/tiles on {make_url(url).database}, town bounds {tuple(round(v, 5) for v in town)}, "
          f"{args.rounds} round(s), load {loadavg()}")
    print(f"{'layer':10s} {'z':>2s} {'tiles':>5s} {'non-empty':>9s} {'cold p50':>9s} {'cold p99':>9s} "
          f"{'304 p50':>8s} {'304 p99':>8s} {'raw kB':>8s} {'gzip kB':>8s} {'ratio':>6s}")
    try:
        with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as http:
            for layer in LAYERS:
                for z in ZOOMS:
                    addrs = tiles.tiles_covering(town, z)
                    cold: list[float] = []
                    warm: list[float] = []
                    raw = zipped = nonempty = 0
                    etags: dict[tuple[int, int, int], str] = {}
                    for r in range(args.rounds):
                        for z_, x, y in addrs:
                            t = time.perf_counter()
                            resp = http.get(f"/tiles/{layer}/{z_}/{x}/{y}.mvt", headers={"Accept-Encoding": "identity"})
                            cold.append((time.perf_counter() - t) * 1000)
                            etags[(z_, x, y)] = resp.headers["etag"]
                            if r == 0 and resp.status_code == 200:
                                nonempty += 1
                                raw += len(resp.content)
                                zipped += len(gzip.compress(resp.content, compresslevel=6))
                    for r in range(args.rounds):
                        for a in addrs:
                            t = time.perf_counter()
                            resp = http.get(f"/tiles/{layer}/{a[0]}/{a[1]}/{a[2]}.mvt",
                                            headers={"If-None-Match": etags[a]})
                            warm.append((time.perf_counter() - t) * 1000)
                            assert resp.status_code == 304, resp.status_code
                    print(f"{layer:10s} {z:2d} {len(addrs):5d} {nonempty:9d} {_pct(cold, 50):9.2f} {_pct(cold, 99):9.2f} "
                          f"{_pct(warm, 50):8.2f} {_pct(warm, 99):8.2f} {raw / 1000:8.1f} {zipped / 1000:8.1f} "
                          f"{(zipped / raw if raw else 0):6.2f}", flush=True)
                progress(f"{layer} done")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        revoke_key(engine, prefix=info.prefix, actor="bench/tiles")
        engine.dispose()


if __name__ == "__main__":
    main()
