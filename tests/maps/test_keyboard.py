"""The map pages from the keyboard (issue 15, item 6), in Debian's headless Chromium against the real app on the
town demo, at 1920×1080 and 390×844:

- Tab from the top reaches the header and the page's panels and controls, never a map shape (an SVG path, a
  marker, a label, a cluster icon); the map itself is one stop (Leaflet's arrows pan, +/- zoom); few stops in all;
- a focused control shows a clear outline;
- the editor's main steps with keys only: a grid in the table, a building of it, a move, undo.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from geo.config import Settings
from geo.keys import create_key
from geo.store.db import make_engine
from tests.conftest import auth, serve, sign_in_cookie

SIZES = {"desktop": {"width": 1920, "height": 1080}, "phone": {"width": 390, "height": 844}}
PAGES = ("/maps/", "/maps/command", "/maps/coverage", "/maps/lookup", "/maps/editor?plan={draft}", "/maps/tiles")
MAX_STOPS = 60  # every control of the busiest page, and a few more

_READY = "() => !!(window.gridmapEditor && window.gridmapEditor.ready)"
_IDLE = "() => { const s = window.gridmapEditor.state(); return !s.busy && !s.loading; }"

# what has the focus: header, map (the container), control (Leaflet's corners, MapLibre's), panel (a gm-panel
# outside the corners), shape (anything in Leaflet's panes: paths, markers, labels, clusters) or other
_FOCUSED = """() => {
    const e = document.activeElement;
    if (!e || e === document.body || e === document.documentElement) return {kind: 'body', seen: null};
    const cls = typeof e.className === 'string' ? e.className : (e.className && e.className.baseVal) || '';
    let kind = 'other';
    if (e.closest('header.gm-nav')) kind = 'header';
    else if (e.classList.contains('leaflet-container') || e.classList.contains('maplibregl-canvas')) kind = 'map';
    else if (e.closest('.leaflet-pane')) kind = 'shape';
    else if (e.closest('.leaflet-control, .maplibregl-ctrl')) kind = 'control';
    else if (e.closest('.gm-panel')) kind = 'panel';
    const seen = e.hasAttribute('data-gm-tab') ? Number(e.getAttribute('data-gm-tab')) : null;
    if (seen === null) e.setAttribute('data-gm-tab', String(window.__gmTabs = (window.__gmTabs || 0) + 1));
    return {kind, seen, tag: e.tagName, cls: cls.slice(0, 60), text: (e.textContent || '').trim().slice(0, 30)};
}"""


@pytest.fixture(scope="module")
def env(module_db: str, tmp_path_factory):  # type: ignore[no-untyped-def]
    engine = make_engine(module_db)
    keys = {"planner": create_key(engine, role="planner", name="keyboard planner")[1]}
    settings = Settings(database_url=module_db, var_dir=tmp_path_factory.mktemp("var"), basemap="none")
    for base in serve(settings):
        draft = httpx.post(f"{base}/v1/plans", headers=auth(keys["planner"]), json={"name": "键盘 keyboard"}, timeout=60)
        assert draft.status_code == 201, draft.text
        yield {"base": base, "keys": keys, "draft": draft.json()["id"]}
    engine.dispose()


def _open(browser, env, path: str, size: str):
    context = browser.new_context(viewport=SIZES[size])
    context.add_cookies(sign_in_cookie(env["base"], env["keys"]["planner"]))
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(env["base"] + path, wait_until="load")
    if path.startswith("/maps/tiles"):
        page.wait_for_function("() => !!document.querySelector('.maplibregl-canvas')", timeout=60_000)
    else:
        page.wait_for_function("() => document.querySelectorAll('.leaflet-pane svg path').length > 0",
                               timeout=60_000)
    if path.startswith("/maps/editor"):
        page.wait_for_function(_READY, timeout=60_000)
        page.wait_for_function(_IDLE, timeout=60_000)
    page.wait_for_load_state("networkidle", timeout=60_000)
    page.wait_for_timeout(300)
    return context, page, errors


def _tab_walk(page, limit: int) -> list[dict]:
    """Tab from the top until the focus comes back to an element it had (or *limit* stops): what was focused,
    one entry per element (a month input's fields are one element, several presses)."""
    page.evaluate("() => { document.activeElement && document.activeElement.blur && document.activeElement.blur();"
                  " window.scrollTo(0, 0); }")
    stops: list[dict] = []
    for _ in range(3 * limit):
        page.keyboard.press("Tab")
        got = page.evaluate(_FOCUSED)
        if got["seen"] is not None and got["seen"] == len(stops):
            continue  # the next field of the same input
        if got["kind"] == "body" or got["seen"] is not None or len(stops) >= limit:
            break
        stops.append(got)
    return stops


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_tab_walks_the_controls_never_the_shapes(browser, env, tmp_path: Path, size: str) -> None:
    for path in (p.format(draft=env["draft"]) for p in PAGES):
        context, page, errors = _open(browser, env, path, size)
        try:
            shapes = page.evaluate("() => document.querySelectorAll('.leaflet-pane path.leaflet-interactive,"
                                   " .leaflet-marker-icon').length")
            stops = _tab_walk(page, MAX_STOPS + 1)
            name = path.strip("/").replace("/", "-").replace("?", "-").replace("=", "") or "overview"
            page.screenshot(path=str(tmp_path / f"{name}-{size}-last-stop.png"))
            (tmp_path / f"{name}-{size}-stops.json").write_text(json.dumps(stops, ensure_ascii=False, indent=1))
            kinds = [s["kind"] for s in stops]
            bad = [s for s in stops if s["kind"] not in ("header", "map", "control", "panel")]
            assert not bad, (path, f"{len(bad)} of {len(stops)} stops are no control", bad[:5])
            assert len(stops) <= MAX_STOPS, (path, len(stops), stops[-5:])
            assert kinds[0] == "header", (path, stops[:3])  # the site's pages first
            assert kinds.count("map") == 1, (path, kinds)  # the map: one stop (arrows pan, +/- zoom)
            if not path.startswith("/maps/tiles"):
                assert shapes > 0, path  # there were shapes to skip
                assert kinds.count("control") + kinds.count("panel") >= 3, (path, kinds)
            assert errors == [], path
        finally:
            context.close()
