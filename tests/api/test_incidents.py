"""Incidents: report, every allowed and forbidden transition, grid kept across a boundary change."""

from __future__ import annotations

import itertools
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app
from geo.config import Settings
from geo.incidents import TRANSITIONS
from geo.keys import create_key
from geo.plans import copy_plan, publish
from geo.store.db import make_engine
from tests.conftest import app_env, auth

# A path from "reported" to each state, through allowed transitions only.
PATH = {
    "reported": [],
    "accepted": [("accepted", None)],
    "assigned": [("accepted", None), ("assigned", "王网格员")],
    "assisting": [("accepted", None), ("assigned", "王网格员"), ("assisting", None)],
    "closed": [("accepted", None), ("assigned", "王网格员"), ("assisting", None), ("closed", None)],
    "rejected": [("rejected", None)],
    "duplicate": [("duplicate", None)],
}


@pytest.fixture(scope="module")
def env(module_db: str, tmp_path_factory):  # type: ignore[no-untyped-def]
    with app_env(module_db, tmp_path_factory.mktemp("var"), roles=("viewer", "operator"), lookup_poll_s=0.1) as env:
        with env["engine"].connect() as conn:
            x, y = conn.execute(text(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grid ORDER BY code LIMIT 1) s"
            )).one()
        yield {**env, "x": x, "y": y}


def _report(env, **extra) -> dict:  # type: ignore[no-untyped-def]
    body = {"category": "dispute", "subcategory": "neighbour", "lon": env["x"], "lat": env["y"],
            "description": "楼上漏水 leak from upstairs", "source": "hotline", "severity": 2} | extra
    r = env["client"].post("/v1/incidents", json=body, headers=auth(env["keys"]["operator"]))
    assert r.status_code == 201, r.text
    return r.json()


def _move(env, incident_id: int, to: str, assignee: str | None = None):  # type: ignore[no-untyped-def]
    return env["client"].post(f"/v1/incidents/{incident_id}/transitions",
                              json={"to": to, "note": f"to {to}", "assignee": assignee},
                              headers=auth(env["keys"]["operator"]))


def test_report_assigns_the_grid_and_records_the_first_event(env) -> None:  # type: ignore[no-untyped-def]
    f = _report(env)
    p = f["properties"]
    assert p["status"] == "reported" and len(p["grid_code"]) == 15 and p["plan_id"]
    assert [e["to"] for e in p["events"]] == ["reported"]
    assert f["geometry"]["coordinates"] == [pytest.approx(env["x"]), pytest.approx(env["y"])]


@pytest.mark.parametrize("start, to", list(itertools.product(TRANSITIONS, TRANSITIONS)))
def test_every_transition(env, start: str, to: str) -> None:  # type: ignore[no-untyped-def]
    incident = _report(env)["id"]
    for step, who in PATH[start]:
        assert _move(env, incident, step, who).status_code == 201
    r = _move(env, incident, to, "李网格员")
    if to in TRANSITIONS[start]:
        assert r.status_code == 201, r.text
        detail = env["client"].get(f"/v1/incidents/{incident}", headers=auth(env["keys"]["viewer"])).json()
        assert detail["properties"]["status"] == to
        events = detail["properties"]["events"]
        assert [e["to"] for e in events] == ["reported", *[s for s, _ in PATH[start]], to]
        assert events[-1]["from"] == start and events[-1]["actor"].startswith("key:")
    else:
        assert r.status_code == 409, r.text
        err = r.json()["error"]
        assert err["details"]["allowed"] == list(TRANSITIONS[start])
        assert start in err["message"]
        detail = env["client"].get(f"/v1/incidents/{incident}", headers=auth(env["keys"]["viewer"])).json()
        assert detail["properties"]["status"] == start  # nothing changed
        assert len(detail["properties"]["events"]) == 1 + len(PATH[start])


def test_assigning_needs_an_assignee(env) -> None:  # type: ignore[no-untyped-def]
    incident = _report(env)["id"]
    _move(env, incident, "accepted")
    r = _move(env, incident, "assigned", None)
    assert r.status_code == 422 and "assignee" in r.json()["error"]["message"]


@pytest.mark.parametrize("extra, field", [
    ({"category": "weather"}, "category"),
    ({"subcategory": "gas"}, "subcategory"),
    ({"severity": 9}, "severity"),
    ({"source": "pigeon"}, "source"),
    ({"occurred_at": "2099-01-01T00:00:00+08:00"}, "occurred_at"),
    ({"occurred_at": "2026-01-01T00:00:00"}, "occurred_at"),
    ({"lon": 40.05, "lat": 113.1}, "swap"),
])
def test_bad_reports_are_422_and_store_nothing(env, extra, field) -> None:  # type: ignore[no-untyped-def]
    with env["engine"].connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM incident")).scalar_one()
    body = {"category": "dispute", "subcategory": "neighbour", "lon": env["x"], "lat": env["y"]} | extra
    r = env["client"].post("/v1/incidents", json=body, headers=auth(env["keys"]["operator"]))
    assert r.status_code == 422
    assert field in r.json()["error"]["message"]
    with env["engine"].connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM incident")).scalar_one() == before


