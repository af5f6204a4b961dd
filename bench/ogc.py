"""bench/ogc — gridmap's OGC API items pages and MVT tiles against tipg's, on the same database, in one run.

    .venv/bin/python -m bench.ogc                        # town and city, ~4 min on 2 cores
    .venv/bin/python -m bench.ogc --scale town --seconds 4
    .venv/bin/python -m bench.ogc --scale city --city-db gridmap_city

Per scale, two servers on loopback ports, each **one uvicorn worker on uvloop + httptools**, access log
off, against the same PostgreSQL database:

- gridmap: the real ``gridmap serve --no-setup --workers 1`` (``python -m api.cli``; bench/load.py's
  ``Serve``), rate limits off, **auth on**: every request carries a viewer Bearer key made for the run
  (revoked at the end, also on error);
- tipg (developmentseed's OGC API Features + Tiles server, PyPI ``tipg``, pinned :data:`TIPG`): a
  bench-only dependency with its own FastAPI/Starlette/pydantic pins, so it lives in its own venv,
  ``var/bench-venvs/tipg``, made on first use (``python3 -m venv`` + pip) and reused after. It is
  given the tables ``public.incident, public.building, public.grid, public.community``
  (``TIPG_DB_TABLES``), ``TIPG_TILE_BUFFER=64`` (gridmap's MVT buffer, so a tile holds the same
  features; tipg's default is 256) and its defaults otherwise (``TIPG_MAX_FEATURES_PER_QUERY`` 10,000,
  ``TIPG_MAX_FEATURES_PER_TILE`` 10,000, its ``CompressionMiddleware`` at level 6). It has no auth:
  it gets the same ``Authorization`` header, and ignores it.

Matched requests: the same table, limit, bbox, filter and z/x/y on both sides. tipg is asked for the
properties gridmap shows that are columns of the table (``properties=``; gridmap's joined properties —
a building's community code, a grid's households — have no column there), for grids the published
plan's rows (``filter=plan_id=N``; gridmap's grids are the published plan's) sorted by ``code`` (as
gridmap's). The answers are checked before anything is timed: numberMatched, numberReturned and the
feature ids of each items page; the feature count of each layer of each tile (mapbox_vector_tile).

Load: ``wrk -t1 -c{connections}`` (default 8) with a Lua script cycling through the case's paths (one
for a page; the tile list for tiles), ``Accept-Encoding: gzip`` and the key on every request. Each case
runs ``--seconds`` per side in two blocks, the sides alternating (gridmap first in one block, tipg in
the other) to spread the shared machine's noise; req/s = requests ÷ seconds over both blocks, p50 and
p99 are the blocks' wrk percentiles averaged with their request counts as weights. Bytes: one request
per path, mean per request, with ``Accept-Encoding: identity`` and ``gzip`` (on the wire). CPU: the
server process's and the database's backends' (utime+stime from /proc) ÷ requests.

Nothing is asserted on time; figures are printed. The databases are read only (the key is the one write).
"""

from __future__ import annotations

import argparse
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from sqlalchemy import make_url, text

from bench.common import loadavg, progress
from bench.load import Serve, WrkResult, parse_wrk
from bench.lookup import free_port, proc_cpu_s
from geo.config import Settings
from geo.keys import create_key, revoke_key
from geo.store.db import cluster_for, make_engine
from geo.store.queries import published_plan

ROOT = Path(__file__).resolve().parent.parent
TIPG = "tipg==1.6.1"
#: The same server stack as gridmap serve (api/cli.py UVICORN_OPTIONS).
TIPG_EXTRAS = ("uvicorn==0.55.0", "uvloop==0.23.0", "httptools==0.9.0")
TIPG_VENV = ROOT / "var" / "bench-venvs" / "tipg"
TIPG_TABLES = ("public.incident", "public.building", "public.grid", "public.community")
#: gridmap's MVT buffer (geo/tiles.py BUFFER); tipg's default is 256.
TILE_BUFFER = 64
ZOOMS = (14, 15, 16)
SEED = 13


# --------------------------------------------------------------------------- tipg


