"""The app's map pages with GRIDMAP_BASEMAP=amap, in Debian's headless Chromium.

Amap's tiles (GCJ-02) come from tests/maps/amap_tiles.py (autonavi.com is unreachable from here); they
draw the buildings' footprints where Amap would, in GCJ-02. Where a WGS84 point lies on them is
computed in Python (geo.crs, PROJ: :func:`tests.maps.amap_tiles.gcj02_pixel`), never by the page's CRS,
and the pages are checked against it:

- lookup: a click where the tiles show a building asks /v1/lookup with the building's WGS84 point,
  and the building's grid is answered;
- overview: the grid labels are drawn at their GCJ-02 place (hundreds of metres from where the "none"
  basemap draws them), from the same WGS84 data;
- editor: a split line drawn on the map is sent as WGS84.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from shapely.geometry import LineString, Point, shape
from shapely.ops import unary_union

from geo.config import Settings
from geo.crs import gcj02_to_wgs84, to_metric
from geo.keys import create_key
from geo.store.db import make_engine
from tests.conftest import auth, serve, sign_in_cookie
from tests.maps.amap_tiles import (
    AmapTiles,
    gcj02_pixel,
    lonlat_of_mercator,
    metres_of_world_pixel,
    wgs84_pixel,
)

_SETTLED = """() => {
    const c = document.querySelector('.leaflet-container');
    return !!c && !c.classList.contains('leaflet-zoom-anim');
}"""
_FIND_MAP = "Object.values(window).find(v => v instanceof L.Map)"
# What turns a world pixel (Leaflet's, at the map's zoom) into a page pixel: public map methods that
# only pan, never project (pixel origin, map pane offset, container position).
_FRAME = """map => {
    const o = map.getPixelOrigin(), lp = map.containerPointToLayerPoint([0, 0]);
    const r = map.getContainer().getBoundingClientRect();
    return {zoom: map.getZoom(), ox: o.x, oy: o.y, lx: lp.x, ly: lp.y, left: r.left, top: r.top,
            crs: map.options.crs === L.CRS.GridmapGCJ02};
}"""


def _frame(page, map_js: str) -> dict[str, float]:
    return page.evaluate(f"() => ({_FRAME})({map_js})")


def _to_page(frame: dict[str, float], world: tuple[float, float]) -> tuple[float, float]:
    """Page (client) pixel of a world pixel: world - pixel origin = layer point; + (container - layer)."""
    return (world[0] - frame["ox"] - frame["lx"] + frame["left"], world[1] - frame["oy"] - frame["ly"] + frame["top"])


def _to_world(frame: dict[str, float], client: tuple[float, float]) -> tuple[float, float]:
    return (client[0] - frame["left"] + frame["lx"] + frame["ox"], client[1] - frame["top"] + frame["ly"] + frame["oy"])


def _wgs84_of_page_pixel(frame: dict[str, float], client: tuple[float, float]) -> tuple[float, float]:
    """The WGS84 point Amap's tiles show at a page pixel (the Python reference: EPSG:3857 -> GCJ-02 -> WGS84)."""
    world = _to_world(frame, client)
    gcj = lonlat_of_mercator(*metres_of_world_pixel(*world, frame["zoom"]))
    return gcj02_to_wgs84(*gcj)


def _gcj_click_pixel(frame: dict[str, float], lon: float, lat: float) -> tuple[int, int]:
    """The whole page pixel nearest to where the tiles show (lon, lat): a mouse event lands on whole pixels."""
    x, y = _to_page(frame, gcj02_pixel(lon, lat, frame["zoom"]))
    return round(x), round(y)


def _metres_per_pixel(zoom: float, lat: float) -> float:
    return 2 * math.pi * 6378137.0 * math.cos(math.radians(lat)) / (256 * 2**zoom)


def _save(page, tmp_path: Path, name: str) -> Path:
    shot = tmp_path / name
    page.screenshot(path=str(shot))
    shutil.copy(shot, f"/tmp/gridmap-{name}")  # for a person to look at
    return shot


