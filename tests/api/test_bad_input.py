"""The bad-input corpus: every endpoint that takes a geometry or coordinates refuses each bad one with
a 4xx naming the problem, every write endpoint refuses unreadable bodies, and the database is unchanged."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app
from api.roles import api_routes, route_roles
from geo.config import Settings
from geo.keys import create_key
from geo.store.db import make_engine
from tests.conftest import app_env, auth

LIMIT = 6_000_000  # max_body_bytes of this module's app (the default is 64 MB)


def ring(*xy: tuple[float, float]) -> list[list[float]]:
    return [[113.1 + x * 1e-3, 40.05 + y * 1e-3] for x, y in xy]


SQUARE = ring((0, 0), (1, 0), (1, 1), (0, 1), (0, 0))
#: name -> (polygon geometry, words the message must contain)
POLYGONS: dict[str, tuple[Any, str]] = {
    "bowtie": ({"type": "Polygon", "coordinates": [ring((0, 0), (1, 1), (1, 0), (0, 1), (0, 0))]}, "self-intersect"),
    "unclosed ring": ({"type": "Polygon", "coordinates": [SQUARE[:-1]]}, "ring"),
    "spike": ({"type": "Polygon", "coordinates": [ring((0, 0), (2, 0), (2, 1), (3, 1), (2, 1), (2, 2), (0, 2),
                                                        (0, 0))]}, "ring"),
    "repeated points": ({"type": "Polygon", "coordinates": [ring((0, 0), (0, 0), (1, 1), (1, 1), (0, 0))]}, "ring"),
    "hole outside shell": ({"type": "Polygon", "coordinates": [SQUARE, ring((5, 5), (6, 5), (6, 6), (5, 5))]},
                           "hole"),
    "swapped lon/lat": ({"type": "Polygon", "coordinates": [[[y, x] for x, y in SQUARE]]}, "swap"),
    "3-D coordinates": ({"type": "Polygon", "coordinates": [[[x, y, 5.0] for x, y in SQUARE]]}, "3-D"),
    "empty geometry": ({"type": "Polygon", "coordinates": []}, ""),
    "null geometry": (None, ""),
    "not GeoJSON": ("POLYGON ((0 0, 1 0, 1 1, 0 0))x", ""),
    "crs member": ({"type": "Polygon", "crs": {"type": "name", "properties": {"name": "EPSG:4547"}},
                    "coordinates": [SQUARE]}, "crs"),
    "NaN coordinate": ({"type": "Polygon", "coordinates": [[[float("nan"), 40.05]] + SQUARE[1:]]}, ""),
    "too many vertices": ({"type": "Polygon", "coordinates": [
        [[113.1 + 1e-3 * __import__("math").cos(i * 6.283185 / 100_001),
          40.05 + 1e-3 * __import__("math").sin(i * 6.283185 / 100_001)] for i in range(100_001)]
        + [[113.101, 40.05]]]}, "vertices"),
}
#: name -> (line geometry, words) for the split line
LINES: dict[str, tuple[Any, str]] = {
    "one point": ({"type": "LineString", "coordinates": [[113.1, 40.05]]}, ""),
    "swapped lon/lat": ({"type": "LineString", "coordinates": [[40.05, 113.1], [40.06, 113.1]]}, "swap"),
    "3-D coordinates": ({"type": "LineString", "coordinates": [[113.1, 40.05, 1.0], [113.2, 40.05, 1.0]]}, "3-D"),
    "polygon instead": ({"type": "Polygon", "coordinates": [SQUARE]}, "LineString"),
    "empty geometry": ({"type": "LineString", "coordinates": []}, ""),
}
#: name -> (lon, lat) for endpoints that take a point
POINTS: dict[str, tuple[Any, Any]] = {
    "swapped lon/lat": (40.05, 113.1), "out of range": (200.0, 40.0), "not a number": ("abc", 40.05),
    "projected metres": (500000.0, 4429529.0),
}


@pytest.fixture(scope="module")
def env(module_db: str, tmp_path_factory):  # type: ignore[no-untyped-def]
    with app_env(module_db, tmp_path_factory.mktemp("var"), roles=("admin",), key_name="corpus",
                 raise_server_exceptions=False, max_body_bytes=LIMIT) as env:
        client, key = env["client"], env["keys"]["admin"]
        plan = client.post("/v1/plans", json={"name": "corpus"}, headers=auth(key)).json()
        with env["engine"].connect() as conn:
            ids = {"plan": plan["id"], "version": plan["version"],
                   "code": conn.execute(text("SELECT min(code) FROM grid")).scalar(),
                   "camera": conn.execute(text("SELECT min(id) FROM camera")).scalar(),
                   "incident": conn.execute(text("SELECT min(id) FROM incident")).scalar()}
        yield {**env, "key": key, "ids": ids}


def snapshot(engine: Any) -> tuple[Any, ...]:
    """Everything a bad request could have changed: row counts, plan versions, the grids, the audit log."""
    with engine.connect() as conn:
        return conn.execute(text("""
            SELECT (SELECT count(*) FROM grid), (SELECT count(*) FROM camera), (SELECT count(*) FROM incident),
                   (SELECT count(*) FROM incident_event), (SELECT count(*) FROM plan_edit),
                   (SELECT count(*) FROM grid_plan), (SELECT sum(version) FROM grid_plan),
                   (SELECT max(id) FROM audit_log),
                   (SELECT md5(string_agg(ST_AsEWKB(geom)::text, ',' ORDER BY plan_id, code)) FROM grid),
                   (SELECT md5(string_agg(ST_AsEWKB(geom)::text || azimuth_deg, ',' ORDER BY id)) FROM camera)
        """)).one()


def _geometry_calls(ids: dict[str, Any]) -> list[tuple[str, str, Callable[[Any], dict[str, Any]]]]:
    p, code = ids["plan"], ids["code"]
    return [
        ("PUT", f"/v1/plans/{p}/grids/{code}", lambda g: {
            "content": json.dumps({"geometry": g}).encode(),  # NaN too, as a careless client would send it
            "headers": {"Content-Type": "application/json"}}),
        ("POST", f"/v1/plans/{p}/import", lambda g: {"files": {"file": ("grids.geojson", json.dumps(
            {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": g, "properties": {
                "code": code, "community_code": code[:12]}}]}).encode())}}),
    ]


@pytest.mark.parametrize("name", sorted(POLYGONS))
def test_bad_polygons_are_refused_everywhere(env, name: str) -> None:  # type: ignore[no-untyped-def]
    geometry, words = POLYGONS[name]
    before = snapshot(env["engine"])
    headers = {**auth(env["key"]), "If-Match": f'"{env["ids"]["version"]}"'}
    for method, path, body in _geometry_calls(env["ids"]):
        if name == "crs member" and path.endswith("/import"):
            continue  # a file's CRS is its layer's (GDAL honours it); a geometry-level "crs" there is ignored
        kwargs = body(geometry)
        kwargs["headers"] = {**headers, **kwargs.get("headers", {})}
        r = env["client"].request(method, path, **kwargs)
        assert 400 <= r.status_code < 500, (name, path, r.status_code, r.text[:300])
        message = r.json()["error"]["message"]
        if path.endswith("/import"):
            message += json.dumps(r.json()["error"]["details"], ensure_ascii=False)
        assert words.lower() in message.lower(), (name, path, message)
    assert snapshot(env["engine"]) == before


@pytest.mark.parametrize("name", sorted(LINES))
def test_bad_split_lines_are_refused(env, name: str) -> None:  # type: ignore[no-untyped-def]
    geometry, words = LINES[name]
    before = snapshot(env["engine"])
    r = env["client"].post(f"/v1/plans/{env['ids']['plan']}/split",
                           json={"grid": env["ids"]["code"], "line": geometry},
                           headers={**auth(env["key"]), "If-Match": f'"{env["ids"]["version"]}"'})
    assert r.status_code == 422, r.text
    assert words.lower() in r.json()["error"]["message"].lower()
    assert snapshot(env["engine"]) == before


@pytest.mark.parametrize("name", sorted(POINTS))
def test_bad_points_are_refused_everywhere(env, name: str) -> None:  # type: ignore[no-untyped-def]
    lon, lat = POINTS[name]
    c, h, ids = env["client"], auth(env["key"]), env["ids"]
    before = snapshot(env["engine"])
    camera = {"code": "14021410011320009999", "name": "corpus", "kind": "bullet", "mount": "pole",
              "lon": lon, "lat": lat, "azimuth_deg": 90, "hfov_deg": 60, "range_m": 30}
    responses = {
        "lookup": c.get("/v1/lookup", params={"lon": lon, "lat": lat}, headers=h),
        "create camera": c.post("/v1/cameras", json=camera, headers=h),
        "move camera": c.patch(f"/v1/cameras/{ids['camera']}", json={"lon": lon, "lat": lat}, headers=h),
        "incident": c.post("/v1/incidents", json={"category": "other", "lon": lon, "lat": lat}, headers=h),
    }
    for what, r in responses.items():
        assert r.status_code == 422, (what, r.status_code, r.text[:300])
        if name == "swapped lon/lat":
            assert "swap" in r.json()["error"]["message"], (what, r.text)
    batch = c.post("/v1/lookup/batch", json={"points": [[113.0951, 40.0537], [lon, lat]]}, headers=h)
    assert batch.status_code == 200 and batch.json()["results"][1]["error"] is not None  # a bad row, its own error
    assert snapshot(env["engine"]) == before


def _write_routes() -> list[tuple[str, str]]:
    routes = route_roles(create_app(Settings()))
    return sorted((m, p) for (m, p), role in routes.items()
                  if m in ("POST", "PUT", "PATCH") and p not in ("/maps/logout",))


def _bodyless() -> set[str]:
    """Write routes that take no body (undo, redo, ...): they answer without reading one."""
    reads_stream = {"/v1/lookup/batch"}  # parses the body itself, as it streams
    return {path for path, route in api_routes(create_app(Settings()).routes)
            if route.body_field is None and path not in reads_stream}


def _url(path: str, ids: dict[str, Any]) -> str:
    return path.format(plan_id=ids["plan"], code=ids["code"], fid=ids["code"], camera_id=ids["camera"],
                       incident_id=ids["incident"])


FORMS = {"/maps/login": "application/x-www-form-urlencoded",
         "/v1/plans/{plan_id}/import": "multipart/form-data; boundary=gridmapcorpus"}
BODIES = {
    "oversized (announced)": lambda: {"content": b"{" + b" " * (LIMIT + 10) + b"}"},
    "oversized (chunked, no length)": lambda: {"content": iter(
        [b'{"points": ['] + [b"[113.1, 40.05]," * 10_000] * (LIMIT // 150_000 + 1))},
    "invalid UTF-8": lambda: {"content": b'{"name": "\xff\xfe\xfd", "geometry": {"type": "Point"}}'},
    "deeply nested JSON": lambda: {"content": b'{"a":' * 100_000 + b"1" + b"}" * 100_000},
}


@pytest.mark.parametrize("body", sorted(BODIES))
def test_unreadable_bodies_are_refused_by_every_write_endpoint(env, body: str) -> None:  # type: ignore[no-untyped-def]
    before = snapshot(env["engine"])
    headers = {**auth(env["key"]), "If-Match": f'"{env["ids"]["version"]}"', "Content-Type": "application/json"}
    for method, path in _write_routes():
        # form endpoints get the body as a form, so that they read it
        form = FORMS.get(path)
        h = {**headers, "Content-Type": form} if form else headers
        r = env["client"].request(method, _url(path, env["ids"]), headers=h, **BODIES[body]())
        assert 400 <= r.status_code < 500, (body, method, path, r.status_code, r.text[:300])
        if body.startswith("oversized") and not (body.endswith("no length)") and path in _bodyless()):
            assert r.status_code == 413 and f"{LIMIT:,}" in r.json()["error"]["message"], (path, r.text[:300])
    assert snapshot(env["engine"]) == before


def test_a_50_mb_body_under_the_default_limit_is_refused_and_stores_nothing(module_db: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The default body limit is 64 MB (a million-point batch); a 50 MB body still gets a 4xx everywhere."""
    engine = make_engine(module_db)
    key = create_key(engine, role="admin", name="50 MB")[1]
    pad = "x" * 50_000_000
    with TestClient(create_app(Settings(database_url=module_db, var_dir=tmp_path))) as c:
        h = auth(key)
        plan = c.post("/v1/plans", json={"name": "50 MB"}, headers=h).json()
        before = snapshot(engine)
        code = sorted(f["properties"]["code"] for f in c.get(f"/v1/plans/{plan['id']}/grids", headers=h).json()[
            "features"])[0]
        calls = {
            "grid": c.put(f"/v1/plans/{plan['id']}/grids/{code}", json={"geometry": POLYGONS["bowtie"][0], "pad": pad},
                          headers={**h, "If-Match": f'"{plan["version"]}"'}),
            "incident": c.post("/v1/incidents", json={"category": "other", "lon": 113.0951, "lat": 40.0537,
                                                      "description": pad}, headers=h),
            "camera": c.post("/v1/cameras", json={"code": "14021410011320009998", "name": pad, "kind": "bullet",
                                                  "mount": "pole", "lon": 113.0951, "lat": 40.0537,
                                                  "azimuth_deg": 0, "hfov_deg": 60, "range_m": 30}, headers=h),
            "batch": c.post("/v1/lookup/batch", json={"addresses": [pad]}, headers=h),
        }
        for what, r in calls.items():
            assert len(r.content) < 10_000, what  # the answer does not echo the 50 MB back
            if what == "batch":  # by contract a bad row gets its own error, the batch itself is answered
                assert r.status_code == 200 and "more than 200" in r.json()["results"][0]["error"]["message"]
                continue
            assert 400 <= r.status_code < 500, (what, r.status_code, r.text[:200])
        assert snapshot(engine) == before
    engine.dispose()
