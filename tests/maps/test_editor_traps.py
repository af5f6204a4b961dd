"""The editor's traps (issue 15, item 3), in Debian's headless Chromium against the real app:

- merge: a table row picks the first grid and the map click the hint asks for does not drop it;
- split: picking the grid and drawing the line are two steps (the click that picks is never a vertex);
- publishing asks first (a <dialog> naming the plan and what publishing does; Esc and Cancel send nothing);
- a viewer's editor is read-only from the start (write buttons disabled, saying which role is needed);
- the edit log names the OGC API Part 4 operations "add" and "remove";
- the plans list deletes a draft after a confirmation, and says why a draft in use stays.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import shape

from geo import plan_edits
from geo.store.db import make_engine
from tests.conftest import sign_in_cookie
from tests.maps.split_lines import PAD, split_height
from tests.maps.test_editor_page import (  # noqa: F401 - env is the module's fixture
    _IDLE, _READY, _VERSION, _assign, _call, _draft, _free_point, _ok, _pixel, _state, _swap_candidates, env)

SIZES = {"desktop": {"width": 1920, "height": 1080}, "phone": {"width": 390, "height": 844}}


def _open(browser, env: dict[str, Any], plan_id: int, who: str, *, size: str = "desktop"):
    context = browser.new_context(viewport=SIZES[size])
    context.add_cookies(sign_in_cookie(env["base"], env["keys"][who]))
    page = context.new_page()
    seen: dict[str, list[str]] = {"errors": [], "requests": []}
    page.on("pageerror", lambda exc: seen["errors"].append(str(exc)))
    page.on("request", lambda r: seen["requests"].append(f"{r.method} {r.url}") if r.method != "GET" else None)
    page.goto(f"{env['base']}/maps/editor?plan={plan_id}", wait_until="load")
    page.wait_for_function(_READY, timeout=60_000)
    page.wait_for_function(_IDLE, timeout=60_000)
    return context, page, seen


def _grids(env: dict[str, Any], plan_id: int) -> dict[str, Any]:
    return {f["properties"]["code"]: shape(f["geometry"])
            for f in _ok(_call(env, "GET", f"/v1/plans/{plan_id}/grids", who="viewer"))["features"]}


def _footprints(env: dict[str, Any], plan_id: int) -> list[Any]:
    return [shape(f["geometry"]) for f in _ok(_call(env, "GET", "/v1/buildings", who="viewer",
                                                    params={"plan": plan_id}))["features"]]


def _centre_on(page, geom, zoom: int = 17) -> None:
    c = geom.centroid
    page.evaluate("([lat, lon, z]) => window.gridmapEditor.map.setView([lat, lon], z, {animate: false})",
                  [c.y, c.x, zoom])
    page.wait_for_timeout(250)


def test_merge_a_table_row_then_the_map_click_the_hint_asks_for(browser, env, tmp_path: Path) -> None:
    plan = _draft(env, "合并陷阱 merge trap")
    pid, v = plan["id"], plan["version"]
    _b, _c, a, n = _swap_candidates(env, pid)[0]
    grids, footprints = _grids(env, pid), _footprints(env, pid)
    context, page, seen = _open(browser, env, pid, "planner")
    try:
        page.locator("button[data-mode=merge]").click()
        page.locator(f'#gm-ed-metrics tr[data-code="{a}"]').click()  # the first grid from its row
        assert _state(page)["selected"] == a
        page.locator(".gm-ed-metrics-head b").click()  # fold the table: the map is free to click
        _centre_on(page, grids[a].union(grids[n]))
        # the hint says "pick a grid, then click a neighbour": a map click on the same grid keeps it picked
        page.mouse.click(*_pixel(page, *_free_point(grids[a], footprints)))
        state = _state(page)
        assert state["selected"] == a, state["message"]
        assert "now click a neighbour" in state["message"]["text"]
        assert page.locator("#gm-ed-split-cancel").is_visible()
        page.screenshot(path=str(tmp_path / "merge-picked.png"))
        # ... and the map click on the neighbour is the second grid: one merge
        page.mouse.click(*_pixel(page, *_free_point(grids[n], footprints)))
        page.wait_for_function(_VERSION, arg=v + 1, timeout=30_000)
        state = _state(page)
        kept, gone = sorted((a, n))
        assert state["message"]["state"] == "ok" and gone not in state["metrics"] and kept in state["metrics"]
        # Esc drops a picked grid
        page.mouse.click(*_pixel(page, *_free_point(grids[kept], footprints)))
        assert _state(page)["selected"] == kept
        page.keyboard.press("Escape")
        assert _state(page)["selected"] is None and page.locator("#gm-ed-split-actions").is_hidden()
        assert seen["errors"] == []
        assert [r for r in seen["requests"] if "/merge" in r] == [f"POST {env['base']}/v1/plans/{pid}/merge"]
    finally:
        context.close()


def test_split_picking_the_grid_and_drawing_the_line_are_two_steps(browser, env, tmp_path: Path) -> None:
    plan = _draft(env, "拆分陷阱 split trap")
    pid, v = plan["id"], plan["version"]
    _b, _c, a, _n = _swap_candidates(env, pid)[0]
    grids, footprints = _grids(env, pid), _footprints(env, pid)
    ga = grids[a]
    minx, _, maxx, _ = ga.bounds
    pad = PAD
    y = split_height(ga, footprints)
    context, page, seen = _open(browser, env, pid, "planner")
    try:
        page.locator(".gm-ed-metrics-head b").click()
        _centre_on(page, ga)
        page.locator("button[data-mode=split]").click()
        # the row picks the grid, and the map click a person then makes on it picks it again: no line yet
        page.locator(".gm-ed-metrics-head b").click()
        page.locator(f'#gm-ed-metrics tr[data-code="{a}"]').click()
        page.locator(".gm-ed-metrics-head b").click()
        _centre_on(page, ga)
        page.mouse.click(*_pixel(page, *_free_point(ga, footprints)))
        state = _state(page)
        assert state["selected"] == a and state["drawing"] is False, state
        assert "Draw the line" in state["message"]["text"]
        assert page.locator("#gm-ed-split-draw").is_visible()
        page.screenshot(path=str(tmp_path / "split-picked.png"))
        # the second step: the button; then the line's points, from outside to outside
        page.locator("#gm-ed-split-draw").click()
        page.wait_for_function("() => window.gridmapEditor.state().drawing", timeout=5_000)
        assert page.locator("#gm-ed-split-finish").is_visible() and page.locator("#gm-ed-split-draw").is_hidden()
        page.mouse.click(*_pixel(page, minx - pad, y))
        page.mouse.dblclick(*_pixel(page, maxx + pad, y))
        page.wait_for_function(_VERSION, arg=v + 1, timeout=30_000)
        state = _state(page)
        assert state["message"]["state"] == "ok", state["message"]
        assert len(state["metrics"]) == len(grids) + 1 and state["lastResult"]["status"] == 200
        assert seen["errors"] == []
    finally:
        context.close()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_publishing_asks_first_and_esc_or_cancel_send_nothing(browser, env, tmp_path: Path, size: str) -> None:
    plan = _draft(env, f"发布确认 confirm {size}")
    pid = plan["id"]
    context, page, seen = _open(browser, env, pid, "planner", size=size)
    try:
        dialog = page.locator("dialog#gm-ed-publish-dialog")
        assert dialog.is_hidden()
        page.locator("#gm-ed-publish").click()
        dialog.wait_for(state="visible", timeout=5_000)
        assert page.evaluate("document.querySelector('dialog#gm-ed-publish-dialog').matches(':modal')")
        text = dialog.inner_text()
        assert plan["name"] in text and f"#{pid}" in text
        assert "come into force" in text and "retired" in text and "no longer be edited" in text
        assert page.evaluate("document.activeElement.id") == "gm-ed-publish-cancel"  # the safe choice has focus
        box = dialog.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= SIZES[size]["width"]
        page.screenshot(path=str(tmp_path / f"publish-dialog-{size}.png"))
        page.keyboard.press("Escape")
        dialog.wait_for(state="hidden", timeout=5_000)
        page.locator("#gm-ed-publish").click()
        dialog.wait_for(state="visible", timeout=5_000)
        page.locator("#gm-ed-publish-cancel").click()
        dialog.wait_for(state="hidden", timeout=5_000)
        page.wait_for_timeout(300)
        assert [r for r in seen["requests"] if "/publish" in r] == []
        assert _ok(_call(env, "GET", f"/v1/plans/{pid}", who="viewer"))["status"] == "draft"
        assert _state(page)["message"]["state"] == "ok"
        assert seen["errors"] == []
    finally:
        context.close()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_a_viewers_editor_is_read_only_and_says_which_role_edits(browser, env, tmp_path: Path, size: str) -> None:
    plan = _draft(env, "只读 read-only")
    pid = plan["id"]
    _b, _c, a, _n = _swap_candidates(env, pid)[0]
    context, page, seen = _open(browser, env, pid, "viewer", size=size)
    try:
        state = _state(page)
        assert state["canEdit"] is False
        for sel in ("button[data-mode=paint]", "button[data-mode=merge]", "button[data-mode=split]",
                    "button[data-mode=boundary]", "#gm-ed-undo", "#gm-ed-redo", "#gm-ed-publish"):
            button = page.locator(sel)
            assert button.is_disabled(), sel
            assert "planner" in button.get_attribute("title") and "viewer" in button.get_attribute("title"), sel
        assert "planner" in page.locator("#gm-ed-readonly-note").inner_text()
        assert "read-only" in page.locator("#gm-ed-status").inner_text()
        assert "Read-only" in page.locator("#gm-ed-hint").inner_text()
        assert page.locator("#gm-ed-diff").is_enabled()  # looking is allowed
        page.screenshot(path=str(tmp_path / f"viewer-{size}.png"))
        # a table row and a building click write nothing: no request meets a 403
        if size == "desktop":
            page.locator(f'#gm-ed-metrics tr[data-code="{a}"]').click()
        page.wait_for_timeout(300)
        assert [r for r in seen["requests"] if "/v1/plans" in r] == [] and seen["errors"] == []
    finally:
        context.close()

    # a planner's page has them on
    context, page, _seen = _open(browser, env, pid, "planner", size=size)
    try:
        assert page.locator("#gm-ed-publish").is_enabled() and page.locator("#gm-ed-readonly-note").count() == 0
        assert page.locator("#gm-ed-publish").get_attribute("title") is None
    finally:
        context.close()


def test_the_edit_log_names_add_and_remove(browser, env, tmp_path: Path) -> None:
    plan = _draft(env, "增删网格 add and remove")
    pid = plan["id"]
    _b, _c, a, _n = _swap_candidates(env, pid)[0]
    geometry = _grids(env, pid)[a]
    engine = make_engine(env["settings"].database_url)
    try:
        removed = plan_edits.remove_grid(engine, plan_id=pid, version=plan["version"], code=a, actor="ogc tester")
        plan_edits.add_grid(engine, plan_id=pid, version=removed.version, geometry=geometry, code=a,
                            actor="ogc tester")
    finally:
        engine.dispose()
    context, page, seen = _open(browser, env, pid, "planner")
    try:
        page.locator(".gm-ed-edits-box summary").click()
        ops = page.locator("#gm-ed-edits .gm-ed-edit-op").all_inner_texts()
        assert ops[0].startswith("新增网格 add grid") and ops[1].startswith("删除网格 remove grid"), ops
        page.screenshot(path=str(tmp_path / "edit-log.png"))
        assert seen["errors"] == []
    finally:
        context.close()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_plans_list_deletes_a_draft_after_asking(browser, env, tmp_path: Path, size: str) -> None:
    lone = _draft(env, f"删掉我 delete me {size}")
    used = _draft(env, f"被复制 copied {size}")
    copy = _ok(_call(env, "POST", "/v1/plans", json={"name": "副本 copy", "source": used["id"]}))
    edited = _draft(env, f"别人在改 edited meanwhile {size}")
    context = browser.new_context(viewport=SIZES[size])
    context.add_cookies(sign_in_cookie(env["base"], env["keys"]["planner"]))
    try:
        page = context.new_page()
        errors: list[str] = []
        deletes: list[str] = []
        if_match: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))

        def seen(r) -> None:  # type: ignore[no-untyped-def]
            if r.method == "DELETE":
                deletes.append(f"{r.method} {r.url}")
                if_match.append(r.headers.get("if-match", ""))
        page.on("request", seen)
        page.goto(f"{env['base']}/maps/editor", wait_until="load")
        row = page.locator(f'tr[data-plan="{lone["id"]}"]')
        dialog = page.locator("dialog#gm-ed-delete-dialog")
        # published plans have no delete button; drafts do
        assert page.locator('tr[data-status="published"] button.gm-ed-delete').count() == 0
        row.locator("button.gm-ed-delete").click()
        dialog.wait_for(state="visible", timeout=5_000)
        assert lone["name"] in dialog.inner_text() and "cannot be undone" in dialog.inner_text()
        page.screenshot(path=str(tmp_path / f"delete-dialog-{size}.png"))
        page.keyboard.press("Escape")  # nothing happens
        dialog.wait_for(state="hidden", timeout=5_000)
        page.wait_for_timeout(200)
        assert row.count() == 1 and _call(env, "GET", f"/v1/plans/{lone['id']}", who="viewer").status_code == 200
        row.locator("button.gm-ed-delete").click()
        page.locator("#gm-ed-delete-confirm").click()
        row.wait_for(state="detached", timeout=30_000)
        assert f"#{lone['id']} deleted" in page.locator("#gm-ed-new-status").inner_text()
        assert _call(env, "GET", f"/v1/plans/{lone['id']}", who="viewer").status_code == 404
        # a draft another plan was copied from stays, and the page says why
        page.locator(f'tr[data-plan="{used["id"]}"] button.gm-ed-delete').click()
        page.locator("#gm-ed-delete-confirm").click()
        page.wait_for_function("() => document.getElementById('gm-ed-new-status').dataset.state === 'error'",
                               timeout=30_000)
        said = page.locator("#gm-ed-new-status").inner_text()
        assert "Not deleted" in said and f"#{copy['id']}" in said, said
        assert page.locator(f'tr[data-plan="{used["id"]}"]').count() == 1
        page.screenshot(path=str(tmp_path / f"delete-refused-{size}.png"))
        # a draft another planner edited after the list was loaded: the delete names the list's version
        # (If-Match), is refused saying who changed what (中文 — English), and the row shows the new version;
        # deleting again, after reading it, deletes that version
        b, _c, _a, n = _swap_candidates(env, edited["id"])[0]
        _assign(env, edited, b, n, who="planner2")
        stale_row = page.locator(f'tr[data-plan="{edited["id"]}"]')
        stale_row.locator("button.gm-ed-delete").click()
        page.locator("#gm-ed-delete-confirm").click()
        page.wait_for_function("(t) => document.getElementById('gm-ed-new-status').textContent.includes(t)",
                               arg="second planner", timeout=30_000)
        said = page.locator("#gm-ed-new-status").inner_text()
        assert "Not deleted" in said and "未删除" in said and "assign" in said and " — " in said, said
        assert stale_row.locator(".gm-ed-plan-version").inner_text() == f"v{edited['version']}"
        assert _call(env, "GET", f"/v1/plans/{edited['id']}", who="viewer").status_code == 200
        page.screenshot(path=str(tmp_path / f"delete-stale-{size}.png"))
        stale_row.locator("button.gm-ed-delete").click()
        page.locator("#gm-ed-delete-confirm").click()
        stale_row.wait_for(state="detached", timeout=30_000)
        assert _call(env, "GET", f"/v1/plans/{edited['id']}", who="viewer").status_code == 404
        assert [r.split(" ", 1)[0] for r in deletes] == ["DELETE"] * 4
        assert all(v.startswith('"') for v in if_match) and len(if_match) == 4, if_match
        assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["width"]  # no sideways scroll
        assert errors == []
    finally:
        context.close()

    # a viewer's list has the buttons off, saying which role deletes
    context = browser.new_context(viewport=SIZES[size])
    context.add_cookies(sign_in_cookie(env["base"], env["keys"]["viewer"]))
    try:
        page = context.new_page()
        page.goto(f"{env['base']}/maps/editor", wait_until="load")
        button = page.locator(f'tr[data-plan="{used["id"]}"] button.gm-ed-delete')
        assert button.is_disabled() and "planner" in button.get_attribute("title")
    finally:
        context.close()
