"""The coverage map (``/maps/coverage``): where the cameras see, where they do not, and where to add some.

The page embeds only the published grids and the building footprints. The rest
comes from the JSON API, fetched by ``maps/static/gridmap/coverage.js`` (same
origin; the page's session cookie authenticates):

- ``GET /v1/coverage``: town totals, per-grid coverage (the choropleth: the
  grids are coloured by :data:`RATIO_CLASSES`, with a tooltip each), key places
  covered or not;
- ``GET /v1/coverage/views``: every camera's visible polygon, coloured by
  status; offline and faulty cameras' views are dashed (shown, not counted);
- ``GET /v1/coverage/gaps``: watchable space no online camera sees, hatched;
- ``GET /v1/cameras``: the cameras as small dots by status; a click opens their
  parameters and highlights their view;
- ``GET /v1/key-places``: where the key places are (uncovered ones as red
  diamonds with their name, covered ones as small subtle dots);
- ``POST /v1/coverage/suggest`` (the panel's button): ``k`` new sites for the
  town or one grid, drawn as numbered markers with dashed blue views and listed
  with the area and incidents each adds.

The layer control lists :data:`LAYER_NAMES`. The layers the script fills are
folium placeholders (empty ``L.featureGroup``\\ s) found, like the grids, by
their ``options.gmLayer``; the script's settings are ``data-*`` attributes of
the panel's root ``#gm-coverage``. It publishes ``window.gridmapCoverage`` for
tests: ``state()`` (counts drawn per layer, town totals, the selected camera,
the suggestions), ``ready``, ``map``, ``layers``, ``select(code)``,
``suggest(k, grid)``.

Examples
--------
>>> from shapely.geometry import box, mapping
>>> fc = lambda *feats: {"type": "FeatureCollection", "features": list(feats)}
>>> feat = lambda geom, **props: {"type": "Feature", "geometry": mapping(geom), "properties": props}
>>> m = build_coverage_map(
...     grids=fc(feat(box(113.1, 40.05, 113.11, 40.06), code="140214101001001", name="第1网格",
...                   community_code="140214101001")),
...     buildings=fc(),
...     bounds=(113.1, 40.05, 113.11, 40.06),
... )
>>> html = render(m)
>>> '<script defer src="/static/gridmap/coverage.js"></script>' in html and "cdn.jsdelivr.net" not in html
True
>>> all(f'"gmLayer": "{layer}"' in html for layer in (*LAYER_NAMES, "grid-group"))
True
>>> ratio_class(0.2), ratio_class(0.5), ratio_class(0.99), ratio_class(None)
('lt25', '50to75', 'ge75', 'none')
"""

from __future__ import annotations

import html as _html
import json
from collections.abc import Mapping

import folium

from maps.assets import localize
from maps.base import WALL_BUTTON, LayerGroup, MapPanel, add_page_assets, new_map, render
from maps.byview import OGC_BASE, StyleRule, ViewSource, add_view_loading, geojson_layer, is_by_view
from maps.layers import add_label_points, slim
from maps.overview import CAMERA_STATUS_COLOURS

__all__ = [
    "DORI_LABELS",
    "KIND_LABELS",
    "DEFAULT_OFF",
    "LAYER_NAMES",
    "MAX_K",
    "MOUNT_LABELS",
    "PANEL_ID",
    "RATIO_CLASSES",
    "SCRIPT_PATH",
    "STATUS_LABELS",
    "STYLESHEET_PATH",
    "SUGGESTION_COLOUR",
    "VIEW_BUDGETS",
    "VIEW_SOURCES",
    "build_coverage_map",
    "ratio_class",
    "render",
]

#: Paths under ``maps/static/`` (served at the map's ``static_url``).
SCRIPT_PATH = "gridmap/coverage.js"
STYLESHEET_PATH = "gridmap/coverage.css"

#: ``id`` of the side panel's root element (coverage.js reads its ``data-*`` settings).
PANEL_ID = "gm-coverage"

#: Layer names in the layer control (in its order), by ``gmLayer``.
LAYER_NAMES = {
    "grids": "网格覆盖率 Grid coverage",
    "buildings": "楼栋 Buildings",
    "views": "摄像头视域 Camera views",
    "gaps": "盲区 Coverage gaps",
    "cameras": "摄像头 Cameras",
    "key-uncovered": "未覆盖重点场所 Uncovered key places",
    "key-covered": "已覆盖重点场所 Covered key places",
    "suggestions": "建议点位 Suggested sites",
}

#: Layers listed in the layer control but off when the page opens.
DEFAULT_OFF = ("views", "gaps")

