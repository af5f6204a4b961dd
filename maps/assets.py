"""Serve folium's JavaScript and CSS from the app, never from a CDN.

folium (and its plugins) link Leaflet and friends from public CDNs, which an
intranet cannot reach. :func:`localize` walks a map's element tree and points
every ``default_js`` / ``default_css`` entry at the copies vendored in
``maps/static/vendor/`` (see ``maps/static/vendor/README.md`` and
:mod:`maps.vendor_assets`). A CDN URL it does not know is an error, so a new
plugin cannot silently load from the internet: vendor it and add its URLs to
:data:`CDN_ASSETS`.

Examples
--------
>>> import folium
>>> from maps.assets import localize, find_cdn_urls
>>> m = folium.Map(tiles=None)
>>> localize(m, static_url="/static")
>>> html = m.get_root().render()
>>> find_cdn_urls(html)
[]
>>> "/static/vendor/leaflet/leaflet.js" in html
True
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import folium
from branca.element import CssLink, Element, Figure, JavascriptLink

__all__ = [
    "CDN_ASSETS",
    "DROPPED",
    "STATIC_DIR",
    "CdnAssetError",
    "assert_no_cdn",
    "find_cdn_urls",
    "local_url",
    "localize",
]

#: Folder served at ``static_url``; vendored files live in ``vendor/`` below it.
STATIC_DIR = Path(__file__).resolve().parent / "static"

#: Marker for a folium default that gridmap's maps do not need: the link is dropped.
DROPPED = None

_FOLIUM_HEAT = "https://cdn.jsdelivr.net/gh/python-visualization/folium@main/folium/templates/leaflet_heat.min.js"

#: Every CDN URL folium 0.20 and the plugins gridmap uses may emit, mapped to a
#: path under the static root, or to :data:`DROPPED` for folium defaults that
#: only folium.Icon needs (Bootstrap, glyphicons, Font Awesome, awesome-markers).
CDN_ASSETS: dict[str, str | None] = {
    # folium.Map: core
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js": "vendor/leaflet/leaflet.js",
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css": "vendor/leaflet/leaflet.css",
    "https://code.jquery.com/jquery-3.7.1.min.js": "vendor/jquery/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/jquery/3.7.1/jquery.min.js": "vendor/jquery/jquery.min.js",
    # folium.Map: dropped (folium.Icon only; localize() rejects folium.Icon)
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js": DROPPED,
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css": DROPPED,
    "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css": DROPPED,
    "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css": DROPPED,
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js": DROPPED,
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css": DROPPED,
    "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/leaflet.awesome.rotate.min.css": DROPPED,
    # folium.plugins.MarkerCluster (and FastMarkerCluster, its subclass)
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/leaflet.markercluster.js": (
        "vendor/leaflet.markercluster/leaflet.markercluster.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.css": (
        "vendor/leaflet.markercluster/MarkerCluster.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.Default.css": (
        "vendor/leaflet.markercluster/MarkerCluster.Default.css"
    ),
    # folium.plugins.HeatMap
    _FOLIUM_HEAT: "vendor/leaflet.heat/leaflet-heat.js",
    # folium.plugins.Fullscreen
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.min.js": (
        "vendor/leaflet.fullscreen/Control.FullScreen.js"
    ),
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.css": (
        "vendor/leaflet.fullscreen/Control.FullScreen.css"
    ),
}

_ICON_HINT = (
    "needs Leaflet.awesome-markers, Font Awesome and Bootstrap glyphicons, which gridmap "
    "does not vendor (folium's default CDN links for them are dropped). Use folium.DivIcon, "
    "folium.CircleMarker or Leaflet's default marker instead, or vendor them "
    "(maps/vendor_assets.py) and map their URLs in maps.assets.CDN_ASSETS."
)


class CdnAssetError(ValueError):
    """A map element wants a script or stylesheet that is not vendored."""


def _is_external(url: str) -> bool:
    u = url.strip().lower()
    return u.startswith(("http://", "https://", "//"))


def local_url(path: str, static_url: str = "/static") -> str:
    """URL of a file under ``maps/static/`` when that folder is served at *static_url*."""
    return f"{static_url.rstrip('/')}/{path.lstrip('/')}"


def _describe(el: Element) -> str:
    return f"{type(el).__module__}.{type(el).__qualname__} ({el.get_name()})"


def _rewrite(el: Element, kind: str, entries, static_url: str) -> list[tuple[str, str]]:
    out = []
    for name, url in entries:
        if not _is_external(url):
            out.append((name, url))
            continue
        if url not in CDN_ASSETS:
            raise CdnAssetError(
                f"{_describe(el)} wants {kind} {name!r} from {url}, which is not vendored. "
                "Maps must not load from a CDN: add the package to maps/vendor_assets.py, run "
                "`python -m maps.vendor_assets`, and map this URL in maps.assets.CDN_ASSETS."
            )
        target = CDN_ASSETS[url]
        if target is not DROPPED:
            out.append((name, local_url(target, static_url)))
    return out


def _children(el: Element) -> Iterator[Element]:
    yield from el._children.values()
    # Figure and Popup keep header/html/script outside _children
    for attr in ("header", "html", "script"):
        sub = getattr(el, attr, None)
        if isinstance(sub, Element):
            yield sub
    # GeoJson(marker=...) keeps the marker (and its icon) outside the tree
    marker = getattr(el, "marker", None)
    if isinstance(marker, Element):
        yield marker


def _walk(root: Element) -> Iterator[Element]:
    seen: set[int] = set()
    stack = [root]
    while stack:
        el = stack.pop()
        if id(el) in seen:
            continue
        seen.add(id(el))
        yield el
        stack.extend(_children(el))


def _check_supported(el: Element) -> None:
    if isinstance(el, folium.Icon):
        raise CdnAssetError(f"{_describe(el)}: folium.Icon {_ICON_HINT}")
    from folium.plugins import FastMarkerCluster

    if isinstance(el, FastMarkerCluster) and "L.AwesomeMarkers" in (el.callback or ""):
        raise CdnAssetError(f"{_describe(el)}: FastMarkerCluster's default callback {_ICON_HINT} Pass a callback.")


def localize(m: folium.Map | Figure | Element, *, static_url: str = "/static") -> None:
    """Point every script and stylesheet of a map at the vendored copies.

    Walks the whole figure (the root of *m* and all its children, plugins
    included) and rewrites each element's ``default_js`` and ``default_css``
    (on the instance: folium's class-level lists are left alone), as well as
    any ``JavascriptLink`` / ``CssLink`` already in a header. Idempotent; call
    it again after adding elements.

    Parameters
    ----------
    m : folium.Map, branca Figure or any element of one
        The map; its root figure is processed.
    static_url : str
        URL prefix at which ``maps/static/`` is served, e.g. ``"/static"``.

    Raises
    ------
    CdnAssetError
        If an element links a CDN URL missing from :data:`CDN_ASSETS`, or uses
        a feature whose assets are deliberately not vendored (``folium.Icon``).
    """
    root = m.get_root()
    for el in _walk(root):
        _check_supported(el)
        if hasattr(el, "default_js") or hasattr(el, "default_css"):
            el.default_js = _rewrite(el, "script", getattr(el, "default_js", []), static_url)
            el.default_css = _rewrite(el, "stylesheet", getattr(el, "default_css", []), static_url)
        if isinstance(el, (JavascriptLink, CssLink)) and _is_external(el.url):
            kind = "script" if isinstance(el, JavascriptLink) else "stylesheet"
            if el.url not in CDN_ASSETS:
                raise CdnAssetError(
                    f"{_describe(el)} links {kind} {el.url}, which is not vendored; "
                    "map it in maps.assets.CDN_ASSETS."
                )
            target = CDN_ASSETS[el.url]
            if target is DROPPED:
                parent = el._parent
                if parent is not None:
                    for key, child in list(parent._children.items()):
                        if child is el:
                            del parent._children[key]
            else:
                el.url = local_url(target, static_url)
    root._gridmap_static_url = static_url  # read by maps.base.render()


class _AssetParser(HTMLParser):
    _ATTRS = {"script": "src", "link": "href", "img": "src", "iframe": "src", "source": "src", "embed": "src"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        want = self._ATTRS.get(tag)
        if want and attrs.get(want):
            if tag != "link" or _is_asset_link(attrs):
                self.urls.append(attrs[want])
        if attrs.get("style"):
            self.urls.extend(_css_urls(attrs["style"]))
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.urls.extend(_css_urls(data))


def _is_asset_link(attrs: dict) -> bool:
    rel = (attrs.get("rel") or "").lower().split()
    return not rel or bool({"stylesheet", "preload", "modulepreload", "icon", "prefetch"} & set(rel))


_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)""", re.I)
_CSS_IMPORT = re.compile(r"""@import\s+['"]([^'"]+)['"]""", re.I)


