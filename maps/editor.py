"""The planners' editor (``/maps/editor?plan=ID``): redraw a draft plan's grids on the map.

The page embeds the draft's grids and buildings (folium ``GeoJson`` layers that the
scripts in ``maps/static/gridmap/editor/`` take over, :data:`SCRIPT_PATHS`), the
community outlines (snap targets), the plan (id, version, status) and the household
and population bands.
Everything else goes through the planners' JSON API, same origin (the page's
session cookie authenticates; a write needs the ``planner`` role, and a viewer
sees the API's 403 message):

- **Paint** (涂刷): pick a target grid (a row of the metrics table, or Alt/Ctrl/Shift-click
  or right-click a grid or a building on the map), then click a building, or press on one and
  drag across others ("brush"): each building is ``POST /v1/plans/{id}/assign``\\ ed.
- **Boundary** (边界): click a grid, drag its vertices (Leaflet-Geoman, snapping to the
  communities and the neighbours); each edit is ``PUT /v1/plans/{id}/grids/{code}`` with
  ``neighbours=adjust`` (the API snaps to community edges and roads and updates both neighbours).
- **Split** (拆分): click a grid, draw a line across it (double-click ends it) -> ``POST /split``.
- **Merge** (合并): click two grids -> ``POST /merge``.
- Undo / redo (``POST /undo``, ``/redo``), the diff against the published plan
  (``GET /diff``: changed areas hatched, moved buildings outlined), and publish
  (``POST /publish``; band warnings need an explicit acknowledgement, errors are listed).

Every write carries ``If-Match: "<version>"``; after each the page reloads the grids,
the buildings' grids and ``GET /validation`` (metrics per grid, problems) and
redraws. A ``409 stale_version`` (someone else edited the draft) is shown with the
server's message and the page reloads. The grids are filled by their households'
deviation from the band (:data:`DEVIATION_CLASSES`: under is blue, in the band pale
green, over is red); the metrics table flags rows the same way; validation problems
are drawn where they are (errors hatched red with their detail as a tooltip,
band warnings dashed).

The test hook ``window.gridmapEditor`` exposes ``ready``, ``busy``, ``map``,
``layers``, ``state()`` (plan, version, mode, target, metrics by code, problems,
buildings' grids, last message) and actions ``assign(building, grid)``,
``publish({acknowledge})``, ``undo()``, ``redo()``, ``setMode(mode)``,
``setTarget(code)``, ``reload()``, ``diff(on)``, ``split(grid, line)``,
``merge(a, b)``, ``reshape(grid, geometry)``; each action returns a Promise of
``{ok, status, code, message, body}``.

Examples
--------
>>> from shapely.geometry import box, mapping
>>> fc = lambda *feats: {"type": "FeatureCollection", "features": list(feats)}
>>> feat = lambda geom, **props: {"type": "Feature", "geometry": mapping(geom), "properties": props}
>>> m = build_editor_map(
...     plan={"id": 7, "name": "草稿 Draft", "status": "draft", "version": 3},
...     grids=fc(feat(box(113.1, 40.05, 113.11, 40.06), code="140214101001001", name="第1网格",
...                   community_code="140214101001", households=250, population=450)),
...     buildings=fc(),
...     communities=fc(),
...     bands={"households": (200, 300), "population": (400, 500)},
...     bounds=(113.1, 40.05, 113.11, 40.06),
... )
>>> html = render(m)
>>> "/static/vendor/leaflet-geoman/leaflet-geoman.min.js" in html and "cdn" not in html
True
>>> 'data-plan-id=\\\\"7\\\\"' in html and 'data-plan-version=\\\\"3\\\\"' in html  # in the panel's JSON
True
>>> deviation_class(-120, (200, 300)), deviation_class(0, (200, 300)), deviation_class(20, (200, 300))
('under-far', 'ok', 'over')
"""

from __future__ import annotations

import html as _html
import json

import folium
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from folium.map import CustomPane
from folium.template import Template

from geo.keys import role_allows
from maps.assets import local_url, localize
from maps.base import (COMMON_SCRIPT_PATH, LayerGroup, MapPanel, add_page_assets, new_map, phone_fold, render,
                        script_tags)
from maps.layers import gm_geojson, slim
from maps.nav import NAV_STYLESHEET_PATH

