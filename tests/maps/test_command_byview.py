"""The command-centre map loaded by view (a city's), in Debian's headless Chromium.

A server with ``map_inline_max=0`` (``by_view_server``) serves the town as it serves a city: grids and
buildings come from /ogc by view, and command.js sends ``bbox=`` with every analysis. The town fits in
the first view, so the first load must draw what the embedded page draws; after zooming in, the
counts must be the API's for the new box; a wide view asks coarser lattices the API accepts; more
incidents in the box than the page draws makes it draw none and say so.
"""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import text

from geo.store import queries
from maps.base import render
from maps.command import VIEW_SOURCES, build_command_map
from tests.conftest import auth, sign_in_cookie
from tests.maps.browser import VIEWS_IDLE
from tests.maps.test_command_page import _LOADED_AFTER, _READY, _assert_clean, _assert_heat_drawn, _state, _window

IDLE = f"() => {VIEWS_IDLE}"
_SET_VIEW = "([lat, lon, z]) => window.gridmapCommand.map.setView([lat, lon], z, {animate: false})"


def _open(browser, open_map, server: str, keys, shot: Path):
    report = open_map(browser, f"{server}/maps/command", screenshot=shot, cookies=sign_in_cookie(server, keys["viewer"]))
    report.page.wait_for_function(_READY, timeout=30_000)
    report.page.wait_for_function(_LOADED_AFTER, arg=0, timeout=30_000)
    report.page.wait_for_function(IDLE, timeout=30_000)
    return report


