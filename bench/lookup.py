"""bench/lookup: point, batch and address lookup, each against a peer measured in the same run.

Run ``.venv/bin/python -m bench.lookup [--scale town|city|both] [--seconds N]``.

Per scale (database ``gridmap``: the town, 50 grids; ``gridmap_city``: ≈6,000 grids):

1. single lookups over real HTTP (uvicorn, 1 worker, in a subprocess: ``bench.server``):
   ``GET /v1/lookup`` at random points inside the grids against ``GET /bench/bare``
   (same app, same auth dependency, constant JSON) and ``/bench/bare-noauth``, in
   alternating blocks with the same keep-alive httpx clients, at concurrency 1 and 4;
   ratio = lookup req/s ÷ bare req/s (target ≥ 0.7);
2. a 1,000,000-point batch (uniform over the grids' extent, fixed seed) through
   ``POST /v1/lookup/batch`` (JSON) against an in-process ``shapely.STRtree`` on the
   same polygons (``query(points, predicate="intersects")``, lowest grid code per
   point); ratio = HTTP ÷ STRtree (target ≤ 1.5); also ``PlanIndex.locate_many`` alone,
   a breakdown of the server's work replayed in process, and the answers compared
   (boundary ties excluded);
3. address lookups: ``Gazetteer.lookup_many`` on 100,000 generated addresses (mixed
   variants) in process, and ``GET /v1/lookup/address`` over HTTP for a sample.

Nothing is asserted about wall-clock time: this prints figures, it is not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import time
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import httpx
import numpy as np
import shapely
from sqlalchemy import Engine, text

from geo.config import Settings
from geo.keys import create_key, revoke_key
from geo.grid_index import NO_MATCH, PlanIndex
from geo.lookup import build_index
from geo.store.db import cluster_for, make_engine
from geo.store.queries import published_plan
from bench.common import progress

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
SEED = 20260301
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------- output






def fmt_ms(s: float) -> str:
    return f"{s * 1e3:.2f} ms"


def width(s: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(width(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def cell(c: object, w: int, right: bool) -> str:
        pad = " " * (w - width(str(c)))
        return pad + str(c) if right else str(c) + pad

    out = ["  ".join(cell(h, w, False) for h, w in zip(header, widths)).rstrip(), "  ".join("-" * w for w in widths)]
    for r in rows:
        out.append("  ".join(cell(c, w, i > 0) for i, (c, w) in enumerate(zip(r, widths))))
    return "\n".join(out)



# --------------------------------------------------------------------------- CPU accounting


def proc_cpu_s(pid: int) -> float:
    """utime + stime of a process, in seconds (10 ms resolution)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            parts = f.read().rsplit(")", 1)[1].split()
        return (int(parts[11]) + int(parts[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return 0.0


def postgres_cpu_s(database: str) -> float:
    """CPU seconds of the PostgreSQL backends connected to ``database`` (dead backends are lost)."""
    total = 0.0
    marker = f" {database} ".encode()
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if cmd.startswith(b"postgres:") and marker in cmd:
            total += proc_cpu_s(int(name))
    return total


# --------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    """``python -m bench.server`` in a subprocess on a free 127.0.0.1 port."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.port = free_port()
        self.base = f"http://{HOST}:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.server", "--url", self.url, "--port", str(self.port)], cwd=ROOT)
        deadline = time.monotonic() + 60
        with httpx.Client(base_url=self.base, timeout=5) as c:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"bench.server exited with {self.proc.returncode}")
                try:
                    if c.get("/health").status_code == 200:
                        return self
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("bench.server did not answer /health within 60 s")
                time.sleep(0.2)

    def cpu_s(self) -> float:
        return proc_cpu_s(self.proc.pid) if self.proc else 0.0

    def __exit__(self, *exc: object) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


# --------------------------------------------------------------------------- sampling


