"""/maps/lookup served by the real app over real HTTP, driven in Debian's headless Chromium.

Every expected answer comes from the JSON API itself (httpx with a Bearer key),
so the page is checked against what a client would get for the same question.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from maps.assets import assert_no_cdn
from tests.conftest import auth, serve, sign_in_cookie


@pytest.fixture(scope="module", params=["embedded", "by view"])
def lookup_server(request, settings):
    """Every test twice: the page with its layers embedded (the town), and loaded by view (as a city's
    are: GRIDMAP_MAP_INLINE_MAX=0 makes the town's load by view too)."""
    if request.param == "embedded":
        yield request.getfixturevalue("live_server")
    else:
        yield from serve(settings.model_copy(update={"map_inline_max": 0}))

# ready, and (layers loaded by view) no layer waiting for its features
_READY = ("() => !!(window.gridmapLookup && window.gridmapLookup.ready) "
          "&& document.documentElement.dataset.gmViews !== 'loading'")
_ANSWERED = ("() => { const s = window.gridmapLookup.state(); "
             "return !!s && s !== 'loading' && document.documentElement.dataset.gmViews !== 'loading'; }")
_SETTLED = """() => {
    const c = document.querySelector('.leaflet-container');
    return !!c && !c.classList.contains('leaflet-zoom-anim');
}"""
# Grids drawn with the highlight style (weight 4): exactly one after a hit, none after a miss.
_HIGHLIGHTED_PATHS = """() => window.gridmapLookup.grids.getLayers()
    .filter(l => l.options.weight === 4).map(l => l.feature.properties.code)"""
# The grid with this code lies inside the map's view.
_IN_VIEW = """code => {
    const g = window.gridmapLookup.grids.getLayers().find(l => l.feature.properties.code === code);
    return window.gridmapLookup.map.getBounds().pad(0.01).contains(g.getBounds());
}"""
_CODE = re.compile(r"^140214101\d{6}$")


def _api(lookup_server: str, keys, path: str, **params) -> httpx.Response:
    return httpx.get(f"{lookup_server}{path}", params=params, headers=auth(keys["viewer"]), timeout=30)


def _open(browser, open_map, lookup_server: str, keys, shot: Path):
    cookie = sign_in_cookie(lookup_server, keys["viewer"])
    report = open_map(browser, f"{lookup_server}/maps/lookup", screenshot=shot, cookies=cookie)
    report.page.wait_for_function(_READY, timeout=10_000)
    return report


def _wait_answer(page) -> str:
    page.wait_for_function(_ANSWERED, timeout=15_000)
    page.wait_for_function(_SETTLED, timeout=10_000)
    page.wait_for_timeout(400)  # fitBounds' zoom/pan animation, before a picture
    return page.evaluate("window.gridmapLookup.state()")


def _reset_state(page) -> None:
    page.evaluate("document.getElementById('gm-lookup-card').removeAttribute('data-state')")


def _search(page, q: str) -> str:
    _reset_state(page)
    page.fill("#gm-lookup-q", q)
    page.press("#gm-lookup-q", "Enter")
    return _wait_answer(page)


def _card_code(page) -> str:
    return page.locator("#gm-lookup-card .gm-card-code").inner_text().strip()


def _unexpected_errors(report, *, allowed_404: str = "/v1/lookup") -> tuple[list[str], list[str]]:
    """Console errors and failed responses, minus the API's own 404 answers (no_match,
    outside_grids), which Chromium logs as 'Failed to load resource'."""
    failed = [r for r in report.failed_responses if not (r.startswith("404 ") and allowed_404 in r)]
    console = [
        e for e in report.console_errors
        if not ("Failed to load resource" in e and "404" in e and allowed_404 in e)
    ]  # fmt: skip
    return console, failed


def _click_latlng(page, lat: float, lon: float, zoom: int = 17) -> None:
    """Centre the map on (lat, lon), as a person panning would (clear of the panel), and click there."""
    page.evaluate(
        "([lat, lon, z]) => window.gridmapLookup.map.setView([lat, lon], z, {animate: false})", [lat, lon, zoom]
    )
    page.wait_for_function(_SETTLED)
    x, y = page.evaluate(
        """([lat, lon]) => {
            const map = window.gridmapLookup.map;
            const p = map.latLngToContainerPoint([lat, lon]);
            const r = map.getContainer().getBoundingClientRect();
            return [r.left + p.x, r.top + p.y];
        }""",
        [lat, lon],
    )
    _reset_state(page)
    page.mouse.click(x, y)


def test_lookup_page_loads_offline_with_its_panel(browser, open_map, lookup_server: str, keys, tmp_path: Path) -> None:
    report = _open(browser, open_map, lookup_server, keys, tmp_path / "lookup.png")
    page = report.page
    assert report.console_errors == [] and report.page_errors == []
    assert report.external_requests == [] and report.failed_responses == []
    assert page.evaluate("L.version").startswith("1.9")
    assert page.locator("#gm-lookup-q").is_visible() and page.locator("#gm-lookup-go").is_visible()
    assert "地址 Address" in page.locator("#gm-lookup label").inner_text()
    grids = _api(lookup_server, keys, "/v1/grids").json()["features"]
    assert page.evaluate("window.gridmapLookup.grids.getLayers().length") == len(grids) == 50
    assert page.locator(".gm-lookup-label").count() == len(grids)
    assert page.evaluate("window.gridmapLookup.highlighted()") is None
    assert page.locator("#gm-lookup-card").is_hidden()


def test_address_search_highlights_the_apis_grid(browser, open_map, lookup_server: str, keys, tmp_path: Path) -> None:
    q = "春安新区3号楼2单元"
    answer = _api(lookup_server, keys, "/v1/lookup/address", q=q)
    assert answer.status_code == 200, answer.text
    expected = answer.json()["grid"]["code"]
    assert _CODE.match(expected) and expected.startswith("140214101001")

    report = _open(browser, open_map, lookup_server, keys, tmp_path / "lookup-address.png")
    page = report.page
    assert _search(page, q) == "grid"
    assert _card_code(page) == expected
    assert page.evaluate("window.gridmapLookup.highlighted()") == expected
    assert page.evaluate(_HIGHLIGHTED_PATHS) == [expected]
    card = page.locator("#gm-lookup-card").inner_text()
    grid = answer.json()["grid"]
    for shown in (answer.json()["match"]["address"], grid["name"], grid["community"]["name"],
                  grid["grid_member"]["name"], grid["grid_member"]["phone"]):  # fmt: skip
        assert shown in card
    props = next(f["properties"] for f in _api(lookup_server, keys, "/v1/grids").json()["features"]
                 if f["properties"]["code"] == expected)  # fmt: skip
    assert f"{props['households']:,}" in card and f"{props['population']:,}" in card
    assert page.evaluate(_IN_VIEW, expected)  # zoomed to the grid
    console, failed = _unexpected_errors(report)
    assert console == [] and report.page_errors == [] and failed == [] and report.external_requests == []
    shot = tmp_path / "lookup-address-result.png"
    page.screenshot(path=str(shot))
    shutil.copy(shot, "/tmp/gridmap-lookup-address.png")  # for a person to look at


def test_map_click_shows_the_grid_of_that_point(
    browser, open_map, lookup_server: str, keys, engine, tmp_path: Path
) -> None:
    with engine.connect() as conn:
        code, address, lon, lat = conn.execute(text(
            "SELECT code, address, ST_X(p), ST_Y(p) FROM "
            "(SELECT code, address, ST_PointOnSurface(geom) AS p FROM building ORDER BY code DESC LIMIT 1) b"
        )).one()  # fmt: skip
    answer = _api(lookup_server, keys, "/v1/lookup", lon=lon, lat=lat)
    assert answer.status_code == 200, answer.text
    expected = answer.json()["grid"]["code"]
    assert answer.json()["building"]["code"] == code

    report = _open(browser, open_map, lookup_server, keys, tmp_path / "lookup-click.png")
    page = report.page
    _click_latlng(page, lat, lon)
    assert _wait_answer(page) == "grid"
    assert _card_code(page) == expected
    assert page.evaluate("window.gridmapLookup.highlighted()") == expected
    assert page.evaluate(_HIGHLIGHTED_PATHS) == [expected]
    card = page.locator("#gm-lookup-card").inner_text()
    assert address in card and answer.json()["grid"]["grid_member"]["name"] in card
    shot = tmp_path / "lookup-click-result.png"
    page.screenshot(path=str(shot))
    shutil.copy(shot, "/tmp/gridmap-lookup-click.png")  # for a person to look at

    # A point outside every grid: the card says so and nothing stays highlighted.
    with engine.connect() as conn:
        west, south = conn.execute(text("SELECT ST_XMin(e), ST_YMin(e) FROM (SELECT ST_Extent(geom) e FROM grid) s")).one()
    out_lon, out_lat = west - 0.004, south - 0.004
    assert _api(lookup_server, keys, "/v1/lookup", lon=out_lon, lat=out_lat).status_code == 404
    _click_latlng(page, out_lat, out_lon)
    assert _wait_answer(page) == "outside"
    card = page.locator("#gm-lookup-card").inner_text()
    assert "不在任何网格内" in card and "outside all grids" in card
    assert page.evaluate("window.gridmapLookup.highlighted()") is None
    assert page.evaluate(_HIGHLIGHTED_PATHS) == []
    console, failed = _unexpected_errors(report)
    assert console == [] and report.page_errors == [] and failed == [] and report.external_requests == []


def test_ambiguous_address_lists_candidates_and_a_click_highlights_one(
    browser, open_map, lookup_server: str, keys, tmp_path: Path
) -> None:
    q = "3号楼2单元"  # in every community
    answer = _api(lookup_server, keys, "/v1/lookup/address", q=q)
    body = answer.json()
    candidates = body["candidates"] if answer.status_code == 200 else body["error"]["details"]["candidates"]
    assert len(candidates) >= 3
    building_grid = {f["properties"]["code"]: f["properties"]["grid_code"]
                     for f in _api(lookup_server, keys, "/v1/buildings").json()["features"]}  # fmt: skip
    grid_of = [c.get("grid_code") or building_grid[c["building"]] for c in candidates]
    assert len(set(grid_of[:2])) == 2

    report = _open(browser, open_map, lookup_server, keys, tmp_path / "lookup-ambiguous.png")
    page = report.page
    point_lookups: list[str] = []
    page.on("request", lambda r: point_lookups.append(r.url) if "/v1/lookup?" in r.url else None)
    assert _search(page, q) in ("grid", "no_match")
    rows = page.locator("#gm-lookup-card .gm-cand")
    assert rows.count() == len(candidates) >= 3
    assert [r.strip() for r in page.locator(".gm-cand-address").all_inner_texts()] == [c["address"] for c in candidates]

    rows.nth(0).click()
    assert page.evaluate("window.gridmapLookup.highlighted()") == grid_of[0]
    rows = page.locator("#gm-lookup-card .gm-cand")  # the card is redrawn on each choice
    rows.nth(1).click()  # at once, as a quick hand would: the view must still end on this one
    page.wait_for_function(_SETTLED)
    page.wait_for_timeout(400)
    assert page.evaluate("window.gridmapLookup.highlighted()") == grid_of[1]
    assert page.evaluate(_HIGHLIGHTED_PATHS) == [grid_of[1]]  # the first one is un-highlighted
    assert _card_code(page) == grid_of[1]
    assert "gm-selected" in (page.locator("#gm-lookup-card .gm-cand").nth(1).get_attribute("class") or "")
    assert page.locator("#gm-lookup-card .gm-cand").count() == len(candidates)  # still listed
    assert page.evaluate("window.gridmapLookup.state()") == "grid"
    assert page.evaluate(_IN_VIEW, grid_of[1])  # zoomed to the chosen one, not left at the first
    assert point_lookups == []  # a click on a row is not a click on the map
    page.screenshot(path=str(tmp_path / "lookup-ambiguous-choice.png"))
    shutil.copy(tmp_path / "lookup-ambiguous-choice.png", "/tmp/gridmap-lookup-ambiguous.png")
    console, failed = _unexpected_errors(report)
    assert console == [] and report.page_errors == [] and failed == [] and report.external_requests == []


@pytest.mark.parametrize("q", ["北京市朝阳区", '<img src="x" onerror="window.pwned=1">'])
def test_address_with_no_match_says_so(browser, open_map, lookup_server: str, keys, tmp_path: Path, q: str) -> None:
    assert _api(lookup_server, keys, "/v1/lookup/address", q=q).status_code == 404
    report = _open(browser, open_map, lookup_server, keys, tmp_path / "lookup-nomatch.png")
    page = report.page
    assert _search(page, q) == "no_match"
    card = page.locator("#gm-lookup-card")
    assert "未找到匹配地址" in card.inner_text() and "No matching address" in card.inner_text()
    assert page.evaluate("window.gridmapLookup.highlighted()") is None
    # API text goes in as text: the query is shown, never parsed as HTML
    assert card.locator("img").count() == 0 and page.evaluate("window.pwned") is None
    console, failed = _unexpected_errors(report)
    assert console == [] and report.page_errors == [] and failed == [] and report.external_requests == []


def test_lookup_page_needs_a_key_and_loads_nothing_from_outside(lookup_server: str, keys) -> None:
    anonymous = httpx.get(f"{lookup_server}/maps/lookup", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/maps/login")
    assert "next=/maps/lookup" in anonymous.headers["location"].replace("%2F", "/")
    client_only = httpx.get(f"{lookup_server}/maps/lookup", headers=auth(keys["client"]), follow_redirects=False)
    assert client_only.status_code == 200  # hotline staff hold client keys (issue 15, item 4)
    page = httpx.get(f"{lookup_server}/maps/lookup", headers=auth(keys["viewer"]))
    assert page.status_code == 200
    assert_no_cdn(page.text)
    assert '<script defer src="/static/gridmap/lookup.js"></script>' in page.text
    assert page.text.index("/static/gridmap/common.js") < page.text.index("/static/gridmap/lookup.js")  # shared first
    for asset, kind in (("gridmap/lookup.js", "javascript"), ("gridmap/lookup.css", "css"),
                        ("gridmap/common.js", "javascript")):
        r = httpx.get(f"{lookup_server}/static/{asset}")
        assert r.status_code == 200 and kind in r.headers["content-type"]


def test_a_grid_name_finds_that_grid_and_a_miss_zooms_back_out(browser, open_map, lookup_server: str, keys,
                                                               tmp_path: Path) -> None:
    """Issue 15 (9): "宁丰社区第4网格" is the grid of that name (it answered building 4 in another grid);
    after a query with no match the map shows the whole town again, not the last answer's grid."""
    grid = next(f["properties"] for f in _api(lookup_server, keys, "/v1/grids").json()["features"]
                if f["properties"]["name"].endswith("第4网格") and f["properties"]["community_name"] == "宁丰社区")
    report = _open(browser, open_map, lookup_server, keys, tmp_path / "lookup-grid-name.png")
    page = report.page
    whole_town = page.evaluate("window.gridmapLookup.map.getZoom()")
    assert _search(page, "宁丰社区第4网格") == "grid"
    assert _card_code(page) == grid["code"] and page.evaluate(_HIGHLIGHTED_PATHS) == [grid["code"]]
    assert page.evaluate("window.gridmapLookup.map.getZoom()") > whole_town
    page.screenshot(path=str(tmp_path / "lookup-grid-name-result.png"))
    assert _search(page, "北京市朝阳区") == "no_match"
    assert page.evaluate("window.gridmapLookup.map.getZoom()") == whole_town
    console, failed = _unexpected_errors(report)
    assert console == [] and report.page_errors == [] and failed == [] and report.external_requests == []
