"""The vector-tile map page (/maps/tiles): MapLibre GL (vendored, its CSP build) drawing /tiles/style.json.

No data and no inline script in the page: ``gridmap/tiles.js`` reads the style's and the worker's URLs
from the map element's ``data-`` attributes, and MapLibre fetches the style and the tiles from the app
with the page's session cookie (same origin), so the page weighs the same for a town or a city: what
the view shows comes as tiles.

>>> html = tiles_page(static_url="/static", style_url="/tiles/style.json")
>>> "<script>" in html or "https://" in html
False
>>> 'data-style="/tiles/style.json"' in html and "maplibre-gl-csp.js" in html
True
"""

from __future__ import annotations

from html import escape
from maps.nav import NAV_STYLESHEET_PATH

SCRIPT_PATH = "gridmap/tiles.js"
MAPLIBRE_DIR = "vendor/maplibre-gl"


def tiles_page(*, static_url: str, style_url: str, title: str = "gridmap · 矢量瓦片 Vector tiles",
               header: str = "") -> str:
    """The page; *header* is the site's (maps/nav.py, trusted HTML): above the map, which fills the rest."""
    s = static_url.rstrip("/")
    a = lambda v: escape(v, quote=True)  # noqa: E731
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="{a(f"{s}/{MAPLIBRE_DIR}/maplibre-gl.css")}">
<link rel="stylesheet" href="{a(f"{s}/{NAV_STYLESHEET_PATH}")}">
<style>html, body {{ margin: 0; height: 100%; }} body {{ display: flex; flex-direction: column; }}
.gm-tiles-wrap {{ position: relative; flex: 1 1 auto; min-height: 0; }}
#gm-tiles-map {{ position: absolute; inset: 0; }}
#gm-tiles-map :focus-visible {{ outline: 3px solid #1d4ed8; outline-offset: 1px; }}
#gm-tiles-map .maplibregl-canvas:focus-visible {{ outline-offset: -3px; }}
.gm-tiles-title {{ position: absolute; top: 8px; left: 8px; z-index: 2; background: rgba(255,255,255,.92);
  padding: 4px 10px; border-radius: 6px; font: 600 14px/1.4 "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif; }}
</style></head>
<body>{header}<div class="gm-tiles-wrap"><div class="gm-tiles-title">{escape(title)}</div>
<div id="gm-tiles-map" data-style="{a(style_url)}" data-worker="{a(f"{s}/{MAPLIBRE_DIR}/maplibre-gl-csp-worker.js")}"></div></div>
<script src="{a(f"{s}/{MAPLIBRE_DIR}/maplibre-gl-csp.js")}"></script>
<script src="{a(f"{s}/{SCRIPT_PATH}")}"></script>
</body></html>"""
