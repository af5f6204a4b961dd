"""The map pages from the keyboard (issue 15, item 6), in Debian's headless Chromium against the real app on the
town demo, at 1920×1080 and 390×844:

- Tab from the top reaches the header and the page's panels and controls, never a map shape (an SVG path, a
  marker, a label, a cluster icon); the map itself is one stop (Leaflet's arrows pan, +/- zoom); few stops in all;
- a focused control shows a clear outline (2 px or more, 3:1 against what is behind it);
- the editor's main steps with keys only: a grid in the table, a building of it, a move, undo.
"""

from __future__ import annotations

import json
import re
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
    // the outline: of the element, or of the label that shows a hidden checkbox (a fold or menu toggle)
    const shown = e.tagName === 'INPUT' && getComputedStyle(e).opacity === '0' && e.nextElementSibling
        ? e.nextElementSibling : e;
    const o = getComputedStyle(shown);
    const header = e.closest('header.gm-nav');
    return {kind, seen, tag: e.tagName, cls: cls.slice(0, 60), text: (e.textContent || '').trim().slice(0, 30),
            outline: [o.outlineStyle, parseFloat(o.outlineWidth) || 0, o.outlineColor],
            behind: header ? getComputedStyle(header).backgroundColor : 'rgb(255, 255, 255)'};
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


def _rgb(css: str) -> tuple[float, float, float]:
    parts = [float(v) for v in re.findall(r"[\d.]+", css)[:3]]
    return (parts[0], parts[1], parts[2]) if len(parts) == 3 else (0.0, 0.0, 0.0)


def _contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two CSS rgb() colours."""
    def lum(c: tuple[float, float, float]) -> float:
        ch = [v / 255 for v in c]
        ch = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in ch]
        return 0.2126 * ch[0] + 0.7152 * ch[1] + 0.0722 * ch[2]
    la, lb = sorted((lum(_rgb(a)), lum(_rgb(b))), reverse=True)
    return (la + 0.05) / (lb + 0.05)


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
            dim = [s for s in stops if s["outline"][0] in ("none", "hidden") or s["outline"][1] < 2
                   or _contrast(s["outline"][2], s["behind"]) < 3]
            assert not dim, (path, "no clear focus outline (3:1, 2 px or more)", dim[:5])
            assert kinds[0] == "header", (path, stops[:3])  # the site's pages first
            assert kinds.count("map") == 1, (path, kinds)  # the map: one stop (arrows pan, +/- zoom)
            if not path.startswith("/maps/tiles"):
                assert shapes > 0, path  # there were shapes to skip
                assert kinds.count("control") + kinds.count("panel") >= 3, (path, kinds)
                _map_keys_pan_and_zoom(page, path)
            assert errors == [], path
        finally:
            context.close()


_VIEW = """() => { const m = Object.values(window).find(v => v instanceof L.Map);
    const c = m.getCenter(); return [m.getZoom(), c.lat, c.lng]; }"""


def _map_keys_pan_and_zoom(page, path: str) -> None:
    """Tab to the map (its one stop): = zooms in, an arrow pans (Leaflet's keyboard handler)."""
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); }")
    _tab_to(page, ".leaflet-container")
    zoom, lat, lon = page.evaluate(_VIEW)
    page.keyboard.press("Equal")
    page.wait_for_function(f"() => ({_VIEW})()[0] > {zoom}", timeout=10_000)
    zoom, lat, lon = page.evaluate(_VIEW)
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"() => ({_VIEW})()[2] > {lon}", timeout=10_000)
    assert page.evaluate(_VIEW)[0] == zoom, path


def _tab_to(page, selector: str, limit: int = MAX_STOPS) -> int:
    """Tab (forwards) until the focused element matches *selector*: how many presses it took."""
    for n in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate("sel => !!(document.activeElement && document.activeElement.matches(sel))", selector):
            return n
    raise AssertionError(f"{limit} Tab presses never reached {selector}: "
                         f"{page.evaluate(_FOCUSED)}")