@pytest.fixture(scope="module")
def amap_server(settings):
    """The session's app (its database) with basemap=amap."""
    yield from serve(settings.model_copy(update={"basemap": "amap"}))


@pytest.fixture(scope="module")
def town(amap_server: str, keys) -> dict[str, Any]:
    get = lambda path: httpx.get(f"{amap_server}{path}", headers=auth(keys["viewer"]), timeout=30).json()  # noqa: E731
    return {"buildings": get("/v1/buildings")["features"], "grids": get("/v1/grids")["features"]}


def _open(browser, open_map, base: str, path: str, key: str, shot: Path, tiles: AmapTiles | None):
    cookie = sign_in_cookie(base, key)
    report = open_map(browser, f"{base}{path}", screenshot=shot, cookies=cookie, serve_outside=tiles,
                      timeout_ms=60_000)
    return report


# ---------- lookup: a click on the tiles' building asks with its WGS84 point ----------

_LOOKUP_READY = ("() => !!(window.gridmapLookup && window.gridmapLookup.ready) "
                 "&& document.documentElement.dataset.gmViews !== 'loading'")
_ANSWERED = ("() => { const s = window.gridmapLookup.state(); "
             "return !!s && s !== 'loading' && document.documentElement.dataset.gmViews !== 'loading'; }")


def test_lookup_click_on_the_amap_building_asks_with_its_wgs84_point(
        browser, open_map, amap_server: str, keys, town, tmp_path: Path) -> None:
    footprints = [shape(f["geometry"]) for f in town["buildings"]]
    tiles = AmapTiles(footprints)
    report = _open(browser, open_map, amap_server, "/maps/lookup", keys["viewer"], tmp_path / "amap-lookup.png", tiles)
    page = report.page
    page.wait_for_function(_LOOKUP_READY, timeout=20_000)
    assert page.evaluate("window.gridmapLookup.map.options.crs === L.CRS.GridmapGCJ02")
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/v1/lookup?" in r.url else None)

    building = max(town["buildings"], key=lambda f: shape(f["geometry"]).area)  # a roomy target
    code, grid = building["properties"]["code"], building["properties"]["grid_code"]
    footprint = shape(building["geometry"])
    inside = footprint.representative_point()
    zoom = 19
    # the view: centred on the building, as a person would pan there (the centre is WGS84 too)
    page.evaluate("([lat, lon, z]) => window.gridmapLookup.map.setView([lat, lon], z, {animate: false})",
                  [inside.y, inside.x, zoom])
    page.wait_for_function(_SETTLED)
    page.wait_for_load_state("networkidle")
    frame = _frame(page, "window.gridmapLookup.map")
    assert frame["zoom"] == zoom and frame["crs"]

    click = _gcj_click_pixel(frame, inside.x, inside.y)
    target = _wgs84_of_page_pixel(frame, click)  # the WGS84 point the tiles show at that whole pixel
    assert footprint.contains(Point(target))
    m_px = _metres_per_pixel(zoom, inside.y)
    assert math.dist(to_metric(Point(target)).coords[0], to_metric(inside).coords[0]) < m_px  # half a pixel, ~0.2 m
    # without the shift (plain EPSG:3857, the "none" basemap) that building would be drawn hundreds of
    # metres (thousands of pixels at z19) away from where the tiles have it
    plain = _to_page(frame, wgs84_pixel(inside.x, inside.y, zoom))
    assert 400 / m_px < math.dist(plain, click) < 1000 / m_px

    page.evaluate("document.getElementById('gm-lookup-card').removeAttribute('data-state')")
    page.mouse.click(*click)
    page.wait_for_function(_ANSWERED, timeout=15_000)
    assert page.evaluate("window.gridmapLookup.state()") == "grid"
    assert len(asked) == 1, asked
    q = parse_qs(urlsplit(asked[0]).query)
    sent = float(q["lon"][0]), float(q["lat"][0])
    # the request carries the WGS84 point (7 decimals: within 1 cm), not the GCJ-02 one
    assert abs(sent[0] - target[0]) < 1e-7 and abs(sent[1] - target[1]) < 1e-7, (sent, target)
    assert page.locator("#gm-lookup-card .gm-card-code").inner_text().strip() == grid
    assert page.evaluate("window.gridmapLookup.highlighted()") == grid
    answer = httpx.get(f"{amap_server}/v1/lookup", params={"lon": sent[0], "lat": sent[1]},
                       headers=auth(keys["viewer"]), timeout=30).json()
    assert answer["grid"]["code"] == grid and answer["building"]["code"] == code

    # the building overlay (WGS84 data) is drawn where the tiles draw its footprint (GCJ-02)
    page.mouse.move(5, 800)
    page.wait_for_timeout(200)
    drawn = page.evaluate("""code => {
        const layer = window.gridmapLookup.buildings.getLayers().find(l => l.feature.properties.code === code);
        const r = layer._path.getBoundingClientRect();
        return [r.left, r.top, r.right, r.bottom];
    }""", code)
    xs, ys = zip(*(_to_page(frame, gcj02_pixel(x, y, zoom)) for x, y in footprint.exterior.coords))
    want = (min(xs), min(ys), max(xs), max(ys))
    assert all(abs(a - b) < 2.5 for a, b in zip(drawn, want)), (drawn, want)
    assert report.page_errors == [] and report.external_requests == [] and report.failed_responses == []
    assert report.console_errors == []
    assert tiles.requested and all(u.startswith("https://webrd0") for u in report.served_outside)
    _save(page, tmp_path, "amap-lookup-click.png")


