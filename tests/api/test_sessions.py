"""Map sessions: the cookie holds a server-side session token, which ends on sign-out, on expiry and when
its key is revoked."""

from __future__ import annotations

import html
import re
import time

from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app
from api.deps import SESSION_COOKIE
from geo.config import Settings
from geo.keys import create_key, revoke_key


def _sign_in(client: TestClient, key: str) -> str:
    r = client.post("/maps/login", data={"key": key, "next": "/maps/lookup"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/maps/lookup"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    token = r.cookies[SESSION_COOKIE]
    assert key not in token and token.startswith("gms_")
    return token


def test_session_works_until_sign_out_and_stores_no_secret(db_url: str, engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, key = create_key(engine, role="planner", name="session tester")
    with TestClient(create_app(Settings(database_url=db_url, var_dir=tmp_path, key_cache_s=0))) as c:
        token = _sign_in(c, key)
        c.cookies.clear()
        assert c.get("/v1/plans", headers={"Cookie": f"{SESSION_COOKIE}={token}"}).status_code == 200
        assert c.get("/maps/lookup", headers={"Cookie": f"{SESSION_COOKIE}={token}"}, follow_redirects=False).status_code == 200
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT token_hash FROM web_session")).scalars().all()
        assert token not in stored and all(len(h) == 64 for h in stored)
        out = c.post("/maps/logout", headers={"Cookie": f"{SESSION_COOKIE}={token}"}, follow_redirects=False)
        with engine.connect() as conn:
            actions = conn.execute(text("SELECT action FROM audit_log WHERE entity = 'api_key' AND entity_id = :p "
                                        "ORDER BY id"), {"p": key.split("_")[1]}).scalars().all()
        assert actions == ["create", "sign_in", "sign_out"]
        assert out.status_code == 303 and f'{SESSION_COOKIE}=""' in out.headers["set-cookie"]
        r = c.get("/v1/plans", headers={"Cookie": f"{SESSION_COOKIE}={token}"})
        assert r.status_code == 401 and "sign in again" in r.json()["error"]["message"]
        page = c.get("/maps/lookup", headers={"Cookie": f"{SESSION_COOKIE}={token}"}, follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"].startswith("/maps/login")


def test_session_ends_with_its_key_and_when_it_expires(db_url: str, engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    info, key = create_key(engine, role="viewer", name="short session")
    settings = Settings(database_url=db_url, var_dir=tmp_path, key_cache_s=0, session_hours=1.5 / 3600)
    with TestClient(create_app(settings)) as c:
        token = _sign_in(c, key)
        c.cookies.clear()
        assert c.get("/v1/grids", headers={"Cookie": f"{SESSION_COOKIE}={token}"}).status_code == 200
        time.sleep(1.8)
        assert c.get("/v1/grids", headers={"Cookie": f"{SESSION_COOKIE}={token}"}).status_code == 401  # expired
        token = _sign_in(c, key)
        c.cookies.clear()
        revoke_key(engine, prefix=info.prefix)
        assert c.get("/v1/grids", headers={"Cookie": f"{SESSION_COOKIE}={token}"}).status_code == 401  # key revoked
        assert c.post("/maps/login", data={"key": key}, follow_redirects=False).status_code == 401


def test_a_session_token_is_not_a_key(db_url: str, engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The cache keeps keys and sessions apart: a session token sent as a Bearer key is checked as a key
    and refused, even while the same token, as the cookie, is in the cache."""
    _, key = create_key(engine, role="viewer", name="session as key")
    with TestClient(create_app(Settings(database_url=db_url, var_dir=tmp_path, key_cache_s=60))) as c:
        token = _sign_in(c, key)
        c.cookies.clear()
        assert c.get("/v1/grids", headers={"Cookie": f"{SESSION_COOKIE}={token}"}).status_code == 200  # cached now
        r = c.get("/v1/grids", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401, r.text


def test_a_client_key_signs_in_for_the_lookup_page_only(db_url: str, engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Hotline staff hold client keys: they sign in, land on /maps/lookup (whatever page they asked for), the
    page holds no phone numbers or counts, and every other map page answers 403 in Chinese and English."""
    _, key = create_key(engine, role="client", name="hotline")
    with TestClient(create_app(Settings(database_url=db_url, var_dir=tmp_path, key_cache_s=0))) as c:
        token = _sign_in(c, key)
        r = c.post("/maps/login", data={"key": key, "next": "/maps/command"}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/maps/lookup"
        c.cookies.clear()
        cookie = {"Cookie": f"{SESSION_COOKIE}={token}"}
        page = c.get("/maps/lookup", headers=cookie, follow_redirects=False)
        assert page.status_code == 200
        assert not re.search(r'"(grid_member_phone|households|population)": "?[0-9]', page.text)  # null, if at all
        assert 'href="/maps/lookup"' in page.text and 'href="/maps/command"' not in page.text  # the header
        for path in ("/maps/", "/maps/command", "/maps/coverage", "/maps/editor", "/maps/tiles"):
            refused = c.get(path, headers=cookie, follow_redirects=False)
            assert refused.status_code == 403, path
            said = html.unescape(refused.text)
            assert f"'client' 密钥不能打开 {path}：它只能打开查询页面 /maps/lookup" in said
            assert f"a 'client' key cannot open {path}: it may open only the lookup page /maps/lookup" in said
        assert c.get("/v1/lookup", params={"lon": 113.1, "lat": 40.05}, headers=cookie).status_code in (200, 404)
        assert c.get("/v1/grids", headers=cookie).status_code == 403


def test_a_bad_key_is_refused_in_chinese_and_english(db_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with TestClient(create_app(Settings(database_url=db_url, var_dir=tmp_path))) as c:
        r = c.post("/maps/login", data={"key": "gm_not_a_key"}, follow_redirects=False)
        assert r.status_code == 401
        assert "API 密钥无效或已撤销" in r.text and "the API key is unknown or revoked" in r.text
