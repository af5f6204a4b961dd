"""The lookup map (``/maps/lookup``): which grid is this point or address in?

The page draws the published grids lightly (filled by community, the grid
number faintly inside each) and the building footprints, plus a search panel
(top left): type an address or click the map, and the grid is highlighted and
described (code, name, community, grid member, households, population, the
building, the plan). All the behaviour is in ``maps/static/gridmap/lookup.js``
(loaded with ``<script defer>`` after folium's own script), which calls the
JSON API with the page's session cookie:

- a map click -> ``GET /v1/lookup?lon=&lat=``;
- an address -> ``GET /v1/lookup/address?q=``; ambiguous answers (several
  candidates, or a 404 ``no_match`` with candidates) are listed as clickable rows.

How the script finds what folium drew (no inline JavaScript of gridmap's own;
``gridmapCommon.findPage`` in ``maps/static/gridmap/common.js``, which every
page script shares and is loaded just before it):

- the Leaflet map: the one ``L.Map`` among ``window``'s properties (folium
  declares ``var map_<id> = L.map(...)`` at the top level of a classic script);
- the layers: the ``L.GeoJSON`` instances whose option ``gmLayer`` is
  :data:`GRIDS_LAYER` or :data:`BUILDINGS_LAYER` (folium passes a GeoJson's
  extra keyword arguments through as Leaflet options, ``gm_layer`` -> ``gmLayer``);
- its settings: ``data-*`` attributes of the panel's root element ``#gm-lookup``.

The script publishes ``window.gridmapLookup`` (``highlighted()`` -> grid code or
null, ``map``, ``grids``, ``buildings``, ``ready``) for tests.

Examples
--------
>>> from shapely.geometry import box, mapping
>>> fc = lambda *feats: {"type": "FeatureCollection", "features": list(feats)}
>>> feat = lambda geom, **props: {"type": "Feature", "geometry": mapping(geom), "properties": props}
>>> m = build_lookup_map(
...     grids=fc(feat(box(113.1, 40.05, 113.11, 40.06), code="140214101001001", name="第1网格",
...                   community_code="140214101001", households=230, population=480)),
...     buildings=fc(feat(box(113.101, 40.051, 113.102, 40.0515), code="140214101001-01",
...                       address="春安新区1号楼", grid_code="140214101001001")),
...     bounds=(113.1, 40.05, 113.11, 40.06),
... )
>>> html = render(m)
>>> '<script defer src="/static/gridmap/lookup.js"></script>' in html and "cdn.jsdelivr.net" not in html
True
>>> '"gmLayer": "grids"' in html and "gm-lookup-card" in html
True
"""

from __future__ import annotations

import html as _html

import folium

from maps.assets import localize
from maps.base import MapPanel, add_page_assets, new_map, render
from maps.byview import StyleRule, ViewSource, add_view_loading, geojson_layer, is_by_view
from maps.layers import add_grid_labels, slim
from maps.overview import COMMUNITY_PALETTE

__all__ = [
    "BUILDINGS_LAYER",
    "GRIDS_LAYER",
    "PANEL_ID",
    "SCRIPT_PATH",
    "STYLESHEET_PATH",
    "build_lookup_map",
    "render",
]

#: ``options.gmLayer`` of the grids' and the buildings' ``L.GeoJSON`` layers.
GRIDS_LAYER = "grids"
BUILDINGS_LAYER = "buildings"

#: Paths under ``maps/static/`` (served at the map's ``static_url``).
SCRIPT_PATH = "gridmap/lookup.js"
STYLESHEET_PATH = "gridmap/lookup.css"

#: ``id`` of the search panel's root element (lookup.js reads its ``data-*`` settings).
PANEL_ID = "gm-lookup"

_GRID_FIELDS = (
    "code", "name", "community_code", "community_name", "households", "population",
    "buildings", "units", "grid_member", "grid_member_phone",
)  # fmt: skip
_BUILDING_FIELDS = ("code", "name", "address", "community_code", "grid_code", "floors", "units", "households")

#: Where the grids and buildings come from when they are loaded by view (maps/byview.py).
VIEW_SOURCES = {
    "grids": ViewSource("grids", label="网格 Grids", budget=2_000,
                        properties=(*_GRID_FIELDS, "label_lon", "label_lat")),
    "buildings": ViewSource("buildings", label="楼栋 Buildings", budget=3_000, properties=_BUILDING_FIELDS),
}
#: Communities the legend names (a city has hundreds).
_LEGEND_COMMUNITIES = 12
_GRID_STYLE = {"fillOpacity": 0.28, "color": "#7a7a7a", "weight": 1, "opacity": 0.8}
_BUILDING_STYLE = StyleRule({"fillColor": "#9e9e9e", "fillOpacity": 0.6, "color": "#6b6b6b", "weight": 0.8})


def community_names(grids: list[dict]) -> dict[str, str | None]:
    """Community name by code, of the communities *grids* (GeoJSON features) lie in."""
    return {str(f["properties"].get("community_code")): f["properties"].get("community_name") for f in grids
            if f["properties"].get("community_code") is not None}


def community_colours(names: dict[str, str | None]) -> dict[str, str]:
    """Grid fill colour by community code, assigned as on the overview map (sorted codes)."""
    return {code: COMMUNITY_PALETTE[i % len(COMMUNITY_PALETTE)] for i, code in enumerate(sorted(names))}