# ---------- overview: labels at their GCJ-02 place, from the same WGS84 data ----------

_LABELS = """map => {
    const o = map.getPixelOrigin(), out = {};
    map.eachLayer(l => {
        if (!l._icon || !l._icon.classList.contains('gm-grid-label')) return;
        const r = l._icon.getBoundingClientRect(), c = map.getContainer().getBoundingClientRect();
        const layerPoint = map.containerPointToLayerPoint([r.left - c.left, r.top - c.top]);
        const ll = l.getLatLng();
        out[l.feature.properties.code] = {x: layerPoint.x + o.x, y: layerPoint.y + o.y, lat: ll.lat, lon: ll.lng};
    });
    return out;
}"""
# the grids layer's features as the page holds them (WGS84), by code
_GRID_DATA = """() => {
    const grids = Object.values(window).find(v => v instanceof L.GeoJSON && v.options.gmLayer === 'grids');
    const out = {};
    grids.eachLayer(l => { out[l.feature.properties.code] = JSON.stringify(l.toGeoJSON(9).geometry); });
    return out;
}"""


def _overview_labels(page, zoom: int, centre: tuple[float, float]) -> tuple[dict, dict]:
    page.evaluate(f"([lat, lon, z]) => ({_FIND_MAP}).setView([lat, lon], z, {{animate: false}})",
                  [centre[1], centre[0], zoom])
    page.wait_for_function(_SETTLED)
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(200)
    return page.evaluate(f"() => ({_LABELS})({_FIND_MAP})"), page.evaluate(_GRID_DATA)