#: Coverage-ratio classes of the choropleth: (class, lower bound, upper bound, label, fill colour).
#: A sequential purple ramp (ColorBrewer Purples): it stays apart from the cameras' status
#: colours (green, grey, red), the orange gaps and the blue suggestions drawn over it.
RATIO_CLASSES = (
    ("lt25", 0.0, 0.25, "< 25%", "#f2f0f7"),
    ("25to50", 0.25, 0.50, "25–50%", "#cbc9e2"),
    ("50to75", 0.50, 0.75, "50–75%", "#9e9ac8"),
    ("ge75", 0.75, None, "≥ 75%", "#6a51a3"),
)
NO_RATIO_COLOUR = "#e0e0e0"

#: Camera status labels, Chinese first (colours as on the overview map).
STATUS_LABELS = {"online": "在线 online", "offline": "离线 offline", "fault": "故障 fault"}
KIND_LABELS = {"bullet": "枪机 bullet", "dome": "半球 dome", "ptz": "云台 PTZ", "fisheye": "鱼眼 fisheye"}
MOUNT_LABELS = {"pole": "立杆 pole", "wall": "壁装 wall", "ceiling": "吸顶 ceiling"}
DORI_LABELS = {"identify": "辨认 identify", "recognise": "识别 recognise", "observe": "观察 observe",
               "detect": "探测 detect"}
KEY_PLACE_LABELS = {"gate": "出入口 gate", "square": "广场 square", "parking": "停车场 parking",
                    "school": "学校 school", "kindergarten": "幼儿园 kindergarten", "market": "市场 market",
                    "clinic": "诊所 clinic"}

#: Gap outline and hatch colour; suggested sites' colour.
GAP_COLOUR = "#e6550d"
SUGGESTION_COLOUR = "#1f5fbf"

#: The panel's "k" input: 1..MAX_K new cameras (the API allows more; a map stays readable with 10).
MAX_K = 10
DEFAULT_K = 3

_GRID_FIELDS = ("code", "name", "community_code", "community_name")
_BUILDING_FIELDS = ("code", "name", "grid_code")

#: Where the grids and buildings come from when the town is too big to embed them (a city's).
VIEW_SOURCES = {
    "grids": ViewSource("grids", label="网格 Grids", budget=2_000, properties=(*_GRID_FIELDS, "label_lon", "label_lat")),
    "buildings": ViewSource("buildings", label="楼栋 Buildings", budget=3_000, properties=_BUILDING_FIELDS),
}
#: With the grids by view, coverage.js loads these /ogc collections for the view too, each drawn only when
#: at most this many lie in the box (a camera view is a polygon of ~40 vertices: 2,000 are ~1 MB).
VIEW_BUDGETS = {"camera-views": 2_000, "coverage-gaps": 3_000, "cameras": 4_000, "key-places": 1_000,
                "communities": 1_000}  # communities: drawn, coloured by their grids' sums, past the grids' budget
_GRID_STYLE = StyleRule({"fillColor": NO_RATIO_COLOUR, "fillOpacity": 0.7, "color": "#4a4a4a", "weight": 1.2,
                         "opacity": 0.9})
_BUILDING_STYLE = StyleRule({"fillColor": "#8f8c85", "fillOpacity": 0.75, "color": "#6d6a63", "weight": 0.6})


def ratio_class(ratio: float | None) -> str:
    """The choropleth class of a coverage ratio (0..1); ``"none"`` when not computed."""
    if ratio is None:
        return "none"
    for cls, _low, high, _label, _colour in RATIO_CLASSES:
        if high is None or ratio < high:
            return cls
    return RATIO_CLASSES[-1][0]


