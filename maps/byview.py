"""Layers a map page embeds, or loads by view as the map moves.

A town's layers are small (50 grids, 125 buildings, 725 cameras): the page embeds them and works
from a saved copy. A city's are not (6,087 grids, 59,533 buildings, 101,126 cameras: tens of MB),
so a layer over the page's limit (setting ``GRIDMAP_MAP_INLINE_MAX``) is drawn empty and
``maps/static/gridmap/byview.js`` fills it from the OGC API items of its collection, for the
box in view (with a margin), each time the map stops moving. When more features lie in view than
the layer's *budget*, it draws none and says how many there are and to zoom in: never a silent
part of them.

- :class:`StyleRule`: a Leaflet path style by one property's value, the same in Python (embedded
  layers, folium's ``style_function``) and in the page (loaded layers);
- :class:`ViewSource`: where a loaded layer's features come from (an ``/ogc`` collection, its
  properties, parameters such as ``plan``) and the most it draws at once;
- :func:`geojson_layer`: a folium ``GeoJson`` of embedded features, or an empty one that loads by view;
- :func:`inline_or_view`: embed the features, or load them by view, by the count of the layer;
- :func:`add_view_loading`: the scripts that load by view (once a page has a loaded layer).

Examples
--------
>>> rule = StyleRule({"weight": 1, "fillColor": "#ccc"}, by="status", values={"online": {"fillColor": "#1a9641"}})
>>> rule.of({"properties": {"status": "online"}})
{'weight': 1, 'fillColor': '#1a9641'}
>>> rule.of({"properties": {"status": "lost"}})["fillColor"]
'#ccc'
>>> src = ViewSource("cameras", label="摄像头 Cameras", properties=("code", "status"), budget=5000)
>>> src.options()["url"], src.options()["params"]
('/ogc/collections/cameras/items', {'properties': 'code,status'})
>>> inline_or_view(lambda: {"type": "FeatureCollection", "features": []}, count=10, limit=3000, source=src)
{'type': 'FeatureCollection', 'features': []}
>>> inline_or_view(lambda: 1 / 0, count=101_126, limit=3000, source=src) is src
True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import folium
from branca.element import Element

from maps.base import script_tags

__all__ = [
    "OGC_BASE",
    "VIEW_SCRIPT_PATH",
    "StyleRule",
    "ViewSource",
    "add_view_loading",
    "geojson_layer",
    "inline_or_view",
    "is_by_view",
]

#: Where the OGC API – Features is mounted (api/routes/ogc.py).
OGC_BASE = "/ogc"
#: The script that loads layers by view (after gridmap/common.js).
VIEW_SCRIPT_PATH = "gridmap/byview.js"


@dataclass(frozen=True)
class StyleRule:
    """A Leaflet path style: *base*, updated with ``values[str(properties[by])]`` (else *fallback*).

    The same rule styles an embedded layer (:meth:`of`, folium's ``style_function``) and a loaded
    one (:meth:`options`, read by byview.js), so the two look alike.
    """

    base: Mapping[str, Any]
    by: str | None = None
    values: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    fallback: Mapping[str, Any] = field(default_factory=dict)

    def of(self, feature: dict) -> dict[str, Any]:
        style = dict(self.base)
        if self.by is not None:
            value = (feature.get("properties") or {}).get(self.by)
            style.update(self.values.get(str(value), self.fallback) if value is not None else self.fallback)
        return style

    def options(self) -> dict[str, Any]:
        return {"base": dict(self.base), "by": self.by, "values": {k: dict(v) for k, v in self.values.items()},
                "fallback": dict(self.fallback)}


@dataclass(frozen=True)
class ViewSource:
    """The features of a layer loaded by view: OGC collection *collection*, with only *properties*.

    *label* names the layer in the page's notes ("zoom in to see them"); *budget* is the most features
    it draws at once (more in view: none, and the note); *params* are added to every request (``plan``).
    *follows*: the layer is loaded by view exactly when that other layer is, whatever its own count (a
    city's 375 community outlines weigh more than its count says: 600 KB that would delay the first paint).
    """

    collection: str
    label: str
    properties: tuple[str, ...]
    budget: int = 3_000
    params: Mapping[str, str | int] = field(default_factory=dict)
    follows: str | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.budget <= 10_000:  # geo.ogc.collections.MAX_LIMIT: one page holds them all
            raise ValueError(f"budget must be 1..10000 features (one OGC items page), not {self.budget}")

    def with_params(self, **params: str | int) -> ViewSource:
        """This source with *params* added to its requests (``plan=7``, ``filter=...``)."""
        return replace(self, params={**self.params, **params})

    def options(self) -> dict[str, Any]:
        params = {k: str(v) for k, v in self.params.items()}
        params["properties"] = ",".join(self.properties)
        return {"url": f"{OGC_BASE}/collections/{self.collection}/items", "params": params, "budget": self.budget,
                "label": self.label}


def is_by_view(data: object) -> bool:
    """Whether a page builder's layer argument asks for loading by view (a :class:`ViewSource`)."""
    return isinstance(data, ViewSource)


def inline_or_view(load: Callable[[], dict], *, count: int, limit: int, source: ViewSource) -> dict | ViewSource:
    """The FeatureCollection ``load()`` when the layer's *count* is at most *limit*, else *source*
    (the features are then not read at all)."""
    return load() if count <= limit else source


def geojson_layer(
    feats: list[dict] | ViewSource,
    *,
    gm_layer: str,
    style: StyleRule,
    highlight: Mapping[str, Any] | None = None,
    label: Mapping[str, Any] | None = None,
    **options: Any,
) -> folium.GeoJson:
    """A folium ``GeoJson`` the page scripts find by ``options.gmLayer == gm_layer``.

    Parameters
    ----------
    feats : list of GeoJSON features, or ViewSource
        Embedded features, or where to load them from as the view moves.
    style : StyleRule
        The features' path style.
    highlight : dict, optional
        Style merged in while the mouse is over a feature.
    label : dict, optional
        For loaded polygon layers: ``{"field": <property>, "className": <css>, "grid": bool}``: a label
        at the feature's ``label_lon``/``label_lat`` (``grid``: shown as the grid number).
    options
        Passed to ``folium.GeoJson`` (``name``, ``control``, ``pane``, ``marker``, ...).
    """
    if isinstance(feats, ViewSource):
        extra: dict[str, Any] = {"gm_source": feats.options(), "gm_style": style.options()}
        if highlight:
            extra["gm_highlight"] = dict(highlight)
        if label:
            extra["gm_label"] = dict(label)
        return folium.GeoJson({"type": "FeatureCollection", "features": []}, **options, **extra, gm_layer=gm_layer)
    kw: dict[str, Any] = {}
    if highlight and feats:
        kw["highlight_function"] = lambda f: dict(highlight)
    return folium.GeoJson({"type": "FeatureCollection", "features": feats}, style_function=style.of, **kw,
                          **options, gm_layer=gm_layer)


def add_view_loading(m: folium.Map, *, static_url: str) -> None:
    """Adds byview.js (standalone: it needs only Leaflet) to the page of *m*; it loads every layer made
    by :func:`geojson_layer` from a :class:`ViewSource`, and does nothing on a page without one."""
    m.get_root().header.add_child(Element(script_tags((VIEW_SCRIPT_PATH,), static_url)), name="gridmap_byview_js")