def _legend_html(names: dict[str, str | None], colours: dict[str, str]) -> str:
    listed = list(colours.items())
    items = "".join(
        f'<span class="gm-lookup-key"><span class="gm-swatch" style="background:{colour}"></span>'
        f"{_html.escape(str(names.get(code) or code))}</span>"
        for code, colour in listed[:_LEGEND_COMMUNITIES]
    )
    if len(listed) > _LEGEND_COMMUNITIES:
        items += f'<span class="gm-lookup-key">… 另 {len(listed) - _LEGEND_COMMUNITIES:,} 个社区 more</span>'
    return f'<div class="gm-lookup-legend" aria-label="社区 Communities">{items}</div>' if items else ""


def _panel_html(*, api_base: str, title: str, legend: str = "",
                bounds: tuple[float, float, float, float] | None = None) -> str:
    """The search panel: trusted, static HTML (data escaped); lookup.js fills the card with textContent only."""
    esc = _html.escape
    box = f' data-bounds="{",".join(f"{v:.6f}" for v in bounds)}"' if bounds else ""
    return (
        f'<div id="{PANEL_ID}" class="gm-lookup" data-api-base="{esc(api_base)}"{box}>'
        f'<h1 class="gm-lookup-title">{esc(title)}</h1>'
        '<form class="gm-lookup-form" role="search" autocomplete="off">'
        '<label for="gm-lookup-q">地址 Address</label>'
        '<div class="gm-lookup-row">'
        '<input id="gm-lookup-q" name="q" type="search" maxlength="200" '
        'placeholder="例 e.g. 春安新区3号楼2单元">'
        '<button id="gm-lookup-go" type="submit">查询 Search</button>'
        "</div></form>"
        '<div class="gm-lookup-hint">或点击地图 Or click the map</div>'
        f"{legend}"
        '<div id="gm-lookup-card" class="gm-card" aria-live="polite" hidden></div>'
        "</div>"
    )


def build_lookup_map(
    *,
    grids: dict | ViewSource,
    buildings: dict | ViewSource,
    bounds: tuple[float, float, float, float] | None,
    communities: dict[str, str | None] | None = None,
    basemap: str = "none",
    tianditu_key: str = "",
    static_url: str = "/static",
    api_base: str = "/v1",
    title: str = "网格查询 Grid lookup",
) -> folium.Map:
    """The lookup map: light grids and buildings, a search panel, and lookup.js.

    Parameters
    ----------
    grids : dict
        GeoJSON FeatureCollection (WGS84) of the published grids, as
        ``GET /v1/grids`` gives it. Properties used: ``code, name,
        community_code, community_name, households, population, buildings,
        units, grid_member, grid_member_phone``.
    buildings : dict
        GeoJSON FeatureCollection of the buildings (``code, name, address,
        community_code, grid_code, floors, units, households``); the script
        zooms to and outlines the matched building, and finds the grid of an
        address candidate by its building when the API gives no ``grid_code``.
        Either may be a :class:`maps.byview.ViewSource` (:data:`VIEW_SOURCES`): loaded by view.
    bounds : (west, south, east, north) or None
        Box to fit, lon/lat.
    communities : dict, optional
        Community name by code, for the legend and the colours; needed when the grids are loaded
        by view, else taken from the grids.
    basemap, tianditu_key, static_url
        As for :func:`maps.base.new_map`.
    api_base : str
        URL prefix of the JSON API the page calls (same origin; the session
        cookie authenticates).
    title : str
        Page title and the panel's heading.

    Returns
    -------
    folium.Map
        Localized; :func:`render` gives the page.
    """
    grid_feats = grids if is_by_view(grids) else add_grid_labels(slim(grids, _GRID_FIELDS, "grids"))
    building_feats = buildings if is_by_view(buildings) else slim(buildings, _BUILDING_FIELDS, "buildings")
    if communities is None:
        if is_by_view(grid_feats):
            raise ValueError("communities (code -> name) are needed when the grids are loaded by view")
        communities = community_names(grid_feats)
    colours = community_colours(communities)
    grid_style = StyleRule(_GRID_STYLE, by="community_code", values={c: {"fillColor": v} for c, v in colours.items()},
                           fallback={"fillColor": "#cccccc"})

    m = new_map(bounds=bounds, basemap=basemap, tianditu_key=tianditu_key, static_url=static_url)
    add_page_assets(m, page="lookup", title=title, stylesheet=STYLESHEET_PATH, scripts=(SCRIPT_PATH,),
                    static_url=static_url)

    # Grids: light fills by community, thin outlines; not interactive, so every
    # click reaches the map (lookup.js asks the API, never guesses in the browser).
    geojson_layer(grid_feats, gm_layer=GRIDS_LAYER, style=grid_style, control=False, interactive=False).add_to(m)
    geojson_layer(building_feats, gm_layer=BUILDINGS_LAYER, style=_BUILDING_STYLE, control=False,
                  interactive=False).add_to(m)
    if is_by_view(grid_feats) or is_by_view(building_feats):
        add_view_loading(m, static_url=static_url)

    panel = _panel_html(api_base=api_base, title=title, legend=_legend_html(communities, colours), bounds=bounds)
    MapPanel(panel, position="topleft", class_name="gm-lookup-panel").add_to(m)
    localize(m, static_url=static_url)
    return m