def _legend_html() -> str:
    """The legend: trusted, static HTML; coverage.js fills the ``data-count`` spans with textContent."""
    esc = _html.escape
    rows = ["<h2>网格覆盖率 Grid coverage</h2>"]
    for cls, _low, _high, label, colour in RATIO_CLASSES:
        rows.append(f'<div class="gm-row" data-class="{cls}"><span class="gm-swatch" style="background:{colour}">'
                    f'</span>{esc(label)} <span class="gm-cov-count" data-count="{cls}"></span></div>')
    rows.append("<h2>摄像头视域 Camera views</h2>")
    for status, colour in CAMERA_STATUS_COLOURS.items():
        dashed = "" if status == "online" else " gm-cov-dashed"
        note = "" if status == "online" else " · 不计入 not counted"
        rows.append(f'<div class="gm-row" data-status="{status}"><span class="gm-swatch gm-cov-view-key{dashed}" '
                    f'style="border-color:{colour};background:{colour}40"></span>'
                    f'{esc(STATUS_LABELS[status])}{esc(note)} <span class="gm-cov-count" data-count="view-{status}">'
                    "</span></div>")
    rows.append('<h2>盲区与重点场所 Gaps and key places</h2>'
                '<div class="gm-row"><span class="gm-swatch gm-cov-gap-key"></span>'
                '盲区 gap (无在线摄像头 unwatched) '
                '<span class="gm-cov-count" data-count="gaps"></span></div>'
                '<div class="gm-row"><span class="gm-cov-diamond-key"></span>未覆盖重点场所 uncovered key place '
                '<span class="gm-cov-count" data-count="key-uncovered"></span></div>'
                '<div class="gm-row"><span class="gm-dot gm-cov-key-covered-dot"></span>已覆盖 covered key place '
                '<span class="gm-cov-count" data-count="key-covered"></span></div>'
                '<div class="gm-row"><span class="gm-cov-sugg-key">1</span>'
                '建议点位及视域 suggested site and view</div>')
    return "".join(rows)


def _panel_html(*, api_base: str, title: str, by_view: bool = False,
                bounds: tuple[float, float, float, float] | None = None,
                view_budgets: Mapping[str, int] = VIEW_BUDGETS) -> str:
    """The side panel: trusted, static HTML; coverage.js writes every number and list with textContent."""
    esc = _html.escape
    settings = {
        "api-base": api_base,
        "max-k": MAX_K,
        "classes": json.dumps([[c, lo, hi, label, colour] for c, lo, hi, label, colour in RATIO_CLASSES],
                              ensure_ascii=False),
        "no-ratio-colour": NO_RATIO_COLOUR,
        "status-colours": json.dumps(CAMERA_STATUS_COLOURS),
        "status-labels": json.dumps(STATUS_LABELS, ensure_ascii=False),
        "kind-labels": json.dumps(KIND_LABELS, ensure_ascii=False),
        "mount-labels": json.dumps(MOUNT_LABELS, ensure_ascii=False),
        "dori-labels": json.dumps(DORI_LABELS, ensure_ascii=False),
        "place-labels": json.dumps(KEY_PLACE_LABELS, ensure_ascii=False),
        "gap-colour": GAP_COLOUR,
        "suggestion-colour": SUGGESTION_COLOUR,
    }
    if by_view:  # coverage.js loads the view's cameras, views, gaps and key places from /ogc as the map moves
        settings.update({"by-view": "1", "ogc-base": OGC_BASE, "view-budgets": json.dumps(dict(view_budgets))})
    if bounds:
        settings["bounds"] = ",".join(f"{v:.6f}" for v in bounds)
    data = " ".join(f'data-{k}="{esc(str(v))}"' for k, v in settings.items())
    stat = ('<div class="gm-cov-stat"><span class="gm-cov-stat-label">{label}</span>'
            '<span id="{id}" class="gm-cov-stat-value">–</span></div>')
    return (
        f'<div id="{PANEL_ID}" class="gm-cov" {data}>'
        f'<h1 class="gm-cov-title">{esc(title)}</h1>{WALL_BUTTON}'
        '<div class="gm-cov-stats">'
        + stat.format(label="全镇覆盖率 Town coverage", id="gm-cov-town-ratio")
        + stat.format(label="可视面积 Covered / watchable", id="gm-cov-town-area")
        + '<div class="gm-cov-stat"><span class="gm-cov-stat-label">摄像头 Cameras</span><span class="gm-cov-cams">'
          '<span class="gm-cov-cam" data-status="online"><span class="gm-dot"></span>在线 online '
          '<b id="gm-cov-cams-online">–</b></span>'
          '<span class="gm-cov-cam" data-status="offline"><span class="gm-dot"></span>离线 offline '
          '<b id="gm-cov-cams-offline">–</b></span>'
          '<span class="gm-cov-cam" data-status="fault"><span class="gm-dot"></span>故障 fault '
          '<b id="gm-cov-cams-fault">–</b></span></span></div>'
        + stat.format(label="未覆盖重点场所 Uncovered key places", id="gm-cov-key-uncovered")
        + "</div>"
        '<form id="gm-cov-suggest-form" class="gm-cov-form" autocomplete="off" novalidate>'
        "<fieldset><legend>建议新增摄像头 Suggest cameras</legend>"
        '<div class="gm-cov-form-row">'
        f'<label>数量 k <input id="gm-cov-k" type="number" min="1" max="{MAX_K}" step="1" value="{DEFAULT_K}" '
        'required></label>'
        '<label class="gm-cov-grid-label">范围 Area <select id="gm-cov-grid">'
        '<option value="">全镇 Whole town (较慢 slower)</option></select></label>'
        "</div>"
        '<div class="gm-cov-form-row">'
        '<button id="gm-cov-suggest" type="submit">建议 Suggest</button>'
        '<button id="gm-cov-clear" type="button" disabled>清除 Clear</button>'
        "</div>"
        "</fieldset></form>"
        '<ol id="gm-cov-suggestions" class="gm-cov-suggestions" aria-live="polite"></ol>'
        '<div id="gm-cov-status" class="gm-cov-status" aria-live="polite" data-state="loading">'
        "加载中 Loading…</div>"
        "</div>"
    )


