"""Plumbing shared by every gridmap map page.

- :func:`new_map` makes a Leaflet map with the configured basemap, a metric
  scale bar and gridmap's stylesheet, fitted to a lon/lat bounding box.
- :class:`MapPanel` puts an HTML box (title, legend, ...) on the map.
- :func:`render` gives the full HTML page, with every script and stylesheet
  served by the app (see :mod:`maps.assets`); with ``nonce=`` it stamps the
  page's own inline scripts with the response's CSP nonce (:mod:`api.security`),
  so an inline script that came from data never runs.
- :class:`TextTooltip` and :class:`TextPopup`: folium's ``GeoJsonTooltip`` and
  ``GeoJsonPopup`` built with ``textContent`` (folium's write the values as HTML).
- :func:`add_page_assets` gives a page with a script of its own its title,
  stylesheet and scripts, ``gridmap/common.js`` (:data:`COMMON_SCRIPT_PATH`) first.
- :func:`phone_fold` folds a panel's body away on a phone (:data:`PHONE_MAX_WIDTH`), behind a button.

Examples
--------
>>> m = new_map(bounds=(113.08, 40.04, 113.12, 40.06))
>>> html = render(m)
>>> html.startswith("<!DOCTYPE html>") and "/static/vendor/leaflet/leaflet.js" in html
True
>>> page = render(m, nonce="n0nce-for-this-response")
>>> '<script nonce="n0nce-for-this-response">' in page and "<script>" not in page
True
"""

from __future__ import annotations

import html as _html
import math
import re
from collections.abc import Sequence
from urllib.parse import quote

import folium
from branca.element import CssLink, Element, Figure, MacroElement
from folium.elements import JSCSSMixin
from folium.features import GeoJsonPopup, GeoJsonTooltip
from folium.template import Template

from maps.assets import CDN_ASSETS, CdnAssetError, find_cdn_urls, local_url, localize

__all__ = [
    "AMAP_CRS",
    "AMAP_CRS_SCRIPT_PATH",
    "BASEMAPS",
    "COMMON_SCRIPT_PATH",
    "DEFAULT_CENTER",
    "KEYS_SCRIPT_PATH",
    "LayerGroup",
    "MapPanel",
    "WALL_BUTTON",
    "TextPopup",
    "TextTooltip",
    "add_page_assets",
    "new_map",
    "phone_fold",
    "render",
    "script_tags",
]

#: Basemap settings understood by :func:`new_map`.
BASEMAPS = ("none", "osm", "tianditu", "amap")

#: (lat, lon) shown when no bounds are given: Gaoshan Town, Yungang District, Datong.
DEFAULT_CENTER = (40.05, 113.10)
DEFAULT_ZOOM = 14
MAX_ZOOM = 20
_TILE_NATIVE_MAX_ZOOM = 18

#: The Leaflet CRS of the ``amap`` basemap (``L.CRS.GridmapGCJ02``, defined by
#: :data:`AMAP_CRS_SCRIPT_PATH`): EPSG:3857 of GCJ-02, so WGS84 overlays land on the GCJ-02 tiles
#: while every coordinate in the page and on the wire stays WGS84.
AMAP_CRS = "GridmapGCJ02"
AMAP_CRS_SCRIPT_PATH = "gridmap/gcj02.js"

#: Path under ``maps/static/`` of the script that keeps the map's shapes out of the tab order (markers'
#: ``keyboard: false``, paths' ``tabindex="-1"``): a header script of every map (:func:`new_map`).
KEYS_SCRIPT_PATH = "gridmap/keys.js"

#: Path under ``maps/static/`` of what the page scripts share (``window.gridmapCommon``);
#: :func:`add_page_assets` loads it before them.
COMMON_SCRIPT_PATH = "gridmap/common.js"

#: Background of the map where no tiles are drawn ("none" basemap).
NO_BASEMAP_BACKGROUND = "#f2f0eb"

