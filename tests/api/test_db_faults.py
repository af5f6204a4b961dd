"""The database goes away under load: requests answer 503 with Retry-After quickly (no hang, no crash),
the service recovers by itself when the database returns, and every acknowledged write survives.

This test runs its own PostgreSQL cluster (so stopping it cannot disturb other tests) and stops it
with `pg_ctl -m immediate`, PostgreSQL's closest thing to pulling the plug: no shutdown checkpoint,
crash recovery from the WAL on the next start.
"""

from __future__ import annotations

import shutil
import threading
import time

import httpx
import pytest
from sqlalchemy import text

from geo.config import Settings
from geo.keys import create_key
from geo.store import migrate
from geo.store.cluster import Cluster
from geo.store.db import make_engine
from geo.store.load import load_dataset
from tests.conftest import DEMO_DIR, auth, serve


@pytest.fixture
def own_cluster(tmp_path):  # type: ignore[no-untyped-def]
    cluster = Cluster(var_dir=tmp_path / "var", port=54331)
    cluster.start()
    cluster.ensure_database("faults")
    yield cluster
    cluster.stop(mode="immediate")
    root = cluster.root.resolve()
    if root != cluster.root:  # the data lived outside tmp_path (postgres could not reach it)
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.slow
def test_cluster_stopped_under_load(own_cluster: Cluster, tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = own_cluster.url("faults")
    migrate.upgrade(url)
    engine = make_engine(url)
    load_dataset(engine, DEMO_DIR)
    key = create_key(engine, role="operator")[1]
    x, y = engine.connect().execute(text("SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) "
                                         "FROM grid ORDER BY code LIMIT 1")).one()
    engine.dispose()

    server = serve(Settings(database_url=url, var_dir=tmp_path, key_cache_s=60))
    base = next(server)
    acknowledged: list[int] = []
    statuses: list[tuple[int, float, str | None]] = []
    stop = threading.Event()

    def writer() -> None:
        # A request that hangs while the database is down is cut by this timeout and recorded as status
        # 0, which the checks below refuse: a hang guard, not a speed claim.
        with httpx.Client(base_url=base, timeout=15) as client:
            n = 0
            while not stop.is_set():
                n += 1
                t0 = time.monotonic()
                try:
                    r = client.post("/v1/incidents", headers=auth(key), json={
                        "category": "safety_hazard", "subcategory": "gas", "lon": x, "lat": y,
                        "description": f"fault test {n}"})
                except httpx.HTTPError:
                    statuses.append((0, time.monotonic() - t0, None))
                    continue
                statuses.append((r.status_code, time.monotonic() - t0, r.headers.get("retry-after")))
                if r.status_code == 201:
                    acknowledged.append(r.json()["id"])
                time.sleep(0.02)

    threads = [threading.Thread(target=writer) for _ in range(3)]
    try:
        for t in threads:
            t.start()
        time.sleep(1.5)
        own_cluster.stop(mode="immediate")
        down_at = len(statuses)
        time.sleep(3.0)
        during = statuses[down_at:]
        own_cluster.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (not statuses or statuses[-1][0] != 201):
            time.sleep(0.2)
        time.sleep(1.0)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
        next(server, None)

    assert acknowledged, "nothing was written before the fault"
    codes = [s for s, _, _ in during]
    assert 503 in codes, f"no 503 while the database was down: {sorted(set(codes))}"
    for status, _seconds, retry_after in during:
        assert status in (201, 503), status  # never a 500, a dropped connection or a hang (0)
        if status == 503:
            assert retry_after and int(retry_after) > 0
    assert statuses[-1][0] == 201, "the service did not recover by itself"
    engine = make_engine(url)
    with engine.connect() as conn:
        stored = set(conn.execute(text("SELECT id FROM incident WHERE id = ANY(:ids)"),
                                  {"ids": acknowledged}).scalars())
    engine.dispose()
    assert stored == set(acknowledged), f"{len(set(acknowledged) - stored)} acknowledged writes were lost"
