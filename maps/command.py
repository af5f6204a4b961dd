"""The command-centre map (``/maps/command``): incident heat, Gi* hot spots and incidents over time.

The page embeds only what does not change with the filters: the published
grids (thin outlines, the grid number faintly inside each) and the building
footprints. Everything that depends on the time window and the categories is
fetched by ``maps/static/gridmap/command.js`` from the JSON API (same origin;
the page's session cookie authenticates):

- the heatmap: ``GET /v1/heatmap?format=points`` (kernel density, weighted
  lattice points) drawn with Leaflet.heat, and ``format=weekly`` frames on one
  lattice for the week slider (play / pause animates them);
- the hot spots: ``GET /v1/hotspots`` (Getis–Ord Gi*, optional FDR), the
  significant cells coloured by class; not-significant cells are not drawn;
- the incidents: ``GET /v1/incidents`` as circle markers coloured by workflow
  state in a Leaflet.markercluster group, with a popup each.

The layers sit in the layer control as folium placeholders (an empty
``L.featureGroup`` for the heat and the hot spots, an empty
``L.markerClusterGroup`` for the incidents) that the script fills; it finds
them, the grids and the map as every page script does (``gridmapCommon.findPage``
in ``common.js``): the ``L.Map`` among ``window``'s properties, and the layers by
their ``options.gmLayer`` (folium passes ``gm_layer=...`` through as a Leaflet
option). Its settings are ``data-*`` attributes of the control panel's root
``#gm-command``.

The script publishes ``window.gridmapCommand`` for tests: ``state()`` (filters,
frame index, counts drawn), ``ready``, ``map`` and the layers.

Examples
--------
>>> from shapely.geometry import box, mapping
>>> fc = lambda *feats: {"type": "FeatureCollection", "features": list(feats)}
>>> feat = lambda geom, **props: {"type": "Feature", "geometry": mapping(geom), "properties": props}
>>> m = build_command_map(
...     grids=fc(feat(box(113.1, 40.05, 113.11, 40.06), code="140214101001001", name="第1网格")),
...     buildings=fc(),
...     bounds=(113.1, 40.05, 113.11, 40.06),
...     months=("2025-12", "2026-11"),
... )
>>> html = render(m)
>>> '<script defer src="/static/gridmap/command.js"></script>' in html and "cdn.jsdelivr.net" not in html
True
>>> '"gmLayer": "heat"' in html and '"gmLayer": "incidents"' in html and "gm-cmd-week-slider" in html
True
>>> default_window(("2025-12", "2026-11"))
('2026-09', '2026-11')
"""

from __future__ import annotations

import html as _html
import json
import re

import folium
from folium.plugins import MarkerCluster

from geo import messages
from geo.vocabulary import INCIDENT_CATEGORIES
from maps.assets import localize
from maps.base import WALL_BUTTON, LayerGroup, MapPanel, add_page_assets, new_map, phone_fold, render
from maps.byview import StyleRule, ViewSource, add_view_loading, geojson_layer, is_by_view
from maps.layers import add_grid_labels, slim

__all__ = [
    "BANDWIDTH_M",
    "CATEGORY_LABELS",
    "HEAT_CELL_M",
    "HOTSPOT_CELL_M",
    "HOTSPOT_CLASSES",
    "LAYER_NAMES",
    "PANEL_ID",
    "SCRIPT_PATH",
    "STATE_COLOURS",
    "STYLESHEET_PATH",
    "VIEW_INCIDENTS",
    "VIEW_SOURCES",
    "WEEKLY_CELL_M",
    "build_command_map",
    "default_window",
    "render",
]

#: Paths under ``maps/static/`` (served at the map's ``static_url``).
SCRIPT_PATH = "gridmap/command.js"
STYLESHEET_PATH = "gridmap/command.css"
HEAT_SCRIPT_PATH = "vendor/leaflet.heat/leaflet-heat.js"

#: ``id`` of the control panel's root element (command.js reads its ``data-*`` settings).
PANEL_ID = "gm-command"