def test_overview_with_amap_draws_grids_at_their_gcj02_place(
        browser, open_map, amap_server: str, live_server: str, keys, town, tmp_path: Path) -> None:
    tiles = AmapTiles([shape(f["geometry"]) for f in town["buildings"]])
    amap = _open(browser, open_map, amap_server, "/maps/", keys["viewer"], tmp_path / "amap-overview.png", tiles)
    none = _open(browser, open_map, live_server, "/maps/", keys["viewer"], tmp_path / "none-overview.png", None)
    for report in (amap, none):
        assert report.console_errors == [] and report.page_errors == [] and report.failed_responses == []
        assert report.external_requests == []
    assert tiles.requested and none.served_outside == []
    assert amap.page.evaluate(f"({_FIND_MAP}).options.crs === L.CRS.GridmapGCJ02")
    assert none.page.evaluate(f"({_FIND_MAP}).options.crs === L.CRS.EPSG3857")

    zoom = 16
    centre = unary_union([shape(f["geometry"]) for f in town["grids"]]).centroid
    # the same tiles' frame on both pages: the amap page centred where the tiles show the town's centre
    labels_none, data_none = _overview_labels(none.page, zoom, (centre.x, centre.y))
    labels_amap, data_amap = _overview_labels(amap.page, zoom, gcj02_to_wgs84(centre.x, centre.y))
    assert len(labels_amap) == len(labels_none) == len(town["grids"]) == 50
    # the same WGS84 data on both pages (labels and grid outlines), as the API has it
    assert data_amap == data_none and len(data_amap) == 50
    m_px = _metres_per_pixel(zoom, centre.y)
    for code, a in labels_amap.items():
        n = labels_none[code]
        assert (a["lat"], a["lon"]) == (n["lat"], n["lon"])
        # where each page draws it, in world pixels: "none" at plain EPSG:3857, amap at GCJ-02 (Python's)
        wx, wy = wgs84_pixel(n["lon"], n["lat"], zoom)
        gx, gy = gcj02_pixel(a["lon"], a["lat"], zoom)
        assert abs(n["x"] - wx) <= 1 and abs(n["y"] - wy) <= 1, (code, n, wx, wy)
        assert abs(a["x"] - gx) <= 1 and abs(a["y"] - gy) <= 1, (code, a, gx, gy)
        # the difference is the GCJ-02 offset: hundreds of metres (east and north in Datong)
        shift = math.dist((a["x"], a["y"]), (n["x"], n["y"])) * m_px
        assert 400 < shift < 1000 and a["x"] > n["x"] and a["y"] < n["y"], (code, shift)
    _save(amap.page, tmp_path, "amap-overview.png")
    _save(none.page, tmp_path, "none-overview-same-frame.png")


# ---------- editor: a drawn line is sent as WGS84 ----------

_EDITOR_READY = "() => !!(window.gridmapEditor && window.gridmapEditor.ready)"
_EDITOR_IDLE = "() => { const s = window.gridmapEditor.state(); return !s.busy && !s.loading; }"
_VERSION = "v => { const s = window.gridmapEditor.state(); return !s.busy && !s.loading && s.version === v; }"


@pytest.fixture(scope="module")
def editor_env(module_db: str, tmp_path_factory):  # type: ignore[no-untyped-def]
    engine = make_engine(module_db)
    keys = {r: create_key(engine, role=r, name=f"amap {r}")[1] for r in ("viewer", "planner")}
    settings = Settings(database_url=module_db, var_dir=tmp_path_factory.mktemp("var"), basemap="amap",
                        key_cache_s=0.5)
    for base in serve(settings):
        yield {"base": base, "keys": keys}
    engine.dispose()


def _call(env: dict[str, Any], method: str, path: str, *, who: str = "planner", **kw: Any) -> Any:
    r = httpx.request(method, f"{env['base']}{path}", headers=auth(env["keys"][who]), timeout=60, **kw)
    assert r.status_code < 300, f"{method} {path}: {r.status_code} {r.text}"
    return r.json()


def _split_line(grid, footprints) -> tuple[tuple[float, float], tuple[float, float], tuple[float, float]]:
    """(start, middle, end) of a horizontal line across *grid* that misses every building, the middle
    point far (> 25 m) from the grid's outline and every building, so that Geoman snaps it to nothing."""
    others = unary_union(footprints)
    minx, miny, maxx, maxy = grid.bounds
    pad = 0.00025  # ~20 m beyond the grid on both sides
    best = None
    for i in range(1, 60):
        y = miny + (maxy - miny) * i / 60
        line = LineString([(minx - pad, y), (maxx + pad, y)])
        parts = grid.difference(line.buffer(1e-7))
        if line.intersects(others) or parts.geom_type != "MultiPolygon" or len(parts.geoms) != 2:
            continue
        for j in range(1, 40):
            p = Point(minx + (maxx - minx) * j / 40, y)
            if not grid.contains(p):
                continue
            pm = to_metric(p)
            room = min(to_metric(grid.boundary).distance(pm), to_metric(others).distance(pm))
            if best is None or room > best[0]:
                best = (room, ((minx - pad, y), (p.x, p.y), (maxx + pad, y)))
    assert best is not None and best[0] > 25, f"no free line across the grid: {best}"
    return best[1]