def grid_polygons(engine: Engine, plan_id: int) -> tuple[list[str], np.ndarray]:
    """The plan's grid codes and polygons, fresh from PostGIS (not the PlanIndex's prepared ones)."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT code, ST_AsBinary(geom) AS wkb FROM grid WHERE plan_id = :p ORDER BY code"),
                            {"p": plan_id}).all()
    return [r.code for r in rows], shapely.from_wkb([bytes(r.wkb) for r in rows])


def points_inside(index: PlanIndex, bounds: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` random points inside the grids (uniform by area), 7 decimals."""
    out: list[np.ndarray] = []
    have = 0
    for _ in range(100):  # bounded: the grids cover most of their extent
        lon = np.round(rng.uniform(bounds[0], bounds[2], 4 * n), 7)
        lat = np.round(rng.uniform(bounds[1], bounds[3], 4 * n), 7)
        keep = index.locate_many(lon, lat) != NO_MATCH
        out.append(np.column_stack([lon[keep], lat[keep]]))
        have += int(keep.sum())
        if have >= n:
            break
    return np.concatenate(out)[:n]


# --------------------------------------------------------------------------- 1. single lookups


@dataclass
class Series:
    latencies: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    requests: int = 0
    server_cpu_s: float = 0.0
    db_cpu_s: float = 0.0
    bad: int = 0  # unexpected status or answer

    def rps(self) -> float:
        return self.requests / self.wall_s if self.wall_s else 0.0

    def pct(self, q: float) -> float:
        return float(np.percentile(self.latencies, q)) if self.latencies else float("nan")


def run_block(pool: ThreadPoolExecutor, clients: list[httpx.Client], make: Callable[[int, int], str],
              per_thread: int, check: Callable[[int, int, httpx.Response], bool], start: int) -> tuple[list[float], int, float]:
    """``per_thread`` requests on each client at once; (latencies, bad, wall seconds)."""

    def work(t: int) -> tuple[list[float], int]:
        c = clients[t]
        lat: list[float] = []
        bad = 0
        base = start + t * per_thread
        for i in range(per_thread):
            path = make(t, base + i)
            t0 = time.perf_counter()
            r = c.get(path)
            lat.append(time.perf_counter() - t0)
            if not check(t, base + i, r):
                bad += 1
        return lat, bad

    t0 = time.perf_counter()
    results = list(pool.map(work, range(len(clients))))
    wall = time.perf_counter() - t0
    return [x for lat, _ in results for x in lat], sum(b for _, b in results), wall


def single_lookups(server: Server, key: str, database: str, pts: np.ndarray, expected: list[str],
                   seconds: float, concurrency: int) -> dict[str, Series]:
    """Alternating blocks of /v1/lookup, /bench/bare and /bench/bare-noauth for ``seconds`` in total."""
    headers = {"Authorization": f"Bearer {key}"}
    clients = [httpx.Client(base_url=server.base, headers=headers, timeout=30) for _ in range(concurrency)]
    pool = ThreadPoolExecutor(concurrency)
    n = len(pts)
    coords = [f"/v1/lookup?lon={x:.7f}&lat={y:.7f}" for x, y in pts]

    def check_lookup(t: int, i: int, r: httpx.Response) -> bool:
        return r.status_code == 200 and r.json()["grid"]["code"] == expected[i % n]

    endpoints: dict[str, tuple[Callable[[int, int], str], Callable[[int, int, httpx.Response], bool]]] = {
        "lookup": (lambda t, i: coords[i % n], check_lookup),
        "bare": (lambda t, i: "/bench/bare", lambda t, i, r: r.status_code == 200),
        "bare-noauth": (lambda t, i: "/bench/bare-noauth", lambda t, i, r: r.status_code == 200),
    }
    per_thread = 200 if concurrency == 1 else 60
    out = {name: Series() for name in endpoints}
    try:
        for name, (make, check) in endpoints.items():  # warm-up: connections, index, pools, JIT-free caches
            run_block(pool, clients, make, 20, check, 0)
        deadline = time.monotonic() + seconds
        names = list(endpoints)
        cursor = 0
        for rnd in range(10_000):  # bounded; ends at the deadline
            if time.monotonic() >= deadline:
                break
            order = names[rnd % 3:] + names[:rnd % 3]  # rotate who goes first
            for name in order:
                make, check = endpoints[name]
                cpu0, db0 = server.cpu_s(), postgres_cpu_s(database)
                lat, bad, wall = run_block(pool, clients, make, per_thread, check, cursor)
                s = out[name]
                s.server_cpu_s += server.cpu_s() - cpu0
                s.db_cpu_s += postgres_cpu_s(database) - db0
                s.latencies += lat
                s.wall_s += wall
                s.requests += len(lat)
                s.bad += bad
            cursor += per_thread * concurrency
    finally:
        pool.shutdown()
        for c in clients:
            c.close()
    return out