__all__ = [
    "DEVIATION_CLASSES",
    "GEOMAN_CSS",
    "GEOMAN_JS",
    "GRID_PALETTE",
    "LAYER_NAMES",
    "MODES",
    "PANEL_ID",
    "PLANS_SCRIPT_PATHS",
    "SCRIPT_PATHS",
    "STYLESHEET_PATH",
    "build_editor_map",
    "deviation_class",
    "plans_page",
    "render",
]

#: Paths under ``maps/static/`` (served at the map's ``static_url``).
#: The editor's scripts, run in this order after ``gridmap/common.js`` (each is one part of
#: ``window.gridmapEditorModules``; ``main.js``, last, makes the editor from them).
SCRIPT_PATHS = tuple(f"gridmap/editor/{name}.js" for name in (
    "text",  # words and number texts
    "geometry",  # geometry clean-up before a PUT
    "api",  # one call to the planners' API (If-Match, the error envelope)
    "sync",  # reload, the write queue and the writes
    "render",  # styles, tooltips, the grids, buildings, labels and problems on the map
    "table",  # grid metrics and the metrics table
    "panel",  # plan, problems list, diff, edits, publish box
    "modes",  # paint, boundary, split, merge, swap
    "hints",  # before a move or swap: candidate grids coloured, swap hints, the swap's confirmation
    "main",  # state, the view, wiring, window.gridmapEditor
))
#: The start page's scripts (after ``gridmap/common.js``): the API call and the "new draft" form.
PLANS_SCRIPT_PATHS = ("gridmap/editor/api.js", "gridmap/editor/plans.js")
STYLESHEET_PATH = "gridmap/editor.css"
#: Leaflet-Geoman (vendored by :mod:`maps.vendor_assets`): vertex editing with snapping, line drawing.
GEOMAN_JS = "vendor/leaflet-geoman/leaflet-geoman.min.js"
GEOMAN_CSS = "vendor/leaflet-geoman/leaflet-geoman-layers.css"

#: ``id`` of the side panel's root element (editor/main.js reads its ``data-*`` settings).
PANEL_ID = "gm-editor"
#: ``id`` of the plans list's root element (the page without ``?plan=``).
PLANS_ID = "gm-editor-plans"

#: The editing modes, in the toolbar's order: (mode, label).
MODES = (
    ("paint", "涂刷 Paint"),
    ("boundary", "边界 Boundary"),
    ("split", "拆分 Split"),
    ("merge", "合并 Merge"),
    ("swap", "交换 Swap"),
)

#: The role a key needs to edit a draft (the planners' API refuses other roles' writes with 403).
EDIT_ROLE = "planner"


def can_edit(role: str | None) -> bool:
    """Whether a key of *role* may edit drafts (None: no key known, the page offers its buttons).

    >>> can_edit("planner"), can_edit("admin"), can_edit("viewer"), can_edit("operator")
    (True, True, False, False)
    """
    return role is None or role_allows(role, EDIT_ROLE)


def read_only_title(role: str | None) -> str:
    """The title of a write button the signed-in *role* may not use."""
    return (f"需要 {EDIT_ROLE}（规划员）角色；当前密钥是 {role or '?'}，只能查看 "
            f"Needs the {EDIT_ROLE} role: this key is a {role or '?'} key and may only look")


#: Layer names in the layer control, by ``gmLayer``.
LAYER_NAMES = {
    "grids": "网格 Grids (按户数偏差着色 by households deviation)",
    "buildings": "楼栋 Buildings",
    "problems": "校验问题 Validation problems",
    "diff": "与已发布方案的差异 Diff against published",
    "labels": "网格编号 Grid labels",
}

#: Fill of a grid by its households' deviation from the band (value - clamp(value, lo, hi)):
#: (class, label, colour). A diverging scheme (ColorBrewer RdBu): "far" is a deviation of at
#: least half the band's width.
DEVIATION_CLASSES = (
    ("under-far", "远低于 far under", "#2166ac"),
    ("under", "低于 under", "#92c5de"),
    ("ok", "在范围内 in band", "#d9efc9"),
    ("over", "高于 over", "#f4a582"),
    ("over-far", "远高于 far over", "#b2182b"),
)

#: Building fill by grid: the grid's number in its community picks the colour, so
#: neighbouring grids of a community differ (ColorBrewer Dark2 + Set1 picks).
GRID_PALETTE = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
                "#377eb8", "#984ea3", "#4d4d4d")

