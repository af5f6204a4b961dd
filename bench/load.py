"""bench/load — lookups under load while a plan is published (issue 7).

Run ``.venv/bin/python -m bench.load [--db NAME] [--seconds T] [--clients C] [--publishes K] [--points N]``.

``bench.server`` (uvicorn, 1 worker, rate limits off) serves the app in a subprocess, as in
bench/lookup, against the town database (``gridmap`` by default; a database name in the
embedded cluster or a full SQLAlchemy URL). Before anything is timed:

* one ``client`` and one ``planner`` key are created (revoked at the end);
* the planner makes K drafts over HTTP (``POST /v1/plans`` with ``source`` = the published
  plan), each with one building moved to a neighbouring grid of its community
  (``POST /v1/plans/{id}/assign``, If-Match), a different building per draft; a draft that does
  not validate (``GET .../validation``: errors) has its edit undone and the next building is tried;
* N query points: for each draft the moved building's ``ST_PointOnSurface`` and random points
  in the land the edit moved to the other grid, the rest random inside the communities
  (``ST_GeneratePoints``, fixed seed), 7 decimals;
* the expected answer of every point for every plan that may be published during the run
  (the original and the K drafts): the lowest grid code among the grids that ``ST_Covers`` the
  point, in PostGIS, and cross-checked with an in-process ``geo.grid_index.PlanIndex`` of each plan.

Then C client threads (one keep-alive ``httpx.Client`` each) send ``GET /v1/lookup?lon&lat``
for the sample points, as fast as they get answers, in three phases: the baseline ``A1``
(T/2 s), the publish phase ``B`` (T s: the planner publishes the K drafts one after the other,
at T·k/(K+1), each through the real ``POST /v1/plans/{id}/publish`` with If-Match, i.e. with
validation and the coverage hook), and the baseline ``A2`` (T/2 s). A = A1 + A2, so the
baseline surrounds B and shares its drift. Per request: start, end, status, the plan id the
answer names, the grid code.

Checks (printed loudly): no non-200 answer and no exception; every plan id named was published
during the run; every grid code is the expected one *for the plan the answer names* (an answer
naming plan X with plan Y's grid is a mix); per client, the plans named never go back to an
older plan; no answer names a plan before its publish request was sent. Figures: requests/s,
p50/p99/max for A and B, ratios B/A, publish durations, and per publish how long until every
client's answers named the new plan (from the publish response).

At the end a last draft copied from the original plan is published, so the published grids
are geometrically the same as before (fingerprint compared). Left behind: the original and
the K drafts retired, the copy published (see bench/README.md).

Nothing is asserted about wall-clock time: this prints figures, it is not a test.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
import orjson
from sqlalchemy import Engine, make_url, text

from bench.lookup import Server, postgres_cpu_s, table
from geo.config import Settings
from geo.keys import create_key, revoke_key
from geo.grid_index import NO_MATCH
from geo.lookup import build_index
from geo.store.db import cluster_for, make_engine
from geo.store.queries import get_plan, published_plan
from bench.common import loadavg, progress

NAME = "bench/load"
SEED = 20260301
#: random points per draft in the land its edit moved to the other grid (besides the building's own point)
MOVED_POINTS = 24


# --------------------------------------------------------------------------- output




def ms(s: float) -> str:
    return f"{s * 1e3:.2f} ms"


def database_url(name: str) -> str:
    return name if "://" in name else cluster_for(Settings()).url(name)


def fingerprint(engine: Engine, plan_id: int) -> tuple[int, str]:
    """(grids, md5 of every code and WKB) of a plan."""
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT count(*) AS n, md5(string_agg(code || ':' || encode(ST_AsBinary(geom), 'hex'), ',' "
            "ORDER BY code)) AS h FROM grid WHERE plan_id = :p"), {"p": plan_id}).one()
    return int(row.n), str(row.h)


# --------------------------------------------------------------------------- HTTP helpers


def etag(r: httpx.Response) -> str:
    return r.headers.get("etag", "")


def expect(r: httpx.Response, status: int, what: str) -> httpx.Response:
    if r.status_code != status:
        raise RuntimeError(f"{what}: HTTP {r.status_code} (expected {status}): {r.text[:500]}")
    return r


# --------------------------------------------------------------------------- preparation


@dataclass
class Draft:
    id: int
    version: int  # the ETag to publish with
    building: str
    from_grid: str
    to_grid: str
    distance_m: float
    tries: int
    validation: str = ""


def move_candidates(engine: Engine, plan_id: int, rng: np.random.Generator) -> list[tuple[str, str, str, float]]:
    """(building, its grid, the nearest other grid of its community within 30 m, distance m), shuffled."""
    with engine.connect() as conn:
        rows = conn.execute(text("""
            WITH owner AS (
              SELECT DISTINCT ON (b.id) b.id, b.code AS building, b.community_id, b.geom, g.code AS grid
              FROM building b JOIN grid g ON g.plan_id = :p AND ST_Covers(g.geom, ST_PointOnSurface(b.geom))
              ORDER BY b.id, g.code)
            SELECT DISTINCT ON (o.id) o.building, o.grid, g.code AS target,
                   ST_Distance(o.geom::geography, g.geom::geography) AS d
            FROM owner o JOIN grid g ON g.plan_id = :p AND g.community_id = o.community_id AND g.code <> o.grid
            WHERE ST_DWithin(o.geom::geography, g.geom::geography, 30)
            ORDER BY o.id, d, g.code"""), {"p": plan_id}).all()
    out = [(r.building, r.grid, r.target, float(r.d)) for r in rows]
    return [out[i] for i in rng.permutation(len(out))]


def make_drafts(planner: httpx.Client, engine: Engine, original: int, k: int,
                rng: np.random.Generator) -> list[Draft]:
    """K drafts of ``original``, each with a different building moved (over HTTP); only drafts that validate."""
    candidates = move_candidates(engine, original, rng)
    v = expect(planner.get(f"/v1/plans/{original}/validation"), 200, "validation").json()
    kinds = Counter(p["kind"] for p in v["problems"])
    progress(f"{len(candidates)} buildings within 30 m of another grid of their community; the published plan "
             f"{original} has {dict(kinds) or 'no problem'}")
    drafts: list[Draft] = []
    used_grids: set[str] = set()
    cursor = 0
    for n in range(k):
        r = expect(planner.post("/v1/plans", json={"name": f"{NAME} draft {n + 1} (copy of plan {original})",
                                                 "source": original}), 201, "POST /v1/plans")
        pid, version = r.json()["id"], etag(r)
        tries = 0
        while True:
            # a building whose grids no earlier draft touched, so that each draft's change is its own
            while cursor < len(candidates) and ({candidates[cursor][1], candidates[cursor][2]} & used_grids):
                cursor += 1
            if cursor >= len(candidates) or tries >= 8:
                raise RuntimeError(f"draft {pid}: no building could be moved into a publishable draft "
                                   f"({tries} tried)")
            building, src, dst, dist = candidates[cursor]
            cursor += 1
            tries += 1
            t = time.perf_counter()
            r = expect(planner.post(f"/v1/plans/{pid}/assign", json={"building": building, "grid": dst},
                                    headers={"If-Match": version}), 200, f"assign {building} → {dst}")
            version = etag(r)
            t_assign = time.perf_counter() - t
            v = expect(planner.get(f"/v1/plans/{pid}/validation"), 200, "validation").json()
            errors = [p for p in v["problems"] if p["severity"] == "error"]
            warnings = Counter(p["kind"] for p in v["problems"] if p["severity"] != "error")
            progress(f"draft {pid}: {building} {src} → {dst} ({dist:.1f} m) in {t_assign:.2f} s; "
                     f"{len(errors)} error(s), warnings {dict(warnings)}")
            if not errors:
                drafts.append(Draft(pid, int(version.strip('"')), building, src, dst, dist, tries,
                                    ", ".join(f"{n} {k}" for k, n in sorted(warnings.items())) or "clean"))
                used_grids |= {src, dst}
                break
            r = expect(planner.post(f"/v1/plans/{pid}/undo", headers={"If-Match": version}), 200, "undo")
            version = etag(r)
    return drafts


def sample_points(engine: Engine, original: int, drafts: list[Draft], n: int) -> tuple[list[str], list[str], list[str]]:
    """(lon strings, lat strings, kind) — 7 decimals; the same strings go over HTTP and into the oracles."""
    pts: list[tuple[float, float, str]] = []
    with engine.connect() as conn:
        for i, d in enumerate(drafts):
            row = conn.execute(text(
                "SELECT ST_X(p) AS x, ST_Y(p) AS y FROM (SELECT ST_PointOnSurface(geom) AS p FROM building "
                "WHERE code = :b) s"), {"b": d.building}).one()
            pts.append((row.x, row.y, "moved building"))
            rows = conn.execute(text("""
                SELECT ST_X(d.geom) AS x, ST_Y(d.geom) AS y FROM (
                  SELECT ST_Difference(n.geom, o.geom) AS land FROM grid n JOIN grid o ON o.code = n.code
                  WHERE n.plan_id = :new AND o.plan_id = :old AND n.code = :to) s,
                  LATERAL ST_Dump(ST_GeneratePoints(s.land, :m, :seed)) d
                WHERE NOT ST_IsEmpty(s.land)"""),
                {"new": d.id, "old": original, "to": d.to_grid, "m": MOVED_POINTS, "seed": SEED + i}).all()
            pts += [(r.x, r.y, "moved land") for r in rows]
        rest = max(0, n - len(pts))
        rows = [] if rest == 0 else conn.execute(text(
            "SELECT ST_X(d.geom) AS x, ST_Y(d.geom) AS y FROM "
            "ST_Dump(ST_GeneratePoints((SELECT ST_Union(geom) FROM community), :m, :seed)) d"),
            {"m": rest, "seed": SEED}).all()
        pts += [(r.x, r.y, "community") for r in rows[:rest]]  # ST_GeneratePoints may round up per polygon
    return [f"{x:.7f}" for x, _, _ in pts], [f"{y:.7f}" for _, y, _ in pts], [k for _, _, k in pts]


def expected_codes(engine: Engine, plan_ids: list[int], lon: np.ndarray, lat: np.ndarray
                   ) -> tuple[dict[int, list[str | None]], dict[int, list[tuple[int, str | None, str | None]]]]:
    """Per plan: the PostGIS answer (lowest code among the grids covering the point) for each point,
    and the points where the in-process PlanIndex answers differently."""
    out: dict[int, list[str | None]] = {}
    disagree: dict[int, list[tuple[int, str | None, str | None]]] = {}
    with engine.connect() as conn:
        for pid in plan_ids:
            rows = conn.execute(text("""
                SELECT p.i, min(g.code) AS code
                FROM unnest(CAST(:x AS float8[]), CAST(:y AS float8[])) WITH ORDINALITY AS p(x, y, i)
                JOIN grid g ON g.plan_id = :plan AND ST_Covers(g.geom, ST_SetSRID(ST_MakePoint(p.x, p.y), 4326))
                GROUP BY p.i"""), {"x": lon.tolist(), "y": lat.tolist(), "plan": pid}).all()
            codes: list[str | None] = [None] * len(lon)
            for r in rows:
                codes[int(r.i) - 1] = r.code
            out[pid] = codes
            index = build_index(conn, plan=get_plan(conn, plan_id=pid))
            mine = index.locate_many(lon, lat)
            mine_codes = [index.grids[g].code if g != NO_MATCH else None for g in mine]
            disagree[pid] = [(i, a, b) for i, (a, b) in enumerate(zip(codes, mine_codes)) if a != b]
    return out, disagree


# --------------------------------------------------------------------------- the load


@dataclass
class Publish:
    plan: int
    at: float  # scheduled, seconds from the phase start
    sent: float = 0.0  # perf_counter
    answered: float = 0.0
    get_s: float = 0.0  # GET /v1/plans/{id} for the ETag
    status: int = 0
    error: str = ""

    @property
    def duration(self) -> float:
        return self.answered - self.sent


@dataclass
class Phase:
    name: str
    seconds: float
    #: per client: (start, end, status, plan id, grid code, point) tuples; status 0 = exception
    records: list[list[tuple[float, float, int, int, str | None, int]]] = field(default_factory=list)
    exceptions: Counter[str] = field(default_factory=Counter)
    start: float = 0.0
    wall_s: float = 0.0
    server_cpu_s: float = 0.0
    db_cpu_s: float = 0.0
    client_cpu_s: float = 0.0  # this process: the C client threads (and the planner's)
    publishes: list[Publish] = field(default_factory=list)

    def all(self) -> list[tuple[float, float, int, int, str | None, int]]:
        return [r for recs in self.records for r in recs]

    def latencies(self) -> np.ndarray:
        return np.array([r[1] - r[0] for r in self.all() if r[2]], dtype=float)

    def rps(self) -> float:
        return len(self.all()) / self.wall_s if self.wall_s else 0.0


def run_phase(server: Server, key: str, planner_key: str, lon: list[str], lat: list[str], phase: Phase,
              clients: int, publish: list[Publish], database: str) -> None:
    """C client threads for ``phase.seconds``; ``publish`` (may be empty) done by a planner thread meanwhile."""
    n = len(lon)
    paths = [f"/v1/lookup?lon={x}&lat={y}" for x, y in zip(lon, lat)]
    phase.records = [[] for _ in range(clients)]
    headers = {"Authorization": f"Bearer {key}"}
    conns = [httpx.Client(base_url=server.base, headers=headers, timeout=30) for _ in range(clients)]
    planner = httpx.Client(base_url=server.base, headers={"Authorization": f"Bearer {planner_key}"}, timeout=120)
    lock = threading.Lock()
    go = threading.Barrier(clients + 2)
    state: dict[str, float] = {}

    def client(c: int) -> None:
        order = np.random.default_rng(SEED + 1000 * c + len(phase.name)).permutation(n)
        recs = phase.records[c]
        http = conns[c]
        go.wait()
        deadline = state["deadline"]
        j = 0
        while True:  # bounded: ends at the deadline (each request has a 30 s timeout)
            t0 = time.perf_counter()
            if t0 >= deadline:
                break
            i = int(order[j % n])
            j += 1
            try:
                r = http.get(paths[i])
                t1 = time.perf_counter()
            except httpx.HTTPError as exc:
                t1 = time.perf_counter()
                with lock:
                    phase.exceptions[type(exc).__name__] += 1
                recs.append((t0, t1, 0, 0, None, i))
                continue
            if r.status_code == 200:
                body = orjson.loads(r.content)
                recs.append((t0, t1, 200, int(body["plan"]["id"]), body["grid"]["code"], i))
            else:
                recs.append((t0, t1, r.status_code, 0, None, i))

    def publisher() -> None:
        go.wait()
        start = state["start"]
        for p in publish:
            delay = start + p.at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            t = time.perf_counter()
            r = planner.get(f"/v1/plans/{p.plan}")
            p.get_s = time.perf_counter() - t
            p.sent = time.perf_counter()
            try:
                r = planner.post(f"/v1/plans/{p.plan}/publish", json={"acknowledge_warnings": True},
                                 headers={"If-Match": etag(r)})
                p.answered = time.perf_counter()
                p.status = r.status_code
                if r.status_code != 200:
                    p.error = r.text[:300]
            except httpx.HTTPError as exc:
                p.answered = time.perf_counter()
                p.error = f"{type(exc).__name__}: {exc}"

    threads = [threading.Thread(target=client, args=(c,), name=f"load-client-{c}") for c in range(clients)]
    threads.append(threading.Thread(target=publisher, name="load-planner"))
    for t in threads:
        t.start()
    cpu0, db0, me0 = server.cpu_s(), postgres_cpu_s(database), time.process_time()
    state["start"] = time.perf_counter()
    state["deadline"] = state["start"] + phase.seconds
    go.wait()
    for t in threads:
        t.join(timeout=phase.seconds + 180)  # bounded: the last request's timeout and a slow publish
    phase.start = state["start"]
    phase.wall_s = max([r[1] for recs in phase.records for r in recs] + [state["deadline"]]) - state["start"]
    phase.server_cpu_s = server.cpu_s() - cpu0
    phase.db_cpu_s = postgres_cpu_s(database) - db0
    phase.client_cpu_s = time.process_time() - me0
    phase.publishes = publish
    for h in conns:
        h.close()
    planner.close()


def warm_up(server: Server, key: str, lon: list[str], lat: list[str], clients: int) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    for c in range(clients):
        with httpx.Client(base_url=server.base, headers=headers, timeout=30) as http:
            for i in range(20):
                j = (c * 20 + i) % len(lon)
                http.get(f"/v1/lookup?lon={lon[j]}&lat={lat[j]}")


# --------------------------------------------------------------------------- checks


@dataclass
class Checks:
    total: int = 0
    ok: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    plans_named: Counter[int] = field(default_factory=Counter)
    foreign: Counter[int] = field(default_factory=Counter)  # plan ids never published during the run
    mixes: list[tuple[int, int, str | None, str | None, int | None]] = field(default_factory=list)
    discriminating: int = 0  # answers at a point where some run plan would answer another grid
    backwards: int = 0  # a client named an older plan after a newer one
    early: int = 0  # answer named a plan whose publish request was not sent yet when the request was


def check_phase(phase: Phase, expected: dict[int, list[str | None]], order: list[int],
                published_at: dict[int, float]) -> Checks:
    """``order``: the plans in publish order (original first); ``published_at``: perf_counter when each
    plan's publish request was sent (the original: -inf)."""
    ck = Checks()
    rank = {p: i for i, p in enumerate(order)}
    n = len(next(iter(expected.values())))
    differs = [len({expected[p][i] for p in order}) > 1 for i in range(n)]
    for recs in phase.records:
        last_rank = -1
        for t0, t1, status, plan, code, i in sorted(recs, key=lambda r: r[0]):
            ck.total += 1
            ck.by_status[status] += 1
            if status != 200:
                continue
            ck.ok += 1
            ck.plans_named[plan] += 1
            if plan not in rank:
                ck.foreign[plan] += 1
                continue
            want = expected[plan][i]
            if differs[i]:
                ck.discriminating += 1
            if code != want:
                other = next((p for p in order if expected[p][i] == code), None)
                ck.mixes.append((i, plan, code, want, other))
            if rank[plan] < last_rank:
                ck.backwards += 1
            last_rank = max(last_rank, rank[plan])
            if t1 < published_at.get(plan, float("-inf")):
                ck.early += 1
    return ck


