"""Across workers: one rate-limit budget per key for every worker (buckets in PostgreSQL, leased in
batches), the plan switch in every worker, and `gridmap serve --workers 2` itself.

Two app instances on one database stand for two workers (each has its own memory, lookup service and
key cache, as a worker process does); the last test runs two real worker processes. Time is not
measured: the refill rate is so small (one token in 1,000 s) that only the counts matter.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app
from geo.config import Settings
from geo.keys import create_key
from geo.plans import copy_plan, publish
from geo.ratelimit import SharedBuckets
from geo.store import ratelimit as store
from geo.store.db import make_engine
from geo.tiles import lonlat_to_tile
from tests.conftest import ROOT, _free_port, after_lookup_polls, auth

POINT = {"lon": 113.0951, "lat": 40.0537}
SLOW = 0.001  # tokens a second: none refills while a test runs
BURST = 10
LEASE = 3


@contextlib.contextmanager
def workers(db: str, var_dir: Path, n: int = 2, **overrides: object) -> Iterator[list[TestClient]]:
    """``n`` app instances on database ``db``, lifespans running: ``n`` workers."""
    settings = Settings(database_url=db, var_dir=var_dir, **overrides)  # type: ignore[arg-type]
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(TestClient(create_app(settings))) for _ in range(n)]


def limited(db: str, var_dir: Path, n: int = 2, **overrides: object):  # type: ignore[no-untyped-def]
    settings: dict[str, object] = {"rate_limit_key_per_s": SLOW, "rate_limit_key_burst": BURST,
                                   "rate_limit_lease": LEASE, "rate_limit_address_per_s": 0}
    return workers(db, var_dir, n, **(settings | overrides))


def test_two_workers_share_one_budget_per_key(db_url: str, engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, key = create_key(engine, role="client", name="shared budget")
    with limited(db_url, tmp_path) as (a, b):
        codes = {"a": [], "b": []}  # type: dict[str, list[int]]
        for _ in range(15):  # alternating: each worker leases, spends, leases again
            for name, c in (("a", a), ("b", b)):
                codes[name].append(c.get("/v1/lookup", params=POINT, headers=auth(key)).status_code)
        admitted = {name: cs.count(200) for name, cs in codes.items()}
        # In memory per worker this was 2 × BURST; shared, the two spend one bucket. The stated bound is
        # BURST + workers × LEASE; with nothing leased before and nothing refilled it is exactly BURST.
        assert sum(admitted.values()) == BURST, codes
        assert admitted["a"] > 0 and admitted["b"] > 0  # both workers took from it
        assert set(codes["a"] + codes["b"]) == {200, 429}
        r = b.get("/v1/lookup", params=POINT, headers=auth(key))
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        assert "API key" in r.json()["error"]["message"] and "bursts of 10" in r.json()["error"]["message"]
    with limited(db_url, tmp_path, n=1) as (c,):  # a restarted worker does not get a fresh budget
        assert c.get("/v1/lookup", params=POINT, headers=auth(key)).status_code == 429


def test_tokens_a_worker_holds_come_out_of_the_same_budget(db_url: str, engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    info, key = create_key(engine, role="client", name="held tokens")
    with limited(db_url, tmp_path) as (a, b):
        assert a.get("/v1/lookup", params=POINT, headers=auth(key)).status_code == 200  # a leases 3, holds 2
        b_codes = [b.get("/v1/lookup", params=POINT, headers=auth(key)).status_code for _ in range(BURST)]
        assert b_codes.count(200) == BURST - LEASE  # b gets the rest of the bucket, not a bucket of its own
        a_codes = [a.get("/v1/lookup", params=POINT, headers=auth(key)).status_code for _ in range(5)]
        assert a_codes == [200, 200, 429, 429, 429]  # a spends what it holds, then the bucket is empty
        with engine.connect() as conn:
            granted, left = store.bucket(conn, name=f"key:{info.prefix}")  # type: ignore[misc]
        assert left < 1  # the shared row says empty too


def test_address_limit_is_shared_too(db_url: str, engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as conn:  # this test's own address bucket: TestClient's peer is 'testclient'
        conn.execute(text("DELETE FROM rate_bucket WHERE name = 'address:testclient'"))
    with workers(db_url, tmp_path, rate_limit_address_per_s=SLOW, rate_limit_address_burst=4, rate_limit_lease=2,
                 rate_limit_key_per_s=0) as (a, b):
        codes = [c.get("/v1/lookup", params=POINT, headers=auth("gm_wrong_key")).status_code
                 for _ in range(4) for c in (a, b)]
        assert codes.count(401) == 4 and codes.count(429) == 4  # 4 bad keys in all, then the address is out
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM rate_bucket WHERE name = 'address:testclient'"))


def test_limits_off_make_no_rows_and_no_round_trips(db_url: str, engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    info, key = create_key(engine, role="client", name="unlimited")
    with workers(db_url, tmp_path, rate_limit_key_per_s=0, rate_limit_address_per_s=0) as (a, b):
        for _ in range(30):
            assert a.get("/v1/lookup", params=POINT, headers=auth(key)).status_code == 200
        assert a.app.state.key_limits.leases == 0 and a.app.state.address_limits.leases == 0
    with engine.connect() as conn:
        assert store.bucket(conn, name=f"key:{info.prefix}") is None


def test_a_lease_serves_many_requests(db_url: str, engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The point of leasing: one round trip per `lease` requests of a key, not one per request."""
    _, key = create_key(engine, role="client", name="lease size")
    with limited(db_url, tmp_path, n=1, rate_limit_key_burst=1000, rate_limit_lease=20) as (c,):
        for _ in range(100):
            assert c.get("/v1/lookup", params=POINT, headers=auth(key)).status_code == 200
        assert c.app.state.key_limits.leases == 5