def build_coverage_map(
    *,
    grids: dict | ViewSource,
    buildings: dict | ViewSource,
    bounds: tuple[float, float, float, float] | None,
    basemap: str = "none",
    tianditu_key: str = "",
    static_url: str = "/static",
    api_base: str = "/v1",
    title: str = "高山镇视频覆盖 Gaoshan camera coverage",
    view_budgets: Mapping[str, int] = VIEW_BUDGETS,
) -> folium.Map:
    """The coverage map: grids, buildings, and placeholders coverage.js fills from the API.

    Parameters
    ----------
    grids : dict
        GeoJSON FeatureCollection (WGS84) of the published grids (``code, name,
        community_code, community_name``); coverage.js colours them by their
        coverage ratio from ``GET /v1/coverage``.
    buildings : dict
        GeoJSON FeatureCollection of the building footprints (the occluders).

        Either may be a :class:`maps.byview.ViewSource` (:data:`VIEW_SOURCES`): loaded by view. With the
        grids by view (a city) the page asks ``/v1/coverage?bbox=`` for the grids and key places in view,
        and the cameras, their views, the gaps and the key places from ``/ogc`` for the view, each drawn
        only within its :data:`VIEW_BUDGETS` (more in view: none, and the status says to zoom in).
    bounds : (west, south, east, north) or None
        Box to fit, lon/lat.
    basemap, tianditu_key, static_url
        As for :func:`maps.base.new_map`.
    api_base : str
        URL prefix of the JSON API the page calls (same origin; the session
        cookie authenticates).
    title : str
        Page title and the panel's heading.
    view_budgets : mapping
        By view: the most features of each /ogc collection drawn at once (:data:`VIEW_BUDGETS`).

    Returns
    -------
    folium.Map
        Localized; :func:`render` gives the page.
    """
    by_view = is_by_view(grids)
    grid_feats = grids if is_by_view(grids) else add_label_points(slim(grids, _GRID_FIELDS, "grids"))
    building_feats = buildings if is_by_view(buildings) else slim(buildings, _BUILDING_FIELDS, "buildings")

    m = new_map(bounds=bounds, basemap=basemap, tianditu_key=tianditu_key, static_url=static_url)
    if by_view or is_by_view(buildings):  # before coverage.js, which calls gridmapViews.inView at start-up
        add_view_loading(m, static_url=static_url)
    add_page_assets(m, page="coverage", title=title, stylesheet=STYLESHEET_PATH, scripts=(SCRIPT_PATH,),
                    static_url=static_url)

    # The choropleth: neutral until coverage.js has the ratios; interactive (a tooltip each). Its group
    # also holds the ratio labels coverage.js puts at each grid's label point.
    group = LayerGroup(name=LAYER_NAMES["grids"], gm_layer="grid-group")
    geojson_layer(grid_feats, gm_layer="grids", style=_GRID_STYLE, control=False).add_to(group)
    group.add_to(m)
    geojson_layer(building_feats, gm_layer="buildings", style=_BUILDING_STYLE, name=LAYER_NAMES["buildings"],
                  interactive=False).add_to(m)
    # Filled by coverage.js.
    # The views and the gaps' hatching start off (hundreds of each bury the coverage colours); staff turn
    # them on in the layer control.
    for layer in ("views", "gaps", "cameras", "key-uncovered", "key-covered", "suggestions"):
        LayerGroup(name=LAYER_NAMES[layer], gm_layer=layer, show=layer not in DEFAULT_OFF).add_to(m)

    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    MapPanel(_panel_html(api_base=api_base, title=title, by_view=by_view, bounds=bounds, view_budgets=view_budgets),
             position="topleft",
             class_name="gm-cov-panel").add_to(m)
    MapPanel(_legend_html(), position="bottomright", class_name="gm-legend gm-cov-legend").add_to(m)

    localize(m, static_url=static_url)
    return m