#: Layer names in the layer control (in its order), by ``gmLayer``.
LAYER_NAMES = {
    "buildings": "楼栋 Buildings",
    "grids": "网格 Grids",
    "heat": "热力图 Heatmap",
    "hotspots": "热点 Hot spots (Gi*)",
    "incidents": "事件 Incidents",
}

#: Parameters of the API calls the page makes (the tests ask the API with the same ones).
BANDWIDTH_M = 50  # kernel sigma of both heatmaps, metres
HEAT_CELL_M = 10  # lattice of the whole-window heatmap
WEEKLY_CELL_M = 20  # lattice of the weekly frames (4x fewer points per frame to ship)
HOTSPOT_CELL_M = 100  # Gi* cell size

#: Incident categories (the API's names) with their bilingual labels, Chinese first (geo/messages.py).
CATEGORY_LABELS = {cat: messages.label(f"category.{cat}") for cat in INCIDENT_CATEGORIES}
#: "category.subcategory" -> its bilingual label, for the incidents' popups.
SUBCATEGORY_LABELS = {f"{cat}.{sub}": messages.label(f"category.{cat}.{sub}")
                      for cat, subs in INCIDENT_CATEGORIES.items() for sub in subs}
#: Gi* class -> what its tooltip says ("显著热点 99 % significant hot spot"), from the catalogue.
HOTSPOT_TIPS = messages.labels("hotspot.")

#: Hot-spot classes: (class, label, fill colour); ArcGIS Hot Spot Analysis' colours.
HOTSPOT_CLASSES = (
    ("hot_99", "热点 Hot 99%", "#d62f27"),
    ("hot_95", "热点 Hot 95%", "#ed7551"),
    ("hot_90", "热点 Hot 90%", "#fab984"),
    ("cold_90", "冷点 Cold 90%", "#c0ccbe"),
    ("cold_95", "冷点 Cold 95%", "#849eba"),
    ("cold_99", "冷点 Cold 99%", "#4575b5"),
)

#: Incident workflow states: (state, bilingual label, dot colour).
STATE_COLOURS = (
    ("reported", "已上报 reported", "#e7298a"),
    ("accepted", "已受理 accepted", "#7570b3"),
    ("assigned", "已交办 assigned", "#1f78b4"),
    ("assisting", "协办中 assisting", "#1b9e77"),
    ("closed", "已办结 closed", "#6b6b6b"),
    ("rejected", "不予受理 rejected", "#a6761d"),
    ("duplicate", "重复 duplicate", "#bdbdbd"),
)

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_GRID_FIELDS = ("code", "name", "community_code", "community_name")
_BUILDING_FIELDS = ("code", "name", "grid_code")

#: Where the grids and buildings come from when the town is too big to embed them (a city's); the
#: incidents, heat and hot spots then follow the view too (command.js sends ``bbox``).
VIEW_SOURCES = {
    "grids": ViewSource("grids", label=LAYER_NAMES["grids"], budget=2_000,
                        properties=(*_GRID_FIELDS, "label_lon", "label_lat")),
    "buildings": ViewSource("buildings", label=LAYER_NAMES["buildings"], budget=3_000, properties=_BUILDING_FIELDS),
}
#: By view: the most incidents drawn as markers at once (one /v1/incidents page).
VIEW_INCIDENTS = 5_000
_BUILDING_STYLE = StyleRule({"fillColor": "#b9b6ae", "fillOpacity": 0.55, "color": "#9a968c", "weight": 0.6})
_GRID_STYLE = StyleRule({"color": "#3d3d3d", "weight": 1, "opacity": 0.75, "fill": False})


def _month_index(month: str) -> int:
    m = _MONTH.match(str(month))
    if not m:
        raise ValueError(f"month must be YYYY-MM (e.g. 2026-09), got {month!r}")
    return int(m.group(1)) * 12 + int(m.group(2)) - 1


