"""Boundary history and the plan switch: `at=` answers from the plan published then, and a newly
published plan is answered from after the lookup service's next poll, never mixed with the old one."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app
from geo.config import Settings
from geo.keys import create_key
from geo.plans import copy_plan, publish
from geo.store.db import make_engine
from tests.conftest import after_lookup_polls, auth


@pytest.fixture
def world(private_db: str, tmp_path):  # type: ignore[no-untyped-def]
    engine = make_engine(private_db)
    _, key = create_key(engine, role="client")
    with engine.connect() as conn:
        old_plan = conn.execute(text("SELECT id FROM grid_plan WHERE status = 'published'")).scalar_one()
        # Two neighbouring grids of one community, and a point inside the first (not near the edge).
        a, b, x, y = conn.execute(text("""
            SELECT a.code, b.code, ST_X(ST_PointOnSurface(a.geom)), ST_Y(ST_PointOnSurface(a.geom))
            FROM grid a JOIN grid b ON a.plan_id = b.plan_id AND a.community_id = b.community_id
              AND a.code < b.code AND ST_Intersects(a.geom, b.geom)
            WHERE a.plan_id = :p ORDER BY a.code LIMIT 1"""), {"p": old_plan}).one()
    settings = Settings(database_url=private_db, var_dir=tmp_path, lookup_poll_s=0.1)
    with TestClient(create_app(settings)) as client:
        yield {"engine": engine, "client": client, "key": key, "old": old_plan, "a": a, "b": b, "x": x, "y": y}
    engine.dispose()


def _merge_into_new_plan(world) -> int:  # type: ignore[no-untyped-def]
    """A new draft where grid b absorbs grid a (a boundary change), not yet published."""
    engine = world["engine"]
    new = copy_plan(engine, source_id=world["old"], name="merged", actor="test")
    with engine.begin() as conn:
        conn.execute(text(
            "UPDATE grid SET geom = (SELECT ST_Multi(ST_Union(geom)) FROM grid WHERE plan_id = :p AND code IN (:a, :b)) "
            "WHERE plan_id = :p AND code = :b"), {"p": new, "a": world["a"], "b": world["b"]})
        conn.execute(text("DELETE FROM grid WHERE plan_id = :p AND code = :a"), {"p": new, "a": world["a"]})
    return new


def test_at_answers_from_the_plan_of_that_date(world) -> None:  # type: ignore[no-untyped-def]
    c, key, x, y = world["client"], world["key"], world["x"], world["y"]
    new = _merge_into_new_plan(world)
    publish(world["engine"], plan_id=new, actor="test", acknowledge_warnings=True)

    after_lookup_polls(c.app.state.lookup)  # the promise: answered from the new plan after the next poll
    now = c.get("/v1/lookup", params={"lon": x, "lat": y}, headers=auth(key)).json()
    assert now["plan"]["id"] == new and now["grid"]["code"] == world["b"]

    then = c.get("/v1/lookup", params={"lon": x, "lat": y, "at": "2026-06-01"}, headers=auth(key)).json()
    assert then["plan"]["id"] == world["old"] and then["grid"]["code"] == world["a"]
    later = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=1)).isoformat()
    assert c.get("/v1/lookup", params={"lon": x, "lat": y, "at": later},
                 headers=auth(key)).json()["plan"]["id"] == new
    before_all = c.get("/v1/lookup", params={"lon": x, "lat": y, "at": "2020-01-01"}, headers=auth(key))
    assert before_all.status_code == 404 and "no plan was published" in before_all.json()["error"]["message"]
    # An explicit plan id still answers from the retired plan.
    assert c.get("/v1/lookup", params={"lon": x, "lat": y, "plan": world["old"]},
                 headers=auth(key)).json()["grid"]["code"] == world["a"]


def test_plan_switch_never_mixes_two_plans(world) -> None:  # type: ignore[no-untyped-def]
    c, key, x, y = world["client"], world["key"], world["x"], world["y"]
    engine = world["engine"]
    new = _merge_into_new_plan(world)
    with engine.connect() as conn:
        codes = {p: set(conn.execute(text("SELECT code FROM grid WHERE plan_id = :p"), {"p": p}).scalars())
                 for p in (world["old"], new)}
    answers: list[tuple[int, str]] = []
    stop = threading.Event()

    def hammer() -> None:
        while not stop.is_set():
            body = c.get("/v1/lookup", params={"lon": x, "lat": y}, headers=auth(key)).json()
            answers.append((body["plan"]["id"], body["grid"]["code"]))

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    publish(engine, plan_id=new, actor="test", acknowledge_warnings=True)
    after_lookup_polls(c.app.state.lookup)
    n_switched = len(answers)
    while len(answers) < n_switched + 30:  # answers after the switch, to see it never goes back
        time.sleep(0.01)
    stop.set()
    for t in threads:
        t.join()
    assert {p for p, _ in answers} == {world["old"], new}
    for plan_id, code in answers:  # each answer's grid belongs to the plan it names
        assert code in codes[plan_id]
        assert code == (world["a"] if plan_id == world["old"] else world["b"])
    # Once switched, never back.
    first_new = next(i for i, (p, _) in enumerate(answers) if p == new)
    assert all(p == new for p, _ in answers[first_new:])
    # switched by the poll after the publish: past that, only requests already in flight (one per
    # thread) can still answer from the old plan
    assert first_new <= n_switched + len(threads)
