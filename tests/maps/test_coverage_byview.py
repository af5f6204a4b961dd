"""The coverage map loaded by view (a city's), in Debian's headless Chromium.

``by_view_server`` (``map_inline_max=0``) serves the town as it serves a city: grids and buildings from
/ogc by view, and coverage.js loads the views, gaps, cameras and key places of the box in view from /ogc
and the grids' and key places' coverage from ``/v1/coverage?bbox=``. The town fits in the first view, so
the first load must draw what the embedded page draws; with budgets smaller than the town, nothing is
drawn and the status says how many and to zoom in; zoomed in, what is drawn is what /ogc holds there.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from geo.store import queries
from maps.base import render
from maps.coverage import VIEW_SOURCES, build_coverage_map
from tests.conftest import auth
from tests.maps.browser import VIEWS_IDLE
from tests.maps.test_coverage_page import _READY, _assert_clean, _open, _state
from tests.maps.test_coverage_page import coverage_computed  # noqa: F401  (autouse: the stored coverage)

IDLE = (f"() => {VIEWS_IDLE} && window.gridmapCoverage && window.gridmapCoverage.ready && "
        "!window.gridmapCoverage.state().loading")
_SET_VIEW = "([lat, lon, z]) => window.gridmapCoverage.map.setView([lat, lon], z, {animate: false})"
_DRAWN = ("() => { const s = window.gridmapCoverage.state(); return [s.counts.views, s.counts.gaps, "
          "s.counts.cameras, s.counts.keyUncovered + s.counts.keyCovered]; }")


def _matched(server: str, keys, collection: str, bbox: list[float]) -> int:
    r = httpx.get(f"{server}/ogc/collections/{collection}/items", headers=auth(keys["viewer"]), timeout=60,
                  params={"bbox": ",".join(f"{v:.6f}" for v in bbox), "limit": 1})
    assert r.status_code == 200, r.text
    return r.json()["numberMatched"]


def test_coverage_by_view_draws_what_the_embedded_page_draws(browser, open_map, live_server: str,
                                                            by_view_server: str, keys, tmp_path: Path) -> None:
    embedded_html = httpx.get(f"{live_server}/maps/coverage", headers=auth(keys["viewer"])).text
    by_view_html = httpx.get(f"{by_view_server}/maps/coverage", headers=auth(keys["viewer"])).text
    assert "data-by-view" in by_view_html and "gridmap/byview.js" in by_view_html
    assert "data-by-view" not in embedded_html and len(by_view_html) < len(embedded_html) / 2

    embedded = _open(browser, open_map, live_server, keys, tmp_path / "embedded.png")
    loaded = _open(browser, open_map, by_view_server, keys, tmp_path / "by-view.png")
    loaded.page.wait_for_function(IDLE, timeout=60_000)
    for report in (embedded, loaded):
        _assert_clean(report)
    mine, theirs = _state(loaded.page), _state(embedded.page)
    assert mine["byView"] and not theirs["byView"] and mine["tooMany"] == {} and mine["error"] is None
    # every layer holds what the embedded page holds (the town is all in the first box)
    assert mine["counts"] == {**theirs["counts"]}, (mine["counts"], theirs["counts"])
    assert mine["viewStatus"] == theirs["viewStatus"] and mine["cameraStatus"] == theirs["cameraStatus"]
    assert mine["gridClasses"] == theirs["gridClasses"] and sum(mine["gridClasses"].values()) == 50
    assert mine["town"] == theirs["town"]
    for stat in ("#gm-cov-town-ratio", "#gm-cov-town-area", "#gm-cov-cams-online"):
        assert loaded.page.inner_text(stat) == embedded.page.inner_text(stat)
    assert loaded.page.inner_text("#gm-cov-key-uncovered").startswith(embedded.page.inner_text("#gm-cov-key-uncovered"))
    # selecting an online camera rings it and outlines its view, as on the embedded page
    code = httpx.get(f"{by_view_server}/ogc/collections/cameras/items", headers=auth(keys["viewer"]),
                     params={"limit": 1, "filter": "status = 'online'"}).json()["features"][0]["properties"]["code"]
    for page in (loaded.page, embedded.page):
        assert page.evaluate("c => window.gridmapCoverage.select(c)", code) == code
        assert _state(page)["selected"] == code and _state(page)["highlighted"] == 1


def test_budgets_smaller_than_the_view_draw_none_and_say_so_until_zoomed_in(page_at_origin, live_server: str, keys,
                                                                          engine, tmp_path: Path) -> None:
    with engine.connect() as conn:
        plan_id = queries.resolve_plan(conn, plan_id=None)["id"]
        bounds = queries.bounds(conn)
    budgets = {"camera-views": 30, "coverage-gaps": 30, "cameras": 30, "key-places": 30}
    html = render(build_coverage_map(**{k: v.with_params(plan=plan_id) for k, v in VIEW_SOURCES.items()},
                                     bounds=bounds, view_budgets=budgets))
    page, errors = page_at_origin(live_server, keys["viewer"], html, path="/maps/__coverage_byview_test__")
    page_url = live_server + "/maps/__coverage_byview_test__"
    page.goto(page_url)
    page.wait_for_function(_READY, timeout=60_000)
    page.wait_for_function(IDLE, timeout=60_000)
    state = _state(page)
    assert errors == [] and state["error"] is None
    bbox = state["bbox"]
    expected = {c: _matched(live_server, keys, c, bbox) for c in budgets}
    assert all(n > 30 for n in expected.values()), expected
    assert state["tooMany"] == expected
    assert page.evaluate(_DRAWN) == [0, 0, 0, 0]
    status = page.inner_text("#gm-cov-status")
    assert "zoom in" in status and f"摄像头 cameras {expected['cameras']:,} (> 30)" in status, status
    assert state["town"]["grids"] == 50  # the town's totals all the same
    page.screenshot(path=str(tmp_path / "too-many.png"))

    # zoom in on a grid's label point until few enough lie in the box: they are drawn, all of them
    grid = httpx.get(f"{live_server}/ogc/collections/grids/items", headers=auth(keys["viewer"]),
                     params={"limit": 1, "properties": "label_lon,label_lat"}).json()["features"][0]
    page.evaluate(_SET_VIEW, [grid["properties"]["label_lat"], grid["properties"]["label_lon"], 20])
    page.wait_for_function("b => window.gridmapCoverage.state().bbox[0] !== b[0]", arg=bbox, timeout=30_000)
    page.wait_for_function(IDLE, timeout=60_000)
    near = _state(page)
    counts = {c: _matched(live_server, keys, c, near["bbox"]) for c in budgets}
    drawn = dict(zip(("camera-views", "coverage-gaps", "cameras", "key-places"), page.evaluate(_DRAWN)))
    for collection, n in counts.items():
        if n <= 30:
            assert drawn[collection] == n and collection not in near["tooMany"], (collection, n, drawn)
        else:
            assert near["tooMany"][collection] == n and drawn[collection] == 0
    assert any(0 < n <= 30 for n in counts.values()), (counts, near["bbox"], bbox)  # something was drawn
    assert errors == []
    page.screenshot(path=str(tmp_path / "zoomed-in.png"))


def test_zoomed_out_past_the_grids_the_communities_show_their_coverage(page_at_origin, live_server: str, keys,
                                                                       engine, tmp_path: Path) -> None:
    """A city's whole view holds more grids than their budget: instead of a blank map, each community is
    coloured by the sums of its grids' coverage (as /v1/coverage?communities=true says); zoomed in until
    the grids fit, the communities go and the grids are coloured again."""
    import dataclasses

    with engine.connect() as conn:
        plan_id = queries.resolve_plan(conn, plan_id=None)["id"]
        bounds = queries.bounds(conn)
    sources = {k: v.with_params(plan=plan_id) for k, v in VIEW_SOURCES.items()}
    sources["grids"] = dataclasses.replace(sources["grids"], budget=20)  # the town's 50 grids: too many
    html = render(build_coverage_map(**sources, bounds=bounds))
    page, errors = page_at_origin(live_server, keys["viewer"], html, path="/maps/__coverage_communities_test__")
    page.goto(live_server + "/maps/__coverage_communities_test__")
    page.wait_for_function(_READY, timeout=60_000)
    page.wait_for_function(IDLE + " && window.gridmapCoverage.state().communities.length > 0", timeout=60_000)
    state = _state(page)
    assert errors == [] and state["error"] is None and state["counts"]["grids"] == 0
    answer = httpx.get(f"{live_server}/v1/coverage", headers=auth(keys["viewer"]), timeout=60,
                       params={"communities": "true", "grids": "false", "key_places": "false"}).json()["communities"]
    assert {c["code"]: c["ratio"] for c in state["communities"]} == {
        c["code"]: pytest.approx(c["ratio"]) for c in answer}  # the page's sums are of its box's rows
    assert len(answer) == 4 and all(c["class"] != "none" for c in state["communities"])
    fills = page.evaluate("() => [...document.querySelectorAll('.leaflet-overlay-pane path')]"
                          ".map(p => p.getAttribute('fill')).filter(f => f && f !== 'none')")
    classes = {c[4] for c in json.loads(page.get_attribute("#gm-coverage", "data-classes"))}
    assert sum(f in classes for f in fills) >= 4, fills  # four community fills of the ratio classes
    counted = page.evaluate("() => Object.fromEntries([...document.querySelectorAll('.gm-cov-legend [data-count]')]"
                            ".map(e => [e.dataset.count, Number(e.textContent.replace(/[()]/g, ''))]))")
    classes_drawn = {c["class"] for c in state["communities"]}
    assert sum(counted[c] for c in classes_drawn) == 4, counted
    page.locator(".leaflet-overlay-pane path.leaflet-interactive").first.dispatch_event("mouseover")
    assert "社区覆盖率 Community coverage" in page.inner_text(".leaflet-tooltip")
    page.screenshot(path=str(tmp_path / "communities.png"))

    grid = httpx.get(f"{live_server}/ogc/collections/grids/items", headers=auth(keys["viewer"]),
                     params={"limit": 1, "properties": "label_lon,label_lat"}).json()["features"][0]
    page.evaluate(_SET_VIEW, [grid["properties"]["label_lat"], grid["properties"]["label_lon"], 18])
    page.wait_for_function(IDLE + " && window.gridmapCoverage.state().communities.length === 0", timeout=60_000)
    near = _state(page)
    assert near["counts"]["grids"] > 0 and errors == []
    page.screenshot(path=str(tmp_path / "grids-again.png"))