def _css_urls(css: str) -> list[str]:
    return _CSS_URL.findall(css) + _CSS_IMPORT.findall(css)


def find_cdn_urls(html: str) -> list[str]:
    """Absolute (``http://``, ``https://``, ``//``) URLs a page loads as assets.

    Looks at ``<script src>``, ``<link href>`` (stylesheets, icons, preloads),
    ``<img>``/``<iframe>``/``<source>``/``<embed>`` ``src``, and ``url(...)`` /
    ``@import`` in ``<style>`` blocks and ``style`` attributes. Tile URL
    templates inside scripts are not assets and are not reported: the
    basemap is a setting.
    """
    parser = _AssetParser()
    parser.feed(html)
    parser.close()
    return [u for u in parser.urls if _is_external(u)]


def assert_no_cdn(html: str) -> None:
    """Raise ``AssertionError`` listing every asset the page would fetch from outside.

    >>> assert_no_cdn('<script src="/static/vendor/leaflet/leaflet.js"></script>')
    >>> assert_no_cdn('<script src="https://cdn.jsdelivr.net/npm/x.js"></script>')
    Traceback (most recent call last):
    ...
    AssertionError: page loads 1 asset(s) from outside the app: https://cdn.jsdelivr.net/npm/x.js
    """
    urls = find_cdn_urls(html)
    if urls:
        raise AssertionError(f"page loads {len(urls)} asset(s) from outside the app: " + ", ".join(urls))
