"""Messages and labels of the map pages in Chinese with English beside them (issue 15, item 4), in Debian's
headless Chromium against the real app at 1920×1080 and 390×844:

- the editor's problem list says each validation problem "中文 — English" (the API's detail_zh and detail);
- an incident's popup on /maps/command names its category and subcategory "中文 English";
- a hot-spot cell's tooltip on /maps/command says its class in the catalogue's words (显著热点 99 % ...),
  not only z and p.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from geo import messages
from tests.conftest import auth, sign_in_cookie
from tests.maps.test_editor_page import (  # noqa: F401 - env is the module's fixture
    _IDLE, _READY, _call, _draft, _ok, _state, env)

SIZES = {"desktop": {"width": 1920, "height": 1080}, "phone": {"width": 390, "height": 844}}
CJK = re.compile(r"[\u4e00-\u9fff]")
_CMD_READY = "() => !!(window.gridmapCommand && window.gridmapCommand.ready)"
_CMD_LOADED = "() => { const s = window.gridmapCommand.state(); return !s.loading && s.loads > 0; }"


def _context(browser, base: str, key: str, size: str):
    context = browser.new_context(viewport=SIZES[size], device_scale_factor=1)
    context.add_cookies(sign_in_cookie(base, key))
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return context, page, errors


def _draft_with_a_warning(env: dict[str, Any], name: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A draft where one building moved to a neighbouring grid (which leaves a grid out of its band: in this
    town no single move keeps both in band), and the validation's problems."""
    plan = _draft(env, name)
    pid = plan["id"]
    buildings = sorted(f["properties"]["code"] for f in
                       _ok(_call(env, "GET", "/v1/buildings", who="viewer", params={"plan": pid}))["features"])
    for building in buildings:
        cands = _ok(_call(env, "GET", f"/v1/plans/{pid}/move-candidates", who="viewer",
                          params={"buildings": building}))["candidates"]
        if cands:
            body = _ok(_call(env, "POST", f"/v1/plans/{pid}/assign", version=plan["version"],
                             json={"building": building, "grid": cands[0]["grid"]}))
            plan["version"] = body["plan"]["version"]
            break
    problems = _ok(_call(env, "GET", f"/v1/plans/{pid}/validation", who="viewer"))["problems"]
    assert problems, "the move left no problem to show"
    return plan, problems


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_editor_problem_list_says_each_problem_in_chinese_and_english(browser, env, tmp_path: Path,
                                                                       size: str) -> None:
    plan, problems = _draft_with_a_warning(env, f"双语问题 bilingual problems {size}")
    assert all(p["detail_zh"] and CJK.search(p["detail_zh"]) for p in problems), problems
    context, page, errors = _context(browser, env["base"], env["keys"]["planner"], size)
    try:
        page.goto(f"{env['base']}/maps/editor?plan={plan['id']}", wait_until="load")
        page.wait_for_function(_READY, timeout=60_000)
        page.wait_for_function(_IDLE, timeout=60_000)
        items = page.locator("#gm-ed-problems li.gm-ed-problem-item")
        assert items.count() == len(problems)
        shown = page.eval_on_selector_all("#gm-ed-problems .gm-ed-problem-detail", "ds => ds.map(d => d.textContent)")
        assert sorted(shown) == sorted(f"{p['detail_zh']} — {p['detail']}" for p in problems), shown
        items.first.scroll_into_view_if_needed()
        assert items.first.is_visible()
        page.screenshot(path=str(tmp_path / f"editor-problems-{size}.png"))
        assert errors == []
    finally:
        context.close()


def _open_command(browser, live_server: str, keys, size: str):
    context, page, errors = _context(browser, live_server, keys["viewer"], size)
    page.goto(f"{live_server}/maps/command", wait_until="load")
    page.wait_for_function(_CMD_READY, timeout=60_000)
    page.wait_for_function(_CMD_LOADED, timeout=60_000)
    page.wait_for_timeout(200)
    return context, page, errors


_SHOW_INCIDENT = """id => new Promise(resolve => {
    const group = window.gridmapCommand.incidents;
    const m = group.getLayers().find(l => l.options.gmId === id);
    group.zoomToShowLayer(m, () => { m.openPopup(); resolve(true); });
})"""


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_incident_popup_names_category_and_subcategory_in_chinese_and_english(browser, live_server: str, keys,
                                                                               tmp_path: Path, size: str) -> None:
    context, page, errors = _open_command(browser, live_server, keys, size)
    try:
        shown = page.evaluate("() => window.gridmapCommand.incidents.getLayers().map(l => l.options.gmId)")
        assert shown, "no incident drawn"
        filters = _state_filters(page)
        feats = httpx.get(f"{live_server}/v1/incidents", headers=auth(keys["viewer"]), timeout=60,
                          params={**filters, "limit": 500}).json()["features"]
        with_sub = [f for f in feats if f["properties"].get("subcategory") and f["properties"]["id"] in set(shown)]
        assert with_sub, "no incident with a subcategory in the window"
        p = with_sub[0]["properties"]
        page.evaluate(_SHOW_INCIDENT, p["id"])
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for(timeout=10_000)
        page.wait_for_timeout(400)  # the popup fades in
        body = popup.inner_text()
        page.screenshot(path=str(tmp_path / f"command-popup-{size}.png"))
        cat = messages.label(f"category.{p['category']}")
        sub = messages.label(f"category.{p['category']}.{p['subcategory']}")
        assert CJK.search(cat) and CJK.search(sub)
        assert f"{cat} · {sub}" in body and f"{cat} / {sub}" in body, body
        assert errors == []
    finally:
        context.close()