# --------------------------------------------------------------------------- 2. the batch


def strtree_peer(polys: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Lowest polygon index intersecting each point (−1: none), tie mask, seconds."""
    t0 = time.perf_counter()
    tree = shapely.STRtree(polys)
    pi, gi = tree.query(shapely.points(lon, lat), predicate="intersects")
    best = np.full(len(lon), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(best, pi, gi)
    best[best == np.iinfo(np.int64).max] = -1
    elapsed = time.perf_counter() - t0
    ties = np.bincount(pi, minlength=len(lon)) > 1
    return best, ties, elapsed


def http_batch(server: Server, key: str, body: bytes) -> dict[str, float | bytes]:
    """POST the batch; seconds to the first byte, to the last byte, and the raw answer."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    chunks: list[bytes] = []
    with httpx.Client(base_url=server.base, timeout=600) as c:
        cpu0 = server.cpu_s()
        t0 = time.perf_counter()
        with c.stream("POST", "/v1/lookup/batch", content=body, headers=headers) as r:
            first = None
            for chunk in r.iter_bytes(1 << 20):
                if first is None:
                    first = time.perf_counter() - t0
                chunks.append(chunk)
            total = time.perf_counter() - t0
            status = r.status_code
    raw = b"".join(chunks)
    if status != 200:
        raise RuntimeError(f"batch answered {status}: {raw[:300]!r}")
    return {"ttfb": first or total, "total": total, "raw": raw, "server_cpu": server.cpu_s() - cpu0}


def replay_server_work(body: bytes, index: PlanIndex) -> list[tuple[str, float]]:
    """What POST /v1/lookup/batch does with a JSON body, step by step, in this process."""
    from api.routes.lookup import json_results  # the route's own serialiser
    from geo import batch

    times: list[tuple[str, float]] = []
    t = time.perf_counter()
    doc = json.loads(body)
    times.append(("json.loads(request body)", time.perf_counter() - t))
    t = time.perf_counter()
    lon, lat, problems = batch.parse_rows(doc["points"])
    times.append(("rows -> arrays (np.asarray of lists)", time.perf_counter() - t))
    t = time.perf_counter()
    results = batch.locate_arrays(lon, lat, index=index, crs=None, problems=problems)
    times.append(("CRS check + locate_many", time.perf_counter() - t))
    t = time.perf_counter()
    size = sum(len(b) for b in json_results(results, index=index, with_phone=False))
    times.append((f"JSON response ({size / 1e6:.0f} MB)", time.perf_counter() - t))
    return times


# --------------------------------------------------------------------------- 3. addresses

CN_DIGITS = "零一二三四五六七八九"
FULL_WIDTH = str.maketrans("0123456789#", "０１２３４５６７８９＃")


def cn_number(n: int) -> str:
    """1..999 in Chinese numerals (十二, 二十三, 一百零五)."""
    if n < 10:
        return CN_DIGITS[n]
    if n < 20:
        return "十" + (CN_DIGITS[n % 10] if n % 10 else "")
    if n < 100:
        return CN_DIGITS[n // 10] + "十" + (CN_DIGITS[n % 10] if n % 10 else "")
    rest = n % 100
    head = CN_DIGITS[n // 100] + "百"
    if rest == 0:
        return head
    if rest < 10:
        return head + "零" + CN_DIGITS[rest]
    return head + (CN_DIGITS[rest // 10] + "十" + (CN_DIGITS[rest % 10] if rest % 10 else ""))


VARIANTS = ("standard", "full-width", "chinese numerals", "栋", "#", "missing community", "alias", "noise")


def make_addresses(engine: Engine, n: int, seed: int) -> tuple[list[str], list[str], list[str]]:
    """``n`` addresses of random buildings: (text, intended building code, variant)."""
    with engine.connect() as conn:
        comms = {r.code: (r.name, list(r.aliases or ()) or [r.name])
                 for r in conn.execute(text("SELECT code, name, aliases FROM community"))}
        blds = conn.execute(text(
            "SELECT b.code, c.code AS cc, b.number, b.floors, "
            "(SELECT count(*) FROM unit u WHERE u.building_id = b.id) AS units "
            "FROM building b JOIN community c ON c.id = b.community_id ORDER BY b.code")).all()
    rnd = random.Random(seed)
    texts, codes, kinds = [], [], []
    for _ in range(n):
        b = rnd.choice(blds)
        name, aliases = comms[b.cc]
        u = rnd.randint(1, max(1, b.units))
        room = f"{rnd.randint(1, max(1, b.floors or 1))}{rnd.randint(1, 2):02d}" if rnd.random() < 0.4 else ""
        kind = rnd.choice(VARIANTS)
        room_s = f"{room}室" if room else ""
        if kind == "standard":
            s = f"{name}{b.number}号楼{u}单元{room_s}"
        elif kind == "full-width":
            s = f"{name}{b.number}号楼{u}单元{room_s}".translate(FULL_WIDTH)
        elif kind == "chinese numerals":
            s = f"{name}{cn_number(b.number)}号楼{cn_number(u)}单元"
        elif kind == "栋":
            s = f"{name}{b.number}栋{u}单元{room_s}"
        elif kind == "#":
            s = f"{name}{b.number}#{u}单元"
        elif kind == "missing community":
            s = f"{b.number}号楼{u}单元{room_s}"
        elif kind == "alias":
            s = f"{rnd.choice(aliases)}{b.number}号楼{u}单元"
        else:
            s = f"【{name}】 {b.number} 号楼，{u}单元"
        texts.append(s)
        codes.append(b.code)
        kinds.append(kind)
    return texts, codes, kinds


def http_addresses(server: Server, key: str, texts: list[str], seconds: float) -> Series:
    s = Series()
    with httpx.Client(base_url=server.base, headers={"Authorization": f"Bearer {key}"}, timeout=30) as c:
        for q in texts[:20]:
            c.get("/v1/lookup/address", params={"q": q})
        deadline = time.monotonic() + seconds
        t_start = time.perf_counter()
        for q in texts:  # bounded by the sample size
            if time.monotonic() >= deadline:
                break
            t0 = time.perf_counter()
            r = c.get("/v1/lookup/address", params={"q": q})
            s.latencies.append(time.perf_counter() - t0)
            s.requests += 1
            if r.status_code not in (200, 404):
                s.bad += 1
        s.wall_s = time.perf_counter() - t_start
    return s


# --------------------------------------------------------------------------- one scale


def database_url(name: str) -> str:
    if "://" in name:
        return name
    return cluster_for(Settings()).url(name)


def run_scale(scale: str, database: str, args: argparse.Namespace) -> dict[str, Any]:
    url = database_url(database)
    print(f"\n=== {scale}: database {database.rsplit('/', 1)[-1]} ===", flush=True)
    engine = make_engine(url, pool_size=2)
    summary: dict[str, Any] = {"scale": scale}
    with engine.connect() as conn:
        plan = published_plan(conn)
        if plan is None:
            raise SystemExit(f"{database}: no published plan; load the data first (see bench/README.md)")
        t = time.perf_counter()
        index = build_index(conn, plan=plan)
        t_build = time.perf_counter() - t
    codes, polys = grid_polygons(engine, plan["id"])
    assert codes == [g.code for g in index.grids], "PlanIndex grids are not ordered by code"
    bounds = shapely.total_bounds(polys)
    progress(f"{scale}: plan {plan['id']} — {len(codes):,} grids, {len(index.buildings):,} buildings; "
         f"PlanIndex built in process in {t_build:.2f} s")
    info, key = create_key(engine, role="client", name="bench/lookup")
    rng = np.random.default_rng(SEED)
    try:
        with Server(url) as server:
            progress(f"{scale}: server up on {server.base} (pid {server.proc.pid})")

            # 1. single lookups
            pts = points_inside(index, bounds, 20_000, rng)
            expected = [codes[g] for g in index.locate_many(pts[:, 0], pts[:, 1])]
            single: dict[int, dict[str, Series]] = {}
            for conc in (1, 4):
                progress(f"{scale}: single lookups, concurrency {conc}, {args.seconds / 2:.0f} s "
                     "(alternating blocks: lookup / bare / bare-noauth)")
                single[conc] = single_lookups(server, key, database.rsplit("/", 1)[-1], pts, expected,
                                              args.seconds / 2, conc)

            # 2. the batch
            n = args.points
            lon = np.round(rng.uniform(bounds[0], bounds[2], n), 7)
            lat = np.round(rng.uniform(bounds[1], bounds[3], n), 7)
            progress(f"{scale}: batch of {n:,} points — encoding the JSON request")
            t = time.perf_counter()
            body = json.dumps({"points": np.column_stack([lon, lat]).tolist()}).encode()
            t_encode = time.perf_counter() - t
            progress(f"{scale}: batch — POST /v1/lookup/batch ({len(body) / 1e6:.0f} MB up)")
            hb = http_batch(server, key, body)
            progress(f"{scale}: batch — decoding the answer ({len(hb['raw']) / 1e6:.0f} MB down)")
            t = time.perf_counter()
            answer = json.loads(hb["raw"])
            t_decode = time.perf_counter() - t
            results = answer["results"]
            del hb["raw"]
            progress(f"{scale}: batch — in-process STRtree peer and PlanIndex.locate_many")
            peer, ties, t_tree = strtree_peer(polys, lon, lat)
            t = time.perf_counter()
            mine = index.locate_many(lon, lat)
            t_locate = time.perf_counter() - t
            progress(f"{scale}: batch — replaying the server's steps in process")
            replay = replay_server_work(body, index)
            del body

            http_codes = np.array([r["grid"]["code"] if r["grid"] else "" for r in results], dtype=object)
            peer_codes = np.array([codes[g] if g >= 0 else "" for g in peer], dtype=object)
            mine_codes = np.array([codes[g] if g >= 0 else "" for g in mine], dtype=object)
            compare = ~ties
            mism_http = np.flatnonzero(compare & (http_codes != peer_codes))
            mism_mine = np.flatnonzero(compare & (mine_codes != peer_codes))
            tie_disagree = int((ties & (http_codes != peer_codes)).sum())
            del results, answer

            # 3. addresses
            progress(f"{scale}: addresses — generating {args.addresses:,}")
            texts, want, kinds = make_addresses(engine, args.addresses, SEED)
            progress(f"{scale}: addresses — Gazetteer.lookup_many in process")
            index.gazetteer.lookup_many(["高山镇1号楼"])  # one-time set-up (pypinyin's dictionaries) out of the timing
            t = time.perf_counter()
            matches = index.gazetteer.lookup_many(texts)
            t_gaz = time.perf_counter() - t
            per_variant: dict[str, float] = {}
            for kind in VARIANTS:  # second pass, per variant (community texts now cached)
                subset = [q for q, k in zip(texts, kinds) if k == kind]
                t = time.perf_counter()
                index.gazetteer.lookup_many(subset)
                per_variant[kind] = (time.perf_counter() - t) / max(1, len(set(subset)))
            progress(f"{scale}: addresses — GET /v1/lookup/address over HTTP (sample, ≤ {args.seconds / 4:.0f} s)")
            sample = random.Random(SEED + 1).sample(texts, min(2_000, len(texts)))
            addr_http = http_addresses(server, key, sample, args.seconds / 4)
    finally:
        revoke_key(engine, prefix=info.prefix, actor="bench")
        engine.dispose()

    # ---- report
    print(f"\n--- {scale}: 1. single lookups over HTTP (uvicorn, 1 worker; httpx keep-alive; "
          "alternating blocks; random points inside the grids) ---")
    rows = []
    for conc, series in single.items():
        bare = series["bare"]
        for name in ("lookup", "bare", "bare-noauth"):
            s = series[name]
            rows.append([f"c={conc} {'/v1/lookup' if name == 'lookup' else '/bench/' + name}", f"{s.requests:,}",
                         fmt_ms(s.pct(50)), fmt_ms(s.pct(99)), f"{s.rps():,.0f}",
                         f"{s.rps() / bare.rps():.2f}" if bare.rps() else "-",
                         f"{1e3 * s.server_cpu_s / s.requests:.2f}", f"{1e3 * s.db_cpu_s / s.requests:.2f}",
                         str(s.bad)])
    print(table(rows, ["endpoint", "N", "p50", "p99", "req/s", "÷ bare", "app CPU ms/req", "pg CPU ms/req",
                       "bad"]))
    for conc, series in single.items():
        r = series["lookup"].rps() / series["bare"].rps()
        summary[f"single_c{conc}"] = r
        print(f"RATIO single c={conc}: lookup / bare throughput = {r:.2f}  (target ≥ 0.7: "
              f"{'met' if r >= 0.7 else 'MISSED'})")

    print(f"\n--- {scale}: 2. batch of {n:,} points (uniform over the grids' extent, seed {SEED}) ---")
    hit = int((peer >= 0).sum())
    rows = [
        ["HTTP POST /v1/lookup/batch (JSON), send → last byte", f"{hb['total']:.2f} s"],
        ["   of which: send → first byte (server parse + locate)", f"{hb['ttfb']:.2f} s"],
        ["   app process CPU during the request", f"{hb['server_cpu']:.2f} s"],
        ["   client: json.dumps of the request (not in the ratio)", f"{t_encode:.2f} s"],
        ["   client: json.loads of the answer (not in the ratio)", f"{t_decode:.2f} s"],
        ["in-process shapely STRtree (build + query intersects + lowest code)", f"{t_tree:.2f} s"],
        ["in-process PlanIndex.locate_many", f"{t_locate:.2f} s"],
    ]
    rows += [[f"   server step replayed in process: {name}", f"{sec:.2f} s"] for name, sec in replay]
    print(table(rows, ["what", "time"]))
    ratio = hb["total"] / t_tree
    summary["batch"] = ratio
    summary["batch_locate"] = t_locate / t_tree
    print(f"points in a grid: {hit:,} of {n:,}; boundary ties (point in ≥ 2 grids): {int(ties.sum()):,}"
          f" (HTTP answer ≠ STRtree's lowest code on {tie_disagree})")
    print(f"mismatches (ties excluded): HTTP vs STRtree {len(mism_http)}, locate_many vs STRtree {len(mism_mine)}")
    for i in mism_http[:10]:
        print(f"   point {i}: ({lon[i]:.7f}, {lat[i]:.7f}) HTTP {http_codes[i] or 'none'} vs STRtree "
              f"{peer_codes[i] or 'none'}")
    print(f"RATIO batch: HTTP / in-process STRtree = {ratio:.2f}  (target ≤ 1.5: "
          f"{'met' if ratio <= 1.5 else 'MISSED'}); locate_many / STRtree = {t_locate / t_tree:.2f}")

    print(f"\n--- {scale}: 3. addresses ---")
    got = [m.building_code if m else None for m in matches]
    rows = []
    for kind in VARIANTS:
        idx = [i for i, k in enumerate(kinds) if k == kind]
        right = sum(got[i] == want[i] for i in idx)
        none = sum(got[i] is None for i in idx)
        rows.append([kind, f"{len(idx):,}", f"{100 * right / len(idx):.1f}%", f"{100 * none / len(idx):.1f}%",
                     f"{100 * (len(idx) - right - none) / len(idx):.1f}%", f"{1e6 * per_variant[kind]:,.0f}"])
    print(table(rows, ["variant", "N", "right building", "no answer", "other building",
                       "µs per distinct address (2nd pass)"]))
    n_distinct = len(set(texts))
    print(f"in process: Gazetteer.lookup_many, {len(texts):,} addresses ({n_distinct:,} distinct; repeats are "
          f"answered once per call) in {t_gaz:.2f} s = {len(texts) / t_gaz:,.0f} addresses/s "
          f"({n_distinct / t_gaz:,.0f} distinct/s)")
    bare1 = single[1]["bare"]
    print(f"HTTP GET /v1/lookup/address, c=1, {addr_http.requests:,} requests: p50 {fmt_ms(addr_http.pct(50))}, "
          f"p99 {fmt_ms(addr_http.pct(99))}, {addr_http.rps():,.0f} req/s "
          f"(÷ bare c=1: {addr_http.rps() / bare1.rps():.2f}); unexpected status: {addr_http.bad}")
    summary["addr_inproc"] = len(texts) / t_gaz
    summary["addr_http"] = addr_http.rps()
    return summary


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.lookup", description=__doc__.splitlines()[0])
    ap.add_argument("--scale", choices=("town", "city", "both"), default="both")
    ap.add_argument("--seconds", type=float, default=30,
                    help="seconds of single-lookup traffic per scale, split between concurrency 1 and 4 "
                         "(default 30); the HTTP address sample gets a quarter of it")
    ap.add_argument("--points", type=int, default=1_000_000, help="batch size (default 1,000,000)")
    ap.add_argument("--addresses", type=int, default=100_000, help="addresses in process (default 100,000)")
    ap.add_argument("--town-db", default="gridmap", help="database name in the embedded cluster, or a URL")
    ap.add_argument("--city-db", default="gridmap_city", help="database name in the embedded cluster, or a URL")
    args = ap.parse_args()
    print(f"bench/lookup — {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, shapely {shapely.__version__}; "
          f"--seconds {args.seconds:g}, batch {args.points:,} points, {args.addresses:,} addresses", flush=True)
    scales = [("town", args.town_db), ("city", args.city_db)]
    if args.scale != "both":
        scales = [s for s in scales if s[0] == args.scale]
    summaries = [run_scale(name, db, args) for name, db in scales]
    print("\n=== summary ===")
    rows = [[s["scale"], f"{s['single_c1']:.2f}", f"{s['single_c4']:.2f}", f"{s['batch']:.2f}",
             f"{s['batch_locate']:.2f}", f"{s['addr_inproc']:,.0f}", f"{s['addr_http']:,.0f}"] for s in summaries]
    print(table(rows, ["scale", "single c=1 (≥0.7)", "single c=4 (≥0.7)", "batch HTTP/STRtree (≤1.5)",
                       "locate_many/STRtree", "addr/s in process", "addr req/s HTTP"]))
    progress("done")


if __name__ == "__main__":
    main()