def test_roles(env) -> None:  # type: ignore[no-untyped-def]
    body = {"category": "dispute", "lon": env["x"], "lat": env["y"]}
    assert env["client"].post("/v1/incidents", json=body, headers=auth(env["keys"]["viewer"])).status_code == 403
    assert env["client"].get("/v1/incidents", headers=auth(env["keys"]["viewer"])).status_code == 200


def test_filters(env) -> None:  # type: ignore[no-untyped-def]
    c, h = env["client"], auth(env["keys"]["viewer"])
    fc = c.get("/v1/incidents", params={"category": "safety_hazard", "from": "2026-01-01", "to": "2026-02-01",
                                        "limit": 10_000}, headers=h).json()
    assert fc["total"] == len(fc["features"]) > 0
    for f in fc["features"]:
        assert f["properties"]["category"] == "safety_hazard"
        assert "2026-01-01" <= f["properties"]["occurred_at"][:10] <= "2026-02-01"
    with env["engine"].connect() as conn:
        expected = conn.execute(text(
            "SELECT count(*) FROM incident WHERE category = 'safety_hazard' "
            "AND occurred_at >= '2026-01-01T00:00:00+08:00' AND occurred_at < '2026-02-01T00:00:00+08:00'")).scalar()
    assert fc["total"] == expected
    grid = fc["features"][0]["properties"]["grid_code"]
    by_grid = c.get("/v1/incidents", params={"grid": grid, "status": "closed,rejected"}, headers=h).json()
    assert all(f["properties"]["grid_code"] == grid and f["properties"]["status"] in ("closed", "rejected")
               for f in by_grid["features"])
    overdue = c.get("/v1/incidents", params={"overdue": "true"}, headers=h).json()
    assert all(f["properties"]["overdue"] and f["properties"]["status"] in ("reported", "accepted", "assigned",
                                                                             "assisting")
               for f in overdue["features"])
    assert overdue["total"] > 0  # the demo's open incidents are months old
    bad = c.get("/v1/incidents", params={"status": "lost"}, headers=h)
    assert bad.status_code == 422 and "lost" in bad.json()["error"]["message"]


def test_grid_at_report_time_survives_a_boundary_change(private_db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(private_db)
    key = create_key(engine, role="operator")[1]
    with engine.connect() as conn:
        old = conn.execute(text("SELECT id FROM grid_plan WHERE status = 'published'")).scalar_one()
        a, b, x, y = conn.execute(text("""
            SELECT a.code, b.code, ST_X(ST_PointOnSurface(a.geom)), ST_Y(ST_PointOnSurface(a.geom))
            FROM grid a JOIN grid b ON a.plan_id = b.plan_id AND a.code < b.code AND ST_Intersects(a.geom, b.geom)
            WHERE a.plan_id = :p ORDER BY a.code LIMIT 1"""), {"p": old}).one()
    settings = Settings(database_url=private_db, var_dir=tmp_path, lookup_poll_s=0.05)
    body = {"category": "safety_hazard", "subcategory": "gas", "lon": x, "lat": y}
    with TestClient(create_app(settings)) as client:
        before = client.post("/v1/incidents", json=body, headers=auth(key)).json()
        assert before["properties"]["grid_code"] == a
        new = copy_plan(engine, source_id=old, name="merged", actor="test")
        with engine.begin() as conn:
            conn.execute(text("UPDATE grid SET geom = (SELECT ST_Multi(ST_Union(geom)) FROM grid WHERE plan_id = :p "
                              "AND code IN (:a, :b)) WHERE plan_id = :p AND code = :b"), {"p": new, "a": a, "b": b})
            conn.execute(text("DELETE FROM grid WHERE plan_id = :p AND code = :a"), {"p": new, "a": a})
        publish(engine, plan_id=new, actor="test", acknowledge_warnings=True)
        time.sleep(0.5)
        after = client.post("/v1/incidents", json=body, headers=auth(key)).json()
        assert after["properties"]["grid_code"] == b and after["properties"]["plan_id"] == new
        kept = client.get(f"/v1/incidents/{before['id']}", headers=auth(key)).json()
        assert kept["properties"]["grid_code"] == a and kept["properties"]["plan_id"] == old
    engine.dispose()