_GRID_FIELDS = ("code", "name", "community_code", "community_name", "households", "population",
                "buildings", "units", "grid_member")
_BUILDING_FIELDS = ("code", "name", "address", "community_code", "grid_code", "households", "population",
                    "units", "floors")


def deviation_class(deviation: float | None, band: tuple[float, float]) -> str:
    """The fill class (:data:`DEVIATION_CLASSES`) of a deviation from *band* (lo, hi); ``ok`` when None or 0."""
    if not deviation:
        return "ok"
    half = (band[1] - band[0]) / 2 or 1
    if deviation < 0:
        return "under-far" if -deviation >= half else "under"
    return "over-far" if deviation >= half else "over"


class _Geoman(JSCSSMixin, MacroElement):
    """Links Leaflet-Geoman after Leaflet (folium adds a child's ``default_js`` after the map's)."""

    _template = Template("")

    def __init__(self, static_url: str):
        super().__init__()
        self._name = "Geoman"
        self.default_js = [("leaflet_geoman", local_url(GEOMAN_JS, static_url))]
        self.default_css = [("leaflet_geoman_css", local_url(GEOMAN_CSS, static_url))]


def _check_bands(bands: dict) -> dict[str, list[float]]:
    out = {}
    for name in ("households", "population"):
        try:
            lo, hi = (float(v) for v in bands[name])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"bands must give {name!r} as (min, max), got {bands!r}") from exc
        if lo > hi:
            raise ValueError(f"bands[{name!r}] must be (min, max) with min <= max, got {(lo, hi)}")
        out[name] = [int(lo) if lo.is_integer() else lo, int(hi) if hi.is_integer() else hi]
    return out


def _legend_html(bands: dict) -> str:
    esc = _html.escape
    lo, hi = bands["households"]
    rows = [f"<h2>户数偏差 Households vs band {lo}–{hi}</h2>"]
    for cls, label, colour in DEVIATION_CLASSES:
        rows.append(f'<div class="gm-row" data-class="{cls}"><span class="gm-swatch" style="background:{colour}">'
                    f'</span>{esc(label)} <span class="gm-ed-count" data-count="{cls}"></span></div>')
    rows.append("<h2>校验与差异 Problems and diff</h2>"
                '<div class="gm-row"><span class="gm-swatch gm-ed-error-key"></span>错误 error: 缝隙、重叠、不连通… '
                "gap, overlap…</div>"
                '<div class="gm-row"><span class="gm-swatch gm-ed-warning-key"></span>警告 warning: 超出范围 '
                "out of band</div>"
                '<div class="gm-row"><span class="gm-swatch gm-ed-diff-key"></span>变化区域 changed area</div>'
                '<div class="gm-row"><span class="gm-swatch gm-ed-moved-key"></span>移动的楼栋 moved building</div>')
    return "".join(rows)


