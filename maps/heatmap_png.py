"""A heatmap drawn as a PNG image overlay: a :class:`geo.analysis.KdeGrid` colour-mapped for Leaflet.

The numbers (the density on metric cells) come from :mod:`geo.analysis`; this module only turns them
into pixels for ``L.imageOverlay(url, grid.wgs84_bounds)``.
"""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image
from scipy import ndimage

from geo.analysis import KdeGrid
from geo.crs import WGS84, transformer

__all__ = ["kde_png"]

#: Leaflet.heat's default ramp (blue, cyan, lime, yellow, red) at these fractions of vmax, with opacity.
_STOPS = np.array([0.0, 0.15, 0.4, 0.6, 0.8, 1.0])
_RAMP = np.array(
    [
        [0, 0, 255, 0],
        [0, 0, 255, 110],
        [0, 255, 255, 170],
        [0, 255, 0, 200],
        [255, 255, 0, 220],
        [255, 0, 0, 235],
    ],
    dtype=float,
)


def kde_png(grid: KdeGrid, *, vmax: float | None = None, min_fraction: float = 0.01, max_px: int = 2048) -> bytes:
    """An RGBA PNG of the density for ``L.imageOverlay(url, grid.wgs84_bounds)``.

    The image covers :attr:`KdeGrid.wgs84_bounds`; its columns are equally spaced
    in longitude and its rows equally spaced in Web Mercator y, as Leaflet
    stretches an overlay. Each pixel's centre is projected to the metric
    CRS (through a 33 × 33 control grid, bilinearly: the map is nearly
    affine at town scale) and the density is sampled bilinearly there, so
    the overlay sits where the metric cells are despite meridian
    convergence. Colours follow Leaflet.heat's default ramp (blue, cyan,
    lime, yellow, red) with opacity rising with density; densities below
    ``min_fraction * vmax`` and pixels outside the grid are transparent.

    Parameters
    ----------
    grid : geo.analysis.KdeGrid
    vmax : float, optional
        The density drawn red (default: the grid's maximum); pass a common value to draw frames on one scale.
    min_fraction : float, default 0.01
        Transparent below this fraction of *vmax*.
    max_px : int, default 2048
        Longest side of the image, pixels (about one pixel per cell otherwise).

    Returns
    -------
    bytes
        The PNG file.

    Examples
    --------
    >>> from geo.analysis import kde
    >>> png = kde_png(kde(lon=[113.1, 113.1005], lat=[40.05, 40.05], bandwidth_m=50, cell_m=10))
    >>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n", Image.open(io.BytesIO(png)).mode
    (True, 'RGBA')
    """
    (s, w), (n, e) = grid.wgs84_bounds
    top = grid.full_scale(vmax)
    rows, cols = grid.density.shape
    # pixel size ~ cell size
    mid_lat = math.radians((s + n) / 2)
    width_m = (e - w) * 111_320.0 * math.cos(mid_lat)
    height_m = (n - s) * 110_574.0
    scale = max(width_m, height_m) / grid.cell_m
    f = min(1.0, int(max_px) / max(scale, 1.0))
    width = max(1, int(round(width_m / grid.cell_m * f)))
    height = max(1, int(round(height_m / grid.cell_m * f)))

    def merc(lat_deg):
        return np.log(np.tan(np.pi / 4 + np.radians(lat_deg) / 2))

    ms, mn = merc(s), merc(n)
    # control grid
    nc_x, nc_y = min(33, width + 1), min(33, height + 1)
    cl = np.linspace(0.0, 1.0, nc_x)  # fraction of width (west->east)
    ct = np.linspace(0.0, 1.0, nc_y)  # fraction of height (north->south)
    lon_c = w + (e - w) * cl
    lat_c = np.degrees(2 * np.arctan(np.exp(mn + (ms - mn) * ct)) - np.pi / 2)
    LON, LAT = np.meshgrid(lon_c, lat_c)
    X, Y = transformer(WGS84, grid.crs).transform(LON.ravel(), LAT.ravel())
    X = np.asarray(X, float).reshape(nc_y, nc_x)
    Y = np.asarray(Y, float).reshape(nc_y, nc_x)
    # pixel centres in control-grid index coordinates
    pj = (np.arange(width) + 0.5) / width * (nc_x - 1)
    pi = (np.arange(height) + 0.5) / height * (nc_y - 1)
    PI, PJ = np.meshgrid(pi, pj, indexing="ij")
    coords = np.array([PI.ravel(), PJ.ravel()])
    px = ndimage.map_coordinates(X, coords, order=1, mode="nearest")
    py = ndimage.map_coordinates(Y, coords, order=1, mode="nearest")
    col = (px - grid.xmin) / grid.cell_m - 0.5
    row = (grid.ymax - py) / grid.cell_m - 0.5
    inside = (col >= -0.5) & (col <= cols - 0.5) & (row >= -0.5) & (row <= rows - 0.5)
    val = ndimage.map_coordinates(grid.density, np.array([row, col]), order=1, mode="nearest")
    v = np.where(inside, val, 0.0) / top if top > 0 else np.zeros_like(val)
    v = np.clip(v, 0.0, 1.0)
    rgba = np.stack([np.interp(v, _STOPS, _RAMP[:, k]) for k in range(4)], axis=-1)
    rgba[v < float(min_fraction), 3] = 0.0
    img = Image.fromarray(np.round(rgba).astype(np.uint8).reshape(height, width, 4), "RGBA")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()