#: The widest window laid out as a phone (CSS pixels): panels fold away behind buttons (:func:`phone_fold`).
PHONE_MAX_WIDTH = 640

#: The wall-screen toggle a panel carries (common.js wires it; ``?screen=wall`` turns the mode on too).
WALL_BUTTON = ('<button type="button" class="gm-wall-toggle" aria-pressed="false" '
               'title="放大面板文字与控件, 供远处观看 Larger panel text and controls, to read from metres away">'
               "大屏 Wall screen</button>")

#: Fonts that render Chinese on Windows, macOS and Linux desktops.
FONT_STACK = (
    '"Helvetica Neue", Arial, "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", '
    '"Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif'
)

GRIDMAP_CSS = f"""
<style>
  /* .folium-map: outranks leaflet.css, which is linked after this block */
  .folium-map.leaflet-container {{ font-family: {FONT_STACK}; font-size: 13px; }}
  .gm-panel {{
    background: rgba(255, 255, 255, 0.93); color: #222; padding: 6px 10px;
    border-radius: 6px; box-shadow: 0 1px 5px rgba(0, 0, 0, 0.35);
    font: 12px/1.45 {FONT_STACK};
  }}
  .gm-topcenter {{
    position: absolute; top: 10px; left: 50%; transform: translateX(-50%);
    z-index: 1000; max-width: 60%; text-align: center;
  }}
  .gm-title h1 {{ font-size: 17px; line-height: 1.3; margin: 0; font-weight: 600; }}
  .gm-title .gm-sub {{ font-size: 12px; color: #555; }}
  .gm-legend h2 {{ font-size: 12px; margin: 4px 0 2px; font-weight: 600; }}
  .gm-legend h2:first-child {{ margin-top: 0; }}
  .gm-legend .gm-row {{ display: flex; align-items: center; gap: 6px; white-space: nowrap; }}
  .gm-swatch {{ display: inline-block; width: 18px; height: 11px; border: 1px solid #666; }}
  .gm-outline {{ display: inline-block; width: 16px; height: 9px; border: 3px solid #333; }}
  .gm-dot {{
    display: inline-block; width: 10px; height: 10px; border-radius: 50%;
    border: 1px solid #fff; box-shadow: 0 0 0 1px #666;
  }}
  .gm-label {{ background: none; border: none; }}
  .gm-label span {{
    position: absolute; transform: translate(-50%, -50%); white-space: nowrap;
    font: 600 12px/1 {FONT_STACK}; color: #1d1d1d;
    text-shadow: 0 0 2px #fff, 0 0 2px #fff, 0 0 3px #fff;
  }}
  .folium-map .leaflet-control-layers-overlays label {{ font-size: 13px; }}
  /* the keyboard (issue 15, item 6): a clear outline on the focused control (#1d4ed8: 6.7:1 on white), and on
     the map itself (inside its edge) */
  .folium-map.leaflet-container :focus-visible {{ outline: 3px solid #1d4ed8; outline-offset: 1px; }}
  .folium-map.leaflet-container:focus-visible {{ outline: 3px solid #1d4ed8; outline-offset: -3px; }}
  /* layers loaded by view (maps/byview.py): what a layer does not show, and why */
  .gm-view-notes {{ background: #fffbe6; color: #3d2e00; padding: 4px 8px; max-width: 28rem;
                    font: 13px/1.4 {FONT_STACK}; }}
  .gm-view-notes p {{ margin: 2px 0; }}
  /* the wall screen (common.js: ?screen=wall or a panel's button): the panels' text and controls scaled */
  :root {{ --gm-scale: 1; }}
  html.gm-wall {{ --gm-scale: 1.5; }}
  .gm-wall-toggle {{
    font: inherit; font-size: calc(14px * var(--gm-scale, 1)); padding: 3px 9px; margin: 0 0 6px; cursor: pointer;
    color: #1f2937; background: #f3f4f6; border: 1px solid #6b7280; border-radius: 4px;
  }}
  .gm-wall-toggle[aria-pressed="true"] {{ color: #fff; background: #1f2937; }}
  @media (max-width: {PHONE_MAX_WIDTH}px) {{ .gm-wall-toggle {{ display: none; }} }}
  /* phone_fold(): the body of a panel folded away on a phone behind a button (a checkbox's label: no script) */
  .gm-fold-toggle, .gm-fold-button {{ display: none; }}
  @media (max-width: {PHONE_MAX_WIDTH}px) {{
    .gm-fold-toggle {{ display: block; position: absolute; width: 1px; height: 1px; margin: 0; opacity: 0;
                       pointer-events: none; }}
    .gm-fold-button {{
      display: inline-flex; align-items: center; gap: 4px; min-height: 36px; padding: 4px 10px;
      box-sizing: border-box; cursor: pointer; user-select: none; font: 600 14px/1.2 {FONT_STACK};
      color: #111; background: #fff; border: 1px solid #8a8a8a; border-radius: 4px;
    }}
    .gm-fold-button::after {{ content: "\\25BE"; }}
    .gm-fold-toggle:checked + .gm-fold-button::after {{ content: "\\25B4"; }}
    .gm-fold-toggle:focus-visible + .gm-fold-button {{ outline: 3px solid #2b5fad; outline-offset: 1px; }}
    .gm-fold-toggle:not(:checked) ~ .gm-fold-body {{ display: none; }}
    .gm-panel:has(> .gm-fold-toggle:not(:checked)) {{ padding: 4px; }}
    /* the overview's title: bottom left, above the scale bar, clear of the layer control (top right) */
    .gm-topcenter.gm-title {{ top: auto; bottom: 30px; left: 10px; transform: none; box-sizing: border-box;
                              max-width: calc(100% - 170px); text-align: left; padding: 4px 8px; }}
    .gm-title h1 {{ font-size: 15px; }}
  }}
</style>
"""