def _panel_html(*, plan: dict, bands: dict, api_base: str, title: str, role: str | None,
                scope: str | None = None) -> str:
    """The side panel: trusted, static HTML; the editor's scripts write every number and message with textContent."""
    esc = _html.escape
    settings = {
        "api-base": api_base,
        "plan-id": plan["id"],
        "plan-version": plan.get("version", ""),
        "plan-status": plan.get("status", ""),
        "plan-name": plan.get("name", ""),
        "role": role or "",
        "scope": scope or "",
        "bands": json.dumps(bands),
        "classes": json.dumps([[c, label, colour] for c, label, colour in DEVIATION_CLASSES], ensure_ascii=False),
        "palette": json.dumps(list(GRID_PALETTE)),
    }
    editable = can_edit(role)
    settings["can-edit"] = "true" if editable else "false"
    data = " ".join(f'data-{k}="{esc(str(v))}"' for k, v in settings.items())
    # a role that cannot edit gets the write buttons disabled, each saying which role it needs
    locked = "" if editable else f' disabled title="{esc(read_only_title(role))}"'
    modes = "".join(
        f'<button type="button" class="gm-ed-mode" data-mode="{mode}" aria-pressed="false"{locked}>{esc(label)}'
        "</button>" for mode, label in MODES
    )
    name = esc(str(plan.get("name", "")))
    hh, pop = bands["households"], bands["population"]
    status_label = {"draft": "草稿 draft", "published": "已发布 published", "retired": "已停用 retired"}
    return (
        f'<div id="{PANEL_ID}" class="gm-ed" {data}>'
        f'<h1 class="gm-ed-title">{esc(title)}</h1>'
        '<div class="gm-ed-plan">'
        f'<span id="gm-ed-plan-name" class="gm-ed-plan-name">{esc(str(plan.get("name", "")))}</span> '
        f'<span class="gm-ed-plan-meta">#{esc(str(plan["id"]))} · '
        f'<span id="gm-ed-plan-status">{esc(status_label.get(plan.get("status", ""), str(plan.get("status", ""))))}'
        f'</span> · 版本 v<span id="gm-ed-plan-version">{esc(str(plan.get("version", "")))}</span></span>'
        ' <a class="gm-ed-plans-link" href="/maps/editor">全部方案 All plans</a>'
        "</div>"
        f'<div class="gm-ed-bands">范围 Band: 户数 households {hh[0]}–{hh[1]} · 人口 population {pop[0]}–{pop[1]}</div>'
        f'<div class="gm-ed-toolbar" role="toolbar" aria-label="编辑模式 Editing mode">{modes}</div>'
        '<div class="gm-ed-toolbar">'
        f'<button type="button" id="gm-ed-undo"{locked}>↶ 撤销 Undo</button>'
        f'<button type="button" id="gm-ed-redo"{locked}>↷ 重做 Redo</button>'
        '<label class="gm-ed-toggle"><input type="checkbox" id="gm-ed-diff"> 差异 Diff</label>'
        f'<button type="button" id="gm-ed-publish" class="gm-ed-primary" aria-haspopup="dialog"{locked}>发布 Publish'
        "</button></div>"
        + ("" if editable else f'<p id="gm-ed-readonly-note" class="gm-ed-readonly-note">只读 Read-only: '
           f'{esc(read_only_title(role))}</p>')
        + '<div id="gm-ed-hints" class="gm-ed-hints" hidden aria-live="polite"></div>'
        '<div id="gm-ed-hint" class="gm-ed-hint"></div>'
        '<div class="gm-ed-target">目标网格 Target grid: <b id="gm-ed-target">–</b>'
        ' <span id="gm-ed-target-swatch" class="gm-swatch gm-ed-target-swatch"></span></div>'
        '<div class="gm-ed-split-actions" id="gm-ed-split-actions" hidden>'
        '<button type="button" id="gm-ed-split-draw" class="gm-ed-primary" hidden>✎ 画拆分线 Draw the line</button>'
        '<button type="button" id="gm-ed-split-finish" hidden>完成拆分线 Finish line</button>'
        '<button type="button" id="gm-ed-split-cancel">取消选择 Cancel</button></div>'
        '<div id="gm-ed-status" class="gm-ed-status" role="status" aria-live="polite" data-state="loading">'
        "加载中 Loading…</div>"
        '<div id="gm-ed-publish-box" class="gm-ed-publish-box" hidden></div>'
        '<details id="gm-ed-problems-box" class="gm-ed-problems-box" open><summary>校验问题 Problems '
        '<span id="gm-ed-problem-count" class="gm-ed-count"></span></summary>'
        '<ol id="gm-ed-problems" class="gm-ed-problems"></ol></details>'
        '<div id="gm-ed-diff-summary" class="gm-ed-diff-summary" hidden></div>'
        '<details class="gm-ed-edits-box"><summary>编辑记录 Edits</summary>'
        '<ol id="gm-ed-edits" class="gm-ed-edits" reversed></ol></details>'
        + _publish_dialog_html(plan_id=plan["id"], name=name)
        + "</div>"
    )


