"""/maps/coverage served by the real app over real HTTP, driven in Debian's headless Chromium.

Every expected number comes from the JSON API itself (httpx with a Bearer key), so the page is
checked against what a client would get: the views, gaps and grids drawn, the town's ratio, a
camera's parameters and view area, and the suggested sites' added areas.
"""

from __future__ import annotations

import doctest
import math
import re
import shutil
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

import maps.coverage
from geo import coverage_service
from maps.assets import assert_no_cdn
from maps.coverage import DORI_LABELS, KIND_LABELS, LAYER_NAMES, MOUNT_LABELS, STATUS_LABELS, ratio_class
from tests.conftest import auth, sign_in_cookie

_READY = "() => !!(window.gridmapCoverage && window.gridmapCoverage.ready)"
_PATHS = "pane => document.querySelectorAll('.leaflet-' + pane + '-pane path').length"
_SUGGESTED = "() => { const s = window.gridmapCoverage.state(); return !s.suggesting && s.suggestRequest !== null; }"


@pytest.fixture(scope="module", autouse=True)
def coverage_computed(engine) -> None:
    """The stored views, grid coverage and gaps the page shows (the session database starts without them)."""
    with engine.connect() as conn:
        done = conn.execute(text("SELECT count(*) FROM grid_coverage")).scalar()
    if not done:
        coverage_service.recompute_all(engine)


