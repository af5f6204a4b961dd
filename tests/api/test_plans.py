"""The planners' API: drafts, versioned edits, undo/redo, validation, publishing, diffs.

Every test works on a draft of its own in a database of this module (``module_db``);
tests that publish use a private database.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
import shapely
import shapely.testing
from fastapi.testclient import TestClient
from shapely.geometry import mapping, shape
from sqlalchemy import text

from api.app import create_app
from geo import coverage_service
from geo.config import Settings
from geo.crs import from_metric, to_metric
from geo.keys import create_key
from geo.store.db import make_engine
from tests.conftest import app_env, after_lookup_polls, auth


@pytest.fixture(scope="module")
def env(module_db: str, tmp_path_factory):  # type: ignore[no-untyped-def]
    with app_env(module_db, tmp_path_factory.mktemp("var"), roles=("viewer", "planner"), lookup_poll_s=0.1) as env:
        env["keys"]["planner2"] = create_key(env["engine"], role="planner", name="second planner")[1]
        yield env


def _draft(env: dict[str, Any], name: str = "draft") -> tuple[int, int]:
    r = env["client"].post("/v1/plans", json={"name": name}, headers=auth(env["keys"]["planner"]))
    assert r.status_code == 201, r.text
    assert r.headers["etag"] == f'"{r.json()["version"]}"'
    return r.json()["id"], r.json()["version"]


def _h(env: dict[str, Any], version: int | None, who: str = "planner") -> dict[str, str]:
    h = auth(env["keys"][who])
    if version is not None:
        h["If-Match"] = f'"{version}"'
    return h


def _metrics(env: dict[str, Any], plan: int) -> dict[str, dict[str, Any]]:
    r = env["client"].get(f"/v1/plans/{plan}/validation", headers=auth(env["keys"]["viewer"]))
    assert r.status_code == 200, r.text
    return {m["code"]: m for m in r.json()["metrics"]}


def _validation(env: dict[str, Any], plan: int) -> dict[str, Any]:
    return env["client"].get(f"/v1/plans/{plan}/validation", headers=auth(env["keys"]["viewer"])).json()


def _grids(env: dict[str, Any], plan: int) -> dict[str, Any]:
    fc = env["client"].get(f"/v1/plans/{plan}/grids", headers=auth(env["keys"]["viewer"])).json()
    return {f["properties"]["code"]: f for f in fc["features"]}


def _neighbour_move(env: dict[str, Any], plan: int) -> dict[str, Any]:
    """A building and a neighbouring grid of its community (sharing a border with the building's grid)."""
    with env["engine"].connect() as conn:
        row = conn.execute(text("""
            SELECT b.code AS building, a.code AS source, n.code AS target,
                   (SELECT sum(households) FROM unit u WHERE u.building_id = b.id) AS households
            FROM building b
            JOIN grid a ON a.plan_id = :p AND ST_Covers(a.geom, ST_PointOnSurface(b.geom))
            JOIN grid n ON n.plan_id = :p AND n.community_id = a.community_id AND n.code <> a.code
                 AND ST_Length(ST_Intersection(ST_Boundary(a.geom), n.geom)::geography) > 20
                 AND ST_DWithin(b.geom::geography, n.geom::geography, 40)
            ORDER BY b.code, n.code LIMIT 1"""), {"p": plan}).one()
    return dict(row._mapping)


def test_a_draft_copies_the_published_plan(env) -> None:  # type: ignore[no-untyped-def]
    plan, version = _draft(env)
    assert version == 1
    got = env["client"].get(f"/v1/plans/{plan}", headers=auth(env["keys"]["viewer"])).json()
    assert got["status"] == "draft" and got["parent_id"] is not None and got["last_edit"] is None
    published = _grids(env, got["parent_id"])
    assert set(_grids(env, plan)) == set(published) and len(published) == 50
    v = _validation(env, plan)
    assert v["valid"] is True and v["problems"] == [] and v["publishable"] is True
    assert len(v["metrics"]) == 50 and v["bands"] == {"households": [200, 300], "population": [400, 500]}


def test_assign_moves_a_building_and_its_households(env) -> None:  # type: ignore[no-untyped-def]
    c = env["client"]
    plan, version = _draft(env)
    move = _neighbour_move(env, plan)
    before = _metrics(env, plan)
    grids_before = _grids(env, plan)
    r = c.post(f"/v1/plans/{plan}/assign", json={"building": move["building"], "grid": move["target"]},
               headers=_h(env, version))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["plan"]["version"] == version + 1 and r.headers["etag"] == f'"{version + 1}"'
    assert {move["source"], move["target"]} <= set(body["changed"])
    after = _metrics(env, plan)
    hh = move["households"]
    assert after[move["source"]]["households"] == before[move["source"]]["households"] - hh
    assert after[move["target"]]["households"] == before[move["target"]]["households"] + hh
    buildings = c.get("/v1/buildings", params={"plan": plan}, headers=auth(env["keys"]["viewer"])).json()
    moved = next(f for f in buildings["features"] if f["properties"]["code"] == move["building"])
    assert moved["properties"]["grid_code"] == move["target"]
    # the community is still covered exactly once: no gap, overlap, split building or detached part
    problems = _validation(env, plan)["problems"]
    assert [p for p in problems if p["severity"] == "error"] == []
    # total area of the changed grids is conserved (the cell moved from one to the other)
    grids_after = _grids(env, plan)
    area = lambda gs: sum(to_metric(shape(gs[k]["geometry"])).area for k in body["changed"])  # noqa: E731
    assert area(grids_after) == pytest.approx(area(grids_before), abs=1.0)
    # the audit log and the edit log say who did what
    with env["engine"].connect() as conn:
        row = conn.execute(text("SELECT actor, after FROM audit_log WHERE entity = 'grid_plan' AND entity_id = :p "
                                "AND action = 'assign' ORDER BY id DESC LIMIT 1"), {"p": str(plan)}).one()
    assert "planner tester" in row.actor and row.after["building"] == move["building"]
    edits = c.get(f"/v1/plans/{plan}/edits", headers=auth(env["keys"]["viewer"])).json()["edits"]
    assert [(e["seq"], e["op"], e["undone"]) for e in edits] == [(1, "assign", False)]


def test_an_edit_needs_the_version_and_a_stale_one_is_refused(env) -> None:  # type: ignore[no-untyped-def]
    c = env["client"]
    plan, version = _draft(env)
    move = _neighbour_move(env, plan)
    body = {"building": move["building"], "grid": move["target"]}
    missing = c.post(f"/v1/plans/{plan}/assign", json=body, headers=_h(env, None))
    assert missing.status_code == 428 and missing.json()["error"]["code"] == "version_required"
    assert "If-Match" in missing.json()["error"]["message"]
    bad = c.post(f"/v1/plans/{plan}/assign", json=body, headers={**_h(env, None), "If-Match": "yesterday"})
    assert bad.status_code == 422 and "If-Match" in bad.json()["error"]["message"]
    first = c.post(f"/v1/plans/{plan}/assign", json=body, headers=_h(env, version, "planner2"))
    assert first.status_code == 200
    grids = _grids(env, plan)
    stale = c.post(f"/v1/plans/{plan}/undo", headers=_h(env, version))
    assert stale.status_code == 409
    err = stale.json()["error"]
    assert err["code"] == "stale_version" and err["details"]["current_version"] == version + 1
    assert "second planner" in err["message"] and "assign" in err["message"] and move["target"] in err["message"]
    assert _grids(env, plan) == grids  # nothing changed
    assert c.get(f"/v1/plans/{plan}", headers=auth(env["keys"]["viewer"])).json()["version"] == version + 1


def test_two_concurrent_edits_of_one_version_one_wins(env) -> None:  # type: ignore[no-untyped-def]
    c = env["client"]
    plan, version = _draft(env)
    move = _neighbour_move(env, plan)
    barrier = threading.Barrier(2)
    results: dict[str, Any] = {}

    def edit(who: str, grid: str) -> None:
        barrier.wait()
        results[who] = c.post(f"/v1/plans/{plan}/assign", json={"building": move["building"], "grid": grid},
                              headers=_h(env, version, who))

    # both make the same real move (a move of a building to the grid it is in changes nothing and, since
    # moves no longer touch other grids, is no edit: had it gone first, both would rightly answer 200)
    threads = [threading.Thread(target=edit, args=("planner", move["target"])),
               threading.Thread(target=edit, args=("planner2", move["target"]))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(r.status_code for r in results.values())
    assert codes == [200, 409], {k: r.text for k, r in results.items()}
    loser = next(r for r in results.values() if r.status_code == 409)
    assert loser.json()["error"]["code"] == "stale_version"
    edits = c.get(f"/v1/plans/{plan}/edits", headers=auth(env["keys"]["viewer"])).json()["edits"]
    assert len(edits) == 1  # no lost update, no half edit
    assert c.get(f"/v1/plans/{plan}", headers=auth(env["keys"]["viewer"])).json()["version"] == version + 1


def test_undo_restores_and_redo_reapplies(env) -> None:  # type: ignore[no-untyped-def]
    c = env["client"]
    plan, v = _draft(env)
    original = _grids(env, plan)
    move = _neighbour_move(env, plan)
    assert c.post(f"/v1/plans/{plan}/undo", headers=_h(env, v)).json()["error"]["code"] == "nothing_to_undo"
    v = c.post(f"/v1/plans/{plan}/assign", json={"building": move["building"], "grid": move["target"]},
               headers=_h(env, v)).json()["plan"]["version"]
    edited = _grids(env, plan)
    r = c.post(f"/v1/plans/{plan}/undo", headers=_h(env, v))
    assert r.status_code == 200 and set(r.json()["changed"]) >= {move["source"], move["target"]}
    v = r.json()["plan"]["version"]
    for code, f in _grids(env, plan).items():
        shapely.testing.assert_geometries_equal(shape(f["geometry"]), shape(original[code]["geometry"]),
                                                tolerance=1e-9, normalize=True)
    assert c.get(f"/v1/plans/{plan}/diff", params={"against": _parent(env, plan)},
                 headers=auth(env["keys"]["viewer"])).json()["buildings_moved"] == []
    r = c.post(f"/v1/plans/{plan}/redo", headers=_h(env, v))
    assert r.status_code == 200
    v = r.json()["plan"]["version"]
    for code, f in _grids(env, plan).items():
        shapely.testing.assert_geometries_equal(shape(f["geometry"]), shape(edited[code]["geometry"]),
                                                tolerance=1e-9, normalize=True)
    # a new edit empties the redo stack
    v = c.post(f"/v1/plans/{plan}/undo", headers=_h(env, v)).json()["plan"]["version"]
    other = _neighbour_move(env, plan)
    v = c.post(f"/v1/plans/{plan}/merge", json={"grids": [other["source"], other["target"]]},
               headers=_h(env, v)).json()["plan"]["version"]
    assert c.post(f"/v1/plans/{plan}/redo", headers=_h(env, v)).json()["error"]["code"] == "nothing_to_redo"


def _parent(env: dict[str, Any], plan: int) -> int:
    return env["client"].get(f"/v1/plans/{plan}", headers=auth(env["keys"]["viewer"])).json()["parent_id"]


def test_diff_lists_moved_buildings_and_changed_grids(env) -> None:  # type: ignore[no-untyped-def]
    c = env["client"]
    plan, v = _draft(env)
    move = _neighbour_move(env, plan)
    c.post(f"/v1/plans/{plan}/assign", json={"building": move["building"], "grid": move["target"]},
           headers=_h(env, v))
    d = c.get(f"/v1/plans/{plan}/diff", headers=auth(env["keys"]["viewer"])).json()  # against the published plan
    assert d["against"]["status"] == "published"
    assert [(b["code"], b["from"], b["to"]) for b in d["buildings_moved"]] == [
        (move["building"], move["source"], move["target"])]
    assert d["households_moved"] == move["households"]
    changed = {g["code"]: g for g in d["grids"]}
    assert {move["source"], move["target"]} <= set(changed)
    src = changed[move["source"]]
    assert src["change"] == "changed" and src["households_after"] == src["households_before"] - move["households"]
    # the drawn difference is the area that changed hands
    assert to_metric(shape(src["geometry"])).area == pytest.approx(src["area_before_m2"] - src["area_after_m2"],
                                                                    rel=0.02)


def test_split_and_merge(env) -> None:  # type: ignore[no-untyped-def]
    c = env["client"]
    plan, v = _draft(env)
    grids = _grids(env, plan)
    code = sorted(grids)[0]
    g = to_metric(shape(grids[code]["geometry"]))
    before = _metrics(env, plan)[code]
    # a north-south line through the middle of the grid, from outside to outside
    minx, miny, maxx, maxy = g.bounds
    x = g.centroid.x
    line = from_metric(shapely.LineString([(x, miny - 20), (x, maxy + 20)]))
    r = c.post(f"/v1/plans/{plan}/split", json={"grid": code, "line": mapping(line)}, headers=_h(env, v))
    assert r.status_code == 200, r.text
    (new,) = r.json()["created"]
    v = r.json()["plan"]["version"]
    assert new[:12] == code[:12] and new not in grids
    after = _metrics(env, plan)
    assert after[code]["area_m2"] + after[new]["area_m2"] == pytest.approx(before["area_m2"], abs=1.0)
    assert after[code]["households"] + after[new]["households"] == before["households"]
    assert not [p for p in _validation(env, plan)["problems"] if p["kind"] == "building_split"]
    # a line that does not cross the grid
    far = from_metric(shapely.LineString([(maxx + 500, miny), (maxx + 500, maxy)]))
    r = c.post(f"/v1/plans/{plan}/split", json={"grid": code, "line": mapping(far)}, headers=_h(env, v))
    assert r.status_code == 422 and "does not cut" in r.json()["error"]["message"]
    # merge back
    r = c.post(f"/v1/plans/{plan}/merge", json={"grids": [new, code]}, headers=_h(env, v))
    assert r.status_code == 200 and r.json()["removed"] == [new]
    v = r.json()["plan"]["version"]
    assert _metrics(env, plan)[code]["area_m2"] == pytest.approx(before["area_m2"], abs=1.0)
    # grids that do not touch
    far_code = sorted(grids)[-1]
    r = c.post(f"/v1/plans/{plan}/merge", json={"grids": [code, far_code]}, headers=_h(env, v))
    assert r.status_code == 422


def test_reshape_moves_the_neighbours_and_keeps_buildings_whole(env) -> None:  # type: ignore[no-untyped-def]
    c = env["client"]
    plan, v = _draft(env)
    move = _neighbour_move(env, plan)
    grids = _grids(env, plan)
    g = to_metric(shape(grids[move["source"]]["geometry"]))
    bigger = from_metric(g.buffer(15, join_style="mitre"))
    r = c.put(f"/v1/plans/{plan}/grids/{move['source']}", json={"geometry": mapping(bigger)}, headers=_h(env, v))
    assert r.status_code == 200, r.text
    assert move["target"] in r.json()["changed"]
    after = _grids(env, plan)
    assert to_metric(shape(after[move["source"]]["geometry"])).area > g.area + 100
    errors = [p for p in _validation(env, plan)["problems"] if p["severity"] == "error"]
    assert errors == []  # clipped to the community, neighbours cut back, buildings whole, no gaps
    # neighbours="keep" stores the geometry as drawn: the overlap is then reported where it is
    v = r.json()["plan"]["version"]
    target = to_metric(shape(after[move["target"]]["geometry"]))
    grown = from_metric(target.buffer(10, join_style="mitre"))
    r = c.put(f"/v1/plans/{plan}/grids/{move['target']}", json={"geometry": mapping(grown), "neighbours": "keep"},
              headers=_h(env, v))
    assert r.status_code == 200
    kinds = {p["kind"] for p in _validation(env, plan)["problems"]}
    assert {"overlap", "outside_community"} & kinds and "overlap" in kinds


BAD = {
    "bowtie": ({"type": "Polygon", "coordinates": [[[113.1, 40.05], [113.101, 40.051], [113.101, 40.05],
                                                    [113.1, 40.051], [113.1, 40.05]]]}, 422, "self-intersect"),
    "unclosed": ({"type": "Polygon", "coordinates": [[[113.1, 40.05], [113.101, 40.05], [113.101, 40.051],
                                                      [113.1, 40.051]]]}, 422, "ring"),
    "swapped": ({"type": "Polygon", "coordinates": [[[40.05, 113.1], [40.05, 113.101], [40.051, 113.101],
                                                     [40.05, 113.1]]]}, 422, "swap"),
    "3d": ({"type": "Polygon", "coordinates": [[[113.1, 40.05, 1], [113.101, 40.05, 1], [113.101, 40.051, 1],
                                                [113.1, 40.05, 1]]]}, 422, "3-D"),
    "point": ({"type": "Point", "coordinates": [113.1, 40.05]}, 422, "Polygon"),
    "empty": ({"type": "Polygon", "coordinates": []}, 422, ""),
    "feature": ({"type": "Feature", "geometry": None, "properties": {}}, 422, "geometry"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_geometry_is_refused_and_nothing_changes(env, name: str) -> None:  # type: ignore[no-untyped-def]
    c = env["client"]
    geometry, status, words = BAD[name]
    plan, v = _draft(env, name)
    code = sorted(_grids(env, plan))[0]
    before = _grids(env, plan)
    r = c.put(f"/v1/plans/{plan}/grids/{code}", json={"geometry": geometry}, headers=_h(env, v))
    assert r.status_code == status, r.text
    assert words.lower() in r.json()["error"]["message"].lower()
    assert _grids(env, plan) == before
    assert c.get(f"/v1/plans/{plan}", headers=auth(env["keys"]["viewer"])).json()["version"] == v


def test_viewers_cannot_edit_and_published_plans_are_not_edited(env) -> None:  # type: ignore[no-untyped-def]
    c = env["client"]
    plan, v = _draft(env)
    move = _neighbour_move(env, plan)
    body = {"building": move["building"], "grid": move["target"]}
    assert c.post(f"/v1/plans/{plan}/assign", json=body, headers=_h(env, v, "viewer")).status_code == 403
    parent = _parent(env, plan)
    pv = c.get(f"/v1/plans/{parent}", headers=auth(env["keys"]["viewer"])).json()["version"]
    r = c.post(f"/v1/plans/{parent}/assign", json=body, headers=_h(env, pv))
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_a_draft"
    # in Chinese too (geo/messages.py), the English as it was
    assert r.json()["error"]["message"] == (f"plan {parent} is published; only drafts are edited: POST /v1/plans with "
                                            f'{{"source": {parent}}} makes a draft copy')
    assert r.json()["error"]["message_zh"].startswith(f"方案 {parent} 是已发布方案；只能编辑草稿")


@pytest.fixture
def publishing(private_db: str, tmp_path):  # type: ignore[no-untyped-def]
    engine = make_engine(private_db)
    keys = {r: create_key(engine, role=r, name=f"{r} tester")[1] for r in ("viewer", "planner", "client")}
    settings = Settings(database_url=private_db, var_dir=tmp_path, lookup_poll_s=0.1)
    with TestClient(create_app(settings)) as client:
        yield {"client": client, "engine": engine, "keys": keys}
    engine.dispose()


def test_publish_refuses_errors_asks_for_warnings_then_lookups_switch(publishing) -> None:  # type: ignore[no-untyped-def]
    env = publishing
    c = env["client"]
    coverage_service.recompute_all(env["engine"])
    coverage_before = {g["code"]: g for g in c.get("/v1/coverage", headers=auth(env["keys"]["viewer"])).json()["grids"]}
    plan, v = _draft(env)
    old = _parent(env, plan)
    move = _neighbour_move(env, plan)
    # an error: shrink a grid without moving its neighbours -> a gap
    code = move["source"]
    g = to_metric(shape(_grids(env, plan)[code]["geometry"]))
    shrunk = from_metric(g.buffer(-8, join_style="mitre"))
    v = c.put(f"/v1/plans/{plan}/grids/{code}", json={"geometry": mapping(shrunk), "neighbours": "keep"},
              headers=_h(env, v)).json()["plan"]["version"]
    r = c.post(f"/v1/plans/{plan}/publish", json={"acknowledge_warnings": True}, headers=_h(env, v))
    assert r.status_code == 409 and r.json()["error"]["code"] == "plan_invalid"
    said = r.json()["error"]
    assert said["message"].startswith(f"plan {plan} has ") and "to fix before publishing: " in said["message"]
    assert said["message_zh"].startswith(f"方案 {plan} 有 ") and "须在发布前修正" in said["message_zh"]
    gaps = [p for p in r.json()["error"]["details"]["problems"] if p["kind"] == "gap"]
    assert gaps and code in gaps[0]["grids"] and gaps[0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert c.post(f"/v1/plans/{plan}/publish", headers=_h(env, None)).status_code == 428
    v = c.post(f"/v1/plans/{plan}/undo", headers=_h(env, v)).json()["plan"]["version"]
    # band warnings only: refused until acknowledged
    v = c.post(f"/v1/plans/{plan}/assign", json={"building": move["building"], "grid": move["target"]},
               headers=_h(env, v)).json()["plan"]["version"]
    r = c.post(f"/v1/plans/{plan}/publish", json={}, headers=_h(env, v))
    # the move pushed a grid out of its band (a ~100-household building in a 200-300 band)
    assert r.status_code == 409 and r.json()["error"]["code"] == "warnings_not_acknowledged", r.text
    assert r.json()["error"]["details"]["problems"]
    assert "acknowledge_warnings" in r.json()["error"]["message_zh"] and "范围警告" in r.json()["error"]["message_zh"]
    assert all(p["severity"] == "warning" for p in r.json()["error"]["details"]["problems"])
    assert c.get(f"/v1/plans/{plan}", headers=auth(env["keys"]["viewer"])).json()["status"] == "draft"
    r = c.post(f"/v1/plans/{plan}/publish", json={"acknowledge_warnings": True}, headers=_h(env, v))
    assert r.status_code == 200, r.text
    assert r.json()["plan"]["status"] == "published"
    assert c.get(f"/v1/plans/{old}", headers=auth(env["keys"]["viewer"])).json()["status"] == "retired"
    # lookups answer from the new plan: the moved building's point is in the target grid
    with env["engine"].connect() as conn:
        x, y = conn.execute(text("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM building "
                                 "WHERE code = :c) s"), {"c": move["building"]}).one()
    after_lookup_polls(c.app.state.lookup)  # the service's promise: the next poll switches
    got = c.get("/v1/lookup", params={"lon": x, "lat": y}, headers=auth(env["keys"]["client"])).json()
    assert got["plan"]["id"] == plan and got["grid"]["code"] == move["target"]
    # camera coverage follows in the same transaction: unchanged grids keep their figures, moved ones are recomputed
    cov = c.get("/v1/coverage", headers=auth(env["keys"]["viewer"])).json()
    assert cov["plan_id"] == plan and cov["town"]["grids_computed"] == 50
    grids = {g["code"]: g for g in cov["grids"]}
    moved = {move["source"], move["target"]}
    for code, g in grids.items():
        if code not in moved:
            assert g["covered_m2"] == pytest.approx(coverage_before[code]["covered_m2"], rel=1e-9)
    assert grids[move["source"]]["watchable_m2"] < coverage_before[move["source"]]["watchable_m2"]
    # the published plan is history now: not edited, not published twice
    r = c.post(f"/v1/plans/{plan}/publish", json={}, headers=_h(env, v + 1))
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_a_draft"


@pytest.mark.parametrize("fmt, encoding", [("gpkg", None), ("shp", None), ("shp", "gbk"), ("geojson", None)])
def test_export_then_import_round_trips(env, fmt: str, encoding: str | None, tmp_path) -> None:  # type: ignore[no-untyped-def]
    c = env["client"]
    plan, v = _draft(env, f"exchange {fmt} {encoding}")
    params = {"format": fmt, **({"encoding": encoding} if encoding else {})}
    r = c.get(f"/v1/plans/{plan}/export", params=params, headers=auth(env["keys"]["viewer"]))
    assert r.status_code == 200, r.text
    name = {"gpkg": "grids.gpkg", "shp": "grids.zip", "geojson": "grids.geojson"}[fmt]
    import geopandas as gpd

    (tmp_path / name).write_bytes(r.content)
    if fmt != "shp":
        exported = gpd.read_file(tmp_path / name)
        assert len(exported) == 50 and {"code", "community_code", "households"} <= set(exported.columns)
    before = _grids(env, plan)
    # a second draft imports the file: same grids and names, one edit that undo can take back
    other, ov = _draft(env, f"import {fmt} {encoding}")
    r = c.post(f"/v1/plans/{other}/import", files={"file": (name, r.content)}, headers=_h(env, ov))
    assert r.status_code == 200, r.text
    after = _grids(env, other)
    assert set(after) == set(before)
    for code in before:
        a, b = to_metric(shape(before[code]["geometry"])), to_metric(shape(after[code]["geometry"]))
        assert a.symmetric_difference(b).area < 0.5
    # the file's names and communities read back as served (the import keeps an existing grid's name, so ask
    # the reader: a GBK Shapefile read without its .cpg would give other strings)
    from geo.exchange import read_plan_file

    read = read_plan_file(tmp_path / name, max_unzipped_bytes=1 << 24, max_archive_members=16)
    assert {g["code"]: (g["name"], g["community_code"]) for g in read} == {
        code: (f["properties"]["name"], f["properties"]["community_code"]) for code, f in before.items()}
    assert [p for p in _validation(env, other)["problems"] if p["severity"] == "error"] == []
    edits = c.get(f"/v1/plans/{other}/edits", headers=auth(env["keys"]["viewer"])).json()["edits"]
    assert [e["op"] for e in edits] == ["import"]


#: The plan export's Shapefile fields, as chosen in geo/io/shapefile_names.py (GDAL would launder them into
#: community_, communit_1, grid_membe, grid_mem_1).
SHAPEFILE_GRID_FIELDS = ["id", "code", "name", "comm_code", "comm_name", "households", "population", "buildings",
                         "units", "plan_id", "gm_name", "gm_phone"]


@pytest.mark.parametrize("encoding, cpg", [("utf-8", "UTF-8"), ("gbk", "CP936")])
def test_shapefile_export_has_chosen_names_its_encoding_and_a_readme(env, encoding: str, cpg: str,
                                                                     tmp_path) -> None:  # type: ignore[no-untyped-def]
    import zipfile

    from tests.geo.io.features import dbf_field_names, gdal_complaints, ogrinfo

    c = env["client"]
    plan, _ = _draft(env, f"shapefile {encoding}")
    r = c.get(f"/v1/plans/{plan}/export", params={"format": "shp", "encoding": encoding},
              headers=auth(env["keys"]["viewer"]))
    assert r.status_code == 200, r.text
    (tmp_path / "grids.zip").write_bytes(r.content)
    with zipfile.ZipFile(tmp_path / "grids.zip") as z:
        stem = f"plan-{plan}"
        assert sorted(z.namelist()) == sorted(["README.txt"] + [f"{stem}.{x}" for x in ("cpg", "dbf", "prj", "shp", "shx")])
        z.extractall(tmp_path)
        readme = z.read("README.txt").decode("utf-8")
    shp = tmp_path / f"{stem}.shp"
    assert dbf_field_names(shp.with_suffix(".dbf")) == SHAPEFILE_GRID_FIELDS
    assert (tmp_path / f"{stem}.cpg").read_text() == cpg
    assert "comm_code   community_code" in readme and "gm_phone    grid_member_phone" in readme and cpg in readme
    # GDAL 3.6 (Debian's ogrinfo) reads the Chinese names the API serves
    first = _grids(env, plan)[min(_grids(env, plan))]["properties"]
    info = ogrinfo("-al", "-where", f"code = '{first['code']}'", str(shp))
    assert gdal_complaints(info.stderr) == []
    assert f"name (String) = {first['name']}" in info.stdout
    assert f"comm_name (String) = {first['community_name']}" in info.stdout
    assert f"gm_name (String) = {first['grid_member']}" in info.stdout


def test_geopackage_export_reads_without_warnings_in_gdal_3_6(env, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.geo.io.features import gdal_complaints, ogrinfo

    plan, _ = _draft(env, "geopackage")
    r = env["client"].get(f"/v1/plans/{plan}/export", params={"format": "gpkg"}, headers=auth(env["keys"]["viewer"]))
    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"].endswith(f'filename="plan-{plan}.gpkg"')
    path = tmp_path / "download.gpkg"
    path.write_bytes(r.content)
    for args in (["-al", "-so"], ["-al"]):
        info = ogrinfo(*args, str(path))
        assert gdal_complaints(info.stderr) == [], info.stderr
    assert "Layer name: grids" in info.stdout and "Feature Count: 50" in ogrinfo("-al", "-so", str(path)).stdout


def test_a_shapefile_with_gdals_laundered_names_still_imports(env, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Zipped Shapefiles gridmap exported before the chosen names (GDAL laundered them: community_,
    communit_1, grid_membe, grid_mem_1) import as they did."""
    import io
    import warnings
    import zipfile

    import geopandas as gpd

    from tests.geo.io.features import dbf_field_names

    c = env["client"]
    plan, v = _draft(env, "legacy shapefile")
    fc = c.get(f"/v1/plans/{plan}/grids", headers=auth(env["keys"]["viewer"])).json()
    gdf = gpd.GeoDataFrame.from_features(fc["features"], crs=4326)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "Normalized/laundered field name": the point here
        gdf.to_file(tmp_path / "old.shp", engine="pyogrio", encoding="UTF-8")
    assert {"community_", "communit_1", "grid_membe"} <= set(dbf_field_names(tmp_path / "old.dbf"))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for ext in ("shp", "shx", "dbf", "prj", "cpg"):
            z.write(tmp_path / f"old.{ext}", f"old.{ext}")
    r = c.post(f"/v1/plans/{plan}/import", files={"file": ("old.zip", buf.getvalue())}, headers=_h(env, v))
    assert r.status_code == 200, r.text


def test_gbk_export_refuses_what_gbk_cannot_encode(env) -> None:  # type: ignore[no-untyped-def]
    c = env["client"]
    plan, _ = _draft(env, "gbk refusal")
    code = sorted(_grids(env, plan))[4]
    with env["engine"].begin() as conn:
        conn.execute(text("UPDATE grid SET name = '春安😀网格' WHERE plan_id = :p AND code = :c"), {"p": plan, "c": code})
    r = c.get(f"/v1/plans/{plan}/export", params={"format": "shp", "encoding": "gbk"},
              headers=auth(env["keys"]["viewer"]))
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert f"feature 4 (code {code})" in error["message"] and "its name" in error["message"]
    assert "U+1F600" in error["message"] and "encoding=utf-8" in error["message"]
    assert error["details"]["field"] == "name" and error["details"]["code"] == code
    assert c.get(f"/v1/plans/{plan}/export", params={"format": "shp"},
                 headers=auth(env["keys"]["viewer"])).status_code == 200
    r = c.get(f"/v1/plans/{plan}/export", params={"format": "gpkg", "encoding": "gbk"},
              headers=auth(env["keys"]["viewer"]))
    assert r.status_code == 422 and "encoding=gbk is for format=shp only" in r.json()["error"]["message"]
    r = c.get(f"/v1/plans/{plan}/export", params={"format": "shp", "encoding": "latin-1"},
              headers=auth(env["keys"]["viewer"]))
    assert r.status_code == 422 and "encoding" in r.text


def test_import_refuses_bad_features_and_changes_nothing(env, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    c = env["client"]
    plan, v = _draft(env, "bad import")
    fc = c.get(f"/v1/plans/{plan}/grids", headers=auth(env["keys"]["viewer"])).json()
    fc["features"][3]["geometry"] = BAD["bowtie"][0]
    fc["features"][7]["properties"]["code"] = "12345"
    fc["features"][9]["properties"]["code"] = fc["features"][8]["properties"]["code"]
    before = _grids(env, plan)
    r = c.post(f"/v1/plans/{plan}/import", files={"file": ("grids.geojson", json.dumps(fc).encode())},
               headers=_h(env, v))
    assert r.status_code == 422, r.text
    problems = {p["index"]: p["reason"] for p in r.json()["error"]["details"]["problems"]}
    assert set(problems) == {3, 7, 9}
    assert "self-intersects" in problems[3] and "15 digits" in problems[7] and "repeats feature 8" in problems[9]
    assert _grids(env, plan) == before
    r = c.post(f"/v1/plans/{plan}/import", files={"file": ("grids.txt", b"x")}, headers=_h(env, v))
    assert r.status_code == 422 and ".gpkg" in r.json()["error"]["message"]


def test_suggest_makes_a_valid_draft_in_the_bands(env) -> None:  # type: ignore[no-untyped-def]
    c = env["client"]
    plan, _ = _draft(env, "base for suggestion")
    community = sorted(_grids(env, plan).values(), key=lambda f: f["properties"]["code"])[0]["properties"][
        "community_code"]
    r = c.post(f"/v1/plans/{plan}/suggest", json={"community": community, "seed": 1}, headers=_h(env, None))
    assert r.status_code == 201, r.text
    body = r.json()
    new = body["plan"]["id"]
    assert body["plan"]["status"] == "draft" and body["plan"]["parent_id"] == plan
    assert set(body["scores"]) == {"balanced", "maxp"} and body["method"] in body["scores"]
    best = body["scores"][body["method"]]
    assert all(best["band_violations"] <= s["band_violations"] for s in body["scores"].values())
    v = _validation(env, new)
    mine = [m for m in v["metrics"] if m["community_code"] == community]
    # no gaps, overlaps, split buildings or detached parts; the households of the community are all there
    assert [p for p in v["problems"] if p["severity"] == "error"] == []
    before = [m for m in _validation(env, plan)["metrics"] if m["community_code"] == community]
    assert sum(m["households"] for m in mine) == sum(m["households"] for m in before)
    assert sum(m["area_m2"] for m in mine) == pytest.approx(sum(m["area_m2"] for m in before), rel=1e-4)
    assert len([m for m in mine if m["band"] != "ok"]) == best["band_violations"]
    # other communities are untouched, and the suggestion is one undoable edit
    others = {m["code"]: m["area_m2"] for m in v["metrics"] if m["community_code"] != community}
    assert others == {m["code"]: m["area_m2"] for m in _validation(env, plan)["metrics"]
                      if m["community_code"] != community}
    edits = c.get(f"/v1/plans/{new}/edits", headers=auth(env["keys"]["viewer"])).json()["edits"]
    assert [e["op"] for e in edits] == ["suggest"]
    bad = c.post(f"/v1/plans/{plan}/suggest", json={"community": "999999999999"}, headers=_h(env, None))
    assert bad.status_code == 404


def test_a_brush_stroke_moves_several_buildings_in_one_edit(env) -> None:  # type: ignore[no-untyped-def]
    c = env["client"]
    plan, v = _draft(env, "brush")
    move = _neighbour_move(env, plan)
    with env["engine"].connect() as conn:
        rows = conn.execute(text("""
            SELECT b.code, (SELECT sum(households) FROM unit u WHERE u.building_id = b.id) AS hh FROM building b
            JOIN grid g ON g.plan_id = :p AND g.code = :s AND ST_Covers(g.geom, ST_PointOnSurface(b.geom))
            ORDER BY b.code"""), {"p": plan, "s": move["source"]}).all()
    codes = [r.code for r in rows]
    before = _metrics(env, plan)
    r = c.post(f"/v1/plans/{plan}/assign", json={"buildings": codes, "grid": move["target"]}, headers=_h(env, v))
    assert r.status_code == 200, r.text
    after = _metrics(env, plan)
    moved = sum(r.hh for r in rows)
    assert after[move["target"]]["households"] == before[move["target"]]["households"] + moved
    assert r.json()["plan"]["version"] == v + 1 and move["source"] in r.json()["removed"] + r.json()["changed"]
    edits = c.get(f"/v1/plans/{plan}/edits", headers=auth(env["keys"]["viewer"])).json()["edits"]
    assert len(edits) == 1 and edits[0]["summary"]["buildings"] == codes
    both = c.post(f"/v1/plans/{plan}/assign", json={"building": codes[0], "buildings": codes, "grid": move["target"]},
                  headers=_h(env, v + 1))
    assert both.status_code == 422
    unknown = c.post(f"/v1/plans/{plan}/assign", json={"buildings": ["nope"], "grid": move["target"]},
                     headers=_h(env, v + 1))
    assert unknown.status_code == 404 and "nope" in unknown.json()["error"]["message"]


def test_saving_an_unchanged_outline_changes_nothing(env) -> None:  # type: ignore[no-untyped-def]
    c = env["client"]
    plan, v = _draft(env, "resave")
    code, feature = sorted(_grids(env, plan).items())[3]
    before = _grids(env, plan)
    r = c.put(f"/v1/plans/{plan}/grids/{code}", json={"geometry": feature["geometry"]}, headers=_h(env, v))
    assert r.status_code == 200, r.text
    assert r.json()["changed"] == [] and r.json()["plan"]["version"] == v
    assert _grids(env, plan) == before
    assert c.get(f"/v1/plans/{plan}/edits", headers=auth(env["keys"]["viewer"])).json()["edits"] == []


def test_an_edit_that_would_empty_a_grid_is_refused(env) -> None:  # type: ignore[no-untyped-def]
    c = env["client"]
    plan, v = _draft(env, "empty a grid")
    move = _neighbour_move(env, plan)
    g = to_metric(shape(_grids(env, plan)[move["source"]]["geometry"]))
    before = _grids(env, plan)
    # the neighbour redrawn over the whole of the source grid (neighbours follow): nothing left of the source
    target = to_metric(shape(before[move["target"]]["geometry"]))
    r = c.put(f"/v1/plans/{plan}/grids/{move['target']}",
              json={"geometry": mapping(from_metric(target.union(g.buffer(1))))}, headers=_h(env, v))
    assert r.status_code == 422 and "merge" in r.json()["error"]["message"], r.text
    assert _grids(env, plan) == before


def test_one_community_of_a_plan(env) -> None:  # type: ignore[no-untyped-def]
    c = env["client"]
    plan, _ = _draft(env, "one community")
    everything = _validation(env, plan)
    community = everything["metrics"][0]["community_code"]
    h = auth(env["keys"]["viewer"])
    scoped = c.get(f"/v1/plans/{plan}/validation", params={"community": community}, headers=h).json()
    assert scoped["community"] == community and scoped["metrics"]
    assert scoped["metrics"] == [m for m in everything["metrics"] if m["community_code"] == community]
    grids = c.get(f"/v1/plans/{plan}/grids", params={"community": community}, headers=h).json()["features"]
    assert sorted(f["properties"]["code"] for f in grids) == [m["code"] for m in scoped["metrics"]]
    buildings = c.get("/v1/buildings", params={"plan": plan, "community": community}, headers=h).json()["features"]
    assert buildings and {f["properties"]["community_code"] for f in buildings} == {community}
    assert sum(f["properties"]["households"] for f in buildings) == sum(m["households"] for m in scoped["metrics"])
    missing = c.get(f"/v1/plans/{plan}/validation", params={"community": "999999999999"}, headers=h)
    assert missing.status_code == 404


def test_a_draft_that_nothing_refers_to_can_be_deleted(env) -> None:  # type: ignore[no-untyped-def]
    """DELETE /v1/plans/{id}: a planner's, a draft's only, and only when no plan was copied from it and no
    incident refers to it; its grids and edit log go with it; audited; a refusal changes nothing."""
    c, engine = env["client"], env["engine"]
    plan, v = _draft(env, "删除测试 to delete")
    move = _neighbour_move(env, plan)
    r = c.post(f"/v1/plans/{plan}/assign", json={"building": move["building"], "grid": move["target"]},
               headers=_h(env, v))
    assert r.status_code == 200, r.text  # an edit in its log: the log goes with it
    assert c.delete(f"/v1/plans/{plan}", headers={**auth(env["keys"]["viewer"]), "If-Match": f'"{v + 1}"'}
                    ).status_code == 403

    # a draft that another draft was copied from is in use: 409 naming the copy; nothing deleted
    child = c.post("/v1/plans", json={"name": "copy", "source": plan}, headers=auth(env["keys"]["planner"])).json()["id"]
    r = c.delete(f"/v1/plans/{plan}", headers=_h(env, v + 1))
    assert r.status_code == 409 and r.json()["error"]["code"] == "plan_in_use", r.text
    assert f"#{child}" in r.json()["error"]["message"] and r.json()["error"]["details"]["plans"] == [child]
    assert c.get(f"/v1/plans/{plan}", headers=auth(env["keys"]["viewer"])).status_code == 200

    # the copy goes first (nothing refers to it), then the draft
    r = c.delete(f"/v1/plans/{child}", headers=_h(env, 1))
    assert r.status_code == 200 and r.json() == {"deleted": {"id": child, "name": "copy", "version": 1}}, r.text
    assert c.get(f"/v1/plans/{child}", headers=auth(env["keys"]["viewer"])).status_code == 404

    # an incident placed in the draft's grids refers to it: 409 plan_in_use saying so
    with engine.begin() as conn:
        incident = conn.execute(text(
            "INSERT INTO incident (category, source, severity, occurred_at, plan_id, geom) VALUES "
            "('other', 'hotline', 1, now(), :p, ST_SetSRID(ST_MakePoint(113.1, 40.05), 4326)) RETURNING id"),
            {"p": plan}).scalar_one()
    r = c.delete(f"/v1/plans/{plan}", headers=_h(env, v + 1))
    assert r.status_code == 409 and r.json()["error"]["code"] == "plan_in_use"
    assert "1 incident" in r.json()["error"]["message"] and r.json()["error"]["details"]["incidents"] == 1
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM incident WHERE id = :i"), {"i": incident})

    r = c.delete(f"/v1/plans/{plan}", headers=_h(env, v + 1))
    assert r.status_code == 200 and r.json()["deleted"]["id"] == plan and r.json()["deleted"]["version"] == v + 1
    assert c.get(f"/v1/plans/{plan}", headers=auth(env["keys"]["viewer"])).status_code == 404
    assert plan not in [p["id"] for p in c.get("/v1/plans", headers=auth(env["keys"]["viewer"])).json()["plans"]]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM grid WHERE plan_id = :p"), {"p": plan}).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM plan_edit WHERE plan_id = :p"), {"p": plan}).scalar_one() == 0
        row = conn.execute(text("SELECT actor, before FROM audit_log WHERE entity = 'grid_plan' AND entity_id = :p "
                                "AND action = 'delete'"), {"p": str(plan)}).one()
    assert row.before["name"] == "删除测试 to delete" and row.actor
    assert c.delete(f"/v1/plans/{plan}", headers=_h(env, v + 1)).status_code == 404

    # the published plan (and so any published or retired one) is not a draft
    published = next(p["id"] for p in c.get("/v1/plans", headers=auth(env["keys"]["viewer"])).json()["plans"]
                     if p["status"] == "published")
    r = c.delete(f"/v1/plans/{published}", headers=_h(env, 1))
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_a_draft" and "published" in r.json()["error"]["message"]


def test_deleting_a_draft_names_the_version_it_deletes(env) -> None:  # type: ignore[no-untyped-def]
    """DELETE /v1/plans/{id} follows the rule of every other plan write: without If-Match 428
    ``version_required``; with a version another planner's edit has overtaken 409 ``stale_version`` naming who
    changed what (so a draft somebody is still working on is not deleted unseen); both in Chinese too, and
    nothing deleted. The current version deletes it."""
    c = env["client"]
    plan, v = _draft(env, "过期删除 stale delete")
    missing = c.delete(f"/v1/plans/{plan}", headers=_h(env, None))
    assert missing.status_code == 428, missing.text
    err = missing.json()["error"]
    assert err["code"] == "version_required" and "If-Match" in err["message"] and "If-Match" in err["message_zh"]
    move = _neighbour_move(env, plan)
    r = c.post(f"/v1/plans/{plan}/assign", json={"building": move["building"], "grid": move["target"]},
               headers=_h(env, v, "planner2"))
    assert r.status_code == 200, r.text
    stale = c.delete(f"/v1/plans/{plan}", headers=_h(env, v))
    assert stale.status_code == 409, stale.text
    err = stale.json()["error"]
    assert err["code"] == "stale_version" and err["details"] == {
        "current_version": v + 1, "sent_version": v, "last_edit": err["details"]["last_edit"]}
    assert "second planner" in err["details"]["last_edit"]["actor"] and err["details"]["last_edit"]["op"] == "assign"
    for text_ in (err["message"], err["message_zh"]):
        assert "second planner" in text_ and "assign" in text_ and move["target"] in text_, text_
    assert "删除" in err["message_zh"] and "delete" in err["message"]
    assert c.get(f"/v1/plans/{plan}", headers=auth(env["keys"]["viewer"])).status_code == 200  # still there
    bad = c.delete(f"/v1/plans/{plan}", headers={**_h(env, None), "If-Match": "latest"})
    assert bad.status_code == 422 and "If-Match" in bad.json()["error"]["message"]
    ok = c.delete(f"/v1/plans/{plan}", headers=_h(env, v + 1))
    assert ok.status_code == 200 and ok.json()["deleted"] == {"id": plan, "name": "过期删除 stale delete",
                                                              "version": v + 1}, ok.text
    assert c.get(f"/v1/plans/{plan}", headers=auth(env["keys"]["viewer"])).status_code == 404
    # the OpenAPI description says so
    op = c.get("/openapi.json").json()["paths"]["/v1/plans/{plan_id}"]["delete"]
    assert "If-Match" in op["description"] and "428" in op["description"] and "stale_version" in op["description"]
    assert any(p["name"].lower() == "if-match" and p["in"] == "header" for p in op["parameters"])


def test_every_refusal_of_a_plans_request_says_it_in_chinese(env) -> None:  # type: ignore[no-untyped-def]
    """The refusals the editor rarely meets — unknown plans, grids, buildings and communities, names, limits,
    If-Match in the wrong form, over the vertex budget, move/swap questions, imports (the file's kind, each
    feature's reasons, unknown communities), exports — each answer carries message_zh (Chinese, from the
    catalogue) beside its unchanged English message, driven over HTTP as a client meets them."""
    import json
    import math
    import re

    c, viewer = env["client"], auth(env["keys"]["viewer"])
    plan, v = _draft(env, "拒绝测试 refusals")
    move = _neighbour_move(env, plan)
    other = next(f["properties"] for f in c.get("/v1/buildings", params={"plan": plan}, headers=viewer).json()["features"]
                 if f["properties"]["community_code"] != move["target"][:12])["code"]
    centre = shape(_grids(env, plan)[move["target"]]["geometry"]).centroid
    circle = {"type": "Polygon", "coordinates": [[
        [centre.x + 2e-4 * math.cos(2 * math.pi * i / 6000), centre.y + 2e-4 * math.sin(2 * math.pi * i / 6000)]
        for i in range(6000)] + [[centre.x + 2e-4, centre.y]]]}
    fc = c.get(f"/v1/plans/{plan}/grids", headers=viewer).json()
    bad_features = json.loads(json.dumps(fc))
    bad_features["features"][2]["properties"]["code"] = "123"
    bad_features["features"][4]["properties"]["community_code"] = None
    bad_features["features"][6]["geometry"] = {"type": "Polygon", "coordinates": [
        [[113.1, 40.05], [113.101, 40.051], [113.101, 40.05], [113.1, 40.051], [113.1, 40.05]]]}
    unknown_community = json.loads(json.dumps(fc))
    unknown_community["features"][0]["properties"]["community_code"] = "999999999999"
    p = f"/v1/plans/{plan}"
    refusals: dict[str, tuple[Any, int, str]] = {
        "no such plan": (c.get("/v1/plans/987654", headers=viewer), 404, "987654"),
        "a blank name": (c.post("/v1/plans", json={"name": "  "}, headers=_h(env, None)), 422, "名称"),
        "no such source": (c.post("/v1/plans", json={"name": "x", "source": 987654}, headers=_h(env, None)), 404,
                           "987654"),
        "no such community": (c.get(f"{p}/validation", params={"community": "999999999999"}, headers=viewer), 404,
                              "999999999999"),
        "If-Match in another form": (c.post(f"{p}/undo", headers={**_h(env, None), "If-Match": "yesterday"}), 422,
                                     "If-Match"),
        "building and buildings": (c.post(f"{p}/assign", json={"building": move["building"], "buildings": [],
                                                               "grid": move["target"]}, headers=_h(env, v)), 422,
                                   "building"),
        "no buildings": (c.post(f"{p}/assign", json={"buildings": [], "grid": move["target"]}, headers=_h(env, v)),
                         422, "楼"),
        "no such building": (c.post(f"{p}/assign", json={"buildings": ["nope", "nada"], "grid": move["target"]},
                                    headers=_h(env, v)), 404, "nope"),
        "no such grid": (c.post(f"{p}/assign", json={"building": move["building"], "grid": "140214999999999"},
                                headers=_h(env, v)), 404, "140214999999999"),
        "a split of no grid": (c.post(f"{p}/split", json={"grid": "140214999999999", "line": {
            "type": "LineString", "coordinates": [[113.1, 40.05], [113.2, 40.05]]}}, headers=_h(env, v)), 404,
                               "140214999999999"),
        "over the vertex budget": (c.put(f"{p}/grids/{move['target']}", json={"geometry": circle},
                                         headers=_h(env, v)), 422, "GRIDMAP_EDIT_MAX_VERTICES"),
        "a move of nothing": (c.get(f"{p}/move-candidates", params={"buildings": ","}, headers=viewer), 422,
                              "buildings"),
        "a move of too many": (c.get(f"{p}/move-candidates", params={"buildings": ",".join(
            f"B{i}" for i in range(51))}, headers=viewer), 422, "50"),
        "a move across communities": (c.get(f"{p}/move-candidates", params={"buildings": f"{move['building']},{other}"},
                                            headers=viewer), 422, "社区"),
        "a swap with no building": (c.get(f"{p}/swap-candidates", params={"building": "nope"}, headers=viewer), 404,
                                    "nope"),
        "a suggestion for no community": (c.post(f"{p}/suggest", json={"community": "999999999999"},
                                                 headers=_h(env, None)), 404, "999999999999"),
        "an import of a text file": (c.post(f"{p}/import", files={"file": ("grids.txt", b"x")}, headers=_h(env, v)),
                                     422, ".gpkg"),
        "an import with bad features": (c.post(f"{p}/import", files={"file": ("g.geojson", json.dumps(
            bad_features).encode())}, headers=_h(env, v)), 422, "15"),
        "an import naming no community": (c.post(f"{p}/import", files={"file": ("g.geojson", json.dumps(
            unknown_community).encode())}, headers=_h(env, v)), 422, "999999999999"),
        "an export's encoding": (c.get(f"{p}/export", params={"format": "gpkg", "encoding": "gbk"}, headers=viewer),
                                 422, "gbk"),
    }
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for what, (r, status, named) in refusals.items():
        assert r.status_code == status, (what, r.status_code, r.text)
        err = r.json()["error"]
        assert err.get("message_zh") and cjk.search(err["message_zh"]), (what, err)
        assert named in err["message_zh"], (what, err["message_zh"])
    # the English is what it was
    assert refusals["no such plan"][0].json()["error"]["message"] == "no plan with id 987654: GET /v1/plans lists them"
    assert refusals["no such building"][0].json()["error"]["message"] == (
        "no building 'nope' (and 1 more): GET /v1/buildings lists the codes")
    # an import's problems: each feature's reasons in both languages, the first in the envelope's message
    err = refusals["an import with bad features"][0].json()["error"]
    problems = {q["index"]: q for q in err["details"]["problems"]}
    assert set(problems) == {2, 4, 6}
    assert problems[2]["reason"] == "code must be 15 digits, not '123'" and "15 位数字" in problems[2]["reason_zh"]
    assert problems[4]["reason"] == "missing required community_code" and "缺少" in problems[4]["reason_zh"]
    assert "self-intersects" in problems[6]["reason"] and "自相交" in problems[6]["reason_zh"]
    assert err["message"] == ("3 of 50 features cannot be imported; nothing was changed. First: feature 2: code must "
                              "be 15 digits, not '123'")
    assert err["message_zh"] == "50 个要素中有 3 个无法导入，什么都没有改变。第一个：第 2 个要素：code 须为 15 位数字，而不是 '123'"
    assert c.get(p, headers=viewer).json()["version"] == v  # nothing changed