def _api(server: str, keys, path: str, **params) -> dict:
    r = httpx.get(f"{server}{path}", params=params, headers=auth(keys["viewer"]), timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def _asked(server: str, keys, state: dict) -> dict:
    """What the API answers for the page's filters, box and lattices."""
    f, cells = state["filters"], state["lattices"]
    params = {**_window(f["from"], f["to"], f["categories"]), "bbox": state["bbox"]}
    hot = _api(server, keys, "/v1/hotspots", **params, cell_m=cells["hot"], fdr=str(f["fdr"]).lower())
    heat = _api(server, keys, "/v1/heatmap", **params, bandwidth_m=cells["heatBw"], cell_m=cells["heat"])
    return {
        "incidents": _api(server, keys, "/v1/incidents", **params, limit=1)["total"],
        "hot": sum(1 for c in hot["features"] if c["properties"]["class"].startswith("hot")),
        "heat_points": len(heat["points"]),
    }


def _box(bbox: str) -> tuple[float, ...]:
    return tuple(float(v) for v in bbox.split(","))


def test_command_by_view_draws_what_the_embedded_page_draws_then_follows_the_view(
        browser, open_map, live_server: str, by_view_server: str, keys, engine, tmp_path: Path) -> None:
    embedded_html = httpx.get(f"{live_server}/maps/command", headers=auth(keys["viewer"])).text
    by_view_html = httpx.get(f"{by_view_server}/maps/command", headers=auth(keys["viewer"])).text
    assert "data-by-view" in by_view_html and "gridmap/byview.js" in by_view_html
    assert "data-by-view" not in embedded_html and len(by_view_html) < len(embedded_html) / 2

    embedded = _open(browser, open_map, live_server, keys, tmp_path / "embedded.png")
    loaded = _open(browser, open_map, by_view_server, keys, tmp_path / "by-view.png")
    asked: list[str] = []
    loaded.page.on("request", lambda r: asked.append(r.url) if "/v1/" in r.url else None)
    for report in (embedded, loaded):
        _assert_clean(report)
    first, plain = _state(loaded.page), _state(embedded.page)
    assert first["byView"] and not plain["byView"] and first["bbox"] and plain["bbox"] is None
    # the whole town lies in the first box: the same incidents, hot cells and grids as embedded
    assert first["incidentsTotal"] == plain["incidentsTotal"] == first["incidents"] > 100
    assert first["hotCells"] == plain["hotCells"] and first["states"] == plain["states"]
    assert first["lattices"] == {"heat": 10, "heatBw": 50, "weekly": 20, "weeklyBw": 50, "hot": 100}
    expected = _asked(by_view_server, keys, first)
    assert first["incidents"] == expected["incidents"] and first["hotCells"] == expected["hot"]
    assert first["heatPoints"] == expected["heat_points"] > 0
    _assert_heat_drawn(loaded.page)
    # the grids came by view, labelled in the labels pane
    labels = loaded.page.locator(".leaflet-gm-labels-pane .gm-cmd-grid-label").all_inner_texts()
    assert sorted(labels) == sorted(embedded.page.locator(".gm-cmd-grid-label").all_inner_texts())
    assert len(labels) == 50

    # zoom in on an incident: a smaller box, the API's counts for it
    with engine.connect() as conn:
        lon, lat = conn.execute(text(
            "SELECT ST_X(geom), ST_Y(geom) FROM incident WHERE voided_at IS NULL ORDER BY id LIMIT 1")).one()
    loads = first["loads"]
    loaded.page.evaluate(_SET_VIEW, [lat, lon, 18])
    loaded.page.wait_for_function(_LOADED_AFTER, arg=loads, timeout=30_000)
    loaded.page.wait_for_function(IDLE, timeout=30_000)
    near = _state(loaded.page)
    w, s, e, n = _box(near["bbox"])
    W, S, E, N = _box(first["bbox"])
    assert (e - w) * (n - s) < (E - W) * (N - S) / 8 and w <= lon <= e and s <= lat <= n
    expected = _asked(by_view_server, keys, near)
    assert near["incidentsTotal"] == expected["incidents"] == near["incidents"] < first["incidents"]
    assert near["hotCells"] == expected["hot"] and near["heatPoints"] == expected["heat_points"]
    heat_urls = [u for u in asked if "/v1/heatmap" in u or "/v1/hotspots" in u or "/v1/incidents" in u]
    assert heat_urls and all("bbox=" in u for u in heat_urls)
    loaded.page.screenshot(path=str(tmp_path / "zoomed-in.png"))

    # a small pan inside the box asks nothing
    before = len(asked)
    loaded.page.evaluate("() => window.gridmapCommand.map.panBy([5, 5], {animate: false})")
    loaded.page.wait_for_timeout(400)
    assert len(asked) == before and not _state(loaded.page)["loading"]


def test_a_wide_view_asks_coarser_lattices_the_api_accepts_and_none_past_them(browser, open_map,
                                                                             by_view_server: str, keys,
                                                                             tmp_path: Path) -> None:
    report = _open(browser, open_map, by_view_server, keys, tmp_path / "town.png")
    page = report.page
    loads = _state(page)["loads"]
    page.evaluate(_SET_VIEW, [40.05, 113.10, 12])  # ~55 km across: a city
    page.wait_for_function(_LOADED_AFTER, arg=loads, timeout=60_000)
    page.wait_for_function(IDLE, timeout=30_000)
    wide = _state(page)
    assert wide["error"] is None, wide["error"]  # no analysis was refused as over budget
    cells = wide["lattices"]
    assert cells["heat"] > 10 and cells["weekly"] > 20 and cells["hot"] > 100, cells
    assert cells["heatBw"] >= cells["heat"] and cells["weeklyBw"] >= cells["weekly"]
    expected = _asked(by_view_server, keys, wide)
    assert wide["incidentsTotal"] == expected["incidents"] and wide["hotCells"] == expected["hot"]
    assert wide["heatPoints"] == expected["heat_points"] > 0 and wide["frames"] > 0
    status = page.inner_text("#gm-cmd-status")
    assert f"热力 heat {cells['heat']:g} m" in status and f"热点 hot spots {cells['hot']:g} m" in status, status
    page.screenshot(path=str(tmp_path / "city-wide.png"))

    # a province: the lattices would need cells past the API's largest; those are not asked, and said
    loads = wide["loads"]
    page.evaluate(_SET_VIEW, [40.05, 113.10, 7])
    page.wait_for_function(_LOADED_AFTER, arg=loads, timeout=60_000)
    far = _state(page)
    assert far["error"] is None and far["lattices"]["weekly"] is None and far["frames"] == 0
    assert far["incidentsTotal"] == wide["incidentsTotal"]  # the town is still all in view
    status = page.inner_text("#gm-cmd-status")
    assert "zoom in for" in status and "逐周 weekly" in status, status
    page.screenshot(path=str(tmp_path / "province.png"))


def test_more_incidents_in_view_than_drawn_says_how_many_and_to_zoom_in(page_at_origin, live_server: str, keys,
                                                                      engine, tmp_path: Path) -> None:
    from api.routes.maps import incident_months
    from geo.config import get_settings

    with engine.connect() as conn:
        plan_id = queries.resolve_plan(conn, plan_id=None)["id"]
        bounds = queries.bounds(conn)
        months, _ = incident_months(conn, get_settings())
    sources = {k: v.with_params(plan=plan_id) for k, v in VIEW_SOURCES.items()}
    html = render(build_command_map(**sources, bounds=bounds, months=months, view_incidents=20))
    page, errors = page_at_origin(live_server, keys["viewer"], html, path="/maps/__command_byview_test__")
    page_url = live_server + "/maps/__command_byview_test__"
    page.goto(page_url)
    page.wait_for_function(_READY, timeout=30_000)
    page.wait_for_function(_LOADED_AFTER, arg=0, timeout=30_000)
    state = _state(page)
    assert errors == [] and state["error"] is None
    assert state["tooMany"] and state["incidents"] == 0 and state["incidentsTotal"] > 20
    assert page.evaluate("window.gridmapCommand.incidents.getLayers().length") == 0
    status = page.inner_text("#gm-cmd-status")
    assert f"{state['incidentsTotal']:,} 起事件在视图中" in status and "zoom in" in status, status
    assert state["heatPoints"] > 0 and state["hotCells"] > 0  # heat and hot spots still count them all
    page.screenshot(path=str(tmp_path / "too-many.png"))
