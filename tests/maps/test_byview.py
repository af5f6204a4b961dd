"""Map layers loaded by view (maps/byview.py, maps/static/gridmap/byview.js), in Debian's headless Chromium.

The town's layers are small enough to embed, so a server with ``map_inline_max=0`` makes every page
load them by view instead; the drawn map must be the same as the embedded one. The "too many in view"
path is driven with a page whose budgets are smaller than the town (served at the real app's origin,
so its requests go to the real /ogc API with the session cookie).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from geo.store import queries
from maps.base import render
from maps.overview import VIEW_SOURCES, build_overview_map
from tests.conftest import auth, sign_in_cookie

IDLE = "() => document.documentElement.dataset.gmViews === 'idle'"

# a grid's fill colour by grid code, as drawn (the tooltip binding keeps feature on each path's layer)
FILLS = """() => {
  const out = {};
  Object.keys(window).forEach(k => {
    let v; try { v = window[k]; } catch (e) { return; }
    if (v instanceof L.GeoJSON && v.options && v.options.gmLayer === 'grids') {
      v.eachLayer(l => { out[l.feature.properties.code] = l.options.fillColor; });
    }
  });
  return out;
}"""


def _grid_fills(report) -> dict[str, str]:
    return report.page.evaluate(FILLS)


def test_overview_by_view_draws_what_the_embedded_page_draws(browser, open_map, live_server: str,
                                                            by_view_server: str, keys, tmp_path: Path) -> None:
    embedded_html = httpx.get(f"{live_server}/maps/", headers=auth(keys["viewer"])).text
    by_view_html = httpx.get(f"{by_view_server}/maps/", headers=auth(keys["viewer"])).text
    assert "gridmap/byview.js" in by_view_html and "gridmap/byview.js" not in embedded_html
    assert len(by_view_html) < len(embedded_html) / 4  # the features are not in the page

    embedded = open_map(browser, f"{live_server}/maps/", screenshot=tmp_path / "embedded.png",
                        cookies=sign_in_cookie(live_server, keys["viewer"]))
    loaded = open_map(browser, f"{by_view_server}/maps/", screenshot=tmp_path / "by-view.png",
                      cookies=sign_in_cookie(by_view_server, keys["viewer"]))
    loaded.page.wait_for_function(IDLE)
    for report in (embedded, loaded):
        assert report.console_errors == [] and report.page_errors == [] and report.failed_responses == []
        assert report.external_requests == []
    assert loaded.page.locator(".leaflet-pane svg path.leaflet-interactive").count() == embedded.path_count
    assert embedded.path_count >= 3 + 50 + 125 + 700
    fills = _grid_fills(loaded)
    assert len(fills) == 50 and fills == _grid_fills(embedded)
    labels = sorted(loaded.page.locator(".gm-grid-label").all_inner_texts())
    assert labels == sorted(embedded.page.locator(".gm-grid-label").all_inner_texts()) and len(labels) == 50
    # the title counts the whole town (from the database), not what is in view
    assert loaded.page.inner_text(".gm-title") == embedded.page.inner_text(".gm-title")
    assert loaded.page.locator(".gm-view-notes").is_hidden()
    # a tooltip of a loaded grid shows its values
    grid = loaded.page.locator(".leaflet-overlay-pane path.leaflet-interactive").first
    grid.hover(force=True)
    loaded.page.wait_for_selector(".leaflet-tooltip")
    assert loaded.page.locator(".leaflet-tooltip").count() >= 1


def test_too_many_in_view_draws_none_and_says_so_until_zoomed_in(page_at_origin, live_server: str, keys,
                                                                 engine, tmp_path: Path) -> None:
    with engine.connect() as conn:
        plan_id = queries.resolve_plan(conn, plan_id=None)["id"]
        bounds = queries.bounds(conn)
        totals = queries.overview_totals(conn, plan_id=plan_id)
        communities = json.loads(queries.communities_geojson(conn))
    sources = {k: replace(v, budget=20) for k, v in VIEW_SOURCES.items() if k != "communities"}
    sources = {k: v.with_params(plan=plan_id) if k != "cameras" else v for k, v in sources.items()}
    html = render(build_overview_map(communities=communities, bounds=bounds, totals=totals, **sources))
    page, errors = page_at_origin(live_server, keys["viewer"], html, path="/maps/__byview_test__")
    page_url = live_server + "/maps/__byview_test__"
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/ogc/" in r.url else None)
    page.goto(page_url)
    page.wait_for_function(IDLE)
    notes = page.locator(".gm-view-note").all_inner_texts()
    # 50 grids, 125 buildings, 725 cameras in view; at most 20 each: none drawn, each layer says so
    assert len(notes) == 3, notes
    assert any("50 " in n and "zoom in" in n for n in notes)
    assert any("摄像头" in n and "725 " in n and "zoom in" in n for n in notes), notes
    assert page.locator(".leaflet-pane svg path.leaflet-interactive").count() == 4  # the communities
    # only counts were asked for (limit=1): no page of features was fetched and thrown away
    assert asked and all("limit=1&" in u or u.endswith("limit=1") for u in asked)
    page.screenshot(path=str(tmp_path / "too-many.png"))

    # zoom in far on one grid's label point: few enough features in view, they are drawn
    grid = httpx.get(f"{live_server}/ogc/collections/grids/items", headers=auth(keys["viewer"]),
                     params={"limit": 1, "properties": "label_lon,label_lat"}).json()["features"][0]
    lon, lat = grid["properties"]["label_lon"], grid["properties"]["label_lat"]
    page.evaluate("([lat, lon]) => { Object.values(window).find(v => v instanceof L.Map).setView([lat, lon], 19); }",
                  [lat, lon])
    # idle right after setView can be the state before the move's (debounced) refresh began: wait for idle
    # with the features drawn (a page that never draws them fails here, on the timeout)
    page.wait_for_function("() => document.documentElement.dataset.gmViews === 'idle' && "
                           "document.querySelectorAll('.leaflet-pane svg path.leaflet-interactive').length > 4",
                           timeout=30_000)
    page.screenshot(path=str(tmp_path / "zoomed-in.png"))
    drawn = page.locator(".leaflet-pane svg path.leaflet-interactive").count()
    assert drawn > 4
    assert len(page.locator(".gm-view-note").all_inner_texts()) < 3
    assert errors == []


def test_a_layer_switched_off_asks_for_nothing(browser, by_view_server: str, keys, tmp_path: Path) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_cookies(sign_in_cookie(by_view_server, keys["viewer"]))
    try:
        page = context.new_page()
        page.goto(f"{by_view_server}/maps/")
        page.wait_for_function(IDLE)
        page.get_by_label("摄像头 Cameras").uncheck()
        asked: list[str] = []
        page.on("request", lambda r: asked.append(r.url) if "/ogc/" in r.url else None)
        page.evaluate("() => { const m = Object.values(window).find(v => v instanceof L.Map); m.setZoom(m.getZoom() - 2); }")
        page.wait_for_timeout(400)
        page.wait_for_function(IDLE)
        assert asked and not any("/collections/cameras/" in u for u in asked)
        page.get_by_label("摄像头 Cameras").check()
        page.wait_for_timeout(300)
        page.wait_for_function(IDLE)
        assert any("/collections/cameras/" in u for u in asked)
    finally:
        context.close()


def test_a_plan_too_big_for_one_page_is_edited_a_community_at_a_time(by_view_server: str, live_server: str,
                                                                     keys, engine) -> None:
    with engine.connect() as conn:
        plan = queries.resolve_plan(conn, plan_id=None)
        counts = queries.community_plan_counts(conn, plan_id=plan["id"])
        buildings = dict(conn.execute(text(
            "SELECT c.code, count(b.id) FROM community c LEFT JOIN building b ON b.community_id = c.id "
            "GROUP BY c.code")).all())
    assert sum(c["grids"] for c in counts) == 50 and len(counts) == len(buildings)
    assert {c["code"]: c["buildings"] for c in counts} == buildings and sum(buildings.values()) == 125
    headers = auth(keys["planner"])
    chooser = httpx.get(f"{by_view_server}/maps/editor", params={"plan": plan["id"]}, headers=headers)
    assert chooser.status_code == 200 and 'id="gm-ed-scope"' in chooser.text
    assert "50 grids" in chooser.text and "choose a community" in chooser.text
    for c in counts:  # a link per community, with its counts
        assert f'href="/maps/editor?plan={plan["id"]}&amp;community={c["code"]}"' in chooser.text
        assert f"<td>{c['grids']:,}</td><td>{c['buildings']:,}</td>" in chooser.text
    # one community: the editor itself; the town-sized server opens the whole plan as before
    one = httpx.get(f"{by_view_server}/maps/editor", params={"plan": plan["id"], "community": counts[0]["code"]},
                    headers=headers)
    assert one.status_code == 200 and 'id="gm-ed-scope"' not in one.text and "leaflet" in one.text
    whole = httpx.get(f"{live_server}/maps/editor", params={"plan": plan["id"]}, headers=headers)
    assert whole.status_code == 200 and 'id="gm-ed-scope"' not in whole.text