def _publish_dialog_html(*, plan_id: object, name: str) -> str:
    """The confirmation before ``POST /publish`` (editor/panel.js opens it; Esc or Cancel closes it and nothing
    is sent). *name* is escaped already."""
    return (
        '<dialog id="gm-ed-publish-dialog" class="gm-ed-dialog" aria-labelledby="gm-ed-publish-dialog-title" '
        'aria-describedby="gm-ed-publish-dialog-what"><form method="dialog">'
        f'<h2 id="gm-ed-publish-dialog-title">发布方案「<span class="gm-ed-dialog-name">{name}</span>」'
        f'(#{_html.escape(str(plan_id))})？ Publish plan “<span class="gm-ed-dialog-name">{name}</span>”?</h2>'
        '<div id="gm-ed-publish-dialog-what"><ul>'
        "<li>它的网格立即生效：地址查询、各地图页和新事件的网格都按它划分 Its grids come into force at once: "
        "lookups, the map pages and new incidents use them.</li>"
        "<li>现行方案停用（保留，只读） The plan in force now is retired (kept, read-only).</li>"
        "<li>此草稿此后不能再编辑；要再改，从它新建草稿 This draft can no longer be edited: to change it again, "
        "make a new draft from it.</li>"
        "<li>有范围警告时，还会请你逐条确认 Band warnings, if any, are listed for you to acknowledge next.</li>"
        "</ul></div>"
        '<div class="gm-ed-dialog-actions">'
        '<button type="submit" value="cancel" id="gm-ed-publish-cancel" autofocus>取消 Cancel</button>'
        '<button type="submit" value="publish" id="gm-ed-publish-confirm" class="gm-ed-primary">发布 Publish</button>'
        "</div></form></dialog>"
    )


def _metrics_html() -> str:
    """The metrics table (filled by editor/table.js) and its community filter."""
    heads = [
        ("code", "网格 Grid"), ("households", "户数 HH"), ("population", "人口 Pop."), ("buildings", "楼 Bldg"),
        ("units", "单元 Units"), ("area_m2", "面积 m²"), ("polsby_popper", "紧凑 PP"),
        ("contiguous", "连通 Contig."), ("deviation", "偏差 Dev."),
    ]
    th = "".join(f'<th scope="col" data-col="{k}">{_html.escape(label)}</th>' for k, label in heads)
    return (
        '<details id="gm-ed-metrics-box" open><summary class="gm-ed-metrics-head"><b>网格指标 Grid metrics</b>'
        '<select id="gm-ed-community" aria-label="社区 Community"><option value="">全部社区 All communities</option>'
        '</select></summary>'
        '<div class="gm-ed-metrics-scroll"><table id="gm-ed-metrics" class="gm-ed-metrics">'
        f"<thead><tr>{th}</tr></thead><tbody></tbody></table></div>"
        '<div class="gm-ed-building-picker"><label for="gm-ed-building">楼栋 Building</label> '
        '<select id="gm-ed-building"></select> '
        '<button type="button" id="gm-ed-building-pick" disabled>选定 Pick</button></div>'
        '<div class="gm-ed-metrics-note">点击一行：涂刷模式下设为目标网格，否则定位 '
        "Click a row: the paint target in paint mode, else zoom to it</div></details>"
    )