def _api(live_server: str, keys, path: str, **params):
    r = httpx.get(f"{live_server}{path}", params=params, headers=auth(keys["viewer"]), timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def _open(browser, open_map, live_server: str, keys, shot: Path):
    cookie = sign_in_cookie(live_server, keys["viewer"])
    report = open_map(browser, f"{live_server}/maps/coverage", screenshot=shot, cookies=cookie, timeout_ms=60_000)
    page = report.page
    try:
        page.wait_for_function(_READY, timeout=60_000)
    except Exception as exc:  # playwright's TimeoutError: say what the page logged
        raise AssertionError(f"/maps/coverage did not get ready: {exc}\nconsole: {report.console_errors}\n"
                             f"page errors: {report.page_errors}\nfailed: {report.failed_responses}") from exc
    page.wait_for_timeout(200)
    return report


def _state(page) -> dict:
    return page.evaluate("window.gridmapCoverage.state()")


def _assert_clean(report) -> None:
    assert report.console_errors == [] and report.page_errors == []
    assert report.external_requests == [] and report.failed_responses == []


def _percent(ratio: float) -> str:
    return f"{ratio * 100:.1f}%"


def test_coverage_page_draws_choropleth_views_gaps_cameras_and_key_places(
    browser, open_map, live_server: str, keys, tmp_path: Path
) -> None:
    coverage = _api(live_server, keys, "/v1/coverage")
    views = _api(live_server, keys, "/v1/coverage/views")["features"]
    gaps = _api(live_server, keys, "/v1/coverage/gaps")["features"]
    cameras = _api(live_server, keys, "/v1/cameras")["features"]
    assert len(views) > 500 and len(gaps) > 0 and len(coverage["grids"]) == 50  # the demo town

    report = _open(browser, open_map, live_server, keys, tmp_path / "coverage-load.png")
    page = report.page
    _assert_clean(report)
    assert page.evaluate("L.version").startswith("1.9")
    assert report.layer_control_labels == list(LAYER_NAMES.values())

    state = _state(page)
    assert state["error"] is None and state["loading"] is False
    counts = state["counts"]
    # the views and the gaps start off (a readable default): turned on as staff would, in the layer control
    assert page.evaluate(_PATHS, "gm-cov-views") == 0 == page.evaluate(_PATHS, "gm-cov-gaps")
    for layer in ("views", "gaps"):
        page.locator(".leaflet-control-layers-overlays label", has_text=LAYER_NAMES[layer]).locator("input").check()
    # the choropleth: every grid coloured by its class
    assert counts["grids"] == 50
    assert state["gridClasses"] == dict(Counter(ratio_class(g["ratio"]) for g in coverage["grids"]))
    # views: one polygon per camera view, by status; offline and faulty ones dashed
    assert counts["views"] == len(views) == page.evaluate(_PATHS, "gm-cov-views")
    assert state["viewStatus"] == dict(Counter(f["properties"]["status"] for f in views))
    dashed = page.evaluate(
        "() => document.querySelectorAll('.leaflet-gm-cov-views-pane path[stroke-dasharray]').length")
    assert dashed == sum(1 for f in views if f["properties"]["status"] != "online") > 0
    # gaps: one hatched polygon each
    assert counts["gaps"] == len(gaps) == page.evaluate(_PATHS, "gm-cov-gaps")
    fill = page.evaluate("() => getComputedStyle(document.querySelector('.leaflet-gm-cov-gaps-pane path')).fill")
    assert "gm-cov-hatch" in fill
    # cameras and key places
    assert counts["cameras"] == len(cameras)
    assert state["cameraStatus"] == dict(Counter(f["properties"]["status"] for f in cameras))
    uncovered = [k for k in coverage["key_places"] if not k["covered"]]
    assert counts["keyUncovered"] == len(uncovered) > 0
    assert counts["keyCovered"] == len(coverage["key_places"]) - len(uncovered)
    assert page.locator(".gm-cov-diamond").count() == len(uncovered)
    assert counts["suggestions"] == 0 and state["selected"] is None

    # the panel: town totals as the API gives them, bilingual, Chinese first
    town = coverage["town"]
    assert state["town"]["ratio"] == town["ratio"]
    assert page.locator("#gm-cov-town-ratio").inner_text() == _percent(town["ratio"])
    for status in ("online", "offline", "fault"):
        assert page.locator(f"#gm-cov-cams-{status}").inner_text() == str(town["cameras"].get(status, 0))
    assert page.locator("#gm-cov-key-uncovered").inner_text() == f"{len(uncovered)} / {len(coverage['key_places'])}"
    panel = page.locator("#gm-coverage").inner_text()
    for label in ("全镇覆盖率 Town coverage", "摄像头 Cameras", "未覆盖重点场所 Uncovered key places",
                  "建议新增摄像头 Suggest cameras"):
        assert label in panel
    assert page.locator("#gm-cov-grid option").count() == 51  # the whole town + 50 grids
    # the legend: classes and statuses with their counts
    legend = page.locator(".gm-cov-legend").inner_text()
    for label in ("< 25%", "25–50%", "50–75%", "≥ 75%", "在线 online", "离线 offline", "故障 fault",
                  "盲区 gap"):
        assert label in legend
    assert f"({len(gaps)})" in page.locator(".gm-cov-legend [data-count=gaps]").inner_text()

    # a grid's tooltip: code, name, ratio, largest gap
    worst = min(coverage["grids"], key=lambda g: g["ratio"])
    page.evaluate("code => { const l = window.gridmapCoverage.layers.grids.getLayers()"
                  ".find(x => x.feature.properties.code === code); l.openTooltip(l.getCenter()); }", worst["code"])
    tip = page.locator(".leaflet-tooltip").first.inner_text()
    assert worst["code"] in tip and worst["name"] in tip and _percent(worst["ratio"]) in tip
    assert f"{worst['largest_gap_m2']:,.0f} m²" in tip
    page.evaluate("() => { window.gridmapCoverage.layers.grids.eachLayer(l => { l.closeTooltip(); }); }")

    shot = tmp_path / "coverage.png"
    page.screenshot(path=str(shot))
    shutil.copy(shot, "/tmp/gridmap-coverage.png")  # for a person to look at

    # the layer control switches the views off and on
    toggle = page.locator(".leaflet-control-layers-overlays label", has_text=LAYER_NAMES["views"]).locator("input")
    toggle.uncheck()
    assert page.evaluate(_PATHS, "gm-cov-views") == 0
    toggle.check()
    assert page.evaluate(_PATHS, "gm-cov-views") == len(views)
    _assert_clean(report)


def _isolated_camera(cameras: list[dict], places: list[dict], *, status: str = "online") -> dict:
    """A camera with no other camera within 8 m and no key place within 12 m (a click hits only it)."""
    def metres(a, b) -> float:
        dx = (a[0] - b[0]) * 111_320 * math.cos(math.radians(40.05))
        return math.hypot(dx, (a[1] - b[1]) * 110_540)

    points = [c["geometry"]["coordinates"] for c in cameras]
    place_points = [p["geometry"]["coordinates"] for p in places if p["geometry"]["type"] == "Point"]
    for cam in cameras:
        here = cam["geometry"]["coordinates"]
        if cam["properties"]["status"] != status or cam["properties"]["range_m"] is None:
            continue
        if (all(metres(here, p) > 8 for p in points if p is not here)
                and all(metres(here, p) > 12 for p in place_points)):
            return cam
    raise AssertionError(f"no isolated {status} camera in the demo data")


def test_clicking_a_camera_shows_its_parameters_and_highlights_its_view(
    browser, open_map, live_server: str, keys, tmp_path: Path
) -> None:
    cameras = _api(live_server, keys, "/v1/cameras")["features"]
    places = _api(live_server, keys, "/v1/key-places")["features"]
    cam = _isolated_camera(cameras, places)
    p = cam["properties"]
    view = _api(live_server, keys, f"/v1/cameras/{p['id']}/view")["properties"]

    report = _open(browser, open_map, live_server, keys, tmp_path / "coverage-camera.png")
    page = report.page
    lon, lat = cam["geometry"]["coordinates"]
    # (returns nothing: a Leaflet object would be serialised back to Python, all its layers with it)
    page.evaluate("([lat, lon]) => { window.gridmapCoverage.map.setView([lat, lon], 19, {animate: false}); }",
                  [lat, lon])
    page.wait_for_timeout(300)
    x, y = page.evaluate(
        "([lat, lon]) => { const m = window.gridmapCoverage.map; const p = m.latLngToContainerPoint([lat, lon]);"
        " const r = m.getContainer().getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; }", [lat, lon])
    page.mouse.click(x, y)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=10_000)
    page.wait_for_timeout(400)  # the popup fades in
    body = popup.inner_text()
    assert p["code"] in body and p["name"] in body
    assert KIND_LABELS[p["kind"]] in body and MOUNT_LABELS[p["mount"]] in body
    assert STATUS_LABELS[p["status"]] in body
    parameters = ((p["height_m"], " m"), (p["azimuth_deg"], "°"), (p["hfov_deg"], "°"), (view["range_m"], " m"))
    for value, unit in parameters:
        assert f"{round(value, 1):g}{unit}" in body
    if view["range_level"]:
        assert DORI_LABELS[view["range_level"]] in body
    assert f"{view['area_m2']:,.1f} m²" in body

    state = _state(page)
    assert state["selected"] == p["code"] and state["highlighted"] == 1
    assert page.evaluate(_PATHS, "gm-cov-selected") >= 1
    shot = tmp_path / "coverage-camera-open.png"
    page.screenshot(path=str(shot))
    shutil.copy(shot, "/tmp/gridmap-coverage-camera.png")  # for a person to look at

    # closing the popup drops the highlight
    page.locator(".leaflet-popup-close-button").click()
    page.wait_for_timeout(200)
    assert _state(page)["selected"] is None and _state(page)["highlighted"] == 0
    _assert_clean(report)


