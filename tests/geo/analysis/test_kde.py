"""geo.analysis.kde: kernel density (mass, exactness against a sum of Gaussians, cost, bounds, errors),
weekly frames. No database."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest
from scipy import ndimage

from geo.analysis.kde import _FFT_RADIUS_CELLS, TRUNCATE_SIGMAS, _kernel_radius, _smooth, kde, weekly_series
from geo.analysis.kde_grid import KdeGrid
from geo.errors import BadCoordinates, BadCRS, BadInput, TooLarge
from tests.geo.analysis.synthetic import TO_M, X0, Y0, lonlat


def exact_kde(grid: KdeGrid, x: np.ndarray, y: np.ndarray, h: float) -> np.ndarray:
    xc, yc = grid.centres_m()
    out = np.zeros(grid.shape)
    for xi, yi in zip(x, y):  # a direct sum of Gaussians, one point at a time
        gx = np.exp(-((xc - xi) ** 2) / (2 * h * h))
        gy = np.exp(-((yc - yi) ** 2) / (2 * h * h))
        out += np.outer(gy, gx)
    return out / (2 * np.pi * h * h)


@pytest.mark.parametrize(
    "bandwidth_m, cell_m, weighted",
    [(50, 10, False), (50, 10, True), (30, 20, False), (200, 5, False), (75, 7.5, True)],
)
def test_kde_conserves_mass(pts, bandwidth_m, cell_m, weighted):
    w = np.random.default_rng(1).uniform(0.5, 3.0, pts[0].size) if weighted else None
    g = kde(lon=pts[0], lat=pts[1], weights=w, bandwidth_m=bandwidth_m, cell_m=cell_m)
    total = pts[0].size if w is None else w.sum()
    assert g.mass == pytest.approx(total, rel=0.005)
    assert g.density.sum() * cell_m**2 == pytest.approx(total, rel=1e-9)  # padding keeps it all
    assert g.n_points == pts[0].size
    assert (g.density >= 0).all()


def test_kde_matches_exact_sum_of_gaussians():
    rng = np.random.default_rng(7)
    x = X0 + rng.normal(0, 70, 40)
    y = Y0 + rng.normal(0, 50, 40)
    lon, lat = lonlat(x, y)
    h = 50.0
    for cell, tol in ((5.0, 0.01), (10.0, 0.02)):
        g = kde(lon=lon, lat=lat, bandwidth_m=h, cell_m=cell)
        xm, ym = TO_M.transform(lon, lat)
        ex = exact_kde(g, np.asarray(xm), np.asarray(ym), h)
        where = ex >= 0.01 * ex.max()
        rel = np.abs(g.density - ex)[where] / ex[where]
        assert rel.max() < tol, (cell, rel.max())
        assert np.abs(g.density - ex).max() < 0.002 * ex.max()
        # the same integral as the exact intensity
        assert g.mass == pytest.approx(ex.sum() * cell * cell, rel=1e-3)


def test_kde_fft_path_equals_direct_convolution():
    rng = np.random.default_rng(3)
    grid = np.zeros((400, 380))
    grid[rng.integers(120, 280, 500), rng.integers(120, 260, 500)] += 1.0
    sigma = 10.0  # radius 40 cells: the FFT path
    assert _kernel_radius(sigma) > _FFT_RADIUS_CELLS
    fft = _smooth(grid, sigma)
    direct = ndimage.gaussian_filter(grid, sigma, mode="constant", truncate=TRUNCATE_SIGMAS)
    assert np.abs(fft - direct).max() < 1e-12
    assert fft.sum() == pytest.approx(grid.sum())


def test_kde_wide_kernel_conserves_mass(pts):
    g = kde(lon=pts[0], lat=pts[1], bandwidth_m=400, cell_m=10)  # FFT path
    assert g.mass == pytest.approx(pts[0].size, rel=0.005)


def test_kde_cost_does_not_grow_as_points_times_cells():
    # 200,000 points onto ~60,000 cells: a points x cells matrix would be ~100 GB.
    rng = np.random.default_rng(0)
    n = 200_000
    lon, lat = lonlat(X0 + rng.normal(1000, 400, n), Y0 + rng.normal(1000, 400, n))
    tracemalloc.start()
    try:
        g = kde(lon=lon, lat=lat, bandwidth_m=50, cell_m=10)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    cells = g.density.size
    assert cells > 40_000
    assert peak < 100 * 2**20, peak  # far below n x cells x 8 bytes (~10**11)
    assert peak < n * cells * 8 / 1000
    assert g.mass == pytest.approx(n, rel=0.005)


def test_kde_bounds_crop_and_outside_points_contribute():
    lon, lat = lonlat([X0 + 500, X0 + 540], [Y0 + 500, Y0 + 500])
    full = kde(lon=lon, lat=lat, bandwidth_m=50, cell_m=10)
    x0 = math.floor((X0 + 400) / 10) * 10.0  # on the same 10 m lattice as the unbounded grid
    y0 = math.floor((Y0 + 400) / 10) * 10.0
    b = (x0, y0, x0 + 120.0, y0 + 200.0)
    g = kde(lon=lon, lat=lat, bandwidth_m=50, cell_m=10, bounds_m=b)
    assert g.shape == (20, 12)
    assert g.bounds_m == pytest.approx(b)
    # the point at X0+540 lies outside the bounds but still adds density inside
    one = kde(lon=lon[:1], lat=lat[:1], bandwidth_m=50, cell_m=10, bounds_m=b)
    assert (g.density > one.density).all()
    # cropping = the same values as the unbounded grid at the same cells
    xc, yc = g.centres_m()
    fx, fy = full.centres_m()
    ci = np.searchsorted(fx, xc[0] - 1e-6)
    ri = np.searchsorted(-fy, -yc[0] - 1e-6)
    assert np.allclose(full.density[ri : ri + 20, ci : ci + 12], g.density, rtol=1e-9, atol=1e-15)


def test_kde_empty_with_bounds_and_errors():
    b = (X0, Y0, X0 + 200, Y0 + 200)
    g = kde(lon=[], lat=[], bounds_m=b)
    assert g.mass == 0 and g.to_points() == []  # its PNG: tests/maps/test_heatmap_png.py
    with pytest.raises(BadInput, match="no points"):
        kde(lon=[], lat=[])
    with pytest.raises(BadCoordinates, match="swap"):
        kde(lon=[113.1, 40.05], lat=[40.05, 113.1])
    with pytest.raises(BadInput, match="cell_m <= bandwidth_m / 2"):
        kde(lon=[113.1], lat=[40.05], bandwidth_m=5, cell_m=10)
    with pytest.raises(BadCRS, match="metres"):
        kde(lon=[113.1], lat=[40.05], crs="wgs84")
    with pytest.raises(BadInput, match="degrees"):
        kde(lon=[113.1], lat=[40.05], bounds_m=(113.0, 40.0, 113.2, 40.1))
    with pytest.raises(BadInput, match="one weight per point"):
        kde(lon=[113.1], lat=[40.05], weights=[1, 2])
    with pytest.raises(TooLarge, match="cell_m >="):
        kde(lon=[113.1, 113.9], lat=[40.05, 40.9], cell_m=1, bandwidth_m=5)


def test_weekly_series_shares_one_lattice(pts):
    rng = np.random.default_rng(5)
    n = pts[0].size
    t = np.datetime64("2024-06-03T00:00") + rng.integers(0, 21 * 86400, n).astype("timedelta64[s]")
    t[:5] = np.datetime64("2024-05-01")  # before the window: dropped
    frames = weekly_series(
        lon=pts[0], lat=pts[1], t=t, start="2024-06-03", end="2024-06-24", bandwidth_m=50, cell_m=10
    )
    assert [str(d.date()) for d, _ in frames] == ["2024-06-03", "2024-06-10", "2024-06-17"]
    assert len({g.shape for _, g in frames}) == 1 and len({g.bounds_m for _, g in frames}) == 1
    week = ((t - np.datetime64("2024-06-03")) // np.timedelta64(7, "D")).astype(int)
    for k, (_, g) in enumerate(frames):
        assert g.mass == pytest.approx(int(((week == k) & (np.arange(n) >= 5)).sum()), rel=0.005)
    # the shared lattice is the one kde() lays over all the window's points
    whole = kde(lon=pts[0][5:], lat=pts[1][5:], bandwidth_m=50, cell_m=10)
    assert frames[0][1].bounds_m == whole.bounds_m
    assert np.allclose(sum(g.density for _, g in frames), whole.density, atol=1e-15)
    with pytest.raises(BadInput, match="after start"):
        weekly_series(lon=pts[0], lat=pts[1], t=t, start="2024-06-03", end="2024-06-03")
