"""The overview map (``/maps/``): communities, grids, buildings and cameras.

Each input is a GeoJSON FeatureCollection dict in WGS84, as the ``/v1/...``
endpoints return them. The page embeds slimmed copies (only the properties
shown, coordinates rounded to 1e-6 degree, about 0.1 m) and draws every
layer as one ``L.geoJson``, so 700+ cameras stay one object, not 700.

Examples
--------
>>> from shapely.geometry import box, mapping, Point
>>> fc = lambda *feats: {"type": "FeatureCollection", "features": list(feats)}
>>> feat = lambda geom, **props: {"type": "Feature", "geometry": mapping(geom), "properties": props}
>>> m = build_overview_map(
...     communities=fc(feat(box(113.1, 40.05, 113.11, 40.06), code="140214001001", name="春安新区")),
...     grids=fc(feat(box(113.1, 40.05, 113.11, 40.06), code="140214001001001", community_code="140214001001")),
...     buildings=fc(),
...     cameras=fc(feat(Point(113.105, 40.055), code="c1", status="online")),
...     bounds=(113.1, 40.05, 113.11, 40.06),
... )
>>> html = render(m)
>>> "/static/vendor/leaflet/leaflet.js" in html and "cdn.jsdelivr.net" not in html
True
"""

from __future__ import annotations

import html as _html
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import folium
from folium.utilities import JsCode
from shapely.geometry import mapping, shape

from maps.assets import localize
from maps.base import MapPanel, TextPopup, TextTooltip, new_map, phone_fold, render
from maps.byview import StyleRule, ViewSource, add_view_loading, geojson_layer, is_by_view
from maps.layers import feature_collection, features, grid_label, round_geometry

__all__ = [
    "CAMERA_STATUS_COLOURS",
    "COMMUNITY_PALETTE",
    "LAYER_NAMES",
    "build_overview_map",
    "render",
]

#: Layer names as they appear in the layer control.
LAYER_NAMES = {
    "communities": "社区 Communities",
    "grids": "网格 Grids",
    "buildings": "楼栋 Buildings",
    "cameras": "摄像头 Cameras",
}

#: Grid fill colour by community, in order of community code (ColorBrewer Set3,
#: qualitative, light enough for labels and camera dots to stay readable).
COMMUNITY_PALETTE = (
    "#8dd3c7", "#fdb462", "#bebada", "#fb8072", "#80b1d3", "#b3de69",
    "#fccde5", "#ffffb3", "#bc80bd", "#ccebc5", "#ffed6f", "#d9d9d9",
)  # fmt: skip

#: Camera dot colour by status.
CAMERA_STATUS_COLOURS = {"online": "#1a9641", "offline": "#8c8c8c", "fault": "#d7191c"}
_CAMERA_UNKNOWN = "#4d4d4d"
_STATUS_LABELS = {"online": "在线 online", "offline": "离线 offline", "fault": "故障 fault"}

_COMMUNITY_FIELDS = ("code", "name", "name_en")
_GRID_FIELDS = ("code", "name", "community_code", "households", "population", "buildings", "grid_member")
_BUILDING_FIELDS = ("code", "name", "address", "floors", "height_m", "units", "households", "grid_code")
_CAMERA_FIELDS = ("code", "name", "kind", "status", "mount", "height_m", "azimuth_deg", "hfov_deg", "range_m")

_PANE_COMMUNITIES = "gm-communities"
_PANE_CAMERAS = "gm-cameras"
#: Communities the legend names (a city has hundreds; the colours repeat anyway).
_LEGEND_COMMUNITIES = 12

_GRID_STYLE = {"fillOpacity": 0.6, "color": "#555555", "weight": 1.2}
_GRID_HIGHLIGHT = {"weight": 3, "color": "#000000", "fillOpacity": 0.75}
_BUILDING_STYLE = StyleRule({"fillColor": "#9e9e9e", "fillOpacity": 0.85, "color": "#5f5f5f", "weight": 1})
_CAMERA_STYLE = StyleRule({}, by="status", values={s: {"fillColor": c} for s, c in CAMERA_STATUS_COLOURS.items()},
                          fallback={"fillColor": _CAMERA_UNKNOWN})

