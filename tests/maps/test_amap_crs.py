"""The ``amap`` basemap: L.CRS.GridmapGCJ02 (maps/static/gridmap/gcj02.js) against geo.crs, in Chromium.

The CRS is EPSG:3857 of the GCJ-02 position of each WGS84 lat/lng: the map's overlays, events and
requests stay WGS84, only their place on screen moves onto Amap's GCJ-02 tiles. Checked here on a
static page with the CRS's own functions, compared with the Python reference (geo.crs, PROJ). The pages
of the app with amap: tests/maps/test_amap_pages.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from geo.crs import gcj02_to_wgs84, in_china, wgs84_to_gcj02
from maps.base import AMAP_CRS, AMAP_CRS_SCRIPT_PATH, new_map, render
from tests.maps.amap_tiles import AmapTiles, mercator_m

GAOSHAN = (113.10, 40.05)

# ~50 points over Gaoshan Town and Datong city (deterministic), then some outside China's box (no
# offset there) and a few near its edges.
_RNG = np.random.default_rng(20240611)
CHINA_POINTS = [(float(lon), float(lat)) for lon, lat in zip(
    _RNG.uniform(112.95, 113.45, 50), _RNG.uniform(39.90, 40.25, 50))]
OUTSIDE_POINTS = [
    (2.35, 48.85),      # Paris
    (-74.0, 40.7),      # New York
    (151.2, -33.9),     # Sydney
    (139.9, 35.7),      # Tokyo: east of the box (137.8347 E)
    (113.1, 0.5),       # south of the box (0.8293 N)
    (113.1, 56.0),      # north of the box (55.8271 N)
    (0.0, 0.0),
]
EDGE_POINTS = [(72.01, 30.0), (137.83, 40.0), (100.0, 0.84), (120.0, 55.82)]  # just inside


def test_amap_map_gets_the_crs_and_its_script_after_leaflet() -> None:
    html = render(new_map(bounds=(113.08, 40.04, 113.12, 40.06), basemap="amap"))
    leaflet = html.index('<script src="/static/vendor/leaflet/leaflet.js">')
    script = html.index(f'<script src="/static/{AMAP_CRS_SCRIPT_PATH}">')
    make_map = html.index(f"crs: L.CRS.{AMAP_CRS},")
    assert leaflet < script < make_map  # a classic script: defined before folium's inline script runs
    assert "defer" not in html[script - 20:script + 60]
    for basemap in ("none", "osm"):
        other = render(new_map(bounds=(113.08, 40.04, 113.12, 40.06), basemap=basemap))
        assert "crs: L.CRS.EPSG3857," in other and AMAP_CRS_SCRIPT_PATH not in other


def _crs_page(static_site):
    html = render(new_map(bounds=(113.08, 40.04, 113.12, 40.06), basemap="amap"))
    return static_site({"index.html": html})


@pytest.fixture
def crs_page(browser, open_map, static_site, tmp_path):
    site = _crs_page(static_site)
    tiles = AmapTiles()
    report = open_map(browser, site.url("index.html"), screenshot=tmp_path / "amap-crs.png",
                      wait_for_paths=False, serve_outside=tiles)
    assert report.console_errors == [] and report.page_errors == [] and report.external_requests == []
    assert tiles.requested, "the page asked for no Amap tile"
    return report.page


_EVAL = """points => {
    const crs = L.CRS.GridmapGCJ02, merc = L.CRS.EPSG3857.projection;
    return points.map(([lon, lat]) => {
        const p = crs.projection.project(L.latLng(lat, lon));
        const back = crs.projection.unproject(p);
        // through the whole CRS at a zoom, as Leaflet draws: world pixels and back
        const px = crs.latLngToPoint(L.latLng(lat, lon), 17);
        const back17 = crs.pointToLatLng(px, 17);
        return {x: p.x, y: p.y, lon: back.lng, lat: back.lat, lon17: back17.lng, lat17: back17.lat,
                plainX: merc.project(L.latLng(lat, lon)).x};
    });
}"""


def test_project_unproject_round_trip_and_python_reference(crs_page) -> None:
    page = crs_page
    points = CHINA_POINTS + OUTSIDE_POINTS + EDGE_POINTS
    got = page.evaluate(_EVAL, [list(p) for p in points])
    assert len(got) == len(points) >= 60
    for (lon, lat), r in zip(points, got):
        # the round trip gives the WGS84 point back
        assert abs(r["lon"] - lon) < 1e-7 and abs(r["lat"] - lat) < 1e-7, (lon, lat, r)
        assert abs(r["lon17"] - lon) < 1e-7 and abs(r["lat17"] - lat) < 1e-7, (lon, lat, r)
        # the projected position is EPSG:3857 of geo.crs's GCJ-02 point
        x, y = mercator_m(*wgs84_to_gcj02(lon, lat))
        assert abs(r["x"] - x) < 1e-6 and abs(r["y"] - y) < 1e-6, (lon, lat, r["x"] - x, r["y"] - y)
        shifted = bool(in_china(lon, lat))
        assert shifted == ((lon, lat) not in OUTSIDE_POINTS)
        if not shifted:
            assert r["x"] == r["plainX"]  # outside China: plain EPSG:3857
    # in Datong the shift is hundreds of metres (what the CRS is for)
    x0, y0 = mercator_m(*GAOSHAN)
    x1, y1 = mercator_m(*wgs84_to_gcj02(*GAOSHAN))
    assert 400 < math.hypot(x1 - x0, y1 - y0) < 1000


def test_js_inverse_matches_geo_crs_gcj02_to_wgs84(crs_page) -> None:
    gcj = [wgs84_to_gcj02(lon, lat) for lon, lat in CHINA_POINTS[:20]]
    got = crs_page.evaluate("pts => pts.map(([lon, lat]) => L.Projection.GridmapGCJ02.toWgs84(lon, lat))",
                            [list(p) for p in gcj])
    for (glon, glat), (lon, lat) in zip(gcj, got):
        want = gcj02_to_wgs84(glon, glat)
        assert abs(lon - want[0]) < 1e-9 and abs(lat - want[1]) < 1e-9


def test_map_view_and_bounds_stay_wgs84(crs_page) -> None:
    """setView on a WGS84 point keeps it as the centre, and getBounds() contains it in WGS84 degrees."""
    lon, lat = GAOSHAN
    got = crs_page.evaluate("""([lat, lon]) => {
        const map = Object.values(window).find(v => v instanceof L.Map);
        map.setView([lat, lon], 16, {animate: false});
        const c = map.getCenter(), b = map.getBounds();
        const size = map.getSize();
        return {crs: map.options.crs === L.CRS.GridmapGCJ02, lat: c.lat, lon: c.lng,
                south: b.getSouth(), north: b.getNorth(), west: b.getWest(), east: b.getEast(),
                mid: map.containerPointToLatLng([size.x / 2, size.y / 2])};
    }""", [lat, lon])
    assert got["crs"]
    assert abs(got["lat"] - lat) < 1e-9 and abs(got["lon"] - lon) < 1e-9
    assert got["south"] < lat < got["north"] and got["west"] < lon < got["east"]
    # the container's middle is the WGS84 centre (to the half pixel setView rounds to, ~1 m at z16)
    assert abs(got["mid"]["lat"] - lat) < 2e-5 and abs(got["mid"]["lng"] - lon) < 2e-5