def _state_filters(page) -> dict[str, str]:
    """The API parameters of the page's time window (from/to months, 00:00 town time)."""
    f = page.evaluate("() => window.gridmapCommand.state().filters")
    y, m = int(f["to"][:4]), int(f["to"][5:7])
    after = f"{y + 1}-01" if m == 12 else f"{y}-{m + 1:02d}"
    return {"from": f"{f['from']}-01", "to": f"{after}-01"}


_HOT_TIP = """cls => {
    const cells = window.gridmapCommand.hotspots();
    const layer = cells.getLayers().find(l => l.feature.properties["class"] === cls);
    if (!layer) return null;
    layer.openTooltip(layer.getBounds().getCenter());
    const el = layer.getTooltip().getElement();
    const text = el ? el.innerText : null;
    if (cls !== "hot_99") layer.closeTooltip();
    return text;
}"""


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_hotspot_tooltip_names_the_class_in_the_catalogues_words(browser, live_server: str, keys, tmp_path: Path,
                                                                  size: str) -> None:
    context, page, errors = _open_command(browser, live_server, keys, size)
    try:
        classes = page.evaluate("() => window.gridmapCommand.state().classes")
        drawn = [c for c in ("hot_99", "hot_95", "hot_90", "cold_99", "cold_95", "cold_90") if classes.get(c)]
        assert drawn, classes
        for cls in drawn[1:3]:
            tip = page.evaluate(_HOT_TIP, cls)
            assert tip is not None
            zh, en = messages.MESSAGES[f"hotspot.{cls}"]
            assert tip.splitlines()[0] == f"{zh} {en}", tip
        assert "hot_99" in drawn, classes  # the demo data has 99 % hot spots: their tooltip stays open
        tip = page.evaluate(_HOT_TIP, "hot_99")
        assert tip.splitlines()[0] == "显著热点 99 % significant hot spot", tip
        page.wait_for_timeout(200)
        page.screenshot(path=str(tmp_path / f"command-hotspot-{size}.png"))
        assert errors == []
    finally:
        context.close()


_STATUS = "s => window.gridmapEditor.state().message.state === s && !window.gridmapEditor.state().busy"


def _non_neighbours(env: dict[str, Any], plan_id: int) -> tuple[str, str]:
    """Two grids of one community that share no border (a merge the API refuses)."""
    from shapely.geometry import shape

    grids = _ok(_call(env, "GET", f"/v1/plans/{plan_id}/grids", who="viewer"))["features"]
    for f in grids:
        for g in grids:
            p, q = f["properties"], g["properties"]
            if p["code"] < q["code"] and p["community_code"] == q["community_code"] and \
                    shape(f["geometry"]).distance(shape(g["geometry"])) > 1e-4:
                return p["code"], q["code"]
    raise AssertionError("no two grids of one community apart")


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_editor_says_a_stale_version_and_a_refused_merge_in_chinese_and_english(browser, env, tmp_path: Path,
                                                                                size: str) -> None:
    """Another planner's edit in between (409 stale_version) and a merge of grids that share no border (422): the
    page's status line says each "中文 — English", the English as the API words it."""
    plan = _draft(env, f"双语冲突 bilingual conflict {size}")
    pid = plan["id"]
    buildings = _ok(_call(env, "GET", "/v1/buildings", who="viewer", params={"plan": pid}))["features"]
    building = sorted(f["properties"]["code"] for f in buildings)[0]
    target = _ok(_call(env, "GET", f"/v1/plans/{pid}/move-candidates", who="viewer",
                       params={"buildings": building}))["candidates"][0]["grid"]
    context, page, errors = _context(browser, env["base"], env["keys"]["planner"], size)
    try:
        page.goto(f"{env['base']}/maps/editor?plan={pid}", wait_until="load")
        page.wait_for_function(_READY, timeout=60_000)
        page.wait_for_function(_IDLE, timeout=60_000)
        held = _state(page)["version"]
        # the second planner moves the building while the page holds the old version
        r = _call(env, "POST", f"/v1/plans/{pid}/assign", who="planner2", version=held,
                  json={"building": building, "grid": target})
        assert r.status_code == 200, r.text
        page.evaluate("([b, g]) => window.gridmapEditor.assign(b, g)", [building, target])
        page.wait_for_function(_STATUS, arg="stale", timeout=30_000)
        status = page.locator("#gm-ed-status")
        status.scroll_into_view_if_needed()
        said = status.inner_text()
        page.screenshot(path=str(tmp_path / f"editor-stale-{size}.png"))
        zh_part, _, en_part = said.partition("：请重新加载方案后再做一次修改 — ")
        assert f"方案 {pid} 当前为版本 {held + 1}，而不是 {held}：" in zh_part and "(second planner) 于 " in zh_part, said
        assert "做了 'assign'（" in zh_part and target in zh_part, said
        assert en_part.startswith(f"plan {pid} is at version {held + 1}, not {held}: "), said
        assert "(second planner) made 'assign' (" in en_part and en_part.endswith("; reload the plan and redo your "
                                                                                 "change"), said
        page.wait_for_function("v => window.gridmapEditor.state().version === v && !window.gridmapEditor.state()"
                               ".busy && !window.gridmapEditor.state().loading", arg=held + 1, timeout=30_000)
        # a merge of two grids apart: refused, in both languages
        a, b = _non_neighbours(env, pid)
        page.evaluate("([a, b]) => window.gridmapEditor.merge(a, b)", [a, b])
        page.wait_for_function(_STATUS, arg="error", timeout=30_000)
        said = status.inner_text()
        status.scroll_into_view_if_needed()
        page.screenshot(path=str(tmp_path / f"editor-merge-refused-{size}.png"))
        assert f"网格 {a} 与 {b} 没有公共边界：只能合并相邻的网格 — grids {a} and {b} do not share a border; merge " \
               "neighbouring grids only" in said, said
        assert errors == []
    finally:
        context.close()