def switch_delays(phase: Phase, plan: int, previous: int, answered: float) -> tuple[list[float], float, int]:
    """Per client: seconds from the publish response to its first answer naming ``plan`` (answer received);
    the latest answer naming ``previous`` after the response (seconds, or nan) and how many there were."""
    firsts: list[float] = []
    late_old: list[float] = []
    for recs in phase.records:
        first = min((t1 for t0, t1, s, p, _, _ in recs if s == 200 and p == plan), default=None)
        firsts.append(first - answered if first is not None else float("nan"))
        late_old += [t1 - answered for t0, t1, s, p, _, _ in recs if s == 200 and p == previous and t1 > answered]
    return firsts, max(late_old) if late_old else float("nan"), len(late_old)


# --------------------------------------------------------------------------- main


def restore(planner: httpx.Client, server: Server, key: str, original: int,
            probe: tuple[str, str] | None) -> dict[str, Any]:
    """A new draft copied from ``original``, published over HTTP; waits (≤ 10 s) until lookups name it."""
    r = expect(planner.post("/v1/plans", json={"name": f"{NAME}: copy of plan {original} (restore)",
                                               "source": original}), 201, "POST /v1/plans (restore)")
    rid = r.json()["id"]
    t = time.perf_counter()
    expect(planner.post(f"/v1/plans/{rid}/publish", json={"acknowledge_warnings": True},
                        headers={"If-Match": etag(r)}), 200, "publish (restore)")
    out: dict[str, Any] = {"id": rid, "publish_s": time.perf_counter() - t, "lookups": None}
    if probe is not None:
        out["lookups"] = False
        with httpx.Client(base_url=server.base, headers={"Authorization": f"Bearer {key}"}, timeout=30) as http:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:  # bounded
                rr = http.get("/v1/lookup", params={"lon": probe[0], "lat": probe[1]})
                if rr.status_code == 200 and rr.json()["plan"]["id"] == rid:
                    out["lookups"] = True
                    break
                time.sleep(0.05)
    return out


