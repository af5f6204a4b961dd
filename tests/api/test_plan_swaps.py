"""The planners' API before and for a balanced change (issue 15, item 2): move candidates, swap candidates
and the swap itself (one edit: one version, one undo step, one audit entry; If-Match; 409/412/422)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from geo.keys import create_key
from tests.api.test_plans import _draft, _h
from tests.conftest import app_env, auth


@pytest.fixture(scope="module")
def env(module_db: str, tmp_path_factory):  # type: ignore[no-untyped-def]
    with app_env(module_db, tmp_path_factory.mktemp("var"), roles=("viewer", "planner")) as env:
        env["keys"]["planner2"] = create_key(env["engine"], role="planner", name="second planner")[1]
        yield env


def _get(env: dict[str, Any], path: str, **params: Any) -> Any:
    r = env["client"].get(path, params=params, headers=auth(env["keys"]["viewer"]))
    assert r.status_code == 200, r.text
    return r.json()


def _metrics(env: dict[str, Any], plan: int) -> dict[str, dict[str, Any]]:
    return {m["code"]: m for m in _get(env, f"/v1/plans/{plan}/validation")["metrics"]}


def _buildings(env: dict[str, Any], plan: int) -> dict[str, dict[str, Any]]:
    fc = _get(env, "/v1/buildings", plan=plan)
    return {f["properties"]["code"]: f["properties"] for f in fc["features"]}


def _a_good_swap(env: dict[str, Any], plan: int) -> tuple[str, dict[str, Any]]:
    for code in sorted(_buildings(env, plan)):
        hints = _get(env, f"/v1/plans/{plan}/swap-candidates", building=code)
        good = [c for c in hints["candidates"] if c["ok"]]
        if good:
            return code, good[0]
    raise AssertionError("no swap keeps both grids in band in the demo town")


def test_move_candidates_name_each_neighbouring_grid_and_why_not(env) -> None:  # type: ignore[no-untyped-def]
    plan, _v = _draft(env)
    building = sorted(_buildings(env, plan))[0]
    body = _get(env, f"/v1/plans/{plan}/move-candidates", buildings=building)
    source = _buildings(env, plan)[building]["grid_code"]
    assert body["buildings"] == [building] and body["from"] == [source]
    assert body["bands"] == {"households": [200, 300], "population": [400, 500]}
    assert body["candidates"] and source not in [c["grid"] for c in body["candidates"]]
    metrics = _metrics(env, plan)
    hh = _buildings(env, plan)[building]["households"]
    for c in body["candidates"]:
        assert c["grids"][source]["households_after"] == metrics[source]["households"] - hh
        assert c["grids"][c["grid"]]["households_after"] == metrics[c["grid"]]["households"] + hh
        if not c["ok"]:
            assert c["reasons"] and all(r["detail"].startswith(("out of band: grid", "would split grid"))
                                        for r in c["reasons"])
    # the town's buildings hold ~90 households each: no single move keeps both grids in band (issue 15)
    assert not any(c["ok"] for c in body["candidates"])
    bad = env["client"].get(f"/v1/plans/{plan}/move-candidates", params={"buildings": "nope"},
                            headers=auth(env["keys"]["viewer"]))
    assert bad.status_code == 404 and "GET /v1/buildings" in bad.json()["error"]["message"]


def test_a_swap_is_one_edit_that_keeps_both_grids_in_band(env) -> None:  # type: ignore[no-untyped-def]
    c = env["client"]
    plan, version = _draft(env)
    a, hint = _a_good_swap(env, plan)
    b = hint["building"]
    before = _buildings(env, plan)
    x, y = before[a]["grid_code"], before[b]["grid_code"]
    assert hint["grid"] == y and set(hint["grids"]) == {x, y}
    # If-Match: missing 428, stale 409
    assert c.post(f"/v1/plans/{plan}/swap", json={"buildings": [a, b]}, headers=_h(env, None)).status_code == 428
    stale = c.post(f"/v1/plans/{plan}/swap", json={"buildings": [a, b]}, headers=_h(env, version + 5))
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "stale_version"
    assert c.post(f"/v1/plans/{plan}/swap", json={"buildings": [a, b]},
                  headers=_h(env, version, "viewer")).status_code == 403
    r = c.post(f"/v1/plans/{plan}/swap", json={"buildings": [a, b]}, headers=_h(env, version))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["plan"]["version"] == version + 1 and sorted(body["changed"]) == sorted([x, y])
    assert body["also_changed"] == []
    after = _buildings(env, plan)
    assert after[a]["grid_code"] == y and after[b]["grid_code"] == x
    metrics = _metrics(env, plan)
    for code in (x, y):
        assert metrics[code]["households"] == hint["grids"][code]["households_after"]
        assert metrics[code]["band"] == "ok" and metrics[code]["contiguous"]
    validation = _get(env, f"/v1/plans/{plan}/validation")
    assert [p for p in validation["problems"] if set(p["grids"]) & {x, y}] == []
    edits = _get(env, f"/v1/plans/{plan}/edits")["edits"]
    assert [(e["op"], e["undone"]) for e in edits] == [("swap", False)]
    with env["engine"].connect() as conn:
        rows = conn.execute(text("SELECT action, after FROM audit_log WHERE entity = 'grid_plan' AND entity_id = :p "
                                 "AND action = 'swap'"), {"p": str(plan)}).all()
    assert len(rows) == 1 and rows[0].after["buildings"] == [a, b]
    # one undo step takes the whole swap back
    u = c.post(f"/v1/plans/{plan}/undo", headers=_h(env, version + 1))
    assert u.status_code == 200, u.text
    back = _buildings(env, plan)
    assert back[a]["grid_code"] == x and back[b]["grid_code"] == y


def test_a_swap_that_would_split_a_grid_or_makes_no_sense_is_422(env) -> None:  # type: ignore[no-untyped-def]
    c = env["client"]
    plan, version = _draft(env)
    buildings = _buildings(env, plan)
    split = None
    for code in sorted(buildings):
        for h in _get(env, f"/v1/plans/{plan}/swap-candidates", building=code)["candidates"]:
            if any(r["kind"] == "non_contiguous" for r in h["reasons"]):
                split = (code, h)
                break
        if split:
            break
    assert split is not None
    a, h = split
    r = c.post(f"/v1/plans/{plan}/swap", json={"buildings": [a, h["building"]]}, headers=_h(env, version))
    assert r.status_code == 422, r.text
    msg = r.json()["error"]["message"]
    assert "would split grid" in msg and f"swap-candidates?building={a}" in msg
    same = [b for b in sorted(buildings) if buildings[b]["grid_code"] == buildings[a]["grid_code"] and b != a][0]
    r = c.post(f"/v1/plans/{plan}/swap", json={"buildings": [a, same]}, headers=_h(env, version))
    assert r.status_code == 422 and "both in grid" in r.json()["error"]["message"]
    r = c.post(f"/v1/plans/{plan}/swap", json={"buildings": [a, a]}, headers=_h(env, version))
    assert r.status_code == 422
    assert _get(env, f"/v1/plans/{plan}")["version"] == version  # nothing was written