def tipg_python() -> Path:
    """The tipg venv's python, made on first use (``var/bench-venvs/tipg``)."""
    py = TIPG_VENV / "bin" / "python"
    if py.exists() and subprocess.run([str(py), "-c", "import tipg, uvloop, httptools"],
                                      capture_output=True).returncode == 0:
        return py
    progress(f"making the tipg venv {TIPG_VENV.relative_to(ROOT)} ({TIPG}, first use)")
    TIPG_VENV.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["python3", "-m", "venv", str(TIPG_VENV)], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "-q", TIPG, *TIPG_EXTRAS], check=True)
    return py


def asyncpg_url(url: str) -> str:
    """A postgresql:// URL asyncpg (through pydantic's PostgresDsn) takes: a Unix socket directory goes in
    the host, percent-encoded (``?host=/dir`` with no host is refused by tipg's settings)."""
    u = make_url(url)
    host = u.query.get("host") or u.host or "localhost"
    if isinstance(host, tuple):
        host = host[0]
    port = u.query.get("port") or u.port or 5432
    if isinstance(port, tuple):
        port = port[0]
    auth = quote(u.username or "postgres", safe="")
    if u.password:
        auth += ":" + quote(str(u.password), safe="")
    return f"postgresql://{auth}@{quote(str(host), safe='')}:{port}/{u.database}"


class Tipg:
    """``uvicorn tipg.main:app`` (one worker, uvloop + httptools, no access log) in its own session."""

    def __init__(self, url: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("GRIDMAP_", "TIPG_", "DATABASE_"))}
        self.env |= {"DATABASE_URL": asyncpg_url(url), "TIPG_DB_SCHEMAS": '["public"]',
                     "TIPG_DB_TABLES": "[" + ",".join(f'"{t}"' for t in TIPG_TABLES) + "]",
                     "TIPG_DB_FUNCTIONS": "[]", "TIPG_TILE_BUFFER": str(TILE_BUFFER)}
        self.proc: Any = None

    def __enter__(self) -> Tipg:
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [str(tipg_python()), "-m", "uvicorn", "tipg.main:app", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", "1", "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"],
            cwd=tempfile.gettempdir(), env=self.env, start_new_session=True, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 120
        while True:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"tipg exited with {self.proc.returncode}:\n"
                                   + self.log.read().decode(errors="replace")[-2000:])
            try:
                if httpx.get(self.base + "/collections", timeout=5).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("tipg did not answer /collections within 120 s")
            time.sleep(0.2)

    def __exit__(self, *exc: object) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.log.close()


# --------------------------------------------------------------------------- cases


@dataclass
class Case:
    kind: str  # "items" | "tiles"
    name: str
    gridmap: list[str]
    tipg: list[str]
    note: str = ""
    check: str = ""
    results: dict[str, list[tuple[WrkResult, float, float, float]]] = field(default_factory=dict)
    bytes: dict[str, tuple[float, float]] = field(default_factory=dict)
    single_s: float = 0.0  # the slower side's mean time of one request (the bytes' requests), unloaded


def tile_sample(conn: Any, z: int, n: int) -> list[tuple[int, int, int]]:
    """Up to *n* distinct z/x/y tiles holding buildings (from a seeded sample of building points)."""
    rows = conn.execute(text("SELECT ST_X(p) AS x, ST_Y(p) AS y FROM (SELECT ST_PointOnSurface(geom) AS p "
                             "FROM building ORDER BY id) s")).all()
    rng = random.Random(SEED + z)
    rng.shuffle(rows)
    out: list[tuple[int, int, int]] = []
    for r in rows:
        x = int((r.x + 180) / 360 * 2**z)
        lat = math.radians(r.y)
        y = int((1 - math.asinh(math.tan(lat)) / math.pi) / 2 * 2**z)
        if (z, x, y) not in out:
            out.append((z, x, y))
        if len(out) == n:
            break
    return sorted(out)