#: Where each layer comes from when it is loaded by view (maps/byview.py), and the most it draws at once.
VIEW_SOURCES = {
    "grids": ViewSource("grids", label=LAYER_NAMES["grids"], budget=2_000,
                        properties=("code", "name", "community_code", "households", "population", "buildings",
                                    "grid_member", "label_lon", "label_lat")),
    "buildings": ViewSource("buildings", label=LAYER_NAMES["buildings"], budget=3_000,
                            properties=("code", "name", "address", "floors", "height_m", "units", "households",
                                        "grid_code")),
    "cameras": ViewSource("cameras", label=LAYER_NAMES["cameras"], budget=4_000,
                          properties=("code", "name", "kind", "status", "mount", "height_m", "azimuth_deg",
                                      "hfov_deg", "range_m")),
    "communities": ViewSource("communities", label=LAYER_NAMES["communities"], budget=2_000,
                              properties=("code", "name", "name_en"), follows="grids"),
}
_COMMUNITY_STYLE = StyleRule({"color": "#333333", "weight": 4, "opacity": 0.9, "fill": False})


def _display(v: Any) -> Any:
    """Tooltip-friendly value: None becomes an en dash, floats lose noise."""
    if v is None:
        return "–"
    if isinstance(v, float):
        return int(v) if v.is_integer() else round(v, 1)
    return v


def _slim(fc: dict, fields: tuple[str, ...], what: str) -> dict:
    """A copy of *fc* with only *fields* (missing ones as "–") and rounded coordinates.

    Each Feature's ``id`` is its ``code`` when codes are unique, so folium's
    style lookup is keyed on it; otherwise the position.
    """
    feats = features(fc, what)
    codes = [(f.get("properties") or {}).get("code") for f in feats]
    use_code = None not in codes and len(set(codes)) == len(codes)
    out = []
    for i, f in enumerate(feats):
        props = f.get("properties") or {}
        out.append(
            {
                "type": "Feature",
                "id": str(codes[i]) if use_code else str(i),
                "properties": {k: _display(props.get(k)) for k in fields},
                "geometry": round_geometry(f["geometry"]),
            }
        )
    return feature_collection(out)


def _community_colours(communities: Iterable[str], grids: dict) -> dict[str, str]:
    codes = {str(code) for code in communities}
    codes |= {str(f["properties"]["community_code"]) for f in grids["features"]}
    codes.discard("–")
    return {code: COMMUNITY_PALETTE[i % len(COMMUNITY_PALETTE)] for i, code in enumerate(sorted(codes))}


def _label_points(grids: dict) -> dict:
    """One point per grid, inside it (shapely's representative point), labelled."""
    feats = []
    for f in grids["features"]:
        geom = shape(f["geometry"])
        if geom.is_empty:
            continue
        code = f["properties"]["code"]
        feats.append(
            {
                "type": "Feature",
                "id": f"label-{f['id']}",
                "properties": {"label": grid_label(code), "code": code},
                "geometry": round_geometry(mapping(geom.representative_point())),
            }
        )
    return feature_collection(feats)


# Turns each label point's marker into a text label; textContent, so no HTML injection.
_LABEL_JS = JsCode(
    """
    function (feature, layer) {
        var span = document.createElement("span");
        span.textContent = feature.properties.label;
        layer.setIcon(L.divIcon({ className: "gm-label gm-grid-label", html: span, iconSize: [0, 0] }));
    }
    """
)


def totals_of(grids: dict, buildings: dict, cameras: dict) -> dict[str, Any]:
    """The counts the title and legend show, from embedded FeatureCollections (slimmed: "–" for none).

    A page whose layers load by view gets them from the database instead
    (:func:`geo.store.queries.overview_totals`): the same keys."""
    def total(key: str) -> int:
        return int(sum(f["properties"][key] for f in grids["features"] if isinstance(f["properties"][key], (int, float))))

    return {
        "grids": len(grids["features"]),
        "buildings": len(buildings["features"]),
        "cameras": len(cameras["features"]),
        "households": total("households"),
        "population": total("population"),
        "camera_status": dict(Counter(str(f["properties"]["status"]) for f in cameras["features"])),
    }


def _title_html(title: str, totals: dict[str, Any]) -> str:
    parts = [
        f"{totals['grids']:,} 网格 grids",
        f"{totals['buildings']:,} 楼栋 buildings",
        f"{totals['cameras']:,} 摄像头 cameras",
    ]
    households, population = totals["households"], totals["population"]
    if households:
        parts.append(f"{households:,} 户 households")
    if population:
        parts.append(f"{population:,} 人 residents")
    return f'<h1>{_html.escape(title)}</h1><div class="gm-sub">{_html.escape(" · ".join(parts))}</div>'