class MapPanel(MacroElement):
    """An HTML box on the map: a Leaflet control in a corner, or centred at the top.

    Parameters
    ----------
    html : str
        Trusted HTML (escape anything that came from data).
    position : str
        ``topleft``, ``topright``, ``bottomleft``, ``bottomright`` (a Leaflet
        control) or ``topcenter``.
    class_name : str
        Extra CSS classes; every panel has ``gm-panel``.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function (map) {
            function make(parent) {
                var div = L.DomUtil.create("div", {{ this.css_class|tojson }}, parent);
                div.innerHTML = {{ this.html|tojson }};
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            }
            {%- if this.position == "topcenter" %}
            return make(map.getContainer());
            {%- else %}
            var control = L.control({ position: {{ this.position|tojson }} });
            control.onAdd = function () { return make(); };
            control.addTo(map);
            return control;
            {%- endif %}
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    POSITIONS = ("topleft", "topright", "bottomleft", "bottomright", "topcenter")

    def __init__(self, html: str, *, position: str = "bottomright", class_name: str = ""):
        super().__init__()
        if position not in self.POSITIONS:
            raise ValueError(f"position must be one of {', '.join(self.POSITIONS)}, not {position!r}")
        self._name = "MapPanel"
        self.html = html
        self.position = position
        extra = " gm-topcenter" if position == "topcenter" else ""
        self.css_class = f"gm-panel {class_name}".strip() + extra


def phone_fold(body: str, *, key: str, label: str, head: str = "") -> str:
    """A panel's HTML whose *body* folds away on a phone (``max-width`` :data:`PHONE_MAX_WIDTH`) behind a
    button named *label* (folded at first; a tap opens it); *head* stays in view. On a wider screen the
    button is not shown and *body* always is. *key* makes the toggle's ``id`` (``gm-fold-<key>``): one per page.

    >>> html = phone_fold("<p>rows</p>", key="legend", label="图例 Legend")
    >>> 'id="gm-fold-legend"' in html and 'for="gm-fold-legend"' in html and '<div class="gm-fold-body"><p>' in html
    True
    """
    ident = f"gm-fold-{key}"
    return (f'{head}<input type="checkbox" class="gm-fold-toggle" id="{ident}">'
            f'<label class="gm-fold-button" for="{ident}">{_html.escape(label)}</label>'
            f'<div class="gm-fold-body">{body}</div>')


class _ScaleBar(MacroElement):
    _template = Template(
        """
        {% macro script(this, kwargs) %}
        L.control.scale({ metric: true, imperial: false, maxWidth: 160 })
            .addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self):
        super().__init__()
        self._name = "ScaleBar"


