"""/maps/command served by the real app over real HTTP, driven in Debian's headless Chromium.

Every expected number comes from the JSON API itself (httpx with a Bearer key) for the
same filters the page shows, so the page is checked against what a client would get.
"""

from __future__ import annotations

import doctest
import re
import shutil
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

import maps.command
from maps.assets import assert_no_cdn
from maps.command import (
    BANDWIDTH_M,
    CATEGORY_LABELS,
    HEAT_CELL_M,
    HOTSPOT_CELL_M,
    LAYER_NAMES,
    WEEKLY_CELL_M,
    default_window,
)
from tests.conftest import auth, sign_in_cookie

_READY = "() => !!(window.gridmapCommand && window.gridmapCommand.ready)"
# A load newer than the n-th has finished (the page debounces filter changes, then fetches).
_LOADED_AFTER = "n => { const s = window.gridmapCommand.state(); return !s.loading && s.loads > n; }"
_HEAT_ALPHA = """() => {
    const c = document.querySelector('canvas.leaflet-heatmap-layer');
    if (!c || !c.width || !c.height) return -1;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let sum = 0, lit = 0;
    for (let i = 3; i < d.length; i += 4) { sum += d[i]; if (d[i]) lit++; }
    return {sum, lit, pixels: c.width * c.height};
}"""
_CELL_PATHS = "() => document.querySelectorAll('.leaflet-gm-cells-pane path').length"
_SHOW_INCIDENT = """id => new Promise(resolve => {
    const group = window.gridmapCommand.incidents;
    const m = group.getLayers().find(l => l.options.gmId === id);
    group.zoomToShowLayer(m, () => { m.openPopup(); resolve(true); });
})"""
ALL_CATEGORIES = list(CATEGORY_LABELS)


def _next_month(month: str) -> str:
    y, m = int(month[:4]), int(month[5:7])
    return f"{y + 1}-01" if m == 12 else f"{y}-{m + 1:02d}"


def _window(from_month: str, to_month: str, categories: list[str] | None = None) -> dict[str, str]:
    """The API parameters the page uses for a filter set (dates are 00:00 town time)."""
    params = {"from": f"{from_month}-01", "to": f"{_next_month(to_month)}-01"}
    if categories is not None and set(categories) != set(ALL_CATEGORIES):
        params["category"] = ",".join(categories)
    return params


