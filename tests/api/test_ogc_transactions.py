"""OGC API – Features Part 4 on the grids of a draft: POST, PUT, PATCH, DELETE through the edit engine.

Real PostGIS (a database of this module), real HTTP through the app's TestClient (and, once, uvicorn and
httpx as a client would). Each write is checked where it lands: the stored geometry (in metres), the
community still covered without gaps or overlaps (the plan's validation), the audit row, and undo
(``POST /v1/plans/{id}/undo``) giving back the grids as they were. Refusals change nothing: the plan's
version and every grid are compared before and after.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import shapely
import shapely.testing
from shapely import box
from shapely.geometry import mapping, shape
from sqlalchemy import text

from geo.crs import from_metric, to_metric
from tests.conftest import app_env, auth, serve

ITEMS = "/ogc/collections/grids/items"
GEO = "application/geo+json"
F4 = "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/"


@pytest.fixture(scope="module")
def env(module_db: str, tmp_path_factory):  # type: ignore[no-untyped-def]
    with app_env(module_db, tmp_path_factory.mktemp("var"), roles=("viewer", "planner"),
                 edit_max_vertices=500) as env:
        yield env


# ---------------------------------------------------------------------------- helpers


def _h(env: dict[str, Any], version: int | None = None, who: str = "planner", **extra: str) -> dict[str, str]:
    h = {**auth(env["keys"][who]), "Content-Type": GEO, **extra}
    if version is not None:
        h["If-Match"] = f'"{version}"'
    return h


def _draft(env: dict[str, Any]) -> tuple[int, int]:
    r = env["client"].post("/v1/plans", json={"name": "ogc draft"}, headers=auth(env["keys"]["planner"]))
    assert r.status_code == 201, r.text
    return r.json()["id"], r.json()["version"]


def _version(env: dict[str, Any], plan: int) -> int:
    return env["client"].get(f"/v1/plans/{plan}", headers=auth(env["keys"]["viewer"])).json()["version"]


def _grids(env: dict[str, Any], plan: int) -> dict[str, dict[str, Any]]:
    fc = env["client"].get(f"/v1/plans/{plan}/grids", headers=auth(env["keys"]["viewer"])).json()
    return {f["properties"]["code"]: f for f in fc["features"]}


def _metric(feature: dict[str, Any]) -> shapely.Geometry:
    return to_metric(shape(feature["geometry"]))


def _errors(env: dict[str, Any], plan: int) -> list[dict[str, Any]]:
    v = env["client"].get(f"/v1/plans/{plan}/validation", headers=auth(env["keys"]["viewer"])).json()
    return [p for p in v["problems"] if p["severity"] == "error"]


def _audit(env: dict[str, Any], plan: int) -> Any:
    with env["engine"].connect() as conn:
        return conn.execute(text("SELECT actor, action, after FROM audit_log WHERE entity = 'grid_plan' "
                                 "AND entity_id = :p ORDER BY id DESC LIMIT 1"), {"p": str(plan)}).one()


def _undo(env: dict[str, Any], plan: int, etag: str) -> None:
    r = env["client"].post(f"/v1/plans/{plan}/undo", headers={**auth(env["keys"]["planner"]), "If-Match": etag})
    assert r.status_code == 200, r.text


def _same_grids(a: dict[str, dict[str, Any]], b: dict[str, dict[str, Any]]) -> None:
    assert set(a) == set(b)
    for code in a:
        shapely.testing.assert_geometries_equal(shape(a[code]["geometry"]), shape(b[code]["geometry"]),
                                                tolerance=1e-7, normalize=True)


def _pair(grids: dict[str, dict[str, Any]]) -> tuple[str, str, float]:
    """Two grids of one community sharing the longest border in the plan (codes, border in metres),
    measured here with shapely: the length of a's boundary within 1 cm of b."""
    best = ("", "", 0.0)
    metric = {c: _metric(f) for c, f in grids.items()}
    for a in sorted(grids):
        for b in sorted(grids):
            if a < b and grids[a]["properties"]["community_code"] == grids[b]["properties"]["community_code"]:
                length = metric[a].boundary.intersection(metric[b].buffer(0.01)).length
                if length > best[2]:
                    best = (a, b, length)
    assert best[2] > 50, best
    return best


