"""maps.heatmap_png: a density grid as an RGBA overlay, transparent where there is nothing, hottest on the peak."""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image

from geo.analysis import kde
from maps.heatmap_png import kde_png
from tests.geo.analysis.synthetic import TO_M, X0, Y0, clustered, lonlat


def test_the_png_overlay_sits_on_the_density():
    pts = clustered()
    g = kde(lon=pts[0], lat=pts[1], bandwidth_m=50, cell_m=10)
    (s, w), (n, e) = g.wgs84_bounds
    # the PNG overlay: RGBA, transparent where there is nothing, hottest pixel on the peak
    png = kde_png(g)
    im = Image.open(io.BytesIO(png))
    assert im.mode == "RGBA" and png[:8] == b"\x89PNG\r\n\x1a\n"
    a = np.asarray(im)
    assert a[0, 0, 3] == 0 and a[-1, -1, 3] == 0
    assert a[..., 3].max() > 200
    height, width = a.shape[:2]
    rr, cc = np.unravel_index(
        np.argmax(a[..., 0].astype(int) - a[..., 2].astype(int) + a[..., 3] / 1000), a.shape[:2]
    )
    px_lon = w + (cc + 0.5) / width * (e - w)

    def merc(d):
        return np.log(np.tan(np.pi / 4 + np.radians(d) / 2))

    ym = merc(n) + (rr + 0.5) / height * (merc(s) - merc(n))
    px_lat = np.degrees(2 * np.arctan(np.exp(ym)) - np.pi / 2)
    pr, pc = np.unravel_index(np.argmax(g.density), g.shape)
    xc, yc = g.centres_m()
    plon, plat = lonlat([xc[pc]], [yc[pr]])
    dx, dy = TO_M.transform([px_lon, plon[0]], [px_lat, plat[0]])
    assert math.hypot(dx[0] - dx[1], dy[0] - dy[1]) < 40  # a few cells: red spans the plateau


def test_an_empty_grid_is_transparent():
    g = kde(lon=[], lat=[], bounds_m=(X0, Y0, X0 + 200, Y0 + 200))
    assert Image.open(io.BytesIO(kde_png(g))).getextrema()[3] == (0, 0)
