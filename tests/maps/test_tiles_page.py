"""/maps/tiles: MapLibre (vendored) draws the vector tiles in Debian's headless Chromium, offline.

WebGL in headless Chromium: the shared ``browser`` runs with ``--disable-gpu`` (Leaflet needs no GL);
this page gets a Chromium of its own on the same Playwright, with SwiftShader's software GL.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from maps.assets import assert_no_cdn
from tests.conftest import auth, sign_in_cookie
from tests.maps.browser import CHROMIUM, CHROMIUM_ARGS, VIEWPORT, _is_local

GL_ARGS = [a for a in CHROMIUM_ARGS if a != "--disable-gpu"] + [
    "--use-gl=angle", "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist"]


@pytest.fixture(scope="module")
def gl_browser(browser):  # type: ignore[no-untyped-def]
    chromium = browser.browser_type.launch(executable_path=str(CHROMIUM), headless=True, args=GL_ARGS)
    yield chromium
    chromium.close()


def test_the_tiles_page_is_plain_html_behind_the_sign_in(live_server: str, keys) -> None:  # type: ignore[no-untyped-def]
    r = httpx.get(f"{live_server}/maps/tiles", headers=auth(keys["viewer"]))
    assert r.status_code == 200
    assert_no_cdn(r.text)
    assert "/static/vendor/maplibre-gl/maplibre-gl-csp.js" in r.text and "<script>" not in r.text
    assert "worker-src" not in r.headers["content-security-policy"]  # the worker is a file of 'self'
    anonymous = httpx.get(f"{live_server}/maps/tiles", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/maps/login")


def test_maplibre_draws_grids_and_cameras_offline(gl_browser, live_server: str, keys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    context = gl_browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    context.add_cookies(sign_in_cookie(live_server, keys["viewer"]))
    outside: list[str] = []
    errors: list[str] = []
    failed: list[str] = []
    tiles: list[int] = []

    def route(r):  # type: ignore[no-untyped-def]
        if _is_local(r.request.url):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort("blockedbyclient")

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    def on_response(resp):  # type: ignore[no-untyped-def]
        if resp.status >= 400:
            failed.append(f"{resp.status} {resp.url}")
        if "/tiles/" in resp.url and resp.url.split("?")[0].endswith(".mvt"):
            tiles.append(resp.status)

    page.on("response", on_response)
    try:
        page.goto(f"{live_server}/maps/tiles", wait_until="load")
        if not page.evaluate("!!document.createElement('canvas').getContext('webgl2') || "
                             "!!document.createElement('canvas').getContext('webgl')"):
            pytest.skip("this headless Chromium offers no WebGL, even with SwiftShader")
        page.wait_for_function("() => window.gridmapTilesReady === true", timeout=30_000)
        shot = tmp_path / "tiles.png"
        page.screenshot(path=str(shot))
        shutil.copy(shot, "/tmp/gridmap-tiles-page.png")  # for a person to look at
        counts = page.evaluate("""() => {
            const m = window.gridmapTiles, n = (ids) => m.queryRenderedFeatures({layers: ids}).length;
            return {grids: n(['grids-fill']), cameras: n(['cameras-circle']), buildings: n(['buildings-fill']),
                    communities: n(['communities-line']), zoom: m.getZoom()};
        }""")
        assert counts["grids"] > 0 and counts["cameras"] > 0 and counts["buildings"] > 0, counts
        assert errors == [] and outside == [] and failed == []
        assert tiles and set(tiles) <= {200, 204}  # tiles came, with the session cookie
    finally:
        context.close()