def _legend_html(names: Mapping[str, Mapping[str, Any]], colours: dict[str, str], totals: dict[str, Any]) -> str:
    rows = ['<h2>社区 Communities</h2><div class="gm-row"><span class="gm-outline"></span>社区边界 boundary</div>']
    rows.append("<h2>网格 Grids, by community</h2>")
    listed = list(colours.items())
    for code, colour in listed[:_LEGEND_COMMUNITIES]:
        props = names.get(code, {})
        label = " ".join(str(v) for v in (props.get("name"), props.get("name_en")) if v not in (None, "–")) or code
        rows.append(
            f'<div class="gm-row"><span class="gm-swatch" style="background:{colour}"></span>{_html.escape(label)}</div>'
        )
    if len(listed) > _LEGEND_COMMUNITIES:
        rows.append(f'<div class="gm-row">… 另 {len(listed) - _LEGEND_COMMUNITIES:,} 个社区 more communities '
                    f"(colours repeat every {len(COMMUNITY_PALETTE)})</div>")
    rows.append('<h2>楼栋 Buildings</h2><div class="gm-row"><span class="gm-swatch" style="background:#9e9e9e"></span>楼栋 building</div>')
    counts = totals["camera_status"]
    rows.append("<h2>摄像头 Cameras</h2>")
    for status, colour in CAMERA_STATUS_COLOURS.items():
        rows.append(
            f'<div class="gm-row"><span class="gm-dot" style="background:{colour}"></span>'
            f"{_STATUS_LABELS[status]} ({counts.get(status, 0):,})</div>"
        )
    other = sum(n for s, n in counts.items() if s not in CAMERA_STATUS_COLOURS)
    if other:
        rows.append(
            f'<div class="gm-row"><span class="gm-dot" style="background:{_CAMERA_UNKNOWN}"></span>其他 other ({other:,})</div>'
        )
    return "".join(rows)