def _api(live_server: str, keys, path: str, **params) -> dict:
    r = httpx.get(f"{live_server}{path}", params=params, headers=auth(keys["viewer"]), timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def _expected(live_server: str, keys, params: dict, *, fdr: bool = False) -> dict:
    hot = _api(live_server, keys, "/v1/hotspots", **params, cell_m=HOTSPOT_CELL_M, fdr=str(fdr).lower())
    classes = Counter(f["properties"]["class"] for f in hot["features"])
    incidents = _api(live_server, keys, "/v1/incidents", **params, limit=1)
    heat = _api(live_server, keys, "/v1/heatmap", **params, bandwidth_m=BANDWIDTH_M, cell_m=HEAT_CELL_M)
    return {
        "classes": dict(classes),
        "cells": sum(n for c, n in classes.items() if c != "not_significant"),
        "incidents": incidents["total"],
        "heat_points": len(heat["points"]),
        "heat_n": heat["n_incidents"],
    }


@pytest.fixture(scope="module")
def data_window(engine) -> tuple[str, str]:
    """The default window the page should show: the last 3 months of the incidents (town time)."""
    with engine.connect() as conn:
        first, last = conn.execute(text(
            "SELECT to_char(min(occurred_at) AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM'), "
            "to_char(max(occurred_at) AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM') FROM incident"
        )).one()  # fmt: skip
    return default_window((first, last))


def _open(browser, open_map, live_server: str, keys, shot: Path):
    cookie = sign_in_cookie(live_server, keys["viewer"])
    report = open_map(browser, f"{live_server}/maps/command", screenshot=shot, cookies=cookie)
    page = report.page
    try:
        page.wait_for_function(_READY, timeout=30_000)
        page.wait_for_function(_LOADED_AFTER, arg=0, timeout=30_000)
    except Exception as exc:  # playwright's TimeoutError: say what the page logged
        raise AssertionError(f"/maps/command did not get ready: {exc}\nconsole: {report.console_errors}\n"
                             f"page errors: {report.page_errors}\nfailed: {report.failed_responses}") from exc
    page.wait_for_timeout(150)  # the heat canvas is drawn on the next animation frame
    return report


def _state(page) -> dict:
    return page.evaluate("window.gridmapCommand.state()")


def _change_and_wait(page, action) -> dict:
    loads = _state(page)["loads"]
    action()
    page.wait_for_function(_LOADED_AFTER, arg=loads, timeout=30_000)
    page.wait_for_timeout(150)  # the heat canvas is drawn on the next animation frame
    return _state(page)


def _assert_clean(report) -> None:
    assert report.console_errors == [] and report.page_errors == []
    assert report.external_requests == [] and report.failed_responses == []


def _assert_heat_drawn(page) -> dict:
    alpha = page.evaluate(_HEAT_ALPHA)
    assert alpha != -1, "no canvas.leaflet-heatmap-layer"
    assert alpha["sum"] > 0 and alpha["lit"] > 0.005 * alpha["pixels"], alpha
    return alpha


def test_command_page_draws_heat_hot_cells_and_incidents(
    browser, open_map, live_server: str, keys, data_window, tmp_path: Path
) -> None:
    requests: list[str] = []
    report = _open(browser, open_map, live_server, keys, tmp_path / "command-load.png")
    page = report.page
    page.on("request", lambda r: requests.append(r.url))
    _assert_clean(report)
    assert page.evaluate("L.version").startswith("1.9")
    assert report.layer_control_labels == list(LAYER_NAMES.values())

    state = _state(page)
    start, end = data_window
    assert state["filters"] == {"from": start, "to": end, "categories": ALL_CATEGORIES, "fdr": False}
    assert state["error"] is None and state["frame"] == -1
    expected = _expected(live_server, keys, _window(start, end))
    assert expected["incidents"] > 100 and expected["cells"] > 0  # the demo data has hot spots

    # heat: the window's density, drawn
    assert state["heatPoints"] == expected["heat_points"]
    _assert_heat_drawn(page)
    assert page.locator("#gm-cmd-week-n").inner_text() == f"{expected['heat_n']:,}"

    # hot spots: one path per significant cell, by class as the API says
    assert page.evaluate(_CELL_PATHS) == state["cells"] == expected["cells"]
    assert state["classes"] == expected["classes"]
    assert state["hotCells"] + state["coldCells"] == expected["cells"]

    # incidents: all of the window's, clustered
    assert state["incidents"] == state["incidentsTotal"] == expected["incidents"]
    assert page.evaluate("window.gridmapCommand.incidents.getLayers().length") == expected["incidents"]
    assert page.locator(".gm-cmd-cluster-icon").count() > 0
    assert sum(state["states"].values()) == expected["incidents"]

    # panel and legend, bilingual, Chinese first
    panel = page.locator("#gm-command").inner_text()
    headings = ("时间 Time", "类别 Category", "显著性 Significance", "逐周热力 Weekly heat")
    for label in (*headings, *CATEGORY_LABELS.values()):
        assert label in panel
    assert f"{expected['incidents']:,} 起事件 incidents" in page.locator("#gm-cmd-status").inner_text()
    legend = page.locator(".gm-cmd-legend").inner_text()
    for label in ("热点 Hot 99%", "冷点 Cold 99%", "不显著 Not significant", "已上报 reported", "已办结 closed"):
        assert label in legend
    hot_99 = page.locator(".gm-cmd-legend [data-class=hot_99]").inner_text()
    assert f"({expected['classes'].get('hot_99', 0)})" in hot_99

    shot = tmp_path / "command.png"
    page.screenshot(path=str(shot))
    shutil.copy(shot, "/tmp/gridmap-command.png")  # for a person to look at

    # the layer control switches the heat off and on again (redrawn at once)
    heat_toggle = page.locator(".leaflet-control-layers-overlays label", has_text=LAYER_NAMES["heat"]).locator("input")
    heat_toggle.uncheck()
    assert page.locator("canvas.leaflet-heatmap-layer").count() == 0
    heat_toggle.check()
    page.wait_for_timeout(150)
    _assert_heat_drawn(page)
    assert [u for u in requests if "/v1/" not in u and "/static/" not in u] == []
    _assert_clean(report)


def test_incident_popup_shows_category_state_time_grid_and_overdue(
    browser, open_map, live_server: str, keys, data_window, tmp_path: Path
) -> None:
    start, end = data_window
    feats = _api(live_server, keys, "/v1/incidents", **_window(start, end), limit=200)["features"]
    # an overdue one if there is one (an open incident past its step's limit), else the newest
    feature = next((f for f in feats if f["properties"]["overdue"]), feats[0])
    p = feature["properties"]
    report = _open(browser, open_map, live_server, keys, tmp_path / "command-popup.png")
    page = report.page
    page.evaluate(_SHOW_INCIDENT, p["id"])
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=10_000)
    page.wait_for_timeout(400)  # the popup fades in
    body = popup.inner_text()
    assert CATEGORY_LABELS[p["category"]] in body and p["status_label"] in body
    assert p["occurred_at"][:10] + " " + p["occurred_at"][11:16] in body
    assert p["grid_code"] in body
    assert ("是 Yes" if p["overdue"] else "否 No") in body
    if p["description"]:
        assert p["description"] in body
    page.screenshot(path=str(tmp_path / "command-popup-open.png"))
    shutil.copy(tmp_path / "command-popup-open.png", "/tmp/gridmap-command-popup.png")
    _assert_clean(report)


