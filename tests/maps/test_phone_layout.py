"""The pages on a phone (issue 15, item 7: grid members on patrol), in Debian's headless Chromium against the
real app at 390×844: the lookup card a bottom sheet clear of the highlighted grid, tap-to-call phone numbers,
a 16 px search box; the overview's title clear of the layer control and its legend folded; the command
centre's panels apart and most of its map in view; a one-row header with a menu."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.conftest import auth, sign_in_cookie

PHONE = {"width": 390, "height": 844}

_READY = ("() => !!(window.gridmapLookup && window.gridmapLookup.ready) "
          "&& document.documentElement.dataset.gmViews !== 'loading'")
_ANSWERED = ("() => { const s = window.gridmapLookup.state(); "
             "return !!s && s !== 'loading' && document.documentElement.dataset.gmViews !== 'loading'; }")
_SETTLED = """() => { const c = document.querySelector('.leaflet-container');
                      return !!c && !c.classList.contains('leaflet-zoom-anim'); }"""
# rect of an element (null: none, or not shown)
_RECT = """el => { if (!el) return null; const r = el.getBoundingClientRect();
                   return r.width > 0 && r.height > 0 ? {left: r.left, top: r.top, right: r.right, bottom: r.bottom}
                                                      : null; }"""
# the highlighted grid's outline on screen (its SVG path), and the card's rect
_GRID_AND_CARD = f"""() => {{
    const rect = {_RECT};
    const code = window.gridmapLookup.highlighted();
    const layer = window.gridmapLookup.grids.getLayers().find(l => l.feature.properties.code === code);
    return {{grid: layer ? rect(layer.getElement()) : null, card: rect(document.getElementById('gm-lookup-card')),
             panel: rect(document.getElementById('gm-lookup')), height: innerHeight}};
}}"""
# every shown Leaflet control (zoom, panels, layer control, legend, scale, attribution)
_CONTROLS = f"""() => {{
    const rect = {_RECT};
    return [...document.querySelectorAll('.leaflet-control')].map(el => [el.className, rect(el)])
        .filter(([, r]) => r);
}}"""
# the share of the window where a tap reaches the map (no control, panel or header over it)
_MAP_SHARE = """() => {
    const map = document.querySelector('.leaflet-container');
    let on = 0, all = 0;
    for (let y = 5; y < innerHeight; y += 10) for (let x = 5; x < innerWidth; x += 10) {
        all += 1;
        const el = document.elementFromPoint(x, y);
        if (el && map.contains(el) && !el.closest('.leaflet-control')) on += 1;
    }
    return on / all;
}"""


def _apart(a: dict, b: dict) -> bool:
    return a["right"] <= b["left"] or b["right"] <= a["left"] or a["bottom"] <= b["top"] or b["bottom"] <= a["top"]


def _area(r: dict) -> float:
    return (r["right"] - r["left"]) * (r["bottom"] - r["top"])


@pytest.fixture
def phone(browser, live_server: str, keys):
    """``phone(path)`` -> the page at *path*, signed in as a viewer, 390×844, its map drawn."""
    contexts = []

    def opener(path: str):
        context = browser.new_context(viewport=PHONE, device_scale_factor=1, has_touch=True)
        contexts.append(context)
        context.add_cookies(sign_in_cookie(live_server, keys["viewer"]))
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(live_server + path, wait_until="load")
        page.wait_for_function("() => document.querySelectorAll('.leaflet-pane svg path').length > 0",
                               timeout=60_000)
        page.wait_for_function(_SETTLED)
        page.wait_for_timeout(300)
        return page, errors

    yield opener
    for context in contexts:
        context.close()


def _lookup_answer(page) -> None:
    page.wait_for_function(_ANSWERED, timeout=15_000)
    page.wait_for_function(_SETTLED, timeout=10_000)
    page.wait_for_timeout(300)


def test_lookup_card_is_a_sheet_that_leaves_the_grid_in_view(phone, live_server: str, keys, tmp_path: Path) -> None:
    page, errors = phone("/maps/lookup")
    page.wait_for_function(_READY, timeout=10_000)
    # the search box: 16 px at least, or iOS zooms the page when it is tapped
    assert float(page.eval_on_selector("#gm-lookup-q", "el => parseFloat(getComputedStyle(el).fontSize)")) >= 16

    q = "春安新区3号楼2单元"
    answer = httpx.get(f"{live_server}/v1/lookup/address", params={"q": q}, headers=auth(keys["viewer"]), timeout=30)
    assert answer.status_code == 200, answer.text
    grid = answer.json()["grid"]
    page.fill("#gm-lookup-q", q)
    page.press("#gm-lookup-q", "Enter")
    _lookup_answer(page)
    page.screenshot(path=str(tmp_path / "lookup-address-phone.png"))
    got = page.evaluate(_GRID_AND_CARD)
    assert page.evaluate("window.gridmapLookup.highlighted()") == grid["code"]
    assert got["grid"] and got["card"], got
    # a bottom sheet: at the window's foot, at most ~40 % of its height; the grid above it, below the search
    assert abs(got["card"]["bottom"] - got["height"]) <= 1 and got["card"]["bottom"] - got["card"]["top"] <= 0.41 * got["height"], got
    assert _apart(got["grid"], got["card"]), got
    assert _apart(got["grid"], got["panel"]), got

    # the grid member's phone: a tap-to-call link
    phone_no = (grid.get("grid_member") or {}).get("phone")
    assert phone_no, grid
    links = page.eval_on_selector_all("#gm-lookup-card a[href^='tel:']", "els => els.map(a => [a.textContent, a.getAttribute('href')])")
    assert links == [[phone_no, "tel:" + "".join(c for c in phone_no if c.isdigit() or c in "+-")]], links

    # the sheet folds to its first lines and opens again
    tall = got["card"]["bottom"] - got["card"]["top"]
    page.click("#gm-lookup-card .gm-card-fold")
    folded = page.evaluate(_GRID_AND_CARD)["card"]
    assert folded["bottom"] - folded["top"] <= 70 < tall, (folded, tall)
    page.screenshot(path=str(tmp_path / "lookup-folded-phone.png"))
    page.click("#gm-lookup-card .gm-card-fold")
    assert page.evaluate(_GRID_AND_CARD)["card"]["bottom"] - page.evaluate(_GRID_AND_CARD)["card"]["top"] == tall

    # the sheet folded, a tap low on the map: the grid there is highlighted, the sheet opens, the grid clear of it
    page.click("#gm-lookup-card .gm-card-fold")
    page.evaluate("document.getElementById('gm-lookup-card').removeAttribute('data-state')")
    x, y = page.evaluate("""() => {
        const map = window.gridmapLookup.map, g = window.gridmapLookup.grids.getLayers()[20];
        map.setView(g.getBounds().getCenter(), 17, {animate: false});
        map.panBy([0, -250], {animate: false});  // the grid low in the window, where the sheet comes up
        const p = map.latLngToContainerPoint(g.getBounds().getCenter());
        const r = map.getContainer().getBoundingClientRect();
        return [r.left + p.x, r.top + p.y];
    }""")
    page.mouse.click(x, y)
    _lookup_answer(page)
    page.screenshot(path=str(tmp_path / "lookup-tap-phone.png"))
    got = page.evaluate(_GRID_AND_CARD)
    assert page.evaluate("window.gridmapLookup.state()") == "grid" and got["grid"] and got["card"], got
    assert _apart(got["grid"], got["card"]) and _apart(got["grid"], got["panel"]), got
    assert errors == []


def test_overview_title_clears_the_layer_control_and_the_legend_folds(phone, tmp_path: Path) -> None:
    page, errors = phone("/maps/")
    page.screenshot(path=str(tmp_path / "overview-phone.png"))
    rect = lambda sel: page.eval_on_selector(sel, _RECT)  # noqa: E731
    title, layers, legend = rect(".gm-title"), rect(".leaflet-control-layers"), rect(".gm-legend")
    assert title and layers and legend
    assert _apart(title, layers), (title, layers)
    assert _area(legend) / (PHONE["width"] * PHONE["height"]) <= 0.15, legend  # folded to a button
    controls = page.evaluate(_CONTROLS)
    for i, (name_a, a) in enumerate(controls):
        for name_b, b in controls[i + 1:]:
            assert _apart(a, b), (name_a, a, name_b, b)
    assert _apart(title, legend)
    # a tap on the button opens the legend (its rows), another folds it again
    page.click(".gm-legend .gm-fold-button")
    assert page.locator(".gm-legend .gm-row").first.is_visible()
    page.screenshot(path=str(tmp_path / "overview-legend-phone.png"))
    page.click(".gm-legend .gm-fold-button")
    assert not page.locator(".gm-legend .gm-row").first.is_visible()
    assert errors == []


def test_command_panels_stay_apart_and_leave_the_map_in_view(phone, tmp_path: Path) -> None:
    page, errors = phone("/maps/command")
    page.wait_for_function("() => document.getElementById('gm-cmd-status').dataset.state !== 'loading'",
                           timeout=60_000)
    page.screenshot(path=str(tmp_path / "command-phone.png"))
    controls = page.evaluate(_CONTROLS)
    assert len(controls) >= 4, controls
    for i, (name_a, a) in enumerate(controls):
        for name_b, b in controls[i + 1:]:
            assert _apart(a, b), (name_a, a, name_b, b)
    share = page.evaluate(_MAP_SHARE)
    assert share >= 0.4, share
    # the filters open from their button, and the legend from its own
    page.click(".gm-cmd-panel .gm-fold-button")
    assert page.locator("#gm-cmd-from").is_visible() and page.locator("#gm-cmd-play").is_visible()
    page.screenshot(path=str(tmp_path / "command-filters-phone.png"))
    page.click(".gm-cmd-panel .gm-fold-button")
    page.click(".gm-cmd-legend .gm-fold-button")
    assert page.locator(".gm-cmd-legend .gm-row").first.is_visible()
    assert errors == []


@pytest.mark.parametrize("path", ["/maps/", "/maps/lookup", "/maps/command"])
def test_header_is_one_row_and_its_menu_opens_the_links(phone, tmp_path: Path, path: str) -> None:
    page, errors = phone(path)
    header = page.eval_on_selector("header.gm-nav", _RECT)
    assert header["top"] == 0 and header["bottom"] <= 48, header
    page.click(".gm-nav-menu")
    page.screenshot(path=str(tmp_path / "menu-phone.png"))
    links = page.locator(".gm-nav-links a")
    assert links.count() >= 6 and all(links.nth(i).is_visible() for i in range(links.count()))
    assert page.locator(".gm-nav-logout button").is_visible()
    page.click(".gm-nav-links a[href='/maps/coverage']")
    page.wait_for_url("**/maps/coverage", timeout=30_000)
    assert errors == []