def test_shared_buckets_lease_and_refuse_from_the_database(engine) -> None:  # type: ignore[no-untyped-def]
    buckets = SharedBuckets(kind="test", per_s=2, burst=3, lease=2)
    buckets.attach(engine)
    name = f"k{time.monotonic_ns()}"
    assert [buckets.take(name) for _ in range(3)] == [0.0, 0.0, 0.0]  # leases 2, then the last 1
    wait = buckets.take(name)
    assert 0 < wait <= 0.5  # empty: a token refills within 1 / per_s
    assert buckets.leases == 3  # the refusal asked the database once ...
    assert buckets.take(name) > 0 and buckets.leases == 3  # ... and is then answered from memory
    with pytest.raises(Exception) as err:
        buckets.check(name, what="API key")
    assert err.value.details["retry_after_s"] == 1 and "2 a second" in err.value.message  # type: ignore[attr-defined]
    with engine.begin() as conn:
        assert store.forget_full(conn, kind="test", full_after_s=3600) == 0  # touched just now: kept


def test_without_the_database_a_worker_limits_alone(tmp_path) -> None:  # type: ignore[no-untyped-def]
    dead = make_engine("postgresql+psycopg://nobody@127.0.0.1:9/none", connect_args={"connect_timeout": 2})
    buckets = SharedBuckets(kind="key", per_s=0.001, burst=2, lease=5, retry_s=3600)
    buckets.attach(dead)
    assert [buckets.take("k") > 0 for _ in range(3)] == [False, False, True]  # the per-worker bucket
    dead.dispose()


def test_every_worker_answers_from_a_new_plan_after_its_next_polls(private_db: str, tmp_path) -> None:
    engine = make_engine(private_db)
    _, key = create_key(engine, role="client")
    with engine.connect() as conn:
        old = conn.execute(text("SELECT id FROM grid_plan WHERE status = 'published'")).scalar_one()
        x, y = conn.execute(text("SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM grid "
                                 "WHERE plan_id = :p ORDER BY code LIMIT 1"), {"p": old}).one()
    try:
        with workers(private_db, tmp_path, lookup_poll_s=0.1) as (a, b):
            for c in (a, b):
                assert c.get("/v1/lookup", params={"lon": x, "lat": y}, headers=auth(key)).json()["plan"]["id"] == old
            new = copy_plan(engine, source_id=old, name="the next plan", actor="test")
            publish(engine, plan_id=new, actor="test", acknowledge_warnings=True)
            for c in (a, b):
                after_lookup_polls(c.app.state.lookup)  # each worker's own watcher: its next poll switches it
            for c in (a, b):
                r = c.get("/v1/lookup", params={"lon": x, "lat": y}, headers=auth(key))
                assert r.status_code == 200 and r.json()["plan"]["id"] == new
    finally:
        engine.dispose()