def _month_str(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def default_window(months: tuple[str, str], n: int = 3) -> tuple[str, str]:
    """The last *n* months of the data span ``(first, last)``, clipped to its start (YYYY-MM each)."""
    first, last = (_month_index(m) for m in months)
    if first > last:
        raise ValueError(f"months must be (first, last) with first <= last, got {months!r}")
    return _month_str(max(first, last - n + 1)), _month_str(last)


def _legend_html() -> str:
    """Legend rows; command.js fills the ``data-count`` spans (textContent) after each load."""
    rows = ['<h2>热力 Incident density</h2>',
            '<div class="gm-cmd-gradient" aria-hidden="true"></div>'
            '<div class="gm-cmd-gradient-labels"><span>低 low</span><span>高 high</span></div>',
            "<h2>热点分析 Hot spots (Gi*)</h2>"]
    for cls, label, colour in HOTSPOT_CLASSES:
        rows.append(
            f'<div class="gm-row" data-class="{cls}"><span class="gm-swatch" style="background:{colour}"></span>'
            f'{_html.escape(label)} <span class="gm-cmd-count" data-count="{cls}"></span></div>'
        )
    rows.append('<div class="gm-row" data-class="not_significant"><span class="gm-swatch gm-cmd-none"></span>'
                '不显著 Not significant <span class="gm-cmd-count" data-count="not_significant"></span></div>')
    rows.append("<h2>事件状态 Incident state</h2>")
    for state, label, colour in STATE_COLOURS:
        rows.append(
            f'<div class="gm-row" data-state="{state}"><span class="gm-dot" style="background:{colour}"></span>'
            f'{_html.escape(label)} <span class="gm-cmd-count" data-count="{state}"></span></div>'
        )
    rows.append('<div class="gm-row"><span class="gm-dot gm-cmd-overdue-dot"></span>逾期 overdue '
                '<span class="gm-cmd-count" data-count="overdue"></span></div>')
    rows.append('<div class="gm-row"><span class="gm-cmd-cluster-key" aria-hidden="true">12<b class="gm-cmd-badge">2</b></span>'
                "聚合 cluster, 逾期数 overdue</div>")
    rows.append('<div class="gm-row"><span class="gm-cmd-line"></span>网格边界 grid boundary</div>')
    return "".join(rows)


def _implausible_html(count: int, earliest: str) -> str:
    """A note on the incidents whose times the month pickers leave out (stored before the API refused them),
    and how to find and void them."""
    if not count:
        return ""
    sql = (f"SELECT id, occurred_at FROM incident WHERE voided_at IS NULL AND (occurred_at < '{earliest}' "
           "OR occurred_at > now() + interval '1 day')")
    return (f'<div id="gm-cmd-implausible" class="gm-cmd-status" data-state="warning" role="note">'
            f"{count:,} 起事件时间不可信，未计入月份范围 · {count:,} incidents have an implausible time (before "
            f"{_html.escape(earliest)}, GRIDMAP_INCIDENT_EARLIEST, or more than a day ahead) and are left out of "
            f"the month range: find them in the database ({_html.escape(sql)}) and void them "
            "(POST /v1/incidents/{id}/void).</div>")


def _panel_html(*, api_base: str, title: str, months: tuple[str, str], window: tuple[str, str],
                implausible: int = 0, earliest: str = "", by_view: bool = False,
                bounds: tuple[float, float, float, float] | None = None, view_incidents: int = 5_000) -> str:
    """The control panel: trusted, static HTML; command.js writes results with textContent only."""
    esc = _html.escape
    first, last = months
    cats = "".join(
        f'<label class="gm-cmd-cat"><input type="checkbox" name="category" value="{esc(cat)}" checked> '
        f"{esc(label)}</label>"
        for cat, label in CATEGORY_LABELS.items()
    )
    settings = {
        "api-base": api_base,
        "first-month": first,
        "last-month": last,
        "default-from": window[0],
        "default-to": window[1],
        "bandwidth-m": BANDWIDTH_M,
        "heat-cell-m": HEAT_CELL_M,
        "weekly-cell-m": WEEKLY_CELL_M,
        "hotspot-cell-m": HOTSPOT_CELL_M,
        "classes": json.dumps({cls: [label, colour] for cls, label, colour in HOTSPOT_CLASSES}, ensure_ascii=False),
        "states": json.dumps({state: [label, colour] for state, label, colour in STATE_COLOURS}, ensure_ascii=False),
        "categories": json.dumps(CATEGORY_LABELS, ensure_ascii=False),
        "subcategories": json.dumps(SUBCATEGORY_LABELS, ensure_ascii=False),
        "hotspot-tips": json.dumps(HOTSPOT_TIPS, ensure_ascii=False),
    }
    if by_view:  # command.js sends the view as bbox= and reloads as the map moves
        settings["by-view"] = "1"
        settings["view-incidents"] = view_incidents
    if bounds:
        settings["bounds"] = ",".join(f"{v:.6f}" for v in bounds)
    data = " ".join(f'data-{k}="{esc(str(v))}"' for k, v in settings.items())
    return (
        f'<div id="{PANEL_ID}" class="gm-cmd" {data}>'
        + phone_fold(
        f'{WALL_BUTTON}<form class="gm-cmd-form" autocomplete="off">'
        '<fieldset><legend>时间 Time</legend>'
        '<div class="gm-cmd-months">'
        f'<label>从 From <input id="gm-cmd-from" type="month" min="{esc(first)}" max="{esc(last)}" '
        f'value="{esc(window[0])}" required></label>'
        f'<label>至 To <input id="gm-cmd-to" type="month" min="{esc(first)}" max="{esc(last)}" '
        f'value="{esc(window[1])}" required></label>'
        "</div></fieldset>"
        f'<fieldset><legend>类别 Category</legend><div class="gm-cmd-cats">{cats}</div></fieldset>'
        '<fieldset><legend>显著性 Significance</legend>'
        '<label class="gm-cmd-fdr"><input id="gm-cmd-fdr" type="checkbox"> '
        "FDR 校正 False-discovery-rate correction</label></fieldset>"
        '<fieldset><legend>逐周热力 Weekly heat</legend>'
        '<div class="gm-cmd-slider">'
        '<button id="gm-cmd-play" type="button" aria-pressed="false">▶ 播放 Play</button>'
        '<input id="gm-cmd-week-slider" type="range" min="0" max="0" step="1" value="0" '
        'aria-label="周 Week">'
        '<button id="gm-cmd-all" type="button" title="显示整个时段 Show the whole window">全部 All</button>'
        "</div>"
        '<div class="gm-cmd-week" aria-live="polite">'
        '<span id="gm-cmd-week-index" class="gm-cmd-week-index">全部 All</span> '
        '<span id="gm-cmd-week">全时段 Whole window</span> · '
        '<span id="gm-cmd-week-n">–</span> 起事件 incidents</div>'
        "</fieldset>"
        "</form>"
        '<div id="gm-cmd-status" class="gm-cmd-status" aria-live="polite" data-state="loading">'
        "加载中 Loading…</div>"
        f"{_implausible_html(implausible, earliest)}",
        key="panel", label="筛选 Filters", head=f'<h1 class="gm-cmd-title">{esc(title)}</h1>')
        + "</div>"
    )


def build_command_map(
    *,
    grids: dict | ViewSource,
    buildings: dict | ViewSource,
    bounds: tuple[float, float, float, float] | None,
    months: tuple[str, str],
    basemap: str = "none",
    tianditu_key: str = "",
    static_url: str = "/static",
    api_base: str = "/v1",
    title: str = "高山镇指挥中心 Gaoshan command centre",
    implausible: int = 0,
    earliest: str = "",
    view_incidents: int = VIEW_INCIDENTS,
) -> folium.Map:
    """The command-centre map: grids, buildings, and placeholders command.js fills from the API.

    Parameters
    ----------
    grids : dict
        GeoJSON FeatureCollection (WGS84) of the published grids (``code, name,
        community_code, community_name``), drawn as thin outlines with the grid
        number faintly inside.
    buildings : dict
        GeoJSON FeatureCollection of the building footprints, drawn faintly.

        Either may be a :class:`maps.byview.ViewSource` (:data:`VIEW_SOURCES`): loaded by view. With
        grids by view (a city), the incidents, heat and hot spots are those of the view too: command.js
        sends ``bbox=`` (the view with a margin) and reloads when the map leaves it or zooms well in,
        with the lattices coarsened for a wide view so that an analysis stays within its budget.
    bounds : (west, south, east, north) or None
        Box to fit, lon/lat.
    months : (first, last)
        The months (``YYYY-MM``) the incidents span: the month pickers' range;
        the default window is the last three of them (:func:`default_window`).
    basemap, tianditu_key, static_url
        As for :func:`maps.base.new_map`.
    api_base : str
        URL prefix of the JSON API the page calls (same origin; the session
        cookie authenticates).
    title : str
        Page title and the panel's heading.
    implausible, earliest : int, str
        How many stored incidents have a time outside the plausible window (left out of *months*), and
        the window's start (``GRIDMAP_INCIDENT_EARLIEST``); the panel says so, and how to find and void them.
    view_incidents : int
        With the grids by view: the most incidents drawn as markers (one ``/v1/incidents`` page); more in
        the box draws none and the status says how many and to zoom in.

    Returns
    -------
    folium.Map
        Localized; :func:`render` gives the page.
    """
    window = default_window(months)
    by_view = is_by_view(grids)
    grid_feats = grids if is_by_view(grids) else add_grid_labels(slim(grids, _GRID_FIELDS, "grids"))
    building_feats = buildings if is_by_view(buildings) else slim(buildings, _BUILDING_FIELDS, "buildings")

    m = new_map(bounds=bounds, basemap=basemap, tianditu_key=tianditu_key, static_url=static_url)
    add_page_assets(m, page="command", title=title, stylesheet=STYLESHEET_PATH,
                    scripts=(HEAT_SCRIPT_PATH, SCRIPT_PATH), static_url=static_url)

    geojson_layer(building_feats, gm_layer="buildings", style=_BUILDING_STYLE, name=LAYER_NAMES["buildings"],
                  interactive=False).add_to(m)
    # Grids: thin outlines, no fill, not interactive (clicks reach the incidents and cells), in a group
    # (gmLayer "grid-group") their labels join: command.js adds the embedded grids' labels to it,
    # byview.js draws the loaded grids' labels in the same pane.
    group = LayerGroup(name=LAYER_NAMES["grids"], gm_layer="grid-group")
    geojson_layer(grid_feats, gm_layer="grids", style=_GRID_STYLE, control=False, interactive=False,
                  label={"field": "code", "className": "gm-cmd-grid-label", "grid": True, "pane": "gm-labels"}
                  if by_view else None).add_to(group)
    group.add_to(m)
    # Filled by command.js.
    LayerGroup(name=LAYER_NAMES["heat"], gm_layer="heat").add_to(m)
    LayerGroup(name=LAYER_NAMES["hotspots"], gm_layer="hotspots").add_to(m)
    MarkerCluster(name=LAYER_NAMES["incidents"], gm_layer="incidents", show_coverage_on_hover=False,
                  spiderfy_distance_multiplier=1.4).add_to(m)

    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    panel = _panel_html(api_base=api_base, title=title, months=months, window=window, implausible=implausible,
                        earliest=earliest, by_view=by_view, bounds=bounds, view_incidents=view_incidents)
    MapPanel(panel, position="topleft", class_name="gm-cmd-panel").add_to(m)
    MapPanel(phone_fold(_legend_html(), key="legend", label="图例 Legend"), position="bottomright",
             class_name="gm-legend gm-cmd-legend").add_to(m)
    if by_view or is_by_view(buildings):
        add_view_loading(m, static_url=static_url)
    localize(m, static_url=static_url)
    return m