def _active(page) -> dict:
    return page.evaluate("""() => { const e = document.activeElement;
        return {id: e.id, tag: e.tagName, code: e.getAttribute('data-code'), text: (e.textContent || '').trim(),
                inHints: !!e.closest('#gm-ed-hints'), grid: (e.closest('[data-grid]') || e).getAttribute('data-grid'),
                value: e.value === undefined ? null : e.value}; }""")


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_editor_from_the_keyboard_a_move_and_an_undo(browser, env, tmp_path: Path, size: str) -> None:
    """Keys only (no click): a grid in the table, a building of it, its "Move to" button, Ctrl+Z; the publish
    dialog opens from the keyboard and Esc closes it, nothing sent."""
    draft = httpx.post(f"{env['base']}/v1/plans", headers=auth(env["keys"]["planner"]),
                       json={"name": f"键盘移动 keyboard move {size}"}, timeout=60).json()
    context, page, errors = _open(browser, env, f"/maps/editor?plan={draft['id']}", size)
    writes: list[str] = []
    page.on("request", lambda r: writes.append(f"{r.method} {r.url}") if r.method != "GET" else None)
    try:
        state = page.evaluate("window.gridmapEditor.state()")
        v0 = state["version"]
        assert state["mode"] == "paint" and state["target"] is None
        rows = page.eval_on_selector_all("#gm-ed-metrics tbody tr", "rs => rs.map(r => r.getAttribute('data-code'))")
        assert len(rows) > 2
        if size == "phone":  # the table is a sheet folded at first: its summary opens it (Enter)
            _tab_to(page, "#gm-ed-metrics-box > summary")
            page.keyboard.press("Enter")
            assert page.evaluate("document.getElementById('gm-ed-metrics-box').open")
        # the table is one stop: Tab reaches its first row; arrows move between rows
        _tab_to(page, "#gm-ed-metrics tbody tr")
        assert _active(page)["code"] == rows[0]
        page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowDown")
        assert _active(page)["code"] == rows[2]
        page.keyboard.press("ArrowUp")
        grid = rows[1]
        assert _active(page)["code"] == grid
        page.keyboard.press("Enter")  # as a click: the paint target
        assert page.evaluate("window.gridmapEditor.state().target") == grid
        assert _active(page)["code"] == grid  # the focus stays on the row, redrawn
        # the building picker lists the grid's buildings
        page.keyboard.press("Tab")
        picker = _active(page)
        assert picker["id"] == "gm-ed-building", picker
        buildings = state["buildings"]
        listed = page.eval_on_selector_all("#gm-ed-building option", "os => os.map(o => o.value)")
        assert listed and sorted(listed) == sorted(b for b, g in buildings.items() if g == grid)
        building = picker["value"]
        page.keyboard.press("Tab")
        assert _active(page)["id"] == "gm-ed-building-pick"
        page.keyboard.press("Enter")
        page.wait_for_function("() => { const s = window.gridmapEditor.state(); return s.candidates && !s.busy; }",
                               timeout=30_000)
        assert page.evaluate("window.gridmapEditor.state().picked") == [building]
        move = _active(page)  # the focus is on the first "Move to" button (a green one when there is one)
        assert move["inHints"] and move["tag"] == "BUTTON" and "Move to" in move["text"], move
        target = move["grid"]
        assert target and target != grid
        page.screenshot(path=str(tmp_path / f"editor-keys-candidates-{size}.png"))
        assert writes == []
        page.keyboard.press("Enter")
        page.wait_for_function("v => { const s = window.gridmapEditor.state(); return !s.busy && !s.loading"
                               " && s.version > v; }", arg=v0, timeout=30_000)
        state = page.evaluate("window.gridmapEditor.state()")
        assert state["version"] == v0 + 1 and state["buildings"][building] == target
        assert _active(page)["id"] == "gm-ed-building-pick"  # the focus is back on the picker
        page.screenshot(path=str(tmp_path / f"editor-keys-moved-{size}.png"))
        page.keyboard.press("Control+z")
        page.wait_for_function("v => { const s = window.gridmapEditor.state(); return !s.busy && !s.loading"
                               " && s.version > v; }", arg=v0 + 1, timeout=30_000)
        state = page.evaluate("window.gridmapEditor.state()")
        assert state["version"] == v0 + 2 and state["buildings"][building] == grid
        assert [w.split(" ")[0] + " " + w.split("/v1/plans/")[1].split("/", 1)[1] for w in writes] == \
            ["POST assign", "POST undo"]
        # publish: the button, the dialog (its Cancel has the focus), Esc closes it, nothing sent
        _tab_to(page, "#gm-ed-publish")
        page.keyboard.press("Enter")
        page.wait_for_function("() => document.getElementById('gm-ed-publish-dialog').open", timeout=10_000)
        assert _active(page)["id"] == "gm-ed-publish-cancel"
        page.screenshot(path=str(tmp_path / f"editor-keys-publish-{size}.png"))
        page.keyboard.press("Escape")
        page.wait_for_function("() => !document.getElementById('gm-ed-publish-dialog').open", timeout=10_000)
        assert len(writes) == 2 and errors == []
    finally:
        context.close()
