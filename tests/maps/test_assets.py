"""Vendored assets, localize(), assert_no_cdn() and new_map(): no CDN, ever."""

from __future__ import annotations

import re

import folium
import pytest
from folium.elements import JSCSSMixin
from folium.plugins import FastMarkerCluster, Fullscreen, HeatMap, MarkerCluster

from maps import vendor_assets
from maps.assets import (
    CDN_ASSETS,
    DROPPED,
    STATIC_DIR,
    CdnAssetError,
    assert_no_cdn,
    find_cdn_urls,
    localize,
)
from maps.base import BASEMAPS, new_map, render

FOLIUM_CDN_CLASSES = [folium.Map, MarkerCluster, FastMarkerCluster, HeatMap, Fullscreen]


class _FuturePlugin(JSCSSMixin):
    """A plugin nobody vendored yet."""

    default_js = [("future", "https://cdn.example.org/future-plugin@1.0/future.min.js")]
    default_css = []

    def __init__(self):
        super().__init__()
        self._name = "FuturePlugin"


# ---- the vendor folder ----------------------------------------------------


def test_vendored_files_match_manifest():
    assert vendor_assets.check() == []


def test_every_mapped_asset_exists():
    for url, target in CDN_ASSETS.items():
        if target is not DROPPED:
            assert (STATIC_DIR / target).is_file(), f"{url} -> {target} is not in maps/static"


def test_every_url_folium_emits_for_our_elements_is_mapped():
    for cls in FOLIUM_CDN_CLASSES:
        for _, url in [*cls.default_js, *cls.default_css]:
            assert url in CDN_ASSETS, f"{cls.__name__} emits {url}, missing from maps.assets.CDN_ASSETS"


def test_images_referenced_by_vendored_css_exist():
    for css in (STATIC_DIR / "vendor").rglob("*.css"):
        for ref in re.findall(r"""url\(\s*['"]?([^'")]+)""", css.read_text(encoding="utf-8")):
            if ref.startswith(("data:", "#")):
                continue
            assert (css.parent / ref).is_file(), f"{css.name} refers to missing {ref}"
    # Leaflet's own images, e.g. the layer-control icon and the default marker
    for name in ("layers.png", "layers-2x.png", "marker-icon.png", "marker-icon-2x.png", "marker-shadow.png"):
        assert (STATIC_DIR / "vendor/leaflet/images" / name).is_file()


def test_each_vendored_package_has_its_licence():
    readme = (STATIC_DIR / "vendor" / "README.md").read_text(encoding="utf-8")
    for pkg in vendor_assets.PACKAGES:
        folder = STATIC_DIR / "vendor" / pkg.dest
        assert any(p.name.upper().startswith(("LICENSE", "MIT-LICENCE")) for p in folder.iterdir()), folder
        assert f"npm pack {pkg.name}@{pkg.version}" in readme


# ---- localize ---------------------------------------------------------------


def test_localize_rewrites_folium_defaults_and_plugins():
    m = folium.Map(tiles=None)
    HeatMap([[40.05, 113.1, 1.0]]).add_to(m)
    MarkerCluster().add_to(m)
    Fullscreen().add_to(m)
    localize(m, static_url="/assets/")
    html = m.get_root().render()
    assert find_cdn_urls(html) == []
    for path in (
        "/assets/vendor/leaflet/leaflet.js",
        "/assets/vendor/leaflet/leaflet.css",
        "/assets/vendor/jquery/jquery.min.js",
        "/assets/vendor/leaflet.heat/leaflet-heat.js",
        "/assets/vendor/leaflet.markercluster/leaflet.markercluster.js",
        "/assets/vendor/leaflet.fullscreen/Control.FullScreen.js",
    ):
        assert f'"{path}"' in html
    assert "bootstrap" not in html and "awesome" not in html.lower()