def test_unchecking_a_category_refetches_to_the_apis_counts(
    browser, open_map, live_server: str, keys, data_window, tmp_path: Path
) -> None:
    start, end = data_window
    report = _open(browser, open_map, live_server, keys, tmp_path / "command-cats.png")
    page = report.page
    before = _state(page)["incidents"]
    calls: list[str] = []
    page.on("request", lambda r: calls.append(r.url) if "/v1/" in r.url else None)

    state = _change_and_wait(page, lambda: page.locator('input[name=category][value="dispute"]').uncheck())
    rest = [c for c in ALL_CATEGORIES if c != "dispute"]
    expected = _expected(live_server, keys, _window(start, end, rest))
    assert state["filters"]["categories"] == rest
    assert state["incidents"] == expected["incidents"] < before
    listed = _api(live_server, keys, "/v1/incidents", **_window(start, end, rest), limit=10_000)["features"]
    assert state["states"] == dict(Counter(f["properties"]["status"] for f in listed))
    assert "dispute" not in {f["properties"]["category"] for f in listed}
    assert page.evaluate(_CELL_PATHS) == expected["cells"] and state["classes"] == expected["classes"]
    assert state["heatPoints"] == expected["heat_points"]
    assert page.locator("#gm-cmd-week-n").inner_text() == f"{expected['heat_n']:,}"
    assert all("category=" + "%2C".join(rest) in u for u in calls if "/v1/incidents" in u or "/v1/hot" in u)
    assert {u.split("?")[0].rsplit("/", 1)[1] for u in calls} == {"heatmap", "hotspots", "incidents"}

    # two categories only, then none: nothing drawn, and the panel says why
    def only_two() -> None:
        for c in rest:
            if c not in ("safety_hazard", "public_order"):
                page.locator(f'input[name=category][value="{c}"]').uncheck()

    state = _change_and_wait(page, only_two)
    expected = _expected(live_server, keys, _window(start, end, ["safety_hazard", "public_order"]))
    assert state["incidents"] == expected["incidents"] and page.evaluate(_CELL_PATHS) == expected["cells"]

    def none() -> None:
        page.locator('input[name=category][value="safety_hazard"]').uncheck()
        page.locator('input[name=category][value="public_order"]').uncheck()

    state = _change_and_wait(page, none)
    assert state["incidents"] == 0 and state["cells"] == 0 and state["heatPoints"] == 0
    assert "未选择类别 No category selected" in page.locator("#gm-cmd-status").inner_text()
    _assert_clean(report)


def test_time_window_and_fdr_refetch(browser, open_map, live_server: str, keys, tmp_path: Path) -> None:
    report = _open(browser, open_map, live_server, keys, tmp_path / "command-window.png")
    page = report.page

    def whole_year() -> None:
        page.fill("#gm-cmd-from", "2025-12")
        page.dispatch_event("#gm-cmd-from", "change")

    state = _change_and_wait(page, whole_year)
    params = _window("2025-12", state["filters"]["to"])
    expected = _expected(live_server, keys, params)
    assert state["filters"]["from"] == "2025-12"
    assert state["incidents"] == expected["incidents"] and page.evaluate(_CELL_PATHS) == expected["cells"]

    state = _change_and_wait(page, lambda: page.locator("#gm-cmd-fdr").check())
    with_fdr = _expected(live_server, keys, params, fdr=True)
    assert state["filters"]["fdr"] is True
    assert page.evaluate(_CELL_PATHS) == with_fdr["cells"] and state["classes"] == with_fdr["classes"]
    assert with_fdr["cells"] <= expected["cells"]
    assert state["incidents"] == expected["incidents"]  # FDR only changes the hot spots
    assert "(FDR)" in page.locator("#gm-cmd-status").inner_text()

    # from after to: the panel says so and nothing is fetched
    def backwards() -> None:
        page.fill("#gm-cmd-from", "2026-11")
        page.dispatch_event("#gm-cmd-from", "change")
        page.fill("#gm-cmd-to", "2026-01")
        page.dispatch_event("#gm-cmd-to", "change")

    state = _change_and_wait(page, backwards)
    assert state["error"] == "bad_window" and state["incidents"] == 0
    assert "'From' must be a month on or before 'To'" in page.locator("#gm-cmd-status").inner_text()
    _assert_clean(report)