def test_suggesting_two_cameras_for_the_least_covered_grid(
    browser, open_map, live_server: str, keys, tmp_path: Path
) -> None:
    coverage = _api(live_server, keys, "/v1/coverage")
    worst = min(coverage["grids"], key=lambda g: g["ratio"])
    r = httpx.post(f"{live_server}/v1/coverage/suggest", json={"k": 2, "grid": worst["code"]},
                   headers=auth(keys["viewer"]), timeout=120)
    assert r.status_code == 200, r.text
    expected = r.json()["features"]
    assert len(expected) == 2

    report = _open(browser, open_map, live_server, keys, tmp_path / "coverage-suggest-load.png")
    page = report.page
    calls: list[tuple[str, str | None]] = []
    page.on("request", lambda q: calls.append((q.method, q.post_data)) if "/v1/coverage/suggest" in q.url else None)

    # out of range: said so, nothing asked
    page.fill("#gm-cov-k", "11")
    page.locator("#gm-cov-suggest").click()
    assert "1 to 10" in page.locator("#gm-cov-status").inner_text() and calls == []

    page.fill("#gm-cov-k", "2")
    page.select_option("#gm-cov-grid", worst["code"])
    page.locator("#gm-cov-suggest").click()
    page.wait_for_function(_SUGGESTED, timeout=120_000)
    page.wait_for_timeout(300)
    state = _state(page)
    assert state["error"] is None and state["suggestRequest"] == {"k": 2, "grid": worst["code"]}
    assert len(calls) == 1 and calls[0][0] == "POST"

    # two numbered markers, two dashed blue views
    assert state["counts"]["suggestions"] == 2 and state["counts"]["suggestionViews"] == 2
    assert page.locator(".gm-cov-sugg-marker").all_inner_texts() == ["1", "2"]
    assert page.evaluate(_PATHS, "gm-cov-sugg-views") == 2
    assert page.evaluate(
        "() => document.querySelectorAll('.leaflet-gm-cov-sugg-views-pane path[stroke-dasharray]').length") == 2
    # listed with the added area and incidents the API gives
    added = page.locator(".gm-cov-sugg-added").all_inner_texts()
    assert added == [f"+{f['properties']['added_m2']:,.1f} m²" for f in expected]
    assert [s["added_m2"] for s in state["suggestions"]] == [f["properties"]["added_m2"] for f in expected]
    for got, want in zip(state["suggestions"], expected, strict=True):
        assert got["lon"] == pytest.approx(want["geometry"]["coordinates"][0], abs=1e-9)
        assert got["lat"] == pytest.approx(want["geometry"]["coordinates"][1], abs=1e-9)
    incidents = page.locator(".gm-cov-sugg-inc").all_inner_texts()
    assert incidents == [f"{f['properties']['added_incidents']:g} 起事件 incidents" for f in expected]
    assert "建议 2 个点位" in page.locator("#gm-cov-status").inner_text()

    shot = tmp_path / "coverage-suggest.png"
    page.screenshot(path=str(shot))
    shutil.copy(shot, "/tmp/gridmap-coverage-suggest.png")  # for a person to look at

    # a site's popup, from its row in the list
    page.locator(".gm-cov-sugg-item").first.click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=10_000)
    assert f"+{expected[0]['properties']['added_m2']:,.1f} m²" in popup.inner_text()

    # clear: nothing suggested is left
    page.locator("#gm-cov-clear").click()
    state = _state(page)
    assert state["counts"]["suggestions"] == 0 and page.locator(".gm-cov-sugg-marker").count() == 0
    assert page.evaluate(_PATHS, "gm-cov-sugg-views") == 0
    _assert_clean(report)