def test_tile_etags_and_ogc_counts_agree_across_workers(private_db: str, tmp_path) -> None:
    """Tiles' ETags are keyed on the database's data_version counters and OGC numberMatched is kept per
    worker under the same counters: a worker answers 304 to another worker's ETag, and a write through
    one worker changes the other's ETag and count on its very next request (no time bound: exact)."""
    engine = make_engine(private_db)
    _, operator = create_key(engine, role="operator", name="two workers' tiles")
    with engine.connect() as conn:
        lon, lat = conn.execute(text("SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) "
                                     "FROM grid ORDER BY code LIMIT 1")).one()
    engine.dispose()
    z = 14
    tile = "/tiles/incidents/{}/{}/{}.mvt".format(z, *lonlat_to_tile(lon, lat, z))
    items = "/ogc/collections/incidents/items"

    def matched(c: TestClient) -> int:
        r = c.get(items, params={"limit": "1", "filter": "source='hotline'"}, headers=auth(operator))
        assert r.status_code == 200, r.text
        return r.json()["numberMatched"]

    with workers(private_db, tmp_path, rate_limit_key_per_s=0, rate_limit_address_per_s=0) as (a, b):
        etag = a.get(tile, headers=auth(operator)).headers["etag"]
        assert b.get(tile, headers=auth(operator) | {"If-None-Match": etag}).status_code == 304
        before = matched(a)
        assert matched(b) == before and matched(b) == before  # b counted once, then kept its count
        r = a.post("/v1/incidents", headers=auth(operator), json={
            "category": "dispute", "subcategory": "neighbour", "lon": lon, "lat": lat, "source": "hotline",
            "description": "two workers", "severity": 2})
        assert r.status_code == 201, r.text
        again = b.get(tile, headers=auth(operator) | {"If-None-Match": etag})
        assert again.status_code == 200 and again.headers["etag"] != etag
        assert matched(b) == before + 1 and matched(a) == before + 1


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(entry.name))
    return out


@pytest.mark.slow
def test_serve_with_two_worker_processes_shares_the_budget(private_db: str, tmp_path) -> None:
    engine = make_engine(private_db)
    _, key = create_key(engine, role="client", name="two processes")
    engine.dispose()
    port = _free_port()
    env = os.environ | {"GRIDMAP_DATABASE_URL": private_db, "GRIDMAP_VAR_DIR": str(tmp_path),
                        "GRIDMAP_RATE_LIMIT_KEY_PER_S": str(SLOW), "GRIDMAP_RATE_LIMIT_KEY_BURST": str(BURST),
                        "GRIDMAP_RATE_LIMIT_LEASE": str(LEASE), "GRIDMAP_RATE_LIMIT_ADDRESS_PER_S": "0",
                        "GRIDMAP_ACCESS_LOG": "false"}
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--no-setup", "--workers", "2",
                             "--port", str(port)], cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # a hang guard, not a speed claim
        while True:
            assert proc.poll() is None, proc.stdout.read().decode()  # type: ignore[union-attr]
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base}/health", timeout=5).status_code == 200 and len(_children(proc.pid)) >= 2:
                    break
            assert time.monotonic() < deadline, "gridmap serve --workers 2 did not answer"
            time.sleep(0.2)
        # two worker processes (spawned by uvicorn's supervisor), and more than one connection to reach them
        assert len([c for c in _children(proc.pid)
                    if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]) == 2
        codes = []
        for _ in range(3 * BURST):
            with httpx.Client(base_url=base, timeout=30) as c:  # a new connection each: either worker takes it
                codes.append(c.get("/v1/lookup", params=POINT, headers=auth(key)).status_code)
        assert codes.count(200) == BURST and codes.count(429) == 2 * BURST, codes
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