def test_weekly_slider_shows_each_weeks_date_and_count(
    browser, open_map, live_server: str, keys, data_window, tmp_path: Path
) -> None:
    start, end = data_window
    weekly = _api(live_server, keys, "/v1/heatmap", **_window(start, end), format="weekly",
                  bandwidth_m=BANDWIDTH_M, cell_m=WEEKLY_CELL_M)  # fmt: skip
    frames = weekly["frames"]
    assert len(frames) >= 12  # three months of weeks
    k = 5
    assert frames[k]["n"] > 0

    report = _open(browser, open_map, live_server, keys, tmp_path / "command-weekly.png")
    page = report.page
    assert _state(page)["frames"] == len(frames)
    assert page.locator("#gm-cmd-week-slider").get_attribute("max") == str(len(frames) - 1)
    aggregate = _assert_heat_drawn(page)

    slider = page.locator("#gm-cmd-week-slider")
    slider.focus()
    for _ in range(k):  # from 0 to frame k, with the keyboard, as a person would
        page.keyboard.press("ArrowRight")
    page.wait_for_timeout(200)
    state = _state(page)
    assert state["frame"] == k and state["week"] == frames[k]["week"] and state["weekCount"] == frames[k]["n"]
    assert page.locator("#gm-cmd-week").inner_text() == frames[k]["week"]
    assert page.locator("#gm-cmd-week-n").inner_text() == f"{frames[k]['n']:,}"
    assert f"{k + 1}/{len(frames)}" in page.locator("#gm-cmd-week-index").inner_text()
    assert state["heatPoints"] == len(frames[k]["points"])
    week = _assert_heat_drawn(page)
    assert week["sum"] != aggregate["sum"]  # another picture
    shot = tmp_path / "command-week.png"
    page.screenshot(path=str(shot))
    shutil.copy(shot, "/tmp/gridmap-command-week.png")  # for a person to look at

    # play: the frames advance by themselves; pause stops them
    page.locator("#gm-cmd-play").click()
    page.wait_for_function(f"() => window.gridmapCommand.state().frame === {k + 1}", timeout=5_000)
    assert "暂停 Pause" in page.locator("#gm-cmd-play").inner_text()
    page.wait_for_timeout(100)
    assert page.locator("#gm-cmd-week").inner_text() == frames[k + 1]["week"]
    page.locator("#gm-cmd-play").click()
    state = _state(page)
    assert state["playing"] is False
    page.wait_for_timeout(1200)
    assert _state(page)["frame"] == state["frame"]
    assert "播放 Play" in page.locator("#gm-cmd-play").inner_text()

    # back to the whole window
    page.locator("#gm-cmd-all").click()
    state = _state(page)
    assert state["frame"] == -1
    assert state["heatPoints"] == _expected(live_server, keys, _window(start, end))["heat_points"]
    assert page.locator("#gm-cmd-week-n").inner_text() == f"{weekly['n_incidents']:,}"
    _assert_clean(report)


def test_command_page_needs_a_viewer_and_loads_nothing_from_outside(live_server: str, keys) -> None:
    anonymous = httpx.get(f"{live_server}/maps/command", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/maps/login")
    assert "next=/maps/command" in anonymous.headers["location"].replace("%2F", "/")
    client_only = httpx.get(f"{live_server}/maps/command", headers=auth(keys["client"]), follow_redirects=False)
    assert client_only.status_code == 403 and "只能打开查询页面" in client_only.text  # a client opens /maps/lookup only
    page = httpx.get(f"{live_server}/maps/command", headers=auth(keys["viewer"]))
    assert page.status_code == 200
    assert_no_cdn(page.text)
    assert ('<script defer src="/static/vendor/leaflet.heat/leaflet-heat.js"></script>'
            '<script defer src="/static/gridmap/command.js"></script>') in page.text
    assert "/static/vendor/leaflet.markercluster/leaflet.markercluster.js" in page.text
    assert page.text.index("/static/gridmap/common.js") < page.text.index("/static/gridmap/command.js")  # shared first
    for asset, kind in (("gridmap/command.js", "javascript"), ("gridmap/command.css", "css"),
                        ("gridmap/common.js", "javascript"),
                        ("vendor/leaflet.heat/leaflet-heat.js", "javascript")):
        r = httpx.get(f"{live_server}/static/{asset}")
        assert r.status_code == 200 and kind in r.headers["content-type"]
    for name in ("command.js", "common.js"):
        script = httpx.get(f"{live_server}/static/gridmap/{name}").text
        assert not re.search(r"\.(innerHTML|outerHTML)\s*[+]?=|insertAdjacentHTML|document\.write", script)  # text only


def test_docstring_examples() -> None:
    result = doctest.testmod(maps.command, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