def run(args: argparse.Namespace) -> int:
    url = database_url(args.db)
    database = make_url(url).database or args.db
    engine = make_engine(url, pool_size=2)
    with engine.connect() as conn:
        plan = published_plan(conn)
    if plan is None:
        raise SystemExit(f"{args.db}: no published plan; load the data first (see bench/README.md)")
    original = int(plan["id"])
    before = fingerprint(engine, original)
    print(f"bench/load — {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, httpx {httpx.__version__}; "
          f"database {database}; --seconds {args.seconds:g} --clients {args.clients} --publishes {args.publishes} "
          f"--points {args.points:,}; load average at start {loadavg()}", flush=True)
    print(f"published plan before the bench: {original} ({plan['name']}), {before[0]} grids, md5 {before[1][:12]}")
    rng = np.random.default_rng(SEED)
    info_c, key_c = create_key(engine, role="client", name=NAME, actor=NAME)
    info_p, key_p = create_key(engine, role="planner", name=NAME, actor=NAME)
    failures: list[str] = []
    restored: dict[str, Any] = {}
    published: list[int] = []
    probe: tuple[str, str] | None = None
    try:
        with Server(url) as server:
            progress(f"server up on {server.base} (pid {server.proc.pid})")
            planner = httpx.Client(base_url=server.base, headers={"Authorization": f"Bearer {key_p}"}, timeout=120)
            try:
                # ---- preparation
                t = time.perf_counter()
                drafts = make_drafts(planner, engine, original, args.publishes, rng)
                t_drafts = time.perf_counter() - t
                lon_s, lat_s, kinds = sample_points(engine, original, drafts, args.points)
                lon, lat = np.array(lon_s, dtype=float), np.array(lat_s, dtype=float)
                order = [original] + [d.id for d in drafts]
                t = time.perf_counter()
                expected, disagree = expected_codes(engine, order, lon, lat)
                t_expected = time.perf_counter() - t
                inside_all = [all(expected[p][i] is not None for p in order) for i in range(len(lon))]
                dropped = Counter(k for k, ok in zip(kinds, inside_all) if not ok)
                keep = [i for i, ok in enumerate(inside_all) if ok]
                lon_s, lat_s, kinds = [lon_s[i] for i in keep], [lat_s[i] for i in keep], [kinds[i] for i in keep]
                lon, lat = lon[keep], lat[keep]
                probe = (lon_s[0], lat_s[0]) if lon_s else None
                expected = {p: [codes[i] for i in keep] for p, codes in expected.items()}
                differs = [i for i in range(len(keep)) if len({expected[p][i] for p in order}) > 1]
                progress(f"{len(drafts)} drafts in {t_drafts:.1f} s; {len(keep):,} points "
                         f"({len(differs)} answered differently by some plan); expected answers in {t_expected:.1f} s")

                # ---- the load
                warm_up(server, key_c, lon_s, lat_s, args.clients)
                half = args.seconds / 2
                a1, b, a2 = Phase("A1", half), Phase("B", args.seconds), Phase("A2", half)
                progress(f"phase A1: {args.clients} clients, {half:g} s, no publish")
                run_phase(server, key_c, key_p, lon_s, lat_s, a1, args.clients, [], database)
                schedule = [Publish(d.id, args.seconds * (k + 1) / (len(drafts) + 1)) for k, d in enumerate(drafts)]
                progress(f"phase B: {args.clients} clients, {args.seconds:g} s, publishing drafts "
                         f"{[d.id for d in drafts]} at {', '.join(f'{p.at:.1f}' for p in schedule)} s")
                run_phase(server, key_c, key_p, lon_s, lat_s, b, args.clients, schedule, database)
                published = [p.plan for p in schedule if p.status == 200]
                progress(f"phase A2: {args.clients} clients, {half:g} s, no publish")
                run_phase(server, key_c, key_p, lon_s, lat_s, a2, args.clients, [], database)
            finally:
                # ---- put the original grids back: a copy of the original plan, published (only if needed)
                try:
                    with engine.connect() as conn:
                        current = published_plan(conn)
                    if current is not None and int(current["id"]) != original:
                        progress("publishing a copy of the original plan")
                        restored = restore(planner, server, key_c, original, probe)
                except Exception as exc:  # reported below; the finally must still revoke the keys
                    failures.append(f"restore failed: {type(exc).__name__}: {exc}")
                    progress(f"RESTORE FAILED: {type(exc).__name__}: {exc}")
                planner.close()
    finally:
        for info in (info_c, info_p):
            try:
                revoke_key(engine, prefix=info.prefix, actor=NAME)
            except Exception as exc:
                failures.append(f"revoking key {info.prefix}: {exc}")

    with engine.connect() as conn:
        now = published_plan(conn)
    after = fingerprint(engine, int(now["id"])) if now else (0, "")
    engine.dispose()
    return report(args, drafts, order, kinds, expected, disagree, dropped, a1, b, a2, published, original,
                  before, now, after, restored, failures)