def build_editor_map(
    *,
    plan: dict,
    grids: dict,
    buildings: dict,
    communities: dict,
    bands: dict,
    bounds: tuple[float, float, float, float] | None,
    basemap: str = "none",
    tianditu_key: str = "",
    static_url: str = "/static",
    api_base: str = "/v1",
    role: str | None = None,
    scope: str | None = None,
    title: str = "高山镇网格规划编辑 Gaoshan grid plan editor",
) -> folium.Map:
    """The editor page of one plan.

    Parameters
    ----------
    plan : dict
        The plan (``id``, ``name``, ``status``, ``version``); the page holds its
        version and sends it as ``If-Match`` with every write.
    grids : dict
        GeoJSON FeatureCollection (WGS84) of the plan's grids (``code, name,
        community_code, households, population, buildings, units``).
    buildings : dict
        GeoJSON FeatureCollection of the buildings with ``grid_code`` in this plan,
        ``households`` and ``population``.
    communities : dict
        GeoJSON FeatureCollection of the communities (outlines; snap targets).
    bands : dict
        ``{"households": (min, max), "population": (min, max)}`` (the settings'
        ``grid_households_min`` ...).
    bounds : (west, south, east, north) or None
        Box to fit, lon/lat.
    basemap, tianditu_key, static_url
        As for :func:`maps.base.new_map`.
    api_base : str
        URL prefix of the JSON API (same origin; the session cookie authenticates).
    role : str or None
        The signed-in key's role, shown in the panel (the API decides what may be written).
    scope : str or None
        A community code: the page loads and validates that community only (the grids and buildings
        passed in are that community's); publishing still validates the whole plan.
    title : str
        Page title and the panel's heading.

    Returns
    -------
    folium.Map
        Localized; :func:`render` gives the page.
    """
    if "id" not in plan:
        raise ValueError(f"plan must be a plan dict with an 'id', got {plan!r}")
    band_values = _check_bands(bands)
    # coordinates to 1e-7 degree (1 cm), as the API writes them; properties a feature lacks stay out
    grid_feats = slim(grids, _GRID_FIELDS, "grids", ndigits=7, keep_missing=False)
    building_feats = slim(buildings, _BUILDING_FIELDS, "buildings", ndigits=7, keep_missing=False)
    community_feats = slim(communities, ("code", "name"), "communities", ndigits=7, keep_missing=False)

    m = new_map(bounds=bounds, basemap=basemap, tianditu_key=tianditu_key, static_url=static_url)
    _Geoman(static_url).add_to(m)
    # the editor's scripts run after leaflet.js, geoman and folium's inline script have made the map and layers.
    # branca writes the title unescaped: a plan's name is data
    add_page_assets(m, page="editor", title=_html.escape(f"{title} · {plan.get('name', plan['id'])}"),
                    stylesheet=STYLESHEET_PATH, scripts=SCRIPT_PATHS, static_url=static_url)
    # Panes, bottom to top: grids, problems, diff, buildings (labels sit in the marker pane, Geoman's
    # vertex handles above them).
    for name, z in (("gm-ed-grids", 410), ("gm-ed-problems", 420), ("gm-ed-diff", 425), ("gm-ed-buildings", 430)):
        CustomPane(name, z_index=z, pointer_events=True).add_to(m)

    gm_geojson(
        community_feats,
        gm_layer="communities",
        style={"fill": False, "color": "#2b2b2b", "weight": 2.5, "opacity": 0.8, "dashArray": "6 4"},
        name="社区 Communities",
        interactive=False,
        control=False,
    ).add_to(m)
    gm_geojson(
        grid_feats,
        gm_layer="grids",
        style={"fillColor": "#e0e0e0", "fillOpacity": 0.55, "color": "#3c3c3c", "weight": 1.4, "opacity": 0.95},
        name=LAYER_NAMES["grids"],
        pane="gm-ed-grids",
    ).add_to(m)
    LayerGroup(name=LAYER_NAMES["problems"], gm_layer="problems").add_to(m)
    LayerGroup(name=LAYER_NAMES["diff"], gm_layer="diff").add_to(m)
    gm_geojson(
        building_feats,
        gm_layer="buildings",
        style={"fillColor": "#8f8c85", "fillOpacity": 0.85, "color": "#3d3a35", "weight": 0.8},
        name=LAYER_NAMES["buildings"],
        pane="gm-ed-buildings",
        snap_ignore=True,  # Geoman: vertices snap to grids and communities, not to buildings
        pm_ignore=True,
    ).add_to(m)
    LayerGroup(name=LAYER_NAMES["labels"], gm_layer="labels").add_to(m)

    folium.LayerControl(collapsed=True, position="bottomleft").add_to(m)
    MapPanel(_panel_html(plan=plan, bands=band_values, api_base=api_base, title=title, role=role, scope=scope),
             position="topleft", class_name="gm-ed-panel").add_to(m)
    MapPanel(_metrics_html(), position="topright", class_name="gm-ed-metrics-panel").add_to(m)
    MapPanel(phone_fold(_legend_html(band_values), key="legend", label="图例 Legend"), position="bottomright",
             class_name="gm-legend gm-ed-legend").add_to(m)
    localize(m, static_url=static_url)
    return m


