"""The command-centre screens (issue 15, item 5) at 1920×1080 in Debian's headless Chromium against the real
app: WCAG AA contrast of every text in the panels, legends, layer control and map labels of /maps/command,
/maps/coverage, /maps/ and /maps/lookup; panel text 14 px at least; the wall-screen mode (``?screen=wall``) scaling it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import sign_in_cookie
from tests.maps.contrast import text_contrast, under_aa
from tests.maps.test_coverage_page import coverage_computed  # noqa: F401 - the stored coverage the page shows

DESKTOP = {"width": 1920, "height": 1080}
_SETTLED = """() => { const c = document.querySelector('.leaflet-container');
                      return !!c && !c.classList.contains('leaflet-zoom-anim'); }"""
#: each page, what says it has loaded, and its panels (text 14 px at least)
PAGES = {
    "/maps/command": ("() => document.getElementById('gm-cmd-status').dataset.state !== 'loading'",
                      [".gm-cmd-panel", ".gm-cmd-legend"]),
    "/maps/coverage": ("() => !!(window.gridmapCoverage && window.gridmapCoverage.ready)",
                       [".gm-cov-panel", ".gm-cov-legend"]),
    "/maps/": ("() => true", []),
    # hotline staff's page: the grid numbers on the map were drawn at 55 % opacity (~3.3:1)
    "/maps/lookup": ("() => document.querySelectorAll('.gm-lookup-label span').length > 0", []),
}
#: text on these is measured: panels, legends, the layer control, labels drawn on the map
TEXT = [".gm-panel", ".leaflet-control-layers", ".leaflet-control-scale", ".leaflet-map-pane"]


@pytest.fixture
def desktop(browser, live_server: str, keys):
    contexts = []

    def opener(path: str):
        context = browser.new_context(viewport=DESKTOP, device_scale_factor=1)
        contexts.append(context)
        context.add_cookies(sign_in_cookie(live_server, keys["viewer"]))
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(live_server + path, wait_until="load")
        page.wait_for_function("() => document.querySelectorAll('.leaflet-pane svg path').length > 0",
                               timeout=60_000)
        page.wait_for_function(PAGES[path.split("?")[0]][0], timeout=90_000)
        page.wait_for_function(_SETTLED)
        page.wait_for_timeout(400)
        return page, errors

    yield opener
    for context in contexts:
        context.close()


@pytest.mark.parametrize("path", list(PAGES))
def test_text_meets_wcag_aa_and_panel_text_is_14px(desktop, tmp_path: Path, path: str) -> None:
    page, errors = desktop(path)
    page.screenshot(path=str(tmp_path / "screen.png"))
    rows = text_contrast(page, TEXT)
    assert len(rows) > 20, rows
    failing = sorted({(r["cls"] or r["tag"], r["ratio"], r["size"]) for r in under_aa(rows)})
    panel_rows = text_contrast(page, PAGES[path][1]) if PAGES[path][1] else []
    small = sorted({(r["cls"] or r["tag"], r["size"]) for r in panel_rows if r["size"] < 14 and not r["decorative"]})
    assert failing == [] and small == [], (failing, small)
    assert errors == []


def _panel_font(page, selector: str) -> float:
    return page.eval_on_selector(selector, "el => parseFloat(getComputedStyle(el).fontSize)")


@pytest.mark.parametrize("path, panel", [("/maps/command", "#gm-cmd-status"), ("/maps/coverage", "#gm-cov-status")])
def test_wall_screen_mode_scales_the_panels(desktop, tmp_path: Path, path: str, panel: str) -> None:
    page, errors = desktop(path)
    normal = _panel_font(page, panel)
    title = _panel_font(page, ".gm-panel h1")
    wall, _ = desktop(path + "?screen=wall")
    wall.screenshot(path=str(tmp_path / "wall.png"))
    assert _panel_font(wall, panel) >= 1.4 * normal and _panel_font(wall, ".gm-panel h1") >= 1.4 * title
    # the page's own toggle: on, the panel grows; off, back to normal
    page.click(".gm-wall-toggle")
    assert _panel_font(page, panel) >= 1.4 * normal
    assert page.evaluate("new URL(location.href).searchParams.get('screen')") == "wall"
    page.click(".gm-wall-toggle")
    assert _panel_font(page, panel) == normal
    assert errors == []


def test_coverage_opens_with_a_readable_set_of_layers_and_apart_labels(desktop, tmp_path: Path) -> None:
    from maps.coverage import LAYER_NAMES

    page, errors = desktop("/maps/coverage")
    page.screenshot(path=str(tmp_path / "coverage-default.png"))
    on = dict(page.eval_on_selector_all(
        ".leaflet-control-layers-overlays label",
        "els => els.map(l => [l.textContent.trim(), l.querySelector('input').checked])"))
    off = {LAYER_NAMES["views"], LAYER_NAMES["gaps"]}
    assert on == {name: name not in off for name in LAYER_NAMES.values()}, on
    paths = "pane => document.querySelectorAll('.leaflet-' + pane + '-pane path').length"
    assert page.evaluate(paths, "gm-cov-views") == 0 and page.evaluate(paths, "gm-cov-gaps") == 0
    assert page.locator(".gm-cov-diamond").count() > 0 and page.locator(".leaflet-map-pane .gm-cov-grid-label").count() == 50
    # the key places' names shown at this zoom do not overlap each other
    names = page.eval_on_selector_all(".gm-cov-key-name", """els => els.map(e => e.getBoundingClientRect())
        .filter(r => r.width > 0).map(r => [r.left, r.top, r.right, r.bottom])""")
    assert len(names) >= 5, names
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
    # staff turn the views on in the layer control
    page.locator(".leaflet-control-layers-overlays label", has_text=LAYER_NAMES["views"]).locator("input").check()
    assert page.evaluate(paths, "gm-cov-views") > 500
    assert errors == []


_SUGGESTED = "() => { const s = window.gridmapCoverage.state(); return !s.suggesting && s.suggestRequest !== null; }"


def test_suggested_sites_say_where_they_are(desktop, live_server: str, keys, tmp_path: Path) -> None:
    import httpx

    from tests.conftest import auth

    cov = httpx.get(f"{live_server}/v1/coverage", headers=auth(keys["viewer"]), timeout=60).json()
    worst = min(cov["grids"], key=lambda g: g["ratio"])["code"]
    expected = httpx.post(f"{live_server}/v1/coverage/suggest", json={"k": 2, "grid": worst},
                          headers=auth(keys["viewer"]), timeout=120).json()["features"]
    page, errors = desktop("/maps/coverage")
    page.fill("#gm-cov-k", "2")
    page.select_option("#gm-cov-grid", worst)
    page.locator("#gm-cov-suggest").click()
    page.wait_for_function(_SUGGESTED, timeout=120_000)
    page.wait_for_timeout(300)
    page.screenshot(path=str(tmp_path / "suggested.png"))
    items = page.locator(".gm-cov-sugg-item").all_inner_texts()
    assert len(items) == len(expected) == 2
    for text, f in zip(items, expected):
        lon, lat = f["geometry"]["coordinates"]
        building = f["properties"]["building"]
        assert f"{lon:.6f}, {lat:.6f}" in text, text  # the coordinates
        assert building["code"] in text and building["name"] in text, (text, building)  # the building
    # a marker at each site: the marker's anchor on screen is the site's point
    at = page.evaluate("""() => { const m = window.gridmapCoverage.map, out = [];
        window.gridmapCoverage.layers.suggestions.eachLayer(l => { if (l instanceof L.Marker) {
            const ll = l.getLatLng(), p = m.latLngToContainerPoint(ll), r = l.getElement().getBoundingClientRect(),
                  c = m.getContainer().getBoundingClientRect();
            out.push([ll.lng, ll.lat, r.left + r.width / 2 - c.left - p.x, r.top + r.height / 2 - c.top - p.y]); } });
        return out; }""")
    assert len(at) == 2
    for (lon, lat, dx, dy), f in zip(at, expected):
        assert (lon, lat) == pytest.approx(tuple(f["geometry"]["coordinates"]), abs=1e-9)
        assert abs(dx) <= 1 and abs(dy) <= 1
    # the marker's popup says it too
    page.locator(".gm-cov-sugg-item").first.click()
    popup = page.locator(".leaflet-popup-content").inner_text()
    assert "最近楼栋 Nearest building" in popup and expected[0]["properties"]["building"]["code"] in popup
    assert errors == []