def make_cases(conn: Any, plan_id: int, tiles_per_zoom: int, incidents: int) -> list[Case]:
    b = conn.execute(text("SELECT ST_X(c) AS x, ST_Y(c) AS y FROM (SELECT ST_PointOnSurface(geom) AS c FROM building "
                          "ORDER BY id OFFSET (SELECT count(*) / 2 FROM building) LIMIT 1) s")).one()
    box = f"{b.x - 0.004:.5f},{b.y - 0.003:.5f},{b.x + 0.004:.5f},{b.y + 0.003:.5f}"
    cql = "category='dispute' AND severity>=2"
    g, t = "/ogc/collections/", "/collections/public."
    plan = f"plan_id={plan_id}"
    deep = max(0, incidents // 2 // 1000 * 1000)  # a page in the middle: OFFSET's cost
    cases = [
        Case("items", "incidents limit=100", [g + "incidents/items?limit=100"], [t + "incident/items?limit=100"]),
        Case("items", "incidents limit=1000", [g + "incidents/items?limit=1000"], [t + "incident/items?limit=1000"]),
        Case("items", f"incidents limit=1000 offset={deep}", [g + f"incidents/items?limit=1000&offset={deep}"],
             [t + f"incident/items?limit=1000&offset={deep}"]),
        Case("items", "incidents bbox limit=1000", [g + f"incidents/items?limit=1000&bbox={box}"],
             [t + f"incident/items?limit=1000&bbox={box}"]),
        Case("items", "incidents CQL2 limit=1000", [g + "incidents/items?limit=1000&" + urlencode({"filter": cql})],
             [t + "incident/items?limit=1000&" + urlencode({"filter": cql, "filter-lang": "cql2-text"})]),
        Case("items", "buildings limit=100", [g + "buildings/items?limit=100"], [t + "building/items?limit=100"],
             note="gridmap adds community_code, grid_code, units/households/population (joins)"),
        Case("items", "buildings limit=100 (table props)",
             [g + "buildings/items?limit=100&properties=id,code,name,address,floors,height_m"],
             [t + "building/items?limit=100"]),
        Case("items", "grids limit=100", [g + "grids/items?limit=100"],
             [t + "grid/items?limit=100&sortby=code&" + urlencode({"filter": plan})],
             note="gridmap adds the community, grid member and household/population totals (joins)"),
        Case("items", "grids limit=100 (table props)", [g + "grids/items?limit=100&properties=id,code,name,plan_id"],
             [t + "grid/items?limit=100&sortby=code&" + urlencode({"filter": plan})]),
    ]
    tile_layers = [("buildings", "building", ZOOMS, ""), ("grids", "grid", ZOOMS, plan),
                   ("incidents", "incident", (15, 16), "")]
    samples = {z: tile_sample(conn, z, tiles_per_zoom) for z in ZOOMS}
    for layer, table, zooms, filt in tile_layers:
        for z in zooms:
            extra = "?" + urlencode({"filter": filt}) if filt else ""
            note = ""
            if layer == "incidents" and z < 16:
                note = ("NOT matched (shown for the bytes): gridmap clusters incidents below z16 (16x16 cells "
                        "per tile); tipg sends every point")
            cases.append(Case("tiles", f"{layer} z{z} ({len(samples[z])} tiles)",
                              [f"/tiles/{layer}/{z}/{x}/{y}.mvt" for _, x, y in samples[z]],
                              [f"{t}{table}/tiles/WebMercatorQuad/{z}/{x}/{y}{extra}" for _, x, y in samples[z]],
                              note=note))
    return cases


def tipg_properties(http: httpx.Client, table: str, shown: list[str]) -> list[str]:
    """gridmap's shown properties that are columns of the table (tipg's queryables)."""
    q = http.get(f"/collections/public.{table}/queryables").json()["properties"]
    return [p for p in shown if p in q and p not in ("geom", "geometry")]


def with_props(path: str, props: list[str]) -> str:
    return path + ("&" if "?" in path else "?") + "properties=" + ",".join(props)


# --------------------------------------------------------------------------- checks


def mvt_counts(body: bytes) -> dict[str, int]:
    import mapbox_vector_tile

    if not body:
        return {}
    return {name: len(layer["features"]) for name, layer in mapbox_vector_tile.decode(body).items()}


def check_items(gm: httpx.Response, tp: httpx.Response) -> str:
    a, b = gm.json(), tp.json()
    ids_a = [f["properties"].get("id", f["id"]) for f in a["features"]]
    ids_b = [f["id"] for f in b["features"]]
    parts = [f"matched {a['numberMatched']}/{b.get('numberMatched')}",
             f"returned {a['numberReturned']}/{b.get('numberReturned')}"]
    same = a["numberMatched"] == b.get("numberMatched") and a["numberReturned"] == b.get("numberReturned")
    if [str(i) for i in ids_a] == [str(i) for i in ids_b]:
        parts.append("same ids")
    else:
        same = False
        parts.append("ids differ")
    pa = sorted(a["features"][0]["properties"]) if a["features"] else []
    pb = sorted(b["features"][0]["properties"]) if b["features"] else []
    extra = [p for p in pa if p not in pb]
    if extra:
        parts.append("gridmap-only props " + ",".join(extra))
    return ("OK   " if same else "DIFF ") + "; ".join(parts)


def check_tiles(bodies_g: list[bytes], bodies_t: list[bytes], case: Case) -> str:
    n_g = n_t = tiles_same = tiles_more = 0
    for a, b in zip(bodies_g, bodies_t):
        ca, cb = sum(mvt_counts(a).values()), sum(mvt_counts(b).values())
        n_g, n_t = n_g + ca, n_t + cb
        tiles_same += ca == cb
        tiles_more += ca > cb
    n = len(case.gridmap)
    # gridmap's tile also holds the features that meet only its 64 px buffer; tipg's only those meeting
    # the tile itself (its WHERE is the tile's bounds): gridmap >= tipg on every tile is the expected answer.
    verdict = "OK   " if tiles_same == n else "OK+  " if tiles_same + tiles_more == n else "DIFF "
    return (verdict + f"features {n_g:,}/{n_t:,}; tiles with equal counts {tiles_same}/{n}"
            + (f", gridmap more (buffer) {tiles_more}" if tiles_more else ""))


def measure_bytes(http: httpx.Client, paths: list[str]) -> tuple[float, float, float, list[httpx.Response]]:
    """Mean bytes per request plain and gzip'd (on the wire), the mean seconds of one gzip'd request, and
    the plain answers."""
    plain = zipped = 0
    took = 0.0
    answers = []
    for p in paths:
        r = http.get(p, headers={"Accept-Encoding": "identity"})
        assert r.status_code in (200, 204), (p, r.status_code, r.text[:300])
        answers.append(r)
        plain += len(r.content)
        t = time.perf_counter()
        with http.stream("GET", p, headers={"Accept-Encoding": "gzip"}) as r:
            r.read()
            zipped += r.num_bytes_downloaded
        took += time.perf_counter() - t
    return plain / len(paths), zipped / len(paths), took / len(paths), answers


# --------------------------------------------------------------------------- load


def backends(database: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend connected to *database*, by pid."""
    out: dict[int, float] = {}
    marker = f" {database} ".encode()
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/cmdline", "rb") as f:
                    cmd = f.read()
            except OSError:
                continue
            if cmd.startswith(b"postgres:") and marker in cmd:
                out[int(name)] = proc_cpu_s(int(name))
    return out


def backends_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU spent between two snapshots by the backends alive at the second (a backend that exited in
    between is lost; a new one counts whole)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())

WRK_LUA = """
local paths = {%s}
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i], {["Authorization"] = "Bearer %s", ["Accept-Encoding"] = "gzip"})
end
"""


def lua_script(paths: list[str], key: str, folder: str) -> str:
    body = WRK_LUA % (", ".join('"' + p.replace('"', '\\"') + '"' for p in paths), key)
    fd, name = tempfile.mkstemp(suffix=".lua", dir=folder)
    with os.fdopen(fd, "w") as f:
        f.write(body)
    return name


def run_wrk(base: str, script: str, seconds: float, connections: int) -> WrkResult:
    cmd = ["wrk", "-t1", "-c", str(connections), "-d", f"{seconds:g}s", "--latency", "--timeout", "10s", "-s",
           script, base + "/"]
    return parse_wrk(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)


def block_seconds(seconds: float, single_s: float) -> int:
    """wrk's duration of one block (whole seconds): half of ``--seconds``, or, for a slow request, the time
    of ~10 unloaded requests (wrk drops the requests still in flight when a block ends), at most 4 s."""
    base = max(1, round(seconds / 2))
    need = math.ceil(10 * single_s)
    return int(min(max(base, need), max(base, 4)))


def summarize(blocks: list[tuple[WrkResult, float, float, float]]) -> dict[str, float]:
    n = sum(b[0].requests for b in blocks)
    secs = sum(b[1] for b in blocks)
    w = [b[0].requests for b in blocks]
    wsum = sum(w) or 1
    return {"rps": n / secs if secs else 0.0,
            "p50": sum(b[0].p50_ms * k for b, k in zip(blocks, w)) / wsum,
            "p99": sum(b[0].p99_ms * k for b, k in zip(blocks, w)) / wsum,
            "bad": sum(b[0].non_2xx for b in blocks), "n": n,
            "app_ms": 1000 * sum(b[2] for b in blocks) / (n or 1),
            "pg_ms": 1000 * sum(b[3] for b in blocks) / (n or 1),
            "errors": " ".join(b[0].errors for b in blocks if b[0].errors)}


# --------------------------------------------------------------------------- one scale


def database_url(name: str) -> str:
    return name if "://" in name else cluster_for(Settings()).url(name)


def run_scale(scale: str, db: str, args: argparse.Namespace) -> list[tuple[str, Case]]:
    url = database_url(db)
    dbname = make_url(url).database or db
    engine = make_engine(url, pool_size=1)
    with engine.connect() as conn:
        plan = published_plan(conn)
        if plan is None:
            raise SystemExit(f"{dbname}: no published plan; load the data first (see bench/README.md)")
        counts = conn.execute(text("SELECT (SELECT count(*) FROM grid WHERE plan_id = :p) AS g, "
                                   "(SELECT count(*) FROM building) AS b, (SELECT count(*) FROM incident) AS i"),
                              {"p": plan["id"]}).one()
        cases = [c for c in make_cases(conn, plan["id"], args.tiles, counts.i) if args.cases in c.name]
    print(f"\n=== {scale}: database {dbname} — plan {plan['id']}: {counts.g:,} grids, {counts.b:,} buildings, "
          f"{counts.i:,} incidents ===", flush=True)
    info, key = create_key(engine, role="viewer", name="bench/ogc")
    folder = tempfile.mkdtemp(prefix="bench-ogc-")
    try:
        with Serve(url, 1, folder) as gm, Tipg(url) as tp, \
                httpx.Client(base_url=gm.base, headers={"Authorization": f"Bearer {key}"}, timeout=120) as hg, \
                httpx.Client(base_url=tp.base, timeout=120) as ht:
            progress(f"{scale}: gridmap on {gm.base} (pid {gm.proc.pid}), tipg on {tp.base} (pid {tp.proc.pid})")
            # tipg gets gridmap's shown properties that are table columns
            for case in cases:
                table = case.tipg[0].split("/collections/public.")[1].split("/")[0]
                if case.kind == "items":
                    first = hg.get(case.gridmap[0])
                    assert first.status_code == 200, (case.gridmap[0], first.status_code, first.text[:300])
                    shown = list(first.json()["features"][0]["properties"]) if first.json()["features"] else []
                else:
                    shown = {"building": ["id", "code", "name", "floors", "height_m"],
                             "grid": ["id", "code", "name"], "community": ["id", "code", "name", "name_en"],
                             "incident": ["id", "category", "status", "severity", "occurred_at"]}[table]
                props = tipg_properties(ht, table, shown)
                case.tipg = [with_props(p, props) for p in case.tipg]
                bg, bt = measure_bytes(hg, case.gridmap), measure_bytes(ht, case.tipg)
                case.check = check_items(bg[3][0], bt[3][0]) if case.kind == "items" \
                    else check_tiles([r.content for r in bg[3]], [r.content for r in bt[3]], case)
                case.bytes = {"gridmap": bg[:2], "tipg": bt[:2]}
                case.single_s = max(bg[2], bt[2])
            progress(f"{scale}: answers checked, bytes measured; load: wrk -t1 -c{args.connections}")
            sides: dict[str, Any] = {"gridmap": gm, "tipg": tp}
            for i, case in enumerate(cases):
                scripts = {"gridmap": lua_script(case.gridmap, key, folder), "tipg": lua_script(case.tipg, key, folder)}
                block_s = block_seconds(args.seconds, case.single_s)
                order = ["gridmap", "tipg"] if i % 2 == 0 else ["tipg", "gridmap"]
                for block in range(2):
                    for s in (order if block == 0 else order[::-1]):
                        server = sides[s]
                        app0, pg0 = proc_cpu_s(server.proc.pid), backends(dbname)
                        res = run_wrk(server.base, scripts[s], block_s, args.connections)
                        case.results.setdefault(s, []).append(
                            (res, block_s, proc_cpu_s(server.proc.pid) - app0, backends_delta(pg0, backends(dbname))))
                progress(f"{scale}: {case.name} (2 blocks of {block_s} s per side)")
    finally:
        try:
            revoke_key(engine, prefix=info.prefix, actor="bench/ogc")
        finally:
            engine.dispose()
            shutil.rmtree(folder, ignore_errors=True)
    return [(scale, c) for c in cases]


def report(rows: list[tuple[str, Case]], args: argparse.Namespace) -> None:
    print(f"\nwrk -t1 -c{args.connections}, 2 alternating blocks per case and side of {max(1, round(args.seconds / 2))} "
          "to 4 s (longer for slow requests); "
          "one uvicorn worker each (uvloop+httptools); gridmap with a viewer Bearer key on every request; "
          f"load at the end {loadavg()}")
    head = (f"{'scale':5s} {'case':36s} {'side':7s} {'req/s':>7s} {'p50 ms':>7s} {'p99 ms':>7s} {'kB':>8s} "
            f"{'gzip kB':>8s} {'app ms':>7s} {'pg ms':>6s} {'bad':>4s}")
    print(head)
    print("-" * len(head))
    ratios: list[tuple[str, str, str, float, float, float, str]] = []
    for scale, case in rows:
        s = {side: summarize(case.results[side]) for side in ("gridmap", "tipg")}
        for side in ("gridmap", "tipg"):
            r, (plain, zipped) = s[side], case.bytes[side]
            print(f"{scale:5s} {case.name:36s} {side:7s} {r['rps']:7.1f} {r['p50']:7.1f} {r['p99']:7.1f} "
                  f"{plain / 1000:8.1f} {zipped / 1000:8.1f} {r['app_ms']:7.2f} {r['pg_ms']:6.2f} "
                  f"{r['bad']:4d}{'  ' + r['errors'] if r['errors'] else ''}")
        g, t = s["gridmap"], s["tipg"]
        ratios.append((scale, case.kind, case.name, g["rps"] / t["rps"] if t["rps"] else float("nan"),
                       case.bytes["gridmap"][1] / case.bytes["tipg"][1] if case.bytes["tipg"][1] else float("nan"),
                       g["p50"] / t["p50"] if t["p50"] else float("nan"), case.check))
    print("\nRATIO gridmap/tipg (req/s ≥ 1 and gzip bytes ≤ 1 are gridmap's wins; the goal is req/s ≥ 1)")
    print(f"{'scale':5s} {'case':36s} {'req/s':>6s} {'p50':>6s} {'gzip B':>6s}  goal  answers (gridmap/tipg)")
    for (scale, _, name, rps, by, p50, check), (_, case) in zip(ratios, rows):
        goal = "met " if rps >= 1 else "LOST"
        print(f"{scale:5s} {name:36s} {rps:6.2f} {p50:6.2f} {by:6.2f}  {goal}  {check}")
        if case.note:
            print(f"{'':5s} {'':36s} {'':22s}        note: {case.note}")


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.ogc", description=__doc__.splitlines()[0])
    ap.add_argument("--scale", choices=("town", "city", "both"), default="both")
    ap.add_argument("--seconds", type=float, default=2.0, help="load per case and side, in 2 blocks (default 2)")
    ap.add_argument("--connections", type=int, default=4, help="wrk connections (default 4)")
    ap.add_argument("--tiles", type=int, default=20, help="tiles per zoom, sampled over the buildings (default 20)")
    ap.add_argument("--cases", default="", help="only the cases whose name contains this text (e.g. 'z16')")
    ap.add_argument("--town-db", default="gridmap", help="database name in the embedded cluster, or a URL")
    ap.add_argument("--city-db", default="gridmap_city", help="database name in the embedded cluster, or a URL")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install wrk (scripts/bootstrap.sh test installs it)")
    tipg_python()
    print(f"bench/ogc — {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, {TIPG}, load {loadavg()}", flush=True)
    rows: list[tuple[str, Case]] = []
    for scale, db in (("town", args.town_db), ("city", args.city_db)):
        if args.scale in (scale, "both"):
            rows += run_scale(scale, db, args)
    report(rows, args)


if __name__ == "__main__":
    main()