def test_coverage_page_needs_a_viewer_and_loads_nothing_from_outside(live_server: str, keys) -> None:
    anonymous = httpx.get(f"{live_server}/maps/coverage", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/maps/login")
    assert "next=/maps/coverage" in anonymous.headers["location"].replace("%2F", "/")
    client_only = httpx.get(f"{live_server}/maps/coverage", headers=auth(keys["client"]), follow_redirects=False)
    assert client_only.status_code == 403 and "只能打开查询页面" in client_only.text  # a client opens /maps/lookup only
    page = httpx.get(f"{live_server}/maps/coverage", headers=auth(keys["viewer"]))
    assert page.status_code == 200
    assert_no_cdn(page.text)
    assert '<script defer src="/static/gridmap/coverage.js"></script>' in page.text
    assert page.text.index("/static/gridmap/common.js") < page.text.index("/static/gridmap/coverage.js")  # shared first
    for asset, kind in (("gridmap/coverage.js", "javascript"), ("gridmap/coverage.css", "css"),
                        ("gridmap/common.js", "javascript")):
        r = httpx.get(f"{live_server}/static/{asset}")
        assert r.status_code == 200 and kind in r.headers["content-type"]
    for name in ("coverage.js", "common.js"):
        script = httpx.get(f"{live_server}/static/gridmap/{name}").text
        assert not re.search(r"\.(innerHTML|outerHTML)\s*[+]?=|insertAdjacentHTML|document\.write", script)  # text only


def test_docstring_examples() -> None:
    result = doctest.testmod(maps.coverage, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