def plans_page(*, plans: list[dict], published: dict | None, api_base: str = "/v1", static_url: str = "/static",
               error: str = "", role: str | None = None, header: str = "") -> str:
    """The editor's start page (``/maps/editor`` without ``?plan=``): the plans, a button that
    makes a new draft from the published plan (``POST /v1/plans``; editor/plans.js does it and opens the draft),
    and a delete button per draft (``DELETE /v1/plans/{id}`` with ``If-Match`` the version listed, after a
    confirmation; disabled, saying why, for a *role* that cannot edit). *header* is the site's navigation (:func:`maps.nav.header_html`), trusted HTML.
    """
    esc = _html.escape
    status_label = {"draft": "草稿 draft", "published": "已发布 published", "retired": "已停用 retired"}
    drafts = [p for p in plans if p.get("status") == "draft"]
    newest_draft = max(drafts, key=lambda p: p["id"]) if drafts else None
    editable = can_edit(role)
    locked = "" if editable else f' disabled title="{esc(read_only_title(role))}"'
    rows = []
    for p in sorted(plans, key=lambda p: p["id"], reverse=True):
        delete = ""
        if p.get("status") == "draft":
            delete = (f'<button type="button" class="gm-ed-delete" data-plan="{esc(str(p["id"]))}" '
                      f'data-version="{esc(str(p.get("version", "")))}" '
                      f'data-name="{esc(str(p.get("name", "")))}"{locked}>删除 Delete</button>')
        cls = "gm-ed-plan-row" + (" gm-ed-newest" if newest_draft and p["id"] == newest_draft["id"] else "")
        when = p.get("published_at") or ""
        rows.append(
            f'<tr class="{cls}" data-plan="{esc(str(p["id"]))}" data-status="{esc(str(p.get("status", "")))}">'
            f'<td>{esc(str(p["id"]))}</td><td><a href="/maps/editor?plan={esc(str(p["id"]))}">'
            f'{esc(str(p.get("name", "")))}</a></td>'
            f'<td>{esc(status_label.get(p.get("status", ""), str(p.get("status", ""))))}</td>'
            f'<td class="gm-ed-plan-version">v{esc(str(p.get("version", "")))}</td>'
            f'<td>{esc(str(when)[:19].replace("T", " "))}</td>'
            f"<td>{delete}</td></tr>"
        )
    cont = ""
    if newest_draft:
        cont = (f'<p class="gm-ed-continue">继续编辑最新草稿 Continue the newest draft: '
                f'<a id="gm-ed-newest" href="/maps/editor?plan={newest_draft["id"]}">'
                f'#{newest_draft["id"]} {esc(str(newest_draft.get("name", "")))}</a></p>')
    source = published["id"] if published else ""
    problem = f'<p class="gm-ed-error" role="alert">{esc(error)}</p>' if error else ""
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>gridmap · 网格规划 Grid plans</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="{esc(local_url(STYLESHEET_PATH, static_url))}">
<link rel="stylesheet" href="{esc(local_url(NAV_STYLESHEET_PATH, static_url))}">
{script_tags((COMMON_SCRIPT_PATH, *PLANS_SCRIPT_PATHS), static_url)}
</head><body class="gm-ed-plans-body">
{header}<main id="{PLANS_ID}" class="gm-ed-plans" data-api-base="{esc(api_base)}" data-source="{esc(str(source))}">
<h1>网格规划 Grid plans</h1>
{problem}{cont}
<form id="gm-ed-new-form" class="gm-ed-new" autocomplete="off">
<label>新草稿名称 New draft name <input id="gm-ed-new-name" name="name" required maxlength="120"
 value="草稿 Draft"></label>
<button type="submit" id="gm-ed-new" {"" if published else "disabled"}>从已发布方案新建草稿 New draft from published</button>
</form>
<p id="gm-ed-new-status" class="gm-ed-status" role="status" aria-live="polite"></p>
<table class="gm-ed-plan-list"><thead><tr><th>#</th><th>名称 Name</th><th>状态 Status</th><th>版本 Version</th>
<th>发布于 Published at</th><th><span class="gm-ed-sr">操作 Actions</span></th></tr></thead><tbody>
{"".join(rows)}
</tbody></table>
<dialog id="gm-ed-delete-dialog" class="gm-ed-dialog" aria-labelledby="gm-ed-delete-title"><form method="dialog">
<h2 id="gm-ed-delete-title">删除草稿「<span class="gm-ed-dialog-name"></span>」？
Delete the draft “<span class="gm-ed-dialog-name"></span>”?</h2>
<p>草稿及其网格和编辑记录将被永久删除，不能撤销 The draft, its grids and its edit log are deleted for good:
this cannot be undone. 已发布或停用的方案不受影响 Published and retired plans are not touched.</p>
<div class="gm-ed-dialog-actions">
<button type="submit" value="cancel" id="gm-ed-delete-cancel" autofocus>取消 Cancel</button>
<button type="submit" value="delete" id="gm-ed-delete-confirm" class="gm-ed-danger">删除 Delete</button>
</div></form></dialog>
</main></body></html>"""
