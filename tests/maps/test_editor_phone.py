"""/maps/editor on a phone (issue 15, item 7, and its leftover: the metrics table was squeezed into a ~20 px strip
at the right edge), in Debian's headless Chromium against the real app at 390×844 and 1920×1080:

- the metrics table is a sheet at the bottom of the window, folded at first behind its 网格指标 Grid metrics
  button (its summary), at least 300×150 px when shown, its rows readable and clickable;
- the side panel sits beside the zoom buttons, at most about half the window tall;
- a row picked in split mode folds the sheet, and the grid shows in the part of the map that no panel covers;
- on a desktop the table is open beside the map as before.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import sign_in_cookie
from tests.maps.test_editor_page import (  # noqa: F401 - env is the module's fixture
    _IDLE, _READY, _draft, _state, env)

SIZES = {"desktop": {"width": 1920, "height": 1080}, "phone": {"width": 390, "height": 844}}
_RECT = """sel => { const el = document.querySelector(sel); if (!el) return null; const r = el.getBoundingClientRect();
                    return r.width > 0 && r.height > 0 ? {left: r.left, top: r.top, right: r.right, bottom: r.bottom,
                    width: r.width, height: r.height} : null; }"""
_GRID_RECT = """code => {
    let r = null; window.gridmapEditor.layers.grids.eachLayer(g => {
        if (g.feature.properties.code === code) { const b = g.getElement().getBoundingClientRect();
            r = {left: b.left, top: b.top, right: b.right, bottom: b.bottom, width: b.width, height: b.height}; } });
    return r; }"""


def _apart(a: dict, b: dict) -> bool:
    return a["right"] <= b["left"] or b["right"] <= a["left"] or a["bottom"] <= b["top"] or b["bottom"] <= a["top"]


def _open(browser, env: dict[str, Any], plan_id: int, size: str):
    context = browser.new_context(viewport=SIZES[size], device_scale_factor=1, has_touch=size == "phone")
    context.add_cookies(sign_in_cookie(env["base"], env["keys"]["planner"]))
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{env['base']}/maps/editor?plan={plan_id}", wait_until="load")
    page.wait_for_function(_READY, timeout=60_000)
    page.wait_for_function(_IDLE, timeout=60_000)
    page.wait_for_timeout(200)
    return context, page, errors


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_metrics_table_is_readable_and_clear_of_the_picked_grid(browser, env, tmp_path: Path, size: str) -> None:
    plan = _draft(env, f"手机表格 phone table {size}")
    context, page, errors = _open(browser, env, plan["id"], size)
    view = SIZES[size]
    try:
        opened = lambda: page.evaluate("document.getElementById('gm-ed-metrics-box').open")  # noqa: E731
        summary = page.locator("#gm-ed-metrics-box > summary")
        if size == "phone":
            page.screenshot(path=str(tmp_path / f"editor-start-{size}.png"))
            assert not opened(), "the sheet should start folded on a phone"
            folded = page.evaluate(_RECT, ".gm-ed-metrics-panel")
            assert folded and folded["width"] >= 300 and folded["height"] <= 60, folded
            assert folded["bottom"] <= view["height"] and folded["left"] >= 0 and folded["right"] <= view["width"]
            panel = page.evaluate(_RECT, ".gm-ed-panel")
            assert panel["bottom"] <= view["height"] * 0.55, panel  # half the window is left to the map
            assert _apart(panel, page.evaluate(_RECT, ".leaflet-control-zoom"))
            summary.click()
            assert opened()
        else:
            assert opened()
        table = page.evaluate(_RECT, ".gm-ed-metrics-scroll")
        assert table and table["width"] >= 300 and table["height"] >= 150, table
        assert table["left"] >= 0 and table["right"] <= view["width"] and table["bottom"] <= view["height"], table
        # the rows are readable: each column's head fits the table's width (no 20 px strip)
        heads = page.evaluate("() => [...document.querySelectorAll('#gm-ed-metrics thead th')].map(th => "
                              "th.getBoundingClientRect().width)")
        assert len(heads) == 9 and min(heads) >= 20, heads
        page.screenshot(path=str(tmp_path / f"editor-table-{size}.png"))
        # split mode: a row click picks the grid (the tap reaches the row, nothing over it)
        page.locator("button[data-mode=split]").click()
        rows = page.locator("#gm-ed-metrics tbody tr")
        assert rows.count() > 5
        row = rows.nth(3)
        code = row.get_attribute("data-code")
        row.scroll_into_view_if_needed()
        box = row.bounding_box()
        hit = page.evaluate("([x, y]) => { const e = document.elementFromPoint(x, y); const tr = e && e.closest('tr');"
                            " return tr ? tr.getAttribute('data-code') : null; }",
                            [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2])
        assert hit == code
        row.click()
        page.wait_for_function("c => window.gridmapEditor.state().selected === c", arg=code, timeout=10_000)
        page.wait_for_timeout(300)
        grid = page.evaluate(_GRID_RECT, code)
        map_box = page.evaluate(_RECT, ".leaflet-container")
        panel = page.evaluate(_RECT, ".gm-ed-panel")
        sheet = page.evaluate(_RECT, ".gm-ed-metrics-panel")
        if size == "phone":
            assert not opened(), "a picked row folds the sheet, so the grid shows"
            assert sheet["height"] <= 60
        page.screenshot(path=str(tmp_path / f"editor-picked-{size}.png"))
        assert grid and grid["width"] > 20 and grid["height"] > 20, grid
        assert grid["left"] >= map_box["left"] and grid["right"] <= map_box["right"]
        assert grid["top"] >= map_box["top"] and grid["bottom"] <= map_box["bottom"], (grid, map_box)
        assert _apart(grid, panel), (grid, panel)
        assert _apart(grid, sheet), (grid, sheet)
        # the split's next step, "Draw the line", is in view in the panel (it scrolls on a phone)
        draw = page.evaluate(_RECT, "#gm-ed-split-draw")
        assert draw and draw["top"] >= panel["top"] and draw["bottom"] <= panel["bottom"], (draw, panel)
        if size == "phone":  # shown again, the sheet still works
            summary.click()
            assert opened() and page.evaluate(_RECT, ".gm-ed-metrics-scroll")["height"] >= 150
        assert errors == []
    finally:
        context.close()