def _buildings(env: dict[str, Any], plan: int) -> list[shapely.Geometry]:
    fc = env["client"].get("/v1/buildings", params={"plan": plan}, headers=auth(env["keys"]["viewer"])).json()
    return [to_metric(shape(f["geometry"])) for f in fc["features"]]


def _clear_box(env: dict[str, Any], plan: int, a: str, b: str) -> shapely.Geometry:
    """A square (metres) on the border of grids a and b, 3 m or more (beyond snapping) from any building,
    other grid and the community's edge (as large as the border allows, at most 40 m a side)."""
    grids = _grids(env, plan)
    border = _metric(grids[a]).boundary.intersection(_metric(grids[b]).buffer(0.01))
    footprints = shapely.union_all(_buildings(env, plan))
    others = shapely.union_all([_metric(f) for k, f in grids.items() if k not in (a, b)])
    edge = shapely.union_all([_metric(f) for f in grids.values()
                              if f["properties"]["community_code"] == grids[a]["properties"]["community_code"]]).boundary
    points = [border.interpolate(t, normalized=True) for t in [i / 40 for i in range(1, 40)]]
    room = lambda p: min(20.0, *((p.distance(g) - 3.0) / 1.5 for g in (footprints, others, edge)))  # noqa: E731
    point = max(points, key=room)
    half = room(point)
    assert half > 4, "no clear land on the border"
    square = box(point.x - half, point.y - half, point.x + half, point.y + half)
    assert not square.intersects(footprints) and not square.intersects(others)
    return square