def build_overview_map(
    *,
    communities: dict | ViewSource,
    grids: dict | ViewSource,
    buildings: dict | ViewSource,
    cameras: dict | ViewSource,
    bounds: tuple[float, float, float, float] | None,
    totals: dict[str, Any] | None = None,
    basemap: str = "none",
    tianditu_key: str = "",
    static_url: str = "/static",
    title: str = "高山镇网格总览 Gaoshan Town grids",
    community_names: Mapping[str, Mapping[str, Any]] | None = None,
) -> folium.Map:
    """The overview map: communities, grids, buildings and cameras, each a toggle.

    Parameters
    ----------
    communities, grids, buildings, cameras : dict
        GeoJSON FeatureCollections (WGS84). Properties used: communities
        ``code, name, name_en``; grids ``code, name, community_code,
        households, population, buildings, grid_member``; buildings ``code,
        name, address, floors, height_m, units, households, grid_code``;
        cameras ``code, name, kind, status, mount, height_m, azimuth_deg,
        hfov_deg, range_m``. Missing ones show as "–". Each may instead be a
        :class:`maps.byview.ViewSource` (:data:`VIEW_SOURCES`): the layer is loaded by view.
    bounds : (west, south, east, north) or None
        Box to fit, lon/lat (e.g. the communities' total bounds).
    totals : dict, optional
        The counts of the title and legend (:func:`totals_of`'s keys); needed when a layer is loaded
        by view, else counted from the FeatureCollections.
    basemap, tianditu_key, static_url
        As for :func:`maps.base.new_map`.
    title : str
        Shown in the title box and as the page title.
    community_names : mapping, optional
        Code -> ``{name, name_en}`` of every community, for the legend's colours
        (:func:`geo.store.queries.community_labels`); needed when *communities* is loaded by view.

    Returns
    -------
    folium.Map
        Localized (assets from *static_url*); :func:`render` gives the page.
    """
    if is_by_view(communities):
        if community_names is None:
            raise ValueError("community_names are needed when the communities are loaded by view: "
                             "geo.store.queries.community_labels gives them")
        names: Mapping[str, Mapping[str, Any]] = community_names
    else:
        communities = _slim(communities, _COMMUNITY_FIELDS, "communities")
        names = {str(f["properties"]["code"]): f["properties"] for f in communities["features"]}
    by_view = any(is_by_view(x) for x in (communities, grids, buildings, cameras))
    if by_view and totals is None:
        raise ValueError("totals are needed when a layer is loaded by view (a ViewSource): "
                         "geo.store.queries.overview_totals gives them")
    grids = grids if is_by_view(grids) else _slim(grids, _GRID_FIELDS, "grids")
    buildings = buildings if is_by_view(buildings) else _slim(buildings, _BUILDING_FIELDS, "buildings")
    cameras = cameras if is_by_view(cameras) else _slim(cameras, _CAMERA_FIELDS, "cameras")
    if totals is None:
        totals = totals_of(grids, buildings, cameras)
    colours = _community_colours(names, grids if isinstance(grids, dict) else feature_collection([]))
    grid_style = StyleRule(_GRID_STYLE, by="community_code", values={c: {"fillColor": v} for c, v in colours.items()},
                           fallback={"fillColor": "#cccccc"})

    m = new_map(bounds=bounds, basemap=basemap, tianditu_key=tianditu_key, static_url=static_url)
    m.get_root().title = title
    # Community outlines above grid fills and buildings; cameras above all polygons.
    folium.map.CustomPane(_PANE_COMMUNITIES, z_index=410, pointer_events=False).add_to(m)
    folium.map.CustomPane(_PANE_CAMERAS, z_index=420, pointer_events=False).add_to(m)

    # Communities: thick outline, no fill (only the outline takes the mouse).
    layer = geojson_layer(communities if is_by_view(communities) else communities["features"],
                          gm_layer="communities", style=_COMMUNITY_STYLE, name=LAYER_NAMES["communities"],
                          pane=_PANE_COMMUNITIES)
    if is_by_view(communities) or communities["features"]:
        TextTooltip(fields=["name", "name_en", "code"], aliases=["社区", "community", "代码 code"], sticky=True).add_to(layer)
    layer.add_to(m)

    # Grids: filled by community, with a label (grid number) inside each.
    group = folium.FeatureGroup(name=LAYER_NAMES["grids"]).add_to(m)
    layer = geojson_layer(
        grids if is_by_view(grids) else grids["features"], gm_layer="grids", style=grid_style,
        highlight=_GRID_HIGHLIGHT, label={"field": "code", "className": "gm-label gm-grid-label", "grid": True},
        control=False,
    )
    if is_by_view(grids) or grids["features"]:
        TextTooltip(
            fields=["code", "name", "households", "population", "buildings", "grid_member"],
            aliases=["网格 grid", "名称 name", "户数 households", "人口 population", "楼栋 buildings", "网格员 grid member"],
            sticky=True,
        ).add_to(layer)
    layer.add_to(group)
    if not is_by_view(grids):
        folium.GeoJson(
            _label_points(grids),
            control=False,
            marker=folium.Marker(icon=folium.DivIcon(class_name="gm-label", icon_size=(0, 0)), interactive=False,
                                 keyboard=False),
            on_each_feature=_LABEL_JS,
        ).add_to(group)

    # Buildings: grey footprints.
    layer = geojson_layer(buildings if is_by_view(buildings) else buildings["features"], gm_layer="buildings",
                          style=_BUILDING_STYLE, name=LAYER_NAMES["buildings"])
    if is_by_view(buildings) or buildings["features"]:
        TextTooltip(
            fields=["name", "address", "code", "floors", "units", "households", "grid_code"],
            aliases=["楼栋", "地址 address", "代码 code", "层数 floors", "单元 units", "户数 households", "网格 grid"],
            sticky=True,
        ).add_to(layer)
    layer.add_to(m)

    # Cameras: one L.geoJson of CircleMarkers, coloured by status.
    dot = folium.CircleMarker(radius=4, weight=1, color="#ffffff", fill=True, fill_opacity=0.95)
    dot.options["pane"] = _PANE_CAMERAS  # folium's path options drop `pane`
    layer = geojson_layer(cameras if is_by_view(cameras) else cameras["features"], gm_layer="cameras",
                          style=_CAMERA_STYLE, name=LAYER_NAMES["cameras"], marker=dot)
    if is_by_view(cameras) or cameras["features"]:
        TextTooltip(fields=["name", "status"], labels=False).add_to(layer)
        TextPopup(
            fields=list(_CAMERA_FIELDS),
            aliases=["设备编码 code", "名称 name", "类型 kind", "状态 status", "安装 mount",
                     "高度 height (m)", "方位 azimuth (°)", "视场角 HFOV (°)", "距离 range (m)"],
        ).add_to(layer)  # fmt: skip
    layer.add_to(m)
    # Every value in a tooltip or popup is data (names, addresses, a grid member): TextTooltip and
    # TextPopup write them with textContent; the legend and the title escape theirs.

    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    MapPanel(_title_html(title, totals), position="topcenter", class_name="gm-title").add_to(m)
    MapPanel(phone_fold(_legend_html(names, colours, totals), key="legend", label="图例 Legend"),
             position="bottomright", class_name="gm-legend").add_to(m)
    if by_view:
        add_view_loading(m, static_url=static_url)

    localize(m, static_url=static_url)
    return m