class _CrsScript(JSCSSMixin, MacroElement):
    """Loads the script that defines a map CRS (``L.CRS.<name>``) as a classic header script: after
    leaflet.js (folium adds a child's links after the map's) and before folium's inline script, which
    makes the map with ``crs: L.CRS.<name>``."""

    _template = Template("")

    def __init__(self, path: str, *, static_url: str):
        super().__init__()
        self._name = "CrsScript"
        self.default_js = [("gridmap_crs", local_url(path, static_url))]


class _KeysScript(JSCSSMixin, MacroElement):
    """Loads :data:`KEYS_SCRIPT_PATH` as a classic header script: after leaflet.js, before folium's inline
    script makes the markers and paths, so they are made out of the tab order."""

    _template = Template("")

    def __init__(self, *, static_url: str):
        super().__init__()
        self._name = "KeysScript"
        self.default_js = [("gridmap_keys", local_url(KEYS_SCRIPT_PATH, static_url))]


class _FitBounds(MacroElement):
    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.fitBounds(
            {{ this.bounds|tojson }},
            { padding: [24, 24], maxZoom: {{ this.max_zoom|tojson }}, animate: false }
        );
        {% endmacro %}
        """
    )

    def __init__(self, bounds, max_zoom: int):
        super().__init__()
        self._name = "FitBounds"
        self.bounds = bounds
        self.max_zoom = max_zoom


def _check_bounds(bounds) -> tuple[float, float, float, float]:
    try:
        west, south, east, north = (float(v) for v in bounds)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"bounds must be (west, south, east, north) in degrees lon/lat, got {bounds!r}"
        ) from exc
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        raise ValueError(f"bounds must be finite numbers, got {bounds!r}")
    if abs(south) > 90 or abs(north) > 90:
        hint = ""
        if abs(west) <= 90 and abs(east) <= 90 and abs(south) <= 180 and abs(north) <= 180:
            hint = " (it looks like lat/lon order: pass lon first, as shapely's .bounds gives)"
        raise ValueError(f"bounds latitude out of range [-90, 90]: {bounds!r}{hint}")
    if abs(west) > 180 or abs(east) > 180:
        raise ValueError(f"bounds longitude out of range [-180, 180]: {bounds!r}")
    if west > east or south > north:
        raise ValueError(f"bounds must be (west, south, east, north) with west <= east and south <= north: {bounds!r}")
    return west, south, east, north


def _tile_layers(basemap: str, tianditu_key: str) -> list[folium.TileLayer]:
    common = {"control": False, "max_zoom": MAX_ZOOM, "max_native_zoom": _TILE_NATIVE_MAX_ZOOM}
    if basemap == "none":
        return []
    if basemap == "osm":
        return [
            folium.TileLayer(
                tiles="https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                attr='&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
                name="OpenStreetMap",
                **common,
            )
        ]
    if basemap == "tianditu":
        if not tianditu_key:
            raise ValueError(
                "basemap 'tianditu' needs a Tianditu browser key (tianditu_key; setting "
                "GRIDMAP_TIANDITU_KEY): get one at console.tianditu.gov.cn, or use basemap 'none'"
            )
        # Tianditu's *_w layers are Web-Mercator tiles in CGCS2000, which equals
        # WGS84 at map scale: overlays need no shift.
        tk = quote(tianditu_key, safe="")
        wmts = (
            "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
            "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
            "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={tk}"
        )
        attr = '&copy; <a href="https://www.tianditu.gov.cn/">天地图 Tianditu</a>'
        return [
            folium.TileLayer(
                tiles=wmts.format(s="{s}", layer=layer, tk=tk),
                attr=attr,
                name=name,
                subdomains="01234567",
                overlay=layer == "cva",
                **common,
            )
            for layer, name in (("vec", "天地图 矢量"), ("cva", "天地图 注记"))
        ]
    if basemap == "amap":
        # Amap (高德) tiles are in GCJ-02, a few hundred metres from WGS84 in
        # China: new_map() gives the map the CRS L.CRS.GridmapGCJ02 (AMAP_CRS),
        # which draws the WGS84 overlays at their GCJ-02 place on the tiles.
        return [
            folium.TileLayer(
                tiles="https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
                attr='&copy; <a href="https://www.amap.com/">高德地图 AutoNavi</a>',
                name="高德地图 Amap",
                subdomains="1234",
                **common,
            )
        ]
    raise ValueError(f"unknown basemap {basemap!r}: choose one of {', '.join(BASEMAPS)}")


def new_map(
    *,
    bounds: tuple[float, float, float, float] | None,
    basemap: str = "none",
    tianditu_key: str = "",
    static_url: str = "/static",
) -> folium.Map:
    """A Leaflet map with gridmap's basemap, scale bar and styles.

    Parameters
    ----------
    bounds : (west, south, east, north) or None
        WGS84 lon/lat box to fit (the order of shapely's ``.bounds``); None
        centres on Gaoshan Town (:data:`DEFAULT_CENTER`).
    basemap : {"none", "osm", "tianditu", "amap"}
        ``none`` draws no tiles (a neutral background; works offline);
        ``tianditu`` needs *tianditu_key*; ``amap`` tiles are GCJ-02, so the
        map gets the CRS :data:`AMAP_CRS`, which draws the WGS84 overlays
        where the GCJ-02 tiles have them (data, events and requests stay WGS84).
    tianditu_key : str
        Tianditu browser key, for ``basemap="tianditu"``.
    static_url : str
        Where the app serves ``maps/static/``; vendored scripts load from there.

    Returns
    -------
    folium.Map
        Already localized (no CDN links); add layers, then :func:`render`.

    Raises
    ------
    ValueError
        Unknown basemap, missing Tianditu key, or bounds out of range/order.
    """
    tiles = _tile_layers(basemap, tianditu_key)  # validates basemap first
    box = _check_bounds(bounds) if bounds is not None else None
    if box is None:
        location, zoom = DEFAULT_CENTER, DEFAULT_ZOOM
    else:
        west, south, east, north = box
        location, zoom = ((south + north) / 2, (west + east) / 2), DEFAULT_ZOOM
    m = folium.Map(
        location=location,
        zoom_start=zoom,
        tiles=None,
        control_scale=False,
        crs=AMAP_CRS if basemap == "amap" else "EPSG3857",
        maxZoom=MAX_ZOOM,  # folium's max_zoom only reaches its default tile layer
    )
    m._gridmap_basemap = basemap
    if basemap == "amap":
        _CrsScript(AMAP_CRS_SCRIPT_PATH, static_url=static_url).add_to(m)
    _KeysScript(static_url=static_url).add_to(m)
    root = m.get_root()
    root.header.add_child(Element(GRIDMAP_CSS), name="gridmap_css")
    if basemap == "none":
        root.header.add_child(
            Element(f"<style>#{m.get_name()} {{ background: {NO_BASEMAP_BACKGROUND}; }}</style>"),
            name="gridmap_nobasemap",
        )
    for layer in tiles:
        layer.add_to(m)
    _ScaleBar().add_to(m)
    if box is not None:
        west, south, east, north = box
        _FitBounds([[south, west], [north, east]], max_zoom=18).add_to(m)
    localize(m, static_url=static_url)
    return m


# an inline script's opening tag (scripts with a src come from /static, which the CSP's 'self' allows)
_INLINE_SCRIPT_TAG = re.compile(r"<script\b(?![^>]*\bsrc=)", re.I)
_NONCE = re.compile(r"^[A-Za-z0-9+/_=-]{8,}$")


def _figure_html(root: Figure, nonce: str) -> str:
    """``root.render()`` (branca's ``Figure``), with *nonce* on the page's own scripts only.

    The scripts of a folium page are the header's (script links and folium's own small inline
    block: the header holds only the builders' elements, never data) and the one block at the
    end that makes the map and its layers, where every value from data is JSON with ``<`` escaped.
    The nonce is written here, by the template, never by searching the page: a ``<script>`` that
    data smuggled into the page (the body, a panel, a broken escape) gets none, so the CSP keeps
    it from running.
    """
    for child in root._children.values():
        child.render()
    header = _INLINE_SCRIPT_TAG.sub(f'<script nonce="{nonce}"', root.header.render())
    title = f"<title>{root.title}</title>" if root.title else ""
    return (
        "<!DOCTYPE html>\n<html>\n<head>\n"
        f"{title}    {header}\n</head>\n<body>\n    {root.html.render()}\n</body>\n"
        f'<script nonce="{nonce}">\n    {root.script.render()}\n</script>\n</html>\n'
    )


def render(m: folium.Map | folium.Figure, *, static_url: str | None = None, nonce: str | None = None) -> str:
    """The full HTML page of a map, with every asset served by the app.

    Localizes again first (elements added since :func:`new_map` are covered),
    with *static_url* or, if None, the one the map was localized with.

    *nonce*: the response's Content-Security-Policy nonce (``api.security.csp_nonce``); the
    page's own scripts carry it and nothing else does (see :func:`_figure_html`). Without one
    the scripts carry none (a page saved to a file, the tests' static pages).

    Raises
    ------
    CdnAssetError
        If the page would still load a script or stylesheet from outside
        (e.g. an element that adds links while rendering).
    ValueError
        If *nonce* is not a base64 token.
    """
    root = m.get_root()
    if static_url is None:
        static_url = getattr(root, "_gridmap_static_url", "/static")
    localize(root, static_url=static_url)
    if nonce is None:
        html = root.render()
    else:
        if not _NONCE.match(nonce):
            raise ValueError(f"a CSP nonce is a base64 token of 8 or more characters, got {nonce!r}")
        html = _figure_html(root, nonce)
    # Some elements (branca colormaps) add their links while rendering, after
    # localize() ran: rewrite those that are vendored in the page itself.
    for url in find_cdn_urls(html):
        target = CDN_ASSETS.get(url)
        if target is not None:
            html = html.replace(f'"{url}"', f'"{local_url(target, static_url)}"')
    outside = find_cdn_urls(html)
    if outside:
        raise CdnAssetError(
            "the rendered page would load from outside the app: "
            + ", ".join(outside)
            + ". Vendor these (maps/vendor_assets.py) and map them in maps.assets.CDN_ASSETS."
        )
    return html


# The content function of TextTooltip and TextPopup: a table of the fields, every value and alias
# written with textContent (folium's GeoJsonDetail joins them into a string set as innerHTML, so a
# camera named "<img src=x onerror=...>" became an element).
_TEXT_DETAIL = """
    function (layer) {
        var div = L.DomUtil.create("div");
        var fields = {{ this.fields | tojson }};
        var aliases = {{ this.aliases | tojson }};
        var table = L.DomUtil.create("table", "", div);
        var props = (layer.feature && layer.feature.properties) || {};
        fields.forEach(function (field, i) {
            var value = props[field];
            if (value === null || value === undefined) value = "";
            else if (typeof value === "object") value = JSON.stringify(value);
            {%- if this.localize %}
            else if (typeof value === "number") value = value.toLocaleString();
            {%- endif %}
            var tr = L.DomUtil.create("tr", "", table);
            {%- if this.labels %}
            L.DomUtil.create("th", "", tr).textContent = String(aliases[i]);
            {%- endif %}
            L.DomUtil.create("td", "", tr).textContent = String(value);
        });
        return div;
    }
"""


def _loads_by_view(detail: MacroElement) -> bool:
    """Whether *detail*'s GeoJson is empty in the page and loaded by view (maps/byview.py)."""
    return "gm_source" in getattr(detail._parent, "options", {})


class TextTooltip(GeoJsonTooltip):
    """``folium.GeoJsonTooltip`` whose values (and aliases) are text, never HTML. Same arguments.

    On a layer loaded by view (empty in the page), folium's check that the fields are in the
    data is skipped: the data comes later."""

    def render(self, **kwargs: object) -> None:
        if _loads_by_view(self):
            MacroElement.render(self, **kwargs)
        else:
            super().render(**kwargs)

    _template = Template(
        "{% macro script(this, kwargs) %}\n"
        "{{ this._parent.get_name() }}.bindTooltip(" + _TEXT_DETAIL + ", {{ this.tooltip_options | tojavascript }});\n"
        "{% endmacro %}"
    )


class TextPopup(GeoJsonPopup):
    """``folium.GeoJsonPopup`` whose values (and aliases) are text, never HTML. Same arguments (and as
    :class:`TextTooltip` on a layer loaded by view)."""

    def render(self, **kwargs: object) -> None:
        if _loads_by_view(self):
            MacroElement.render(self, **kwargs)
        else:
            super().render(**kwargs)

    _template = Template(
        "{% macro script(this, kwargs) %}\n"
        "{{ this._parent.get_name() }}.bindPopup(" + _TEXT_DETAIL + ", {{ this.popup_options | tojavascript }});\n"
        "{% endmacro %}"
    )


class LayerGroup(folium.FeatureGroup):
    """A FeatureGroup whose options reach Leaflet.

    folium 0.20's FeatureGroup renders ``L.featureGroup(options)``, but Leaflet's first
    argument is the layers, so the options (``gmLayer``) are dropped; this passes them second.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.featureGroup(null, {{ this.options|tojavascript }});
        {% endmacro %}
        """
    )


def script_tags(paths: Sequence[str], static_url: str) -> str:
    """``<script defer>`` tags of files under ``maps/static/`` served at *static_url*, to run in this order.

    Deferred scripts run once the page is parsed, after the classic scripts
    (leaflet.js, its plugins, folium's inline script that makes the map and layers).
    """
    return "".join(f'<script defer src="{_html.escape(local_url(path, static_url))}"></script>' for path in paths)


def add_page_assets(
    m: folium.Map,
    *,
    page: str,
    title: str,
    stylesheet: str,
    scripts: Sequence[str],
    static_url: str,
) -> None:
    """Gives the page of *m* its *title*, *stylesheet* and *scripts* (paths under ``maps/static/``).

    The scripts are deferred, in order, after ``gridmap/common.js`` (:data:`COMMON_SCRIPT_PATH`),
    which they use. The header elements are named ``gridmap_<page>_css`` and ``gridmap_<page>_js``.
    *title* is written as it is (branca does not escape it): escape what came from data.
    """
    root = m.get_root()
    root.title = title
    root.header.add_child(CssLink(local_url(stylesheet, static_url)), name=f"gridmap_{page}_css")
    root.header.add_child(Element(script_tags((COMMON_SCRIPT_PATH, *scripts), static_url)), name=f"gridmap_{page}_js")