def test_localize_leaves_folium_classes_alone_and_is_idempotent():
    before = list(folium.Map.default_js), list(folium.Map.default_css)
    m = folium.Map(tiles=None)
    localize(m)
    localize(m)
    assert (folium.Map.default_js, folium.Map.default_css) == before
    assert folium.Map(tiles=None).default_js[0][1].startswith("https://")
    assert m.default_js[0] == ("leaflet", "/static/vendor/leaflet/leaflet.js")


def test_localize_raises_on_unknown_cdn_url():
    m = folium.Map(tiles=None)
    folium.FeatureGroup(name="g").add_child(_FuturePlugin()).add_to(m)  # nested, not at the top
    with pytest.raises(CdnAssetError, match=re.escape("https://cdn.example.org/future-plugin@1.0/future.min.js")):
        localize(m)


def test_localize_raises_on_unknown_link_in_header():
    from branca.element import JavascriptLink

    m = folium.Map(tiles=None)
    m.get_root().header.add_child(JavascriptLink("https://unpkg.com/some-lib/dist/lib.js"), name="lib")
    with pytest.raises(CdnAssetError, match="unpkg.com/some-lib"):
        localize(m)


def test_localize_rejects_awesome_marker_icons():
    m = folium.Map(tiles=None)
    folium.Marker([40.05, 113.1], icon=folium.Icon(color="red")).add_to(m)
    with pytest.raises(CdnAssetError, match="folium.DivIcon"):
        localize(m)
    m = folium.Map(tiles=None)
    folium.GeoJson({"type": "FeatureCollection", "features": []}, marker=folium.Marker(icon=folium.Icon())).add_to(m)
    with pytest.raises(CdnAssetError, match="awesome-markers"):
        localize(m)
    m = folium.Map(tiles=None)
    FastMarkerCluster([[40.05, 113.1]]).add_to(m)
    with pytest.raises(CdnAssetError, match="callback"):
        localize(m)


def test_render_refuses_links_added_while_rendering():
    import branca.colormap as cm

    m = new_map(bounds=None)
    cm.LinearColormap(["#ffffff", "#ff0000"], vmin=0, vmax=1).add_to(m)  # adds d3 from a CDN at render time
    with pytest.raises(CdnAssetError, match="d3"):
        render(m)


# ---- assert_no_cdn ----------------------------------------------------------


@pytest.mark.parametrize(
    "snippet",
    [
        '<script src="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"></script>',
        '<link rel="stylesheet" href="http://example.com/a.css"/>',
        '<link rel="icon" href="//example.com/favicon.ico">',
        "<style>@import 'https://fonts.example.com/css';</style>",
        "<style>.x { background: url(https://example.com/a.png) }</style>",
        '<div style="background-image:url(\'https://example.com/b.png\')"></div>',
        '<img src="https://example.com/c.png">',
    ],
)
def test_assert_no_cdn_catches_outside_assets(snippet):
    with pytest.raises(AssertionError, match="example|jsdelivr"):
        assert_no_cdn(f"<html><head>{snippet}</head><body></body></html>")


def test_assert_no_cdn_allows_local_assets_links_and_tile_templates():
    assert_no_cdn(
        '<script src="/static/vendor/leaflet/leaflet.js"></script>'
        '<link rel="stylesheet" href="static/x.css">'
        '<a href="https://www.openstreetmap.org/copyright">OSM</a>'
        '<script>L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png").addTo(m)</script>'
    )


# ---- new_map ---------------------------------------------------------------


@pytest.mark.parametrize("basemap", BASEMAPS)
def test_new_map_basemaps_render_without_cdn(basemap):
    m = new_map(bounds=(113.09, 40.04, 113.11, 40.06), basemap=basemap, tianditu_key="k3y")
    html = render(m)
    assert_no_cdn(html)  # tile URL templates are not assets
    tiles = {"osm": "tile.openstreetmap.org", "tianditu": "tianditu.gov.cn", "amap": "autonavi.com"}
    for name, host in tiles.items():
        assert (host in html) == (basemap == name)
    if basemap == "tianditu":
        assert "tk=k3y" in html and "vec_w" in html and "cva_w" in html
    assert "L.control.scale" in html and "fitBounds" in html


