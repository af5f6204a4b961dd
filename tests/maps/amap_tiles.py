"""Fixture Amap tiles for browser tests: PNGs made here, served in place of autonavi.com (unreachable).

Each tile is what Amap would draw, in GCJ-02: a light background with the tile's edges, and the
footprints it is given (WGS84 shapely polygons, turned into GCJ-02 with :func:`geo.crs.wgs84_to_gcj02`
and drawn at their Web-Mercator place). On a page that draws the same footprints as overlays, they
coincide with the tiles' only when the overlays are shifted the way Amap's tiles are.

Also :func:`gcj02_pixel`, the reference for where a WGS84 point lies on such tiles (world pixels at a
zoom), computed in Python (geo.crs and PROJ's EPSG:3857), independently of the page's CRS.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from functools import lru_cache
from urllib.parse import parse_qs, urlsplit

from PIL import Image, ImageDraw

from geo.crs import transformer, wgs84_to_gcj02

TILE = 256
#: Half the EPSG:3857 world width in metres (pi * R, R = 6378137).
HALF_WORLD_M = math.pi * 6378137.0
AMAP_HOST_SUFFIX = ".is.autonavi.com"


def mercator_m(lon: float, lat: float) -> tuple[float, float]:
    """EPSG:3857 metres of a lon/lat (PROJ)."""
    return transformer("EPSG:4326", "EPSG:3857").transform(lon, lat)


def lonlat_of_mercator(x: float, y: float) -> tuple[float, float]:
    return transformer("EPSG:3857", "EPSG:4326").transform(x, y)


def world_pixel(x_m: float, y_m: float, zoom: float) -> tuple[float, float]:
    """Leaflet's world pixel of EPSG:3857 metres at *zoom* (origin top-left, 256 px tiles)."""
    scale = TILE * 2.0**zoom
    return (x_m / HALF_WORLD_M + 1.0) / 2.0 * scale, (1.0 - y_m / HALF_WORLD_M) / 2.0 * scale


def metres_of_world_pixel(px: float, py: float, zoom: float) -> tuple[float, float]:
    scale = TILE * 2.0**zoom
    return (2.0 * px / scale - 1.0) * HALF_WORLD_M, (1.0 - 2.0 * py / scale) * HALF_WORLD_M


def gcj02_pixel(lon: float, lat: float, zoom: float) -> tuple[float, float]:
    """World pixel at *zoom* where GCJ-02 tiles show the WGS84 point (lon, lat)."""
    return world_pixel(*mercator_m(*wgs84_to_gcj02(lon, lat)), zoom)


def wgs84_pixel(lon: float, lat: float, zoom: float) -> tuple[float, float]:
    """World pixel at *zoom* of (lon, lat) with no shift (plain EPSG:3857, the "none" basemap)."""
    return world_pixel(*mercator_m(lon, lat), zoom)


class AmapTiles:
    """``serve_outside`` for :func:`tests.maps.browser.open_map`: answers Amap tile URLs with PNGs.

    *footprints*: WGS84 shapely polygons drawn (in GCJ-02) on the tiles; *requested* collects the
    (z, x, y) asked for."""

    def __init__(self, footprints: Sequence = ()) -> None:
        self.footprints = list(footprints)
        self.requested: list[tuple[int, int, int]] = []
        self._gcj = [self._to_gcj_mercator(p) for p in self.footprints]

    @staticmethod
    def _to_gcj_mercator(poly) -> list[tuple[float, float]]:
        ring = list(poly.exterior.coords)
        lons, lats = wgs84_to_gcj02([c[0] for c in ring], [c[1] for c in ring])
        return [mercator_m(x, y) for x, y in zip(lons, lats)]

    def __call__(self, url: str) -> tuple[str, bytes] | None:
        parts = urlsplit(url)
        if not (parts.hostname or "").endswith(AMAP_HOST_SUFFIX):
            return None
        q = parse_qs(parts.query)
        z, x, y = (int(q[k][0]) for k in ("z", "x", "y"))
        self.requested.append((z, x, y))
        return "image/png", self.png(z, x, y)

    def png(self, z: int, x: int, y: int) -> bytes:
        return _png(z, x, y, tuple(tuple(r) for r in self._gcj))


@lru_cache(maxsize=512)
def _png(z: int, x: int, y: int, rings: tuple) -> bytes:
    img = Image.new("RGB", (TILE, TILE), (236, 233, 224))
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, 0, TILE - 1, TILE - 1], outline=(205, 200, 188))
    ox, oy = x * TILE, y * TILE
    for ring in rings:
        pts = [world_pixel(mx, my, z) for mx, my in ring]
        pts = [(px - ox, py - oy) for px, py in pts]
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        if max(xs) < -2 or min(xs) > TILE + 2 or max(ys) < -2 or min(ys) > TILE + 2:
            continue
        draw.polygon(pts, fill=(250, 214, 165), outline=(200, 90, 20))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()
