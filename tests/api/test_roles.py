"""Every route declares the role it needs; each is checked against no key, a lower role and the role itself."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from api.app import create_app
from api.roles import PUBLIC, route_roles
from geo.config import Settings
from tests.conftest import app_env, auth

LOWER = {"client": [], "viewer": ["client"], "operator": ["viewer", "planner"],
         "planner": ["viewer", "operator"], "admin": ["operator", "planner"]}
ROUTES = route_roles(create_app(Settings()))
# Cheap bodies where the default would do a lot of work; everything else gets {}.
BODIES = {("POST", "/v1/coverage/suggest"): lambda ids: {"k": 1, "grid": ids["code"]}}


def test_every_route_declares_a_role() -> None:
    undeclared = sorted(k for k, role in ROUTES.items() if role is None and k not in PUBLIC)
    assert undeclared == [], f"routes without a declared role: {undeclared}"
    assert len(ROUTES) >= 35


@pytest.fixture(scope="module")
def env(module_db: str, tmp_path_factory):  # type: ignore[no-untyped-def]
    with app_env(module_db, tmp_path_factory.mktemp("var"), roles=LOWER) as env:
        with env["engine"].connect() as conn:
            ids = {
                "camera_id": conn.execute(text("SELECT max(id) FROM camera")).scalar(),
                "incident_id": conn.execute(text("SELECT max(id) FROM incident")).scalar(),
                "plan_id": conn.execute(text("SELECT id FROM grid_plan WHERE status = 'published'")).scalar(),
                "code": conn.execute(text("SELECT min(code) FROM grid")).scalar(),
                "layer": "grids", "z": 14, "x": 13339, "y": 6199,  # the tile holding the town
            }
            # OGC API: grids is the collection a client key may read; its features are identified by code
            ids.update(collection_id="grids", fid=ids["code"])
        yield env["client"], env["keys"], ids


def _call(client, method: str, path: str, ids: dict, key: str | None):  # type: ignore[no-untyped-def]
    url = path.format(**ids)
    headers = auth(key) if key else {}
    if method in ("POST", "PATCH", "PUT"):
        body = BODIES.get((method, path), lambda _: {})(ids)
        return client.request(method, url, json=body, headers=headers, follow_redirects=False)
    return client.request(method, url, headers=headers, follow_redirects=False)


@pytest.mark.parametrize("method, path", sorted(k for k, r in ROUTES.items() if r is not None))
def test_role_matrix(env, method: str, path: str) -> None:  # type: ignore[no-untyped-def]
    client, keys, ids = env
    role = ROUTES[(method, path)]
    is_page = path.startswith("/maps/")
    anonymous = _call(client, method, path, ids, None)
    if is_page:  # pages send the browser to sign in instead of answering 401/403
        assert anonymous.status_code == 303 and "/maps/login" in anonymous.headers["location"]
    else:
        assert anonymous.status_code == 401, anonymous.text
    for lower in LOWER[role]:
        r = _call(client, method, path, ids, keys[lower])
        assert r.status_code == 403, (lower, r.status_code, r.text[:200])
        if is_page:  # a page signed in below its role: a page that says (中文 — English) which one it may open
            assert "只能打开查询页面" in r.text and "it may open only the lookup page /maps/lookup" in r.text, r.text
    allowed = _call(client, method, path, ids, keys[role])
    assert allowed.status_code not in (401, 403), allowed.text[:300]
    assert allowed.status_code < 500, allowed.text[:300]
    admin = _call(client, method, path, ids, keys["admin"]) if method == "GET" else allowed
    assert admin.status_code not in (401, 403)


def test_audit_log_is_admin_only_and_records_changes(env) -> None:  # type: ignore[no-untyped-def]
    client, keys, ids = env
    client.patch(f"/v1/cameras/{ids['camera_id']}", json={"status": "fault"}, headers=auth(keys["operator"]))
    entries = client.get("/v1/audit", params={"entity": "camera"}, headers=auth(keys["admin"])).json()["entries"]
    latest = entries[0]
    assert latest["action"] in ("update", "delete") and latest["entity_id"] == str(ids["camera_id"])
    assert latest["actor"].startswith("key:") and latest["at"]
    assert client.get("/v1/audit", headers=auth(keys["operator"])).status_code == 403


def test_basic_credentials_carry_the_key_as_the_password(env) -> None:  # type: ignore[no-untyped-def]
    """QGIS 3.22 can send only Basic credentials: any user name, the key as the password; the role is the
    key's. Malformed Basic credentials are a 401 that says how to send them; no answer asks for Basic."""
    import base64

    client, keys, _ = env

    def basic(user_password: bytes) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(user_password).decode()}

    assert client.get("/v1/grids", headers=basic(f"qgis:{keys['viewer']}".encode())).status_code == 200
    assert client.get("/v1/grids", headers=basic(f":{keys['viewer']}".encode())).status_code == 200
    r = client.get("/v1/incidents", headers=basic(f"x:{keys['client']}".encode()))
    assert r.status_code == 403  # a client key is a client, however it is sent
    for bad in (basic(b"no colon"), basic(b"user:"), {"Authorization": "Basic !!notbase64"},
                basic(b"user:\xff\xfe")):
        r = client.get("/v1/grids", headers=bad)
        assert r.status_code == 401, (bad, r.text)
        assert "password" in r.json()["error"]["message"] and r.headers["www-authenticate"] == "Bearer"
    r = client.get("/v1/grids", headers=basic(b"user:gmk_unknown"))
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