def test_editor_with_amap_sends_a_drawn_split_line_in_wgs84(browser, open_map, editor_env, tmp_path: Path) -> None:
    env = editor_env
    plan = _call(env, "POST", "/v1/plans", json={"name": "amap split"})
    pid = plan["id"]
    grids = _call(env, "GET", f"/v1/plans/{pid}/grids", who="viewer")["features"]
    buildings = _call(env, "GET", "/v1/buildings", who="viewer", params={"plan": pid})["features"]
    footprints = [shape(f["geometry"]) for f in buildings]
    chosen = max(grids, key=lambda f: shape(f["geometry"]).area)
    code, ga = chosen["properties"]["code"], shape(chosen["geometry"])
    start, middle, end = _split_line(ga, footprints)

    tiles = AmapTiles(footprints)
    report = _open(browser, open_map, env["base"], f"/maps/editor?plan={pid}", env["keys"]["planner"],
                   tmp_path / "amap-editor-load.png", tiles)
    page = report.page
    page.wait_for_function(_EDITOR_READY, timeout=60_000)
    page.wait_for_function(_EDITOR_IDLE, timeout=60_000)
    assert page.evaluate("window.gridmapEditor.map.options.crs === L.CRS.GridmapGCJ02")
    page.locator(".gm-ed-metrics-head b").click()  # fold the metrics table: more map to click on
    page.evaluate("([lat, lon]) => window.gridmapEditor.map.setView([lat, lon], 17, {animate: false})",
                  [middle[1], middle[0]])
    page.wait_for_function(_SETTLED)
    page.wait_for_timeout(250)
    frame = _frame(page, "window.gridmapEditor.map")
    assert frame["zoom"] == 17
    sent: list[dict] = []
    page.on("request", lambda r: sent.append(r.post_data_json) if r.method == "POST" and r.url.endswith("/split")
            else None)

    page.locator("button[data-mode=split]").click()
    page.mouse.click(*_gcj_click_pixel(frame, *middle))  # picks the grid: the tiles' place of a point inside it
    page.locator("#gm-ed-split-draw").click()  # picking the grid, then drawing: two steps
    page.wait_for_function("() => window.gridmapEditor.map.pm.globalDrawModeEnabled()", timeout=5_000)
    assert page.evaluate("window.gridmapEditor.state().selected") == code
    clicks = [_gcj_click_pixel(frame, *p) for p in (start, middle, end)]
    page.mouse.click(*clicks[0])
    page.mouse.click(*clicks[1])
    page.mouse.dblclick(*clicks[2])
    page.wait_for_function(_VERSION, arg=plan["version"] + 1, timeout=30_000)
    state = page.evaluate("window.gridmapEditor.state()")
    assert state["message"]["state"] == "ok", state["message"]

    assert len(sent) == 1 and sent[0]["grid"] == code
    line = sent[0]["line"]
    assert line["type"] == "LineString"
    # the middle vertex (snapped to nothing) is the WGS84 point the tiles show at the clicked pixel
    want = _wgs84_of_page_pixel(frame, clicks[1])
    got = line["coordinates"][1]
    assert abs(got[0] - want[0]) < 1e-7 and abs(got[1] - want[1]) < 1e-7, (got, want)
    # ...within half a pixel of the point meant (~0.6 m at z17), not the GCJ-02 point 600 m off
    assert math.dist(to_metric(Point(got)).coords[0], to_metric(Point(middle)).coords[0]) < 0.7
    # the ends may snap to a nearby outline (14 px), still metres from the points meant, in WGS84
    for got_end, meant in ((line["coordinates"][0], start), (line["coordinates"][-1], end)):
        assert math.dist(to_metric(Point(got_end)).coords[0], to_metric(Point(meant)).coords[0]) < 15
    after = {f["properties"]["code"] for f in _call(env, "GET", f"/v1/plans/{pid}/grids", who="viewer")["features"]}
    assert len(after) == len(grids) + 1 and code in after
    assert report.page_errors == [] and report.external_requests == [] and report.failed_responses == []
    assert report.console_errors == []
    _save(page, tmp_path, "amap-editor-split.png")
