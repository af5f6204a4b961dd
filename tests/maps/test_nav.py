"""One header on every page (issue 15, item 8), in Debian's headless Chromium against the real app, at
1920×1080 and 390×844: the pages the role may open, who is signed in, sign-out (a form POST), and the map
below the header, filling the rest of the window, so the header covers none of the map's controls."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from geo.config import Settings
from geo.keys import create_key
from geo.store.db import make_engine
from maps.nav import PAGES
from tests.conftest import serve, sign_in_cookie

SIZES = {"desktop": {"width": 1920, "height": 1080}, "phone": {"width": 390, "height": 844}}
MAP_PAGES = ("/maps/", "/maps/lookup", "/maps/command", "/maps/coverage", "/maps/editor?plan=1")
PLAIN_PAGES = ("/maps/editor", "/maps/tiles")


@pytest.fixture(scope="module")
def env(module_db: str, tmp_path_factory):  # type: ignore[no-untyped-def]
    engine = make_engine(module_db)
    keys = {"viewer": create_key(engine, role="viewer", name="值班员 Li <viewer>")[1],
            "planner": create_key(engine, role="planner", name="planner Wang")[1]}
    settings = Settings(database_url=module_db, var_dir=tmp_path_factory.mktemp("var"), basemap="none")
    for base in serve(settings):
        yield {"base": base, "keys": keys}
    engine.dispose()


def _header_and_map(page) -> dict:
    return page.evaluate("""() => {
        const box = el => { if (!el) return null; const r = el.getBoundingClientRect();
                            return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}; };
        const controls = [...document.querySelectorAll('.leaflet-control-container .leaflet-control')]
            .map(box).filter(b => b.bottom > b.top);
        return {headers: document.querySelectorAll('header.gm-nav').length,
                header: box(document.querySelector('header.gm-nav')),
                map: box(document.querySelector('.folium-map') || document.querySelector('#gm-tiles-map')),
                controls: controls, links: [...document.querySelectorAll('.gm-nav-links a')]
                    .map(a => [a.getAttribute('href'), a.getAttribute('aria-current')]),
                who: (document.querySelector('.gm-nav-who') || {}).innerText || '',
                scrollX: document.documentElement.scrollWidth, height: innerHeight};
    }""")


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_every_page_has_one_header_above_the_map(browser, env, tmp_path: Path, size: str) -> None:
    context = browser.new_context(viewport=SIZES[size])
    context.add_cookies(sign_in_cookie(env["base"], env["keys"]["viewer"]))
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        for path in (*MAP_PAGES, *PLAIN_PAGES):
            page.goto(env["base"] + path, wait_until="load")
            if path in MAP_PAGES:
                page.wait_for_function("() => document.querySelectorAll('.leaflet-pane svg path').length > 0",
                                       timeout=60_000)
            page.wait_for_timeout(400)
            got = _header_and_map(page)
            name = path.strip("/").replace("/", "-").replace("?", "-").replace("=", "") or "overview"
            page.screenshot(path=str(tmp_path / f"{name}-{size}.png"))
            assert got["headers"] == 1, path
            h = got["header"]
            assert h["top"] == 0 and h["bottom"] <= (60 if size == "desktop" else 48), (path, h)  # a phone: one row
            # who is signed in, escaped as text, and the viewer's pages, this one marked
            assert "值班员 Li <viewer>" in got["who"] and "viewer" in got["who"] and "Sign out" in got["who"], path
            assert [href for href, _ in got["links"]] == [p.path for p in PAGES], path
            current = [href for href, cur in got["links"] if cur == "page"]
            assert current == [path.split("?")[0] if path != "/maps/" else "/maps/"], (path, got["links"])
            if got["map"] is not None:  # the map starts under the header and fills the rest of the window
                assert got["map"]["top"] >= h["bottom"] - 0.5, (path, got)
                assert abs(got["map"]["bottom"] - got["height"]) <= 1, (path, got)
                assert all(c["top"] >= h["bottom"] - 0.5 for c in got["controls"]), (path, got["controls"])
            assert got["scrollX"] <= SIZES[size]["width"], (path, got["scrollX"])  # no sideways scrolling
        assert errors == []
    finally:
        context.close()


def test_sign_out_from_the_header_ends_the_session(browser, env, tmp_path: Path) -> None:
    context = browser.new_context(viewport=SIZES["phone"])
    context.add_cookies(sign_in_cookie(env["base"], env["keys"]["planner"]))
    try:
        page = context.new_page()
        page.goto(env["base"] + "/maps/lookup", wait_until="load")
        page.locator(".gm-nav-menu").click()  # a phone: who is signed in and sign-out are in the menu
        assert "planner Wang" in page.locator(".gm-nav-who").inner_text()
        page.locator(".gm-nav-logout button").click()
        page.wait_for_url("**/maps/login", timeout=30_000)
        page.screenshot(path=str(tmp_path / "signed-out.png"))
        assert page.locator("header.gm-nav").count() == 1 and page.locator(".gm-nav-who").count() == 0
        page.goto(env["base"] + "/maps/lookup", wait_until="load")
        assert "/maps/login" in page.url  # the session is over
    finally:
        context.close()
    assert httpx.get(env["base"] + "/favicon.ico").status_code == 200
