"""/maps/ served by the real app over real HTTP, opened in Debian's headless Chromium."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx

from api.deps import SESSION_COOKIE
from maps.assets import assert_no_cdn
from maps.overview import LAYER_NAMES
from tests.conftest import auth, sign_in_cookie


def test_overview_page_draws_offline(browser, open_map, live_server: str, keys, tmp_path: Path) -> None:
    cookie = sign_in_cookie(live_server, keys["viewer"])
    report = open_map(browser, f"{live_server}/maps/", screenshot=tmp_path / "overview.png", cookies=cookie)
    assert report.console_errors == [] and report.page_errors == []
    assert report.external_requests == [] and report.failed_responses == []
    assert report.page.evaluate("L.version").startswith("1.9")
    assert report.layer_control_labels == list(LAYER_NAMES.values())
    # 3+ communities, 50 grids, 125 buildings and 700+ cameras are SVG paths.
    assert report.path_count >= 3 + 50 + 125 + 700
    labels = report.page.locator(".gm-grid-label").all_inner_texts()
    assert len(labels) == 50 and all(label.strip() for label in labels)
    shutil.copy(report.screenshot, "/tmp/gridmap-overview-app.png")  # for a person to look at


def test_overview_html_has_no_cdn_and_needs_a_viewer(live_server: str, keys) -> None:
    r = httpx.get(f"{live_server}/maps/", headers=auth(keys["viewer"]))
    assert r.status_code == 200
    assert_no_cdn(r.text)
    assert "/static/vendor/leaflet" in r.text
    anonymous = httpx.get(f"{live_server}/maps/", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/maps/login")
    client_only = httpx.get(f"{live_server}/maps/", headers=auth(keys["client"]), follow_redirects=False)
    assert client_only.status_code == 403 and "只能打开查询页面" in client_only.text  # a client opens /maps/lookup only
    asset = httpx.get(f"{live_server}/static/vendor/leaflet/leaflet.js")
    assert asset.status_code == 200 and "javascript" in asset.headers["content-type"]


def test_sign_in_then_map_then_sign_out(browser, live_server: str, keys, tmp_path: Path) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{live_server}/maps/")
        assert "/maps/login" in page.url
        page.fill("#key", "gm_wrong_key")
        page.click("button[type=submit]")
        assert "unknown or revoked" in page.inner_text("body")
        page.fill("#key", keys["viewer"])
        page.click("button[type=submit]")
        page.wait_for_function("() => typeof window.L === 'object'")
        assert page.url.rstrip("/").endswith("/maps")
        cookie = next(c for c in context.cookies() if c["name"] == SESSION_COOKIE)
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert keys["viewer"] not in cookie["value"]  # a server-side session token, never the key
        page.screenshot(path=str(tmp_path / "after-sign-in.png"))
        context.request.post(f"{live_server}/maps/logout")
        page.goto(f"{live_server}/maps/")
        assert "/maps/login" in page.url
        # the session ended on the server: the old token no longer opens anything
        stale = httpx.get(f"{live_server}/v1/grids", cookies={SESSION_COOKIE: cookie["value"]})
        assert stale.status_code == 401 and "sign in again" in stale.json()["error"]["message"]
    finally:
        context.close()