def report(args: argparse.Namespace, drafts: list[Draft], order: list[int], kinds: list[str],
           expected: dict[int, list[str | None]], disagree: dict[int, list[tuple[int, str | None, str | None]]],
           dropped: Counter[str], a1: Phase, b: Phase, a2: Phase, published: list[int], original: int,
           before: tuple[int, str], now: dict[str, Any] | None, after: tuple[int, str],
           restored: dict[str, Any], failures: list[str]) -> int:
    bad = 0
    n = len(kinds)
    print("\n--- preparation ---")
    rows = [[str(d.id), d.building, d.from_grid, d.to_grid, f"{d.distance_m:.1f} m", str(d.tries), d.validation,
             str(d.version)] for d in drafts]
    print(table(rows, ["draft", "building moved", "from grid", "to grid", "distance", "tries", "validation",
                       "version"]))
    kc = Counter(kinds)
    differs = [i for i in range(n) if len({expected[p][i] for p in order}) > 1]
    dk = Counter(kinds[i] for i in differs)
    print(f"sample: {n:,} points — " + ", ".join(f"{k} {kc[k]:,} ({dk[k]} answered differently by some plan)"
                                                 for k in ("moved building", "moved land", "community"))
          + (f"; left out (outside every grid of some plan): {dict(dropped)}" if dropped else ""))
    oracle_bad = sum(len(v) for v in disagree.values())
    print(f"expected answers: PostGIS ST_Covers, lowest code, per plan {order}; in-process PlanIndex disagrees on "
          f"{oracle_bad} (point, plan) pairs" + (" ← ORACLE DISAGREEMENT" if oracle_bad else ""))
    for pid, items in disagree.items():
        for i, a, bb in items[:5]:
            print(f"   plan {pid}, point {i}: PostGIS {a}, PlanIndex {bb}")
    bad += oracle_bad

    # ---- the figures
    a_lat = np.concatenate([a1.latencies(), a2.latencies()])
    b_lat = b.latencies()
    a_wall = a1.wall_s + a2.wall_s
    a_n = len(a1.all()) + len(a2.all())
    a_rps = a_n / a_wall if a_wall else 0.0

    def pct(x: np.ndarray, q: float) -> float:
        return float(np.percentile(x, q)) if len(x) else float("nan")

    print(f"\n--- load: {args.clients} clients, GET /v1/lookup (keep-alive httpx, one thread each); "
          f"uvicorn 1 worker ---")
    rows = []
    for name, ph_list in (("A1 (no publish)", [a1]), ("B (publishing)", [b]), ("A2 (no publish)", [a2]),
                          ("A = A1 + A2", [a1, a2])):
        lat_ = np.concatenate([p.latencies() for p in ph_list])
        wall = sum(p.wall_s for p in ph_list)
        cnt = sum(len(p.all()) for p in ph_list)
        cpu = sum(p.server_cpu_s for p in ph_list)
        dbc = sum(p.db_cpu_s for p in ph_list)
        clc = sum(p.client_cpu_s for p in ph_list)
        rows.append([name, f"{wall:.1f} s", f"{cnt:,}", f"{cnt / wall:,.0f}" if wall else "-", ms(pct(lat_, 50)),
                     ms(pct(lat_, 99)), ms(float(lat_.max()) if len(lat_) else float("nan")),
                     f"{1e3 * cpu / cnt:.2f}" if cnt else "-", f"{1e3 * dbc / cnt:.2f}" if cnt else "-",
                     f"{1e3 * clc / cnt:.2f}" if cnt else "-"])
    print(table(rows, ["phase", "wall", "requests", "req/s", "p50", "p99", "max", "app CPU ms/req",
                       "pg CPU ms/req", "client CPU ms/req"]))
    r50, r99 = pct(b_lat, 50) / pct(a_lat, 50), pct(b_lat, 99) / pct(a_lat, 99)
    rt = b.rps() / a_rps if a_rps else float("nan")
    print(f"RATIO B / A: p50 {r50:.2f}, p99 {r99:.2f}, max {float(b_lat.max()) / float(a_lat.max()):.2f}, "
          f"throughput {rt:.2f}")
    # latency around the publishes: requests whose interval overlaps a publish call
    pubs = [p for p in b.publishes if p.answered]
    during = np.array([r[1] - r[0] for r in b.all() if r[2] and any(r[0] < p.answered and r[1] > p.sent
                                                                    for p in pubs)])
    outside = np.array([r[1] - r[0] for r in b.all() if r[2] and not any(r[0] < p.answered and r[1] > p.sent
                                                                         for p in pubs)])
    if len(during):
        print(f"B, requests overlapping a publish call: {len(during):,}, p50 {ms(pct(during, 50))}, "
              f"p99 {ms(pct(during, 99))}, max {ms(float(during.max()))}; the other B requests: {len(outside):,}, "
              f"p50 {ms(pct(outside, 50))}, p99 {ms(pct(outside, 99))}")

    # ---- publishes and switches
    print("\n--- publishes during B (planner: GET /v1/plans/{id} for the ETag, then POST .../publish with "
          "If-Match; each validates the draft and runs the coverage hook) ---")
    rows = []
    prev = original
    worst_switch = float("nan")
    for p in b.publishes:
        firsts, late, n_late = switch_delays(b, p.plan, prev, p.answered)
        seen = [f for f in firsts if f == f]
        if p.status == 200 and seen:
            worst_switch = max(seen) if worst_switch != worst_switch else max(worst_switch, max(seen))
        rows.append([str(p.plan), f"{p.at:.1f} s", f"{p.sent - b.start:.2f} s", str(p.status or "exc"),
                     ms(p.get_s), ms(p.duration),
                     ms(max(seen)) if len(seen) == len(firsts) else f"{len(firsts) - len(seen)} client(s) never",
                     ms(min(seen)) if seen else "-",
                     f"{n_late} (last {ms(late)})" if n_late else "0"])
        if p.status != 200:
            print(f"PUBLISH FAILED: plan {p.plan}: {p.error}")
            bad += 1
        prev = p.plan if p.status == 200 else prev
    print(table(rows, ["plan", "scheduled", "sent", "status", "GET plan", "publish call",
                       "all clients switched (max)", "first client (min)", "old-plan answers after"]))
    print("switched = from the publish response to each client's first answer naming the new plan "
          "(negative: before the response arrived); old-plan answers after = answers naming the previous "
          "plan received after the publish response")

    # ---- checks
    published_at = {p.plan: p.sent for p in b.publishes if p.status == 200}
    run_order = [original] + published
    print("\n--- checks ---")
    rows = []
    total_mix = 0
    for ph in (a1, b, a2):
        ph_order = run_order
        ck = check_phase(ph, expected, ph_order, published_at)
        errors = ck.total - ck.ok
        total_mix += len(ck.mixes)
        bad += errors + sum(ck.foreign.values()) + len(ck.mixes) + ck.backwards + ck.early
        rows.append([ph.name, f"{ck.total:,}", f"{errors}" + (f" {dict(ck.by_status)}" if errors else ""),
                     ", ".join(f"{p}: {c:,}" for p, c in sorted(ck.plans_named.items())),
                     str(sum(ck.foreign.values())), f"{len(ck.mixes)} of {ck.ok:,} ({ck.discriminating:,} "
                     "discriminating)", str(ck.backwards), str(ck.early)])
        for i, plan, code, want, other in ck.mixes[:10]:
            print(f"MIX in {ph.name}: point {i} ({kinds[i]}) answer names plan {plan} with grid {code}; plan {plan} "
                  f"has {want} there" + (f", plan {other} has {code}" if other else ""))
        for pid, cnt in ck.foreign.items():
            print(f"FOREIGN PLAN in {ph.name}: {cnt} answers name plan {pid}, never published during the run")
        if ph.exceptions:
            print(f"EXCEPTIONS in {ph.name}: {dict(ph.exceptions)}")
    print(table(rows, ["phase", "answers", "non-200", "plans named (answers)", "unpublished plan",
                       "wrong grid for the plan named (mixes)", "went back", "named before publish"]))
    print("discriminating = answers at a point where the plans of the run do not all give the same grid: "
          "there a mix would show")

    # ---- restore
    print("\n--- after the run ---")
    if restored:
        same = after == before
        seen = {True: "yes", False: "NOT SEEN within 10 s", None: "not checked"}[restored.get("lookups")]
        print(f"published a copy of plan {original} as plan {restored['id']} in {ms(restored['publish_s'])}; "
              f"lookups answer from it: {seen}")
        bad += restored.get("lookups") is False
        print(f"published plan now: {now['id'] if now else None}, {after[0]} grids, md5 {after[1][:12]} — "
              + ("geometrically identical to plan " + str(original) + " before the bench" if same
                 else "DIFFERENT from plan " + str(original) + f" before the bench (md5 {before[1][:12]})"))
        bad += 0 if same else 1
    for f in failures:
        print(f"FAILURE: {f}")
    bad += len(failures)
    print(f"left behind: plans {[original] + published} retired, plan {restored.get('id')} published"
          + (f", drafts {[d.id for d in drafts if d.id not in published]} unpublished"
             if len(published) < len(drafts) else "")
          + "; audit rows; the two bench keys revoked")
    print(f"\nRESULT: {'no error, no mix' if not bad else f'{bad} problem(s) — see the lines in capitals above'}; "
          f"B/A p50 {r50:.2f}, p99 {r99:.2f}, throughput {rt:.2f}; every client named each new plan within "
          f"{worst_switch * 1e3:.0f} ms of its publish response (worst)", flush=True)
    return 1 if bad else 0