def _feature(geom_metric: shapely.Geometry, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": mapping(from_metric(geom_metric))}


def _conforms(env: dict[str, Any], method: str, path: str, status: int, body: Any) -> None:
    """``body`` is what the OpenAPI document declares the route answers."""
    import jsonschema_rs

    document = env["client"].get("/openapi.json").json()
    content = document["paths"][path][method]["responses"][str(status)]["content"]
    schema = next(content[m]["schema"] for m in ("application/geo+json", "application/json") if content.get(m))
    jsonschema_rs.Draft202012Validator({**schema, "components": document["components"]}).validate(body)


def _unchanged(env: dict[str, Any], plan: int, version: int, grids: dict[str, dict[str, Any]]) -> None:
    assert _version(env, plan) == version
    _same_grids(_grids(env, plan), grids)


# ---------------------------------------------------------------------------- what the service declares


def test_conformance_collection_and_openapi_declare_the_writes(env) -> None:  # type: ignore[no-untyped-def]
    c = env["client"]
    conf = c.get("/ogc/conformance").json()["conformsTo"]
    assert F4 + "create-replace-delete" in conf and F4 + "update" in conf
    plan, version = _draft(env)
    r = c.get("/ogc/collections/grids", headers=auth(env["keys"]["viewer"]))
    editable = r.json()["editable"]
    published = c.get("/v1/plans", headers=auth(env["keys"]["viewer"])).json()["plans"]
    assert plan in editable["plans"]
    assert not set(editable["plans"]) & {p["id"] for p in published if p["status"] != "draft"}
    # a read with plan= carries the ETag a write names
    code = next(iter(_grids(env, plan)))
    one = c.get(f"{ITEMS}/{code}", params={"plan": plan}, headers=auth(env["keys"]["viewer"]))
    assert one.status_code == 200 and one.headers["etag"] == f'"{version}"'
    assert c.get(ITEMS, params={"plan": plan, "limit": 1}, headers=auth(env["keys"]["viewer"])).headers["etag"] \
        == f'"{version}"'
    paths = c.get("/openapi.json").json()["paths"]
    assert {"post"} <= set(paths[ITEMS]) and {"put", "patch", "delete"} <= set(paths[ITEMS + "/{fid}"])
    for op in (paths[ITEMS]["post"], *(paths[ITEMS + "/{fid}"][m] for m in ("put", "patch", "delete"))):
        assert op["security"] == [{"bearer": []}], op.get("security")
    assert {GEO, "application/json"} <= set(paths[ITEMS]["post"]["requestBody"]["content"])
    assert "application/merge-patch+json" in paths[ITEMS + "/{fid}"]["patch"]["requestBody"]["content"]


# ---------------------------------------------------------------------------- each verb


def test_put_gives_a_grid_a_new_boundary_and_its_neighbour_follows(env) -> None:  # type: ignore[no-untyped-def]
    c = env["client"]
    plan, version = _draft(env)
    before = _grids(env, plan)
    a, b, _ = _pair(before)
    square = _clear_box(env, plan, a, b)
    gain = square.intersection(_metric(before[b]))
    read = c.get(f"{ITEMS}/{a}", params={"plan": plan}, headers=auth(env["keys"]["viewer"])).json()
    # drawn in lon/lat as a client editing the feature it read does: its other vertices stay exactly
    wanted_lonlat = shapely.union_all([shape(read["geometry"]), from_metric(square)])
    wanted = to_metric(wanted_lonlat)
    body = {**read, "geometry": mapping(wanted_lonlat)}  # the Feature as read, a new geometry
    r = c.put(f"{ITEMS}/{a}", params={"plan": plan}, content=json.dumps(body), headers=_h(env, version))
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == f'"{version + 1}"' and r.headers["content-type"].startswith(GEO)
    assert r.json()["id"] == a and {a, b} <= set(r.json()["edit"]["changed"])
    _conforms(env, "put", ITEMS + "/{fid}", 200, r.json())
    after = _grids(env, plan)
    for other in set(r.json()["edit"]["changed"]) - {a, b}:  # the overlays' 1 mm rounding on shared edges, no more
        assert shapely.symmetric_difference(_metric(after[other]), _metric(before[other])).area < 0.1
    # grid a gained the square's part in b (snapping to roads and edges moves a vertex by at most 2 m)
    assert shapely.symmetric_difference(_metric(after[a]), wanted).area < 0.1 * gain.area
    assert _metric(after[a]).area == pytest.approx(_metric(before[a]).area + gain.area, rel=0.02)
    assert _metric(after[a]).area + _metric(after[b]).area == pytest.approx(
        _metric(before[a]).area + _metric(before[b]).area, abs=1.0)
    assert _errors(env, plan) == []
    row = _audit(env, plan)
    assert row.action == "reshape" and "planner tester" in row.actor and row.after["grid"] == a
    assert row.after["version"] == version + 1
    _undo(env, plan, r.headers["etag"])
    _same_grids(_grids(env, plan), before)


def test_patch_takes_a_merge_patch_and_repeats_of_fixed_properties(env) -> None:  # type: ignore[no-untyped-def]
    c = env["client"]
    plan, version = _draft(env)
    before = _grids(env, plan)
    a, b, _ = _pair(before)
    square = _clear_box(env, plan, a, b)
    wanted = _metric(before[b]).difference(square)  # b gives the square's part to a
    patch = {"geometry": mapping(from_metric(wanted))}
    r = c.patch(f"{ITEMS}/{b}", params={"plan": plan}, content=json.dumps(patch),
                headers=_h(env, version, **{"Content-Type": "application/merge-patch+json"}))
    assert r.status_code == 200, r.text
    after = _grids(env, plan)
    gain = square.intersection(_metric(before[b]))
    assert _metric(after[a]).area == pytest.approx(_metric(before[a]).area + gain.area, rel=0.02)
    assert shapely.symmetric_difference(_metric(after[b]), wanted).area < 0.1 * gain.area
    assert _errors(env, plan) == [] and _audit(env, plan).action == "reshape"
    etag = r.headers["etag"]
    # repeating the name changes nothing and makes no edit
    same = c.patch(f"{ITEMS}/{b}", params={"plan": plan}, content=json.dumps(
        {"properties": {"name": before[b]["properties"]["name"], "households": -1}}), headers={**_h(env), "If-Match": etag})
    assert same.status_code == 200 and same.headers["etag"] == etag
    # a rename is refused and nothing changes
    rename = c.patch(f"{ITEMS}/{b}", params={"plan": plan}, content=json.dumps({"properties": {"name": "新名字"}}),
                     headers={**_h(env), "If-Match": etag})
    assert rename.status_code == 422 and "name" in rename.json()["error"]["message"]
    _unchanged(env, plan, version + 1, after)
    _undo(env, plan, etag)
    _same_grids(_grids(env, plan), before)


def test_post_adds_a_grid_with_the_next_free_code(env) -> None:  # type: ignore[no-untyped-def]
    c = env["client"]
    plan, version = _draft(env)
    before = _grids(env, plan)
    a, b, _ = _pair(before)
    square = _clear_box(env, plan, a, b)
    community = before[a]["properties"]["community_code"]
    used = max(int(k[-3:]) for k in before if k.startswith(community))
    r = c.post(ITEMS, params={"plan": plan}, content=json.dumps(_feature(square)), headers=_h(env, version))
    assert r.status_code == 201, r.text
    code = r.json()["id"]
    assert code == f"{community}{used + 1:03d}" and r.json()["properties"]["community_code"] == community
    assert r.headers["location"].endswith(f"{ITEMS}/{code}?plan={plan}")
    _conforms(env, "post", ITEMS, 201, r.json())
    assert r.headers["etag"] == f'"{version + 1}"'
    got = c.get(r.headers["location"], headers=auth(env["keys"]["viewer"]))
    assert got.status_code == 200 and got.json()["id"] == code
    after = _grids(env, plan)
    assert set(after) == set(before) | {code}
    assert shapely.symmetric_difference(_metric(after[code]), square).area < 0.05 * square.area
    # its land came from a and b: the community's area is what it was
    total = lambda gs: sum(_metric(f).area for k, f in gs.items() if k.startswith(community))  # noqa: E731
    assert total(after) == pytest.approx(total(before), abs=1.0)
    assert _metric(after[a]).area < _metric(before[a]).area and _metric(after[b]).area < _metric(before[b]).area
    assert _errors(env, plan) == []
    row = _audit(env, plan)
    assert row.action == "add" and row.after["created"] == [code] and sorted(row.after["changed"]) == sorted([a, b])
    _undo(env, plan, r.headers["etag"])
    _same_grids(_grids(env, plan), before)


def test_post_in_a_projected_content_crs_with_a_chosen_code(env) -> None:  # type: ignore[no-untyped-def]
    c = env["client"]
    plan, version = _draft(env)
    before = _grids(env, plan)
    a, b, _ = _pair(before)
    square = _clear_box(env, plan, a, b)
    community = before[a]["properties"]["community_code"]
    # EPSG:4547 is northing, easting (Part 2): the coordinates are sent in that order
    north_first = shapely.transform(square, lambda xy: xy[:, ::-1])
    body = {"type": "Feature", "geometry": mapping(north_first),
            "properties": {"code": f"{community}900", "name": "试验网格"}}
    h = _h(env, version, **{"Content-Crs": "<http://www.opengis.net/def/crs/EPSG/0/4547>"})
    exists = c.post(ITEMS, params={"plan": plan}, content=json.dumps(
        {**body, "properties": {"code": a}}), headers=h)
    assert exists.status_code == 409 and a in exists.json()["error"]["message"]
    assert f"已有网格 {a}" in exists.json()["error"]["message_zh"]  # the catalogue's Chinese beside it
    _unchanged(env, plan, version, before)
    r = c.post(ITEMS, params={"plan": plan}, content=json.dumps(body), headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["id"] == f"{community}900" and r.json()["properties"]["name"] == "试验网格"
    stored = _metric(_grids(env, plan)[f"{community}900"])
    assert shapely.symmetric_difference(stored, square).area < 0.05 * square.area
    assert _errors(env, plan) == []


def test_delete_gives_the_land_to_the_neighbour_with_the_longest_border(env) -> None:  # type: ignore[no-untyped-def]
    c = env["client"]
    plan, version = _draft(env)
    before = _grids(env, plan)
    a, _b, _ = _pair(before)
    community = before[a]["properties"]["community_code"]
    mine = _metric(before[a])
    borders = {k: mine.boundary.intersection(_metric(f).buffer(0.01)).length for k, f in before.items()
               if k != a and f["properties"]["community_code"] == community}
    into = max(borders, key=borders.get)  # type: ignore[arg-type]
    r = c.delete(f"{ITEMS}/{a}", params={"plan": plan}, headers=_h(env, version))
    assert r.status_code == 200, r.text
    assert r.json()["removed"] == [a] and r.json()["changed"] == [into]
    _conforms(env, "delete", ITEMS + "/{fid}", 200, r.json())
    assert r.headers["etag"] == f'"{version + 1}"'
    after = _grids(env, plan)
    assert set(after) == set(before) - {a}
    assert _metric(after[into]).area == pytest.approx(mine.area + _metric(before[into]).area, abs=1.0)
    assert shapely.symmetric_difference(_metric(after[into]), mine.union(_metric(before[into]))).area < 1.0
    gone = c.get(f"{ITEMS}/{a}", params={"plan": plan}, headers=auth(env["keys"]["viewer"]))
    assert gone.status_code == 404
    assert _errors(env, plan) == []
    row = _audit(env, plan)
    assert row.action == "remove" and row.after["removed"] == [a] and row.after["into"] == into
    _undo(env, plan, r.headers["etag"])
    _same_grids(_grids(env, plan), before)


# ---------------------------------------------------------------------------- versions, roles, plans


def test_stale_if_match_is_412_and_a_missing_one_428(env) -> None:  # type: ignore[no-untyped-def]
    c = env["client"]
    plan, version = _draft(env)
    before = _grids(env, plan)
    a, b, _ = _pair(before)
    body = c.get(f"{ITEMS}/{a}", params={"plan": plan}, headers=auth(env["keys"]["viewer"])).text
    missing = c.put(f"{ITEMS}/{a}", params={"plan": plan}, content=body, headers=_h(env))
    assert missing.status_code == 428 and "If-Match" in missing.json()["error"]["message"]
    stale = c.delete(f"{ITEMS}/{a}", params={"plan": plan}, headers=_h(env, version + 5))
    assert stale.status_code == 412 and stale.json()["error"]["code"] == "stale_version"
    assert stale.json()["error"]["details"]["current_version"] == version
    assert stale.json()["code"] == "stale_version"  # OGC's exception members too
    # in Chinese too (geo/messages.py), the English as it was
    said = stale.json()["error"]
    assert said["message"] == f"plan {plan} is at version {version}, not {version + 5}; reload the plan and redo your change"
    assert said["message_zh"] == f"方案 {plan} 当前为版本 {version}，而不是 {version + 5}：请重新加载方案后再做一次修改"
    assert "If-Match" in missing.json()["error"]["message_zh"] and "版本" in missing.json()["error"]["message_zh"]
    _unchanged(env, plan, version, before)
    # /v1/plans keeps its 409 for the same thing
    v1 = c.post(f"/v1/plans/{plan}/merge", json={"grids": [a, b]}, headers=_h(env, version + 5))
    assert v1.status_code == 409 and v1.json()["error"]["code"] == "stale_version"
    assert v1.json()["error"]["message_zh"] == said["message_zh"]


def test_a_viewer_cannot_write_and_nobody_without_a_key(env) -> None:  # type: ignore[no-untyped-def]
    c = env["client"]
    plan, version = _draft(env)
    before = _grids(env, plan)
    code = next(iter(before))
    body = json.dumps(before[code])
    calls = [("POST", ITEMS), ("PUT", f"{ITEMS}/{code}"), ("PATCH", f"{ITEMS}/{code}"), ("DELETE", f"{ITEMS}/{code}")]
    for method, url in calls:
        r = c.request(method, url, params={"plan": plan}, content=body, headers=_h(env, version, who="viewer"))
        assert r.status_code == 403, (method, r.text)
        r = c.request(method, url, params={"plan": plan}, content=body,
                      headers={"Content-Type": GEO, "If-Match": f'"{version}"'})
        assert r.status_code == 401, (method, r.text)
    _unchanged(env, plan, version, before)


def test_a_published_plan_is_not_edited_and_a_write_names_its_draft(env) -> None:  # type: ignore[no-untyped-def]
    c = env["client"]
    plans = c.get("/v1/plans", headers=auth(env["keys"]["viewer"])).json()["plans"]
    published = next(p for p in plans if p["status"] == "published")
    grids = _grids(env, published["id"])
    code = next(iter(grids))
    r = c.delete(f"{ITEMS}/{code}", params={"plan": published["id"]}, headers=_h(env, published["version"]))
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_a_draft"
    assert "POST /v1/plans" in r.json()["error"]["message"]
    no_plan = c.delete(f"{ITEMS}/{code}", headers=_h(env, published["version"]))
    assert no_plan.status_code == 400 and "POST /v1/plans" in no_plan.json()["error"]["message"]
    assert "plan=" in no_plan.json()["error"]["message"]
    _unchanged(env, published["id"], published["version"], grids)
    other = c.post("/ogc/collections/cameras/items", content="{}", headers=_h(env, 1))
    assert other.status_code == 405


# ---------------------------------------------------------------------------- refusals change nothing


def _ring(n: int, centre: tuple[float, float], r: float) -> list[list[float]]:
    import math
    pts = [[centre[0] + r * math.cos(2 * math.pi * i / n), centre[1] + r * math.sin(2 * math.pi * i / n)]
           for i in range(n)]
    return [*pts, pts[0]]


BAD = {
    "bowtie": ({"type": "Polygon", "coordinates": [[[113.10, 40.00], [113.11, 40.01], [113.11, 40.00],
                                                   [113.10, 40.01], [113.10, 40.00]]]}, {}, 422, "invalid_geometry"),
    "a point": ({"type": "Point", "coordinates": [113.1, 40.0]}, {}, 422, "invalid_geometry"),
    "lat, lon swapped": (None, {}, 422, "bad_coordinates"),
    "too many vertices": (None, {}, 422, "over_budget"),
    "outside every community": ({"type": "Polygon", "coordinates": [[[100.0, 30.0], [100.01, 30.0],
                                                                    [100.01, 30.01], [100.0, 30.0]]]}, {}, 422,
                                "bad_input"),
    "unknown property": (None, {"colour": "red"}, 422, "bad_input"),
    "unknown community": (None, {"community_code": "999999999999"}, 422, "bad_input"),
    "a code of another community": (None, {"code": "140214999999001"}, 422, "bad_input"),
    "an unknown Content-Crs": (None, {}, 400, "invalid_parameter"),
    "a text body": (None, {}, 415, "unsupported_media_type"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_refused_and_nothing_changes(env, case: str) -> None:  # type: ignore[no-untyped-def]
    c = env["client"]
    plan, version = _draft(env)
    before = _grids(env, plan)
    a, b, _ = _pair(before)
    geometry, props, status, code = BAD[case]
    square = _clear_box(env, plan, a, b)
    if geometry is None:
        geometry = mapping(from_metric(square))
    if case == "lat, lon swapped":
        geometry = mapping(shapely.transform(from_metric(square), lambda xy: xy[:, ::-1]))
    if case == "too many vertices":
        lonlat = shapely.centroid(from_metric(square))
        geometry = {"type": "Polygon", "coordinates": [_ring(600, (lonlat.x, lonlat.y), 0.0001)]}
    headers = _h(env, version)
    if case == "an unknown Content-Crs":
        headers["Content-Crs"] = "<http://www.opengis.net/def/crs/EPSG/0/2000>"
    if case == "a text body":
        headers["Content-Type"] = "text/plain"
    feature = {"type": "Feature", "properties": props, "geometry": geometry}
    for method, url in (("POST", ITEMS), ("PUT", f"{ITEMS}/{a}")):
        if method == "PUT" and case in ("outside every community", "unknown community", "a code of another community"):
            continue  # what only a new grid can get wrong
        r = c.request(method, url, params={"plan": plan}, content=json.dumps(feature), headers=headers)
        assert r.status_code == status, (method, r.text)
        assert r.json()["error"]["code"] == code, (method, r.text)
        assert len(r.json()["error"]["message"]) > 20
    _unchanged(env, plan, version, before)


# ---------------------------------------------------------------------------- a client over real HTTP


def test_a_client_over_http_reads_the_etag_edits_and_undoes(env) -> None:  # type: ignore[no-untyped-def]
    plan, _ = _draft(env)
    before = _grids(env, plan)
    a, b, _ = _pair(before)
    square = _clear_box(env, plan, a, b)
    planner = auth(env["keys"]["planner"])
    server = serve(env["settings"])
    base = next(server)
    try:
        with httpx.Client(base_url=base, headers=planner, timeout=60) as http:
            got = http.get(f"{ITEMS}/{a}", params={"plan": plan})
            assert got.status_code == 200 and got.headers["content-type"].startswith(GEO)
            feature = got.json()
            feature["geometry"] = mapping(from_metric(shapely.union_all([to_metric(shape(feature["geometry"])),
                                                                         square])))
            put = http.put(f"{ITEMS}/{a}", params={"plan": plan}, json=feature,
                           headers={"If-Match": got.headers["etag"]})
            assert put.status_code == 200, put.text
            again = http.put(f"{ITEMS}/{a}", params={"plan": plan}, json=feature,
                             headers={"If-Match": got.headers["etag"]})
            assert again.status_code == 412  # the ETag it read is stale now
            assert b in put.json()["edit"]["changed"]
            undo = http.post(f"/v1/plans/{plan}/undo", headers={"If-Match": put.headers["etag"]})
            assert undo.status_code == 200, undo.text
    finally:
        server.close()  # stops uvicorn
    _same_grids(_grids(env, plan), before)


def test_the_last_grid_of_a_community_is_not_deleted(env) -> None:  # type: ignore[no-untyped-def]
    c = env["client"]
    plan, version = _draft(env)
    grids = _grids(env, plan)
    by_community: dict[str, list[str]] = {}
    for code, f in grids.items():
        by_community.setdefault(f["properties"]["community_code"], []).append(code)
    codes = sorted(min(by_community.values(), key=len))
    for code in codes[1:]:  # every grid but one goes, each into a neighbour
        r = c.delete(f"{ITEMS}/{code}", params={"plan": plan}, headers=_h(env, version))
        assert r.status_code == 200, r.text
        version = int(r.headers["etag"].strip('"'))
    before = _grids(env, plan)
    last = c.delete(f"{ITEMS}/{codes[0]}", params={"plan": plan}, headers=_h(env, version))
    assert last.status_code == 409 and "only grid" in last.json()["error"]["message"]
    assert "唯一的网格" in last.json()["error"]["message_zh"]
    _unchanged(env, plan, version, before)
    assert _errors(env, plan) == []  # the community is one grid now, whole
