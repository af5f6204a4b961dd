"""Editor guidance for a balanced change (issue 15, item 2), in Debian's headless Chromium against the real app:

- paint mode with no target: a click on a building colours the grids it can move to (green: both grids stay
  in band and whole; grey, with the reason in the tooltip and the hints box);
- swap mode: building A, the page's hints (buildings B outlined, the best swaps as buttons), confirm: one edit;
- "Done when": guided only by what the page shows, one balanced valid change in at most 2 edits.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import sign_in_cookie
from tests.maps.test_editor_page import (  # noqa: F401 - env is the module's fixture
    _IDLE, _READY, _VERSION, _call, _draft, _ok, _pixel, _point_in, _state, env)

SIZES = {"desktop": {"width": 1920, "height": 1080}, "phone": {"width": 390, "height": 844}}
OK_FILL, NO_FILL = "#2e9e44", "#a3a3a3"


def _open(browser, env: dict[str, Any], plan_id: int, *, size: str):
    context = browser.new_context(viewport=SIZES[size])
    context.add_cookies(sign_in_cookie(env["base"], env["keys"]["planner"]))
    page = context.new_page()
    seen: dict[str, list[str]] = {"errors": [], "writes": []}
    page.on("pageerror", lambda exc: seen["errors"].append(str(exc)))
    page.on("request", lambda r: seen["writes"].append(f"{r.method} {r.url}") if r.method != "GET" else None)
    page.goto(f"{env['base']}/maps/editor?plan={plan_id}", wait_until="load")
    page.wait_for_function(_READY, timeout=60_000)
    page.wait_for_function(_IDLE, timeout=60_000)
    return context, page, seen


def _click_building(page, env: dict[str, Any], plan_id: int, building: str) -> None:
    """Centre the map on the building (zoom 18) and click it with the mouse, where the panels leave it free."""
    lon, lat = _point_in(env, plan_id, building)
    page.evaluate("([lat, lon]) => window.gridmapEditor.map.setView([lat, lon], 18, {animate: false})", [lat, lon])
    page.wait_for_timeout(250)
    x, y = _pixel(page, lon, lat)
    hit = page.evaluate("([x, y]) => { const e = document.elementFromPoint(x, y); return !!(e && e.tagName === 'path' "
                        "&& !e.closest('.leaflet-control')); }", [x, y])
    if not hit:  # a panel covers the map's centre (the phone): pan the building into the free part
        free = page.evaluate("""() => {
            const r = window.gridmapEditor.map.getContainer().getBoundingClientRect();
            for (let y = r.bottom - 40; y > r.top + 40; y -= 30)
              for (let x = r.left + 40; x < r.right - 40; x += 30) {
                const e = document.elementFromPoint(x, y);
                if (e && e.tagName === 'path' && !e.closest('.leaflet-control')) return [x - r.left, y - r.top];
              }
            return null; }""")
        assert free, "no free part of the map to click"
        page.evaluate("([lat, lon, fx, fy]) => { const m = window.gridmapEditor.map; const c = m.getSize();"
                      " m.panBy([c.x / 2 - fx, c.y / 2 - fy], {animate: false}); }", [lat, lon, *free])
        page.wait_for_timeout(250)
        x, y = _pixel(page, lon, lat)
    page.mouse.click(x, y)


def _grid_fills(page) -> dict[str, str]:
    return page.evaluate("""() => { const out = {};
        window.gridmapEditor.layers.grids.eachLayer(l => { out[l.feature.properties.code] = l.options.fillColor; });
        return out; }""")


def _save(page, tmp_path: Path, name: str) -> None:
    page.screenshot(path=str(tmp_path / name))


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_a_building_click_colours_the_grids_it_can_move_to(browser, env, tmp_path: Path, size: str) -> None:
    plan = _draft(env, f"候选 candidates {size}")
    pid = plan["id"]
    buildings = {f["properties"]["code"]: f["properties"] for f in
                 _ok(_call(env, "GET", "/v1/buildings", who="viewer", params={"plan": pid}))["features"]}
    building = sorted(buildings)[0]
    expected = _ok(_call(env, "GET", f"/v1/plans/{pid}/move-candidates", who="viewer",
                         params={"buildings": building}))["candidates"]
    context, page, seen = _open(browser, env, pid, size=size)
    try:
        assert _state(page)["mode"] == "paint" and _state(page)["target"] is None
        assert all(fill not in (OK_FILL, NO_FILL) for fill in _grid_fills(page).values())
        _click_building(page, env, pid, building)
        page.wait_for_function("() => { const s = window.gridmapEditor.state(); return s.candidates && !s.busy; }",
                               timeout=30_000)
        state = _state(page)
        assert state["picked"] == [building] and state["version"] == plan["version"]  # nothing was written
        assert {c: v["ok"] for c, v in state["candidates"].items()} == {c["grid"]: c["ok"] for c in expected}
        fills = _grid_fills(page)
        for c in expected:
            assert fills[c["grid"]] == (OK_FILL if c["ok"] else NO_FILL), c
        assert sum(f in (OK_FILL, NO_FILL) for f in fills.values()) == len(expected)
        # the hints box names each candidate and, for a grey one, why not
        box = page.locator("#gm-ed-hints")
        assert box.is_visible()
        text = box.inner_text()
        grey = next(c for c in expected if not c["ok"])
        assert "out of band" in text or "would split" in text
        # the reason in Chinese beside the English, from the catalogue (not only the kind's label)
        assert ("将有" in text or "分成" in text) and " — " in text, text
        assert page.locator("#gm-ed-hints li").count() == len(expected)
        # the grey grid's tooltip says why (hover on the grid's own land)
        layer_tip = page.evaluate("""code => { let t = null; window.gridmapEditor.layers.grids.eachLayer(l => {
            if (l.feature.properties.code === code) { l.openTooltip(l.getCenter()); const el = l.getTooltip().getElement();
              t = el ? el.textContent : null; } }); return t; }""", grey["grid"])
        assert layer_tip and "Move here" in layer_tip and grey["reasons"][0]["detail"].split(" grid ")[0] in layer_tip
        _save(page, tmp_path, f"candidates-{size}.png")
        # Esc drops the pick and the colours
        page.keyboard.press("Escape")
        assert _state(page)["candidates"] is None and box.is_hidden()
        assert all(fill not in (OK_FILL, NO_FILL) for fill in _grid_fills(page).values())
        assert seen["errors"] == [] and seen["writes"] == []
    finally:
        context.close()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_guided_by_the_page_one_balanced_valid_change_in_at_most_two_edits(browser, env, tmp_path: Path,
                                                                             size: str) -> None:
    """Issue 15's "Done when": the page's swap hints lead to a change that keeps every grid in band and the
    plan valid, in at most 2 edits; the test takes the first highlighted candidate the page offers."""
    plan = _draft(env, f"交换 swap {size}")
    pid, v = plan["id"], plan["version"]
    codes = sorted(f["properties"]["code"] for f in
                   _ok(_call(env, "GET", "/v1/buildings", who="viewer", params={"plan": pid}))["features"])
    context, page, seen = _open(browser, env, pid, size=size)
    try:
        page.locator("button[data-mode=swap]").click()
        assert _state(page)["mode"] == "swap"
        # building A: the first, in code order, for which the page says a good swap exists
        a = None
        for code in codes:
            _click_building(page, env, pid, code)
            page.wait_for_function("() => { const s = window.gridmapEditor.state(); return s.swapHints && !s.busy; }",
                                   timeout=30_000)
            state = _state(page)
            assert state["swapA"] == code
            if any(h["ok"] for h in state["swapHints"]):
                a = code
                break
            page.keyboard.press("Escape")
        assert a is not None, "the page offered no good swap for any building"
        hints = page.locator("#gm-ed-hints li.gm-ed-hint-ok button")
        assert hints.count() >= 1
        # buildings B outlined green on the map (the first hint's among them)
        first = _state(page)["swapHints"][0]
        assert first["ok"]
        outline = page.evaluate("""code => { let c = null; window.gridmapEditor.layers.buildings.eachLayer(l => {
            if (l.feature.properties.code === code) c = [l.options.color, l.options.weight]; }); return c; }""",
                                first["building"])
        assert outline == ["#14532d", 4]
        _save(page, tmp_path, f"swap-hints-{size}.png")
        hints.first.click()  # the first highlighted candidate
        confirm = page.locator("#gm-ed-swap-confirm")
        confirm.wait_for(state="visible", timeout=5_000)
        assert "Swap" in page.locator("#gm-ed-hints").inner_text()
        _save(page, tmp_path, f"swap-confirm-{size}.png")
        confirm.click()
        page.wait_for_function(_VERSION, arg=v + 1, timeout=30_000)
        state = _state(page)
        assert state["message"]["state"] == "ok", state["message"]
        assert state["buildings"][a] == first["grid"]
        assert state["valid"] is True and state["problems"] == [], state["problems"]
        validation = _ok(_call(env, "GET", f"/v1/plans/{pid}/validation", who="viewer"))
        assert validation["valid"] and validation["problems"] == []
        edits = _ok(_call(env, "GET", f"/v1/plans/{pid}/edits", who="viewer"))["edits"]
        assert len(edits) <= 2 and [e["op"] for e in edits] == ["swap"]
        assert [w for w in seen["writes"] if "/v1/plans/" in w] == [f"POST {env['base']}/v1/plans/{pid}/swap"]
        _save(page, tmp_path, f"swap-done-{size}.png")
        assert seen["errors"] == []
    finally:
        context.close()
