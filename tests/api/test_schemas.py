"""The OpenAPI document tells clients what comes back, and what comes back matches it.

Every JSON/GeoJSON route declares the schema of its success answer (api/schemas.py); real answers from
the demo town are validated against the published /openapi.json with a JSON Schema validator.
"""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest

from geo.coverage_service import recompute_all
from tests.conftest import app_env, auth

#: Routes whose success answer is not a JSON document (a file, a redirect, no content, HTML).
NOT_JSON = {
    ("DELETE", "/v1/cameras/{camera_id}"),
    ("GET", "/v1/plans/{plan_id}/export"),
    ("POST", "/maps/login"),
    ("POST", "/maps/logout"),
    ("GET", "/tiles/{layer}/{z}/{x}/{y}.mvt"),  # Mapbox Vector Tiles (tests/api/test_tiles.py decodes them)
    ("GET", "/tiles/{layer}/WebMercatorQuad/{z}/{y}/{x}"),
}


@pytest.fixture(scope="module")
def env(module_db: str, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The demo town with camera views and coverage computed (the session database has none)."""
    with app_env(module_db, tmp_path_factory.mktemp("var"), roles=("viewer", "client")) as env:
        recompute_all(env["engine"])
        yield env["client"], env["keys"]


@pytest.fixture(scope="module")
def client(env):  # type: ignore[no-untyped-def]
    return env[0]


@pytest.fixture(scope="module")
def keys(env):  # type: ignore[no-untyped-def]
    return env[1]


@pytest.fixture(scope="module")
def document(client) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return client.get("/openapi.json").json()


def _success(op: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    for code in ("200", "201"):
        if code in op["responses"]:
            return code, op["responses"][code]
    return None


def _schema(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    code, response = _success(document["paths"][path][method.lower()])  # type: ignore[misc]
    content = response.get("content", {})
    media = next(m for m in ("application/geo+json", "application/json") if m in content)
    return content[media]["schema"]


def _validate(document: dict[str, Any], method: str, path: str, body: Any) -> None:
    schema = {**_schema(document, method, path), "components": document["components"]}
    jsonschema_rs.Draft202012Validator(schema).validate(body)


def test_every_json_route_declares_what_it_answers(document) -> None:  # type: ignore[no-untyped-def]
    undeclared = []
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            if (method.upper(), path) in NOT_JSON or path.startswith("/maps/") and method == "get":
                continue
            found = _success(op)
            content = found[1].get("content", {}) if found else {}
            if "text/html" in content:
                continue
            schemas = [c.get("schema") for m, c in content.items() if m in ("application/json", "application/geo+json")]
            if not any(schemas):
                undeclared.append(f"{method.upper()} {path}")
    assert not undeclared, f"routes without a declared answer schema: {undeclared}"


# (method, path template, concrete path, role)
SAMPLES = [
    ("GET", "/health", "/health", None),
    ("GET", "/v1/communities", "/v1/communities", "viewer"),
    ("GET", "/v1/grids", "/v1/grids", "viewer"),
    ("GET", "/v1/grids/{code}", None, "viewer"),
    ("GET", "/v1/buildings", "/v1/buildings", "viewer"),
    ("GET", "/v1/key-places", "/v1/key-places", "viewer"),
    ("GET", "/v1/cameras", "/v1/cameras", "viewer"),
    ("GET", "/v1/cameras/{camera_id}", "/v1/cameras/1", "viewer"),
    ("GET", "/v1/cameras/{camera_id}/view", None, "viewer"),
    ("GET", "/v1/coverage/views", "/v1/coverage/views", "viewer"),
    ("GET", "/v1/coverage/gaps", "/v1/coverage/gaps", "viewer"),
    ("GET", "/v1/coverage", "/v1/coverage", "viewer"),
    ("GET", "/v1/coverage", "/v1/coverage?communities=true&key_places=false", "viewer"),
    ("GET", "/v1/heatmap", "/v1/heatmap", "viewer"),
    ("GET", "/v1/hotspots", "/v1/hotspots", "viewer"),
    ("GET", "/v1/plans", "/v1/plans", "viewer"),
    ("GET", "/v1/plans/{plan_id}", None, "viewer"),
    ("GET", "/v1/plans/{plan_id}/grids", None, "viewer"),
    ("GET", "/v1/plans/{plan_id}/validation", None, "viewer"),
    ("GET", "/v1/plans/{plan_id}/move-candidates", "/v1/plans/{plan_id}/move-candidates?buildings={building}", "viewer"),
    ("GET", "/v1/plans/{plan_id}/swap-candidates", "/v1/plans/{plan_id}/swap-candidates?building={building}", "viewer"),
    ("GET", "/v1/lookup", "/v1/lookup?lon=113.1&lat=40.05", "client"),
    ("GET", "/v1/reports/monthly", "/v1/reports/monthly?month=2026-10", "viewer"),
    ("GET", "/v1/heatmap", "/v1/heatmap?format=weekly&from=2026-09-01&to=2026-11-01", "viewer"),
    ("GET", "/tiles", "/tiles", "viewer"),
    ("GET", "/tiles/{layer}", "/tiles/grids", "viewer"),
    ("GET", "/tiles/{layer}/tilejson.json", "/tiles/cameras/tilejson.json", "viewer"),
    ("GET", "/tiles/style.json", "/tiles/style.json", "viewer"),
    ("GET", "/tiles/tileMatrixSets/WebMercatorQuad", "/tiles/tileMatrixSets/WebMercatorQuad", "viewer"),
    ("GET", "/ogc", "/ogc", None),
    ("GET", "/ogc/conformance", "/ogc/conformance", None),
    ("GET", "/ogc/collections", "/ogc/collections", "viewer"),
    ("GET", "/ogc/collections/{collection_id}", "/ogc/collections/incidents", "viewer"),
    ("GET", "/ogc/collections/{collection_id}/queryables", "/ogc/collections/grids/queryables", "viewer"),
    ("GET", "/ogc/collections/{collection_id}/items", "/ogc/collections/camera-views/items?limit=20", "viewer"),
    ("GET", "/ogc/collections/{collection_id}/items", "/ogc/collections/grids/items?crs=EPSG:4547", "viewer"),
    ("GET", "/ogc/collections/{collection_id}/items/{fid}", "/ogc/collections/incidents/items/1", "viewer"),
]


@pytest.fixture(scope="module")
def ids(client, keys) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A plan, a grid and a camera with a computed view, for the templated paths."""
    h = auth(keys["viewer"])
    return {"{plan_id}": str(client.get("/v1/plans", headers=h).json()["plans"][0]["id"]),
            "{code}": client.get("/v1/grids", headers=h).json()["features"][0]["properties"]["code"],
            "{building}": client.get("/v1/buildings", headers=h).json()["features"][0]["properties"]["code"],
            "{camera_id}": str(client.get("/v1/coverage/views", headers=h).json()["features"][0]["properties"]["camera_id"])}


@pytest.mark.parametrize("method, template, path, role", SAMPLES, ids=[s[1] for s in SAMPLES])
def test_answers_match_the_document(client, keys, document, ids, method, template, path, role) -> None:  # type: ignore[no-untyped-def]
    path = path or template
    for name, value in ids.items():
        path = path.replace(name, value)
    r = client.request(method, path, headers=auth(keys[role]) if role else {})
    assert r.status_code == 200, r.text
    _validate(document, method, template, r.json())


def test_the_check_refuses_an_answer_missing_a_declared_field(client, keys, document) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/v1/grids", headers=auth(keys["viewer"])).json()
    del body["features"][0]["properties"]["households"]
    with pytest.raises(jsonschema_rs.ValidationError, match="households"):
        _validate(document, "GET", "/v1/grids", body)