def test_new_map_rejects_bad_settings():
    with pytest.raises(ValueError, match="unknown basemap 'google'"):
        new_map(bounds=None, basemap="google")
    with pytest.raises(ValueError, match="Tianditu"):
        new_map(bounds=None, basemap="tianditu")
    with pytest.raises(ValueError, match="lat/lon order"):
        new_map(bounds=(40.04, 113.09, 40.06, 113.11))
    with pytest.raises(ValueError, match="west <= east"):
        new_map(bounds=(113.11, 40.04, 113.09, 40.06))


def test_new_map_static_url_is_used():
    html = render(new_map(bounds=None, static_url="/gm/static"))
    assert '"/gm/static/vendor/leaflet/leaflet.js"' in html


# ---- the plugins later maps need, in a real browser -------------------------


def test_vendored_plugins_work_in_chromium(browser, open_map, static_site, tmp_path):
    m = new_map(bounds=(113.09, 40.04, 113.11, 40.06))
    HeatMap([[40.05 + i * 0.001, 113.1 + (i % 3) * 0.002, 1.0 + i] for i in range(12)], name="heat").add_to(m)
    cluster = MarkerCluster(name="cluster").add_to(m)
    for lat, lon in [(40.045, 113.095), (40.055, 113.105), (40.058, 113.092)]:
        folium.Marker([lat, lon], popup=folium.Popup("<b>p</b>")).add_to(cluster)  # default icon, jQuery popup
    Fullscreen().add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)  # collapsed: shows layers.png
    html = render(m)
    site = static_site({"map.html": html})
    report = open_map(browser, site.url("map.html"), screenshot=tmp_path / "plugins.png", wait_for_paths=False)
    page = report.page
    assert report.console_errors == [] and report.page_errors == []
    assert report.external_requests == [] and report.failed_responses == []
    assert page.evaluate("typeof L.heatLayer") == "function"
    assert page.evaluate("typeof L.markerClusterGroup") == "function"
    assert page.evaluate("typeof L.control.fullscreen") == "function"
    assert page.evaluate("typeof jQuery") == "function"
    assert page.locator("canvas.leaflet-heatmap-layer").count() == 1
    assert page.locator(".leaflet-control-fullscreen, .leaflet-control-zoom-fullscreen").count() >= 1
    # vendored images really load: default marker icons and the layer-control icon
    icons = page.eval_on_selector_all(
        "img.leaflet-marker-icon", "els => els.map(e => [e.getAttribute('src'), e.naturalWidth])"
    )
    assert icons and all(src.endswith("/static/vendor/leaflet/images/marker-icon.png") and w > 0 for src, w in icons)
    layers_bg = page.eval_on_selector(".leaflet-control-layers-toggle", "e => getComputedStyle(e).backgroundImage")
    assert "/static/vendor/leaflet/images/layers" in layers_bg


@pytest.mark.parametrize("module", ["maps.assets", "maps.base", "maps.overview"])
def test_docstring_examples(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


def test_open_map_blocks_and_records_outside_requests(browser, open_map, static_site, tmp_path):
    """A page that reaches outside (OSM tiles here) is stopped, and the test can see it."""
    m = new_map(bounds=(113.09, 40.04, 113.11, 40.06), basemap="osm")
    folium.CircleMarker([40.05, 113.1], radius=6).add_to(m)
    site = static_site({"osm.html": render(m)})
    report = open_map(browser, site.url("osm.html"), screenshot=tmp_path / "osm.png")
    assert report.external_requests
    assert all(u.startswith("https://tile.openstreetmap.org/") for u in report.external_requests)
    assert report.console_errors == []  # the aborted tiles are reported once, as external requests
    assert report.path_count == 1