# --------------------------------------------------------------------------- 1 vs N workers (issue 12)

#: wrk's Lua: every request a lookup of the next sample point, with the key (wrk.format builds it).
WRK_LUA = """
local paths = {%s}
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i], {["Authorization"] = "Bearer %s"})
end
"""


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    errors: str


def parse_wrk(out: str) -> WrkResult:
    """Requests/sec, the 50 % and 99 % latencies (``--latency``), non-2xx answers and socket errors."""
    import re

    def latency(pct: str) -> float:
        m = re.search(rf"^\s*{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return float("nan")
        return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    non = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    err = re.search(r"Socket errors: (.*)", out)
    return WrkResult(float(rps.group(1)) if rps else 0.0, latency("50"), latency("99"),
                     int(total.group(1)) if total else 0, int(non.group(1)) if non else 0,
                     err.group(1).strip() if err else "")


def wrk(base: str, path: str, *, seconds: float, connections: int, threads: int, script: str | None) -> WrkResult:
    import subprocess

    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s", "--latency", "--timeout", "10s"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [base + path], capture_output=True, text=True, check=True).stdout
    return parse_wrk(out)


class Serve:
    """``gridmap serve --no-setup --workers N`` (``python -m api.cli``) in a subprocess: the real command,
    uvloop + httptools, rate limits off, the access log off (a log line per request would be measured)."""

    def __init__(self, url: str, workers: int, var_dir: str) -> None:
        from bench.lookup import free_port

        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.env = os.environ | {"GRIDMAP_DATABASE_URL": url, "GRIDMAP_VAR_DIR": var_dir,
                                 "GRIDMAP_RATE_LIMIT_KEY_PER_S": "0", "GRIDMAP_RATE_LIMIT_ADDRESS_PER_S": "0",
                                 "GRIDMAP_ACCESS_LOG": "false"}
        self.proc: Any = None

    def __enter__(self) -> Serve:
        import subprocess

        from bench.lookup import ROOT

        self.proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--no-setup", "--workers",
                                      str(self.workers), "--port", str(self.port)], cwd=ROOT, env=self.env,
                                     start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        ready = 0
        while ready < 3 * self.workers:  # several answers in a row: every worker has started
            if self.proc.poll() is not None:
                raise RuntimeError(f"gridmap serve exited with {self.proc.returncode}")
            try:
                ready = ready + 1 if httpx.get(self.base + "/health", timeout=5).status_code == 200 else 0
            except httpx.TransportError:
                ready = 0
            if time.monotonic() > deadline:
                raise RuntimeError("gridmap serve did not answer /health within 120 s")
            time.sleep(0.2)
        time.sleep(2)  # the other workers' lookup indexes (each builds its own)
        return self

    def worker_pids(self) -> list[int]:
        """The worker processes (uvicorn spawns them; with one worker the server process itself serves)."""
        pids = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as f:
                        ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                    with open(f"/proc/{entry}/cmdline", "rb") as f:
                        spawned = b"spawn_main" in f.read()
                except OSError:
                    continue
                if ppid == self.proc.pid and spawned:
                    pids.append(int(entry))
        return sorted(pids) or [self.proc.pid]

    def __exit__(self, *exc: object) -> None:
        import signal
        import subprocess

        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def scale_out(args: argparse.Namespace) -> int:
    """/v1/lookup (auth from the key cache) and the cheapest endpoints, 1 vs N workers, with wrk."""
    import shutil
    import tempfile

    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install wrk (scripts/bootstrap.sh test installs it)")
    url = database_url(args.db)
    engine = make_engine(url, pool_size=2)
    with engine.connect() as conn:
        plan = published_plan(conn)
        if plan is None:
            raise SystemExit(f"{args.db}: no published plan; load the data first (see bench/README.md)")
        pts = conn.execute(text(
            "SELECT ST_X(p) AS x, ST_Y(p) AS y FROM (SELECT (ST_Dump(ST_GeneratePoints(geom, 20, :seed))).geom AS p "
            "FROM grid WHERE plan_id = :p ORDER BY code) s"), {"p": plan["id"], "seed": SEED}).all()
    info, key = create_key(engine, role="client", name="bench/load --wrk")
    counts = [int(n) for n in args.workers.split(",")]
    print(f"bench/load --wrk — {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, {args.db}: plan "
          f"{plan['id']}, {len(pts):,} sample points; wrk -t{args.threads} -c{args.connections}, "
          f"{args.seconds:g} s per line; load {loadavg()}", flush=True)
    rows: list[list[str]] = []
    lookup_rps: dict[int, float] = {}
    cheap_rps: dict[int, float] = {}
    bad = 0
    try:
        with tempfile.TemporaryDirectory() as tmp:
            script = os.path.join(tmp, "lookup.lua")
            with open(script, "w") as f:
                f.write(WRK_LUA % (",".join(f'"/v1/lookup?lon={r.x:.7f}&lat={r.y:.7f}"' for r in pts), key))
            for n in counts:
                progress(f"gridmap serve --workers {n}")
                with Serve(url, n, tmp) as server:
                    r = httpx.get(f"{server.base}/v1/lookup", params={"lon": pts[0].x, "lat": pts[0].y},
                                  headers={"Authorization": f"Bearer {key}"})
                    expect(r, 200, "a lookup")
                    expect(httpx.get(server.base + "/bench-404"), 404, "the 404")
                    wrk(server.base, "/bench-404", seconds=2, connections=args.connections, threads=args.threads,
                        script=script)  # warm-up: every worker's pool, caches and index
                    for label, path, lua in (("/v1/lookup (Bearer key)", "/v1/lookup", script),
                                             ("404 (cheapest: no auth, no DB)", "/bench-404", None),
                                             ("/health (a DB round trip)", "/health", None)):
                        from bench.lookup import proc_cpu_s

                        pids = server.worker_pids()
                        cpu0 = [proc_cpu_s(p) for p in pids]
                        res = wrk(server.base, path, seconds=args.seconds, connections=args.connections,
                                  threads=args.threads, script=lua)
                        cpu = [proc_cpu_s(p) - c for p, c in zip(pids, cpu0)]
                        expected_non_2xx = res.requests if path == "/bench-404" else 0
                        if res.non_2xx != expected_non_2xx or res.errors:
                            bad += 1
                            print(f"!! {label}, {n} workers: {res.non_2xx:,} non-2xx of {res.requests:,}; "
                                  f"socket errors: {res.errors or 'none'}", flush=True)
                        if path == "/v1/lookup":
                            lookup_rps[n] = res.rps
                        elif path == "/bench-404":
                            cheap_rps[n] = res.rps
                        rows.append([label, str(n), f"{res.rps:,.0f}", f"{res.p50_ms:.2f} ms", f"{res.p99_ms:.2f} ms",
                                     f"{res.requests:,}", " + ".join(f"{c:.1f}" for c in cpu)])
                        progress(f"{label}, {n} workers: {res.rps:,.0f} req/s")
    finally:
        revoke_key(engine, prefix=info.prefix, actor="bench")
        engine.dispose()
    print()
    print(table(rows, ["endpoint", "workers", "req/s", "p50", "p99", "requests", "CPU s per worker"]))
    print()
    for n in counts:
        print(f"lookup / cheapest (404), {n} worker{'s' if n > 1 else ''}: {lookup_rps[n] / cheap_rps[n]:.2f}")
    base_n = counts[0]
    for n in counts[1:]:
        print(f"{n} workers / {base_n} worker: lookup {lookup_rps[n] / lookup_rps[base_n]:.2f}, "
              f"404 {cheap_rps[n] / cheap_rps[base_n]:.2f}")
    print(f"load after: {loadavg()}")
    return 1 if bad else 0


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    ap.add_argument("--db", default="gridmap", help="database name in the embedded cluster, or a SQLAlchemy URL "
                                                    "(default gridmap: the town)")
    ap.add_argument("--seconds", type=float, default=20,
                    help="seconds of the publish phase B; the baseline A gets as much, half before B and half "
                         "after (default 20)")
    ap.add_argument("--clients", type=int, default=8, help="concurrent client threads (default 8)")
    ap.add_argument("--publishes", type=int, default=4, help="drafts published during B (default 4)")
    ap.add_argument("--points", type=int, default=2000, help="query points in the sample (default 2,000)")
    ap.add_argument("--wrk", action="store_true",
                    help="instead: 1 vs N workers (gridmap serve --workers) for /v1/lookup, a 404 and /health, "
                         "driven by wrk (issue 12)")
    ap.add_argument("--workers", default="1,2", help="with --wrk: the worker counts, first is the base (default 1,2)")
    ap.add_argument("--connections", type=int, default=32, help="with --wrk: wrk's connections (default 32)")
    ap.add_argument("--threads", type=int, default=1, help="with --wrk: wrk's threads (default 1: it shares the "
                                                          "machine's cores with the server)")
    args = ap.parse_args()
    if args.wrk:
        if "--seconds" not in sys.argv:
            args.seconds = 8
        code = scale_out(args)
        progress("done")
        sys.exit(code)
    if args.seconds <= 0 or args.clients < 1 or args.publishes < 1 or args.points < 1:
        ap.error("--seconds, --clients, --publishes and --points must be positive")
    code = run(args)
    progress("done")
    sys.exit(code)


if __name__ == "__main__":
    main()
