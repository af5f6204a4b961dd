"""geo.hotspots: kernel density (mass, exactness, cost), Gi* against esda, classes, FDR,
emerging hotspots, lattices and their GeoJSON. No database."""

from __future__ import annotations

import io
import math
import tracemalloc
import warnings

import esda
import libpysal
import numpy as np
import pytest
import scipy.sparse as sp
import shapely
from PIL import Image
from scipy import ndimage, stats

from geo import hotspots as hs
from geo.crs import to_metric, transformer
from geo.errors import BadCoordinates, BadCRS, BadInput, TooLarge

CRS = "EPSG:4547"
TO_M = transformer("EPSG:4326", CRS)
TO_LL = transformer(CRS, "EPSG:4326")
# a point in Gaoshan Town's neighbourhood (Datong), in metres of EPSG:4547
X0, Y0 = (float(v) for v in TO_M.transform(113.10, 40.05))


def lonlat(x, y):
    lon, lat = TO_LL.transform(np.asarray(x, float), np.asarray(y, float))
    return np.asarray(lon), np.asarray(lat)


def clustered(seed: int = 42, n_bg: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """A background over ~2 km x 2 km plus three Gaussian clusters (WGS84)."""
    rng = np.random.default_rng(seed)
    x = [X0 + rng.random(n_bg) * 2000]
    y = [Y0 + rng.random(n_bg) * 2000]
    for cx, cy, sd, m in [(450, 420, 90, 150), (1500, 1300, 120, 100), (800, 1650, 70, 60)]:
        x.append(X0 + cx + rng.normal(0, sd, m))
        y.append(Y0 + cy + rng.normal(0, sd, m))
    return lonlat(np.concatenate(x), np.concatenate(y))


@pytest.fixture(scope="module")
def pts():
    return clustered()


@pytest.fixture(scope="module")
def lat20(pts):
    lt = hs.lattice(lon=pts[0], lat=pts[1], cell_m=100)
    assert 18 * 18 <= lt.n <= 26 * 26  # ~20 x 20 cells
    return lt


def exact_kde(grid: hs.KdeGrid, x: np.ndarray, y: np.ndarray, h: float) -> np.ndarray:
    xc, yc = grid.centres_m()
    out = np.zeros(grid.shape)
    for xi, yi in zip(x, y):  # a direct sum of Gaussians, one point at a time
        gx = np.exp(-((xc - xi) ** 2) / (2 * h * h))
        gy = np.exp(-((yc - yi) ** 2) / (2 * h * h))
        out += np.outer(gy, gx)
    return out / (2 * np.pi * h * h)


# ---------------------------------------------------------------------------
# KDE
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bandwidth_m, cell_m, weighted",
    [(50, 10, False), (50, 10, True), (30, 20, False), (200, 5, False), (75, 7.5, True)],
)
def test_kde_conserves_mass(pts, bandwidth_m, cell_m, weighted):
    w = np.random.default_rng(1).uniform(0.5, 3.0, pts[0].size) if weighted else None
    g = hs.kde(lon=pts[0], lat=pts[1], weights=w, bandwidth_m=bandwidth_m, cell_m=cell_m)
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
        g = hs.kde(lon=lon, lat=lat, bandwidth_m=h, cell_m=cell)
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
    assert hs._kernel_radius(sigma) > hs._FFT_RADIUS_CELLS
    fft = hs._smooth(grid, sigma)
    direct = ndimage.gaussian_filter(grid, sigma, mode="constant", truncate=hs.TRUNCATE_SIGMAS)
    assert np.abs(fft - direct).max() < 1e-12
    assert fft.sum() == pytest.approx(grid.sum())


def test_kde_wide_kernel_conserves_mass(pts):
    g = hs.kde(lon=pts[0], lat=pts[1], bandwidth_m=400, cell_m=10)  # FFT path
    assert g.mass == pytest.approx(pts[0].size, rel=0.005)


def test_kde_cost_does_not_grow_as_points_times_cells():
    # 200,000 points onto ~60,000 cells: a points x cells matrix would be ~100 GB.
    rng = np.random.default_rng(0)
    n = 200_000
    lon, lat = lonlat(X0 + rng.normal(1000, 400, n), Y0 + rng.normal(1000, 400, n))
    tracemalloc.start()
    try:
        g = hs.kde(lon=lon, lat=lat, bandwidth_m=50, cell_m=10)
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
    full = hs.kde(lon=lon, lat=lat, bandwidth_m=50, cell_m=10)
    x0 = math.floor((X0 + 400) / 10) * 10.0  # on the same 10 m lattice as the unbounded grid
    y0 = math.floor((Y0 + 400) / 10) * 10.0
    b = (x0, y0, x0 + 120.0, y0 + 200.0)
    g = hs.kde(lon=lon, lat=lat, bandwidth_m=50, cell_m=10, bounds_m=b)
    assert g.shape == (20, 12)
    assert g.bounds_m == pytest.approx(b)
    # the point at X0+540 lies outside the bounds but still adds density inside
    one = hs.kde(lon=lon[:1], lat=lat[:1], bandwidth_m=50, cell_m=10, bounds_m=b)
    assert (g.density > one.density).all()
    # cropping = the same values as the unbounded grid at the same cells
    xc, yc = g.centres_m()
    fx, fy = full.centres_m()
    ci = np.searchsorted(fx, xc[0] - 1e-6)
    ri = np.searchsorted(-fy, -yc[0] - 1e-6)
    assert np.allclose(full.density[ri : ri + 20, ci : ci + 12], g.density, rtol=1e-9, atol=1e-15)


def test_kde_outputs_for_the_map(pts):
    g = hs.kde(lon=pts[0], lat=pts[1], bandwidth_m=50, cell_m=10)
    (s, w), (n, e) = g.wgs84_bounds
    assert 113.0 < w < e < 113.2 and 40.0 < s < n < 40.1
    assert pts[0].min() > w and pts[0].max() < e and pts[1].min() > s and pts[1].max() < n
    # Leaflet.heat points
    hp = g.to_points(min_fraction=0.05)
    arr = np.array(hp)
    assert arr.shape[1] == 3 and len(hp) < g.density.size
    assert (arr[:, 0] > s).all() and (arr[:, 0] < n).all() and (arr[:, 1] > w).all() and (arr[:, 1] < e).all()
    assert arr[:, 2].max() == 1.0 and arr[:, 2].min() >= 0.05
    assert g.to_points(vmax=g.density.max() * 2, min_fraction=0.0)[0][2] <= 0.5
    # the PNG overlay: RGBA, transparent where there is nothing, hottest pixel on the peak
    png = g.to_png()
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
    meta = g.as_dict()
    assert meta["bounds"] == g.wgs84_bounds and meta["bandwidth_m"] == 50


def test_kde_empty_with_bounds_and_errors():
    b = (X0, Y0, X0 + 200, Y0 + 200)
    g = hs.kde(lon=[], lat=[], bounds_m=b)
    assert (
        g.mass == 0 and g.to_points() == [] and Image.open(io.BytesIO(g.to_png())).getextrema()[3] == (0, 0)
    )
    with pytest.raises(BadInput, match="no points"):
        hs.kde(lon=[], lat=[])
    with pytest.raises(BadCoordinates, match="swap"):
        hs.kde(lon=[113.1, 40.05], lat=[40.05, 113.1])
    with pytest.raises(BadInput, match="cell_m <= bandwidth_m / 2"):
        hs.kde(lon=[113.1], lat=[40.05], bandwidth_m=5, cell_m=10)
    with pytest.raises(BadCRS, match="metres"):
        hs.kde(lon=[113.1], lat=[40.05], crs="wgs84")
    with pytest.raises(BadInput, match="degrees"):
        hs.kde(lon=[113.1], lat=[40.05], bounds_m=(113.0, 40.0, 113.2, 40.1))
    with pytest.raises(BadInput, match="one weight per point"):
        hs.kde(lon=[113.1], lat=[40.05], weights=[1, 2])
    with pytest.raises(TooLarge, match="cell_m >="):
        hs.kde(lon=[113.1, 113.9], lat=[40.05, 40.9], cell_m=1, bandwidth_m=5)


def test_weekly_series_shares_one_lattice(pts):
    rng = np.random.default_rng(5)
    n = pts[0].size
    t = np.datetime64("2024-06-03T00:00") + rng.integers(0, 21 * 86400, n).astype("timedelta64[s]")
    t[:5] = np.datetime64("2024-05-01")  # before the window: dropped
    frames = hs.weekly_series(
        lon=pts[0], lat=pts[1], t=t, start="2024-06-03", end="2024-06-24", bandwidth_m=50, cell_m=10
    )
    assert [str(d.date()) for d, _ in frames] == ["2024-06-03", "2024-06-10", "2024-06-17"]
    assert len({g.shape for _, g in frames}) == 1 and len({g.bounds_m for _, g in frames}) == 1
    week = ((t - np.datetime64("2024-06-03")) // np.timedelta64(7, "D")).astype(int)
    for k, (_, g) in enumerate(frames):
        assert g.mass == pytest.approx(int(((week == k) & (np.arange(n) >= 5)).sum()), rel=0.005)
    # the shared lattice is the one kde() lays over all the window's points
    whole = hs.kde(lon=pts[0][5:], lat=pts[1][5:], bandwidth_m=50, cell_m=10)
    assert frames[0][1].bounds_m == whole.bounds_m
    assert np.allclose(sum(g.density for _, g in frames), whole.density, atol=1e-15)
    with pytest.raises(BadInput, match="after start"):
        hs.weekly_series(lon=pts[0], lat=pts[1], t=t, start="2024-06-03", end="2024-06-03")


def test_project_fast_path_matches_proj():
    rng = np.random.default_rng(11)
    lon = 113.08 + rng.random(50_000) * 0.05
    lat = 40.03 + rng.random(50_000) * 0.04
    x, y = hs.project(lon=lon, lat=lat)
    px, py = TO_M.transform(lon, lat)
    assert np.abs(x - px).max() < 1e-3 and np.abs(y - py).max() < 1e-3
    # a province-wide extent falls back to PROJ for every point
    lon = 110.0 + rng.random(30_000) * 4
    lat = 35.0 + rng.random(30_000) * 5
    x, y = hs.project(lon=lon, lat=lat)
    px, py = TO_M.transform(lon, lat)
    assert np.abs(x - px).max() < 1e-6


# ---------------------------------------------------------------------------
# Gi* against esda
# ---------------------------------------------------------------------------


def esda_zs(counts, w, transform):
    W = libpysal.weights.WSP(sp.csr_matrix(w)).to_W(silence_warnings=True)
    g = esda.G_Local(counts, W, transform=transform, star=True, permutations=0)
    return g.Zs, g.p_norm


@pytest.mark.parametrize("kind", ["distance_band", "knn", "queen", "rook"])
@pytest.mark.parametrize("transform", ["B", "R"])
def test_gi_star_equals_esda(lat20, kind, transform):
    w, spec = hs.weights(lat20, kind=kind, transform=transform)
    assert (w.diagonal() > 0).all() and spec.self_weight and spec.transform == transform
    z, p = hs.gi_star(lat20.counts, w)
    ez, ep = esda_zs(lat20.counts, w, transform)
    assert np.abs(z - ez).max() < 1e-6
    assert np.abs(p - 2 * ep).max() < 1e-9  # esda's p_norm is one-sided
    assert np.abs(z).max() > 3  # the clusters are there


@pytest.mark.parametrize("transform", ["B", "R"])
def test_esda_own_self_weight_gives_the_same_matrix(lat20, transform):
    """esda given neighbours without the diagonal sets the self-weight itself
    (1 for B; the row maximum, 1, before row-standardising for R): same z."""
    w, _ = hs.weights(lat20, kind="distance_band", transform=transform)
    b, _ = hs.weights(lat20, kind="distance_band", transform="B")
    off = sp.csr_matrix(b - sp.eye(lat20.n))
    off.eliminate_zeros()
    W = libpysal.weights.WSP(off).to_W(silence_warnings=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = esda.G_Local(lat20.counts, W, transform=transform, star=True, permutations=0)
    assert np.abs(g.w.sparse.toarray() - w.toarray()).max() < 1e-12
    assert np.abs(hs.gi_star(lat20.counts, w)[0] - g.Zs).max() < 1e-6


@pytest.mark.parametrize("kind", ["distance_band", "knn", "queen"])
def test_gi_star_equals_esda_on_hexagons(pts, kind):
    lt = hs.lattice(lon=pts[0], lat=pts[1], cell_m=100, shape="hex")
    for transform in "BR":
        w, _ = hs.weights(lt, kind=kind, transform=transform, k=6)
        z, _ = hs.gi_star(lt.counts, w)
        assert np.abs(z - esda_zs(lt.counts, w, transform)[0]).max() < 1e-6


def test_gi_star_formula_and_general_variance(lat20):
    x = lat20.counts
    n = x.size
    b, _ = hs.weights(lat20, kind="distance_band", transform="B")
    r, _ = hs.weights(lat20, kind="distance_band", transform="R")
    zb, _ = hs.gi_star(x, b)
    # the textbook formula, one cell at a time
    dense = b.toarray()
    s = x.std()
    for i in (0, 37, n // 2, n - 1):
        wi = dense[i]
        expect = (wi @ x - x.mean() * wi.sum()) / (
            s * math.sqrt((n * (wi**2).sum() - wi.sum() ** 2) / (n - 1))
        )
        assert zb[i] == pytest.approx(expect, rel=1e-12)
    # general (Ord & Getis 1995) = esda for binary weights, and row-standardising changes nothing
    assert np.allclose(hs.gi_star(x, b, variance="general")[0], zb, rtol=1e-12)
    assert np.allclose(hs.gi_star(x, r, variance="general")[0], zb, rtol=1e-12)
    # esda's row-standardised z is the binary z scaled by sqrt((n-k-1)/((k+1)(n-1)))
    zr, _ = hs.gi_star(x, r)
    kk = np.asarray(b.sum(axis=1)).ravel()
    assert np.allclose(zr, zb * np.sqrt((n - kk) / (kk * (n - 1))), rtol=1e-12)


def test_gi_star_degenerate_and_bad_input():
    w = sp.csr_matrix(np.ones((3, 3)))
    z, p = hs.gi_star([2, 2, 2], sp.eye(3, format="csr"))
    assert z.tolist() == [0, 0, 0] and p.tolist() == [1, 1, 1]
    z, p = hs.gi_star([1, 2, 9], w)  # every cell's neighbourhood is everything
    assert z.tolist() == [0, 0, 0] and p.tolist() == [1, 1, 1]
    with pytest.raises(BadInput, match="sparse 2 x 2"):
        hs.gi_star([1, 2], sp.eye(3, format="csr"))
    with pytest.raises(BadInput, match="variance"):
        hs.gi_star([1, 2], sp.eye(2, format="csr"), variance="nope")


def test_contiguity_equals_libpysal_polygon_contiguity(pts):
    for shape in ("square", "hex"):
        lt = hs.lattice(lon=pts[0][:200], lat=pts[1][:200], cell_m=150, shape=shape)
        polys = list(lt.polygons_m)
        for kind, cls in (("queen", libpysal.weights.Queen), ("rook", libpysal.weights.Rook)):
            w, _ = hs.weights(lt, kind=kind, transform="B")
            ref = cls.from_iterable(polys, silence_warnings=True)
            ref_m = ref.sparse.toarray() + np.eye(lt.n)
            assert np.array_equal(w.toarray(), ref_m), (shape, kind)


def test_weights_specs_and_knn(lat20):
    w, spec = hs.weights(lat20, kind="knn", k=5, transform="B")
    assert (np.diff(w.indptr) == 6).all()  # k neighbours + self, ties broken by lower id
    w2, _ = hs.weights(lat20, kind="knn", k=5, transform="B")
    assert (w != w2).nnz == 0
    assert spec.as_dict() == {
        "kind": "knn",
        "k": 5,
        "transform": "B",
        "self_weight": True,
        "description": spec.describe(),
    }
    w, spec = hs.weights(lat20, kind="distance_band", transform="R")
    assert spec.threshold_m == 150.0 and "threshold_m" in spec.as_dict() and "k" not in spec.as_dict()
    assert np.allclose(np.asarray(w.sum(axis=1)).ravel(), 1.0)
    # interior cells: 8 neighbours + self under the default band, as queen
    q, _ = hs.weights(lat20, kind="queen", transform="R")
    assert (w != q).nnz == 0
    with pytest.raises(BadInput, match="below the cell spacing"):
        hs.weights(lat20, kind="distance_band", threshold_m=50)
    with pytest.raises(BadInput, match="smaller k"):
        hs.weights(lat20, kind="knn", k=lat20.n)
    with pytest.raises(BadInput, match="distance_band, knn, queen or rook"):
        hs.weights(lat20, kind="kernel")


# ---------------------------------------------------------------------------
# Classes and FDR
# ---------------------------------------------------------------------------


def test_classify_thresholds():
    crit = {90: stats.norm.isf(0.05), 95: stats.norm.isf(0.025), 99: stats.norm.isf(0.005)}
    assert [round(crit[c], 3) for c in (90, 95, 99)] == [1.645, 1.96, 2.576]
    z = []
    expect = []
    for level, lower in ((90, "not_significant"), (95, "90"), (99, "95")):
        for sign, side in ((1, "hot"), (-1, "cold")):
            z += [sign * (crit[level] + 1e-6), sign * (crit[level] - 1e-6)]
            expect += [f"{side}_{level}", lower if lower == "not_significant" else f"{side}_{lower}"]
    z = np.array(z)
    p = 2 * stats.norm.sf(np.abs(z))
    assert hs.classify(z, p) == expect
    assert hs.classify([0.0, 10.0], [1.0, 1e-20]) == ["not_significant", "hot_99"]
    assert hs.classify([3.5], [0.0005], alpha_levels=(0.001, 0.01)) == ["hot_99.9"]


def test_fdr_never_adds_significance_and_matches_hand_bh():
    rng = np.random.default_rng(2)
    z = rng.normal(0, 1.6, 2000)
    p = 2 * stats.norm.sf(np.abs(z))
    plain = hs.classify(z, p)
    fdr = hs.classify(z, p, fdr=True)
    rank = {
        "not_significant": 0,
        "hot_90": 1,
        "hot_95": 2,
        "hot_99": 3,
        "cold_90": 1,
        "cold_95": 2,
        "cold_99": 3,
    }
    assert all(rank[f] <= rank[q] for f, q in zip(fdr, plain))
    assert sum(c != "not_significant" for c in fdr) < sum(c != "not_significant" for c in plain)
    # hand BH on 6 cells: sorted p (0.001, 0.008, 0.039, 0.041, 0.042, 0.60)
    p = np.array([0.041, 0.001, 0.60, 0.008, 0.039, 0.042])
    z = np.array([2.0, 3.3, 0.5, -2.6, 2.1, -2.0])
    # adjusted = min over k >= i of n p_(k) / k:
    # 6*.001/1=.006; 6*.008/2=.024; min(6*.039/3=.078, 6*.041/4=.0615, 6*.042/5=.0504)=.0504 for ranks 3-5
    adj = {1: 0.006, 3: 0.024, 4: 0.0504, 0: 0.0504, 5: 0.0504, 2: 0.60}
    assert np.allclose(stats.false_discovery_control(p), [adj[i] for i in range(6)])
    assert hs.classify(z, p, fdr=True) == [
        "hot_90",
        "hot_99",
        "not_significant",
        "cold_95",
        "hot_90",
        "cold_90",
    ]
    assert hs.classify(z, p) == ["hot_95", "hot_99", "not_significant", "cold_99", "hot_95", "cold_95"]


# ---------------------------------------------------------------------------
# Hotspots end to end
# ---------------------------------------------------------------------------


def planted(seed: int = 3):
    """Uniform background over 2 km x 2 km plus a tight cluster near the south-west corner."""
    rng = np.random.default_rng(seed)
    x = np.r_[X0 + rng.random(400) * 2000, X0 + 350 + rng.normal(0, 40, 120)]
    y = np.r_[Y0 + rng.random(400) * 2000, Y0 + 350 + rng.normal(0, 40, 120)]
    return lonlat(x, y)


@pytest.mark.parametrize("transform, variance", [("R", "esda"), ("B", "esda"), ("R", "general")])
@pytest.mark.parametrize("shape", ["square", "hex"])
def test_planted_cluster_is_hot_99_and_far_empty_region_is_not(shape, transform, variance):
    lon, lat = planted()
    # an empty 600 m x 600 m region in the far corner
    xm, ym = TO_M.transform(lon, lat)
    xm, ym = np.asarray(xm), np.asarray(ym)
    keep = ~((xm > X0 + 1400) & (ym > Y0 + 1400))
    res = hs.hotspots(
        lon=lon[keep], lat=lat[keep], cell_m=100, shape=shape, transform=transform, variance=variance
    )
    lt = res.lattice
    at = lt.cell_index(np.array([X0 + 350.0]), np.array([Y0 + 350.0]))[0]
    assert res.classes[at] == "hot_99"
    far = (
        (lt.centres_m[:, 0] > X0 + 1550)
        & (lt.centres_m[:, 1] > Y0 + 1550)
        & (lt.centres_m[:, 0] < X0 + 1950)
        & (lt.centres_m[:, 1] < Y0 + 1950)
    )
    assert far.sum() >= 9 and (lt.counts[far] == 0).all()
    assert not any(res.classes[i].startswith("hot") for i in np.flatnonzero(far))
    assert res.z[at] == res.z.max()


def test_hotspots_without_points_inside_bounds():
    res = hs.hotspots(lon=[], lat=[], cell_m=100, bounds_m=(X0, Y0, X0 + 1000, Y0 + 1000))
    assert set(res.classes) == {"not_significant"} and (res.z == 0).all() and (res.p == 1).all()
    with pytest.raises(BadInput, match="no points and no bounds_m or mask"):
        hs.hotspots(lon=[], lat=[])
    with pytest.raises(BadInput, match="'square' or 'hex'"):
        hs.hotspots(lon=[113.1], lat=[40.05], shape="triangle")


def test_to_geojson_structure_and_cells_tile_the_extent(pts):
    res = hs.hotspots(lon=pts[0], lat=pts[1], cell_m=100, fdr=True)
    fc = res.to_geojson()
    lt = res.lattice
    assert fc["type"] == "FeatureCollection"
    assert fc["weights"] == {
        "kind": "distance_band",
        "threshold_m": 150.0,
        "transform": "B",
        "self_weight": True,
        "description": res.spec.describe(),
    }
    assert fc["cell_m"] == 100 and fc["shape"] == "square" and fc["n_cells"] == lt.n == len(fc["features"])
    assert fc["fdr"] is True and fc["n_points"] == pts[0].size and fc["n_outside"] == 0
    assert sum(fc["classes"].values()) == lt.n
    ids = []
    for f in fc["features"]:
        assert f["type"] == "Feature" and f["id"] == f["properties"]["id"]
        assert set(f["properties"]) >= {"id", "count", "z", "p", "class", "p_fdr"}
        assert f["properties"]["class"] in {
            "hot_99",
            "hot_95",
            "hot_90",
            "cold_99",
            "cold_95",
            "cold_90",
            "not_significant",
        }
        ids.append(f["id"])
    assert ids == list(range(lt.n))
    assert sum(f["properties"]["count"] for f in fc["features"]) == pts[0].size
    polys = np.array([shapely.geometry.shape(f["geometry"]) for f in fc["features"]])
    lon = shapely.get_coordinates(polys)[:, 0]
    lat = shapely.get_coordinates(polys)[:, 1]
    assert (113.0 < lon).all() and (lon < 113.2).all() and (40.0 < lat).all() and (lat < 40.1).all()  # WGS84
    assert shapely.is_valid(polys).all()
    metric = to_metric(polys, crs=CRS)
    areas = shapely.area(metric)
    assert np.allclose(areas, 100 * 100, rtol=1e-3)
    extent = shapely.box(*lt.extent_m)
    union = shapely.union_all(metric)
    assert union.area == pytest.approx(extent.area, rel=1e-3)
    assert areas.sum() == pytest.approx(union.area, rel=1e-3)  # no overlap
    assert shapely.symmetric_difference(union, extent).area < 1e-3 * extent.area
    # the points' bounding box is inside, padded by one cell
    x, y = TO_M.transform(pts[0], pts[1])
    assert lt.extent_m[0] <= min(x) - 100 and lt.extent_m[2] >= max(x) + 100
    assert lt.extent_m[1] <= min(y) - 100 and lt.extent_m[3] >= max(y) + 100


def test_hex_cells_do_not_overlap_and_cover_the_extent(pts):
    lt = hs.lattice(lon=pts[0], lat=pts[1], cell_m=100, shape="hex")
    metric = to_metric(lt.polygons, crs=CRS)
    areas = shapely.area(metric)
    assert np.allclose(areas, math.sqrt(3) / 2 * 100**2, rtol=1e-3)
    union = shapely.union_all(metric)
    assert areas.sum() == pytest.approx(union.area, rel=1e-3)
    assert union.buffer(1e-3).covers(shapely.box(*lt.extent_m))
    assert lt.counts.sum() == pts[0].size and lt.n_outside == 0
    # counts agree with a point-in-polygon count
    x, y = TO_M.transform(pts[0], pts[1])
    tree = shapely.STRtree(lt.polygons_m)
    _, ci = tree.query(shapely.points(x, y), predicate="intersects")
    assert np.array_equal(np.bincount(ci, minlength=lt.n), lt.counts)


def test_mask_keeps_only_cells_meeting_it(pts):
    mask_m = shapely.Point(X0 + 1000, Y0 + 1000).buffer(600)
    mask = shapely.transform(mask_m, lambda c: np.column_stack(TO_LL.transform(c[:, 0], c[:, 1])))
    lt = hs.lattice(lon=pts[0], lat=pts[1], cell_m=100, mask=mask)
    polys = lt.polygons_m
    assert (shapely.area(shapely.intersection(polys, mask_m)) > 0).all()
    full = hs.lattice(lon=pts[0], lat=pts[1], cell_m=100, bounds_m=mask_m.bounds)
    inside = shapely.area(shapely.intersection(full.polygons_m, mask_m)) > 0
    assert lt.n == int(inside.sum()) < full.n
    assert lt.counts.sum() + lt.n_outside == pts[0].size and lt.n_outside > 0
    res = hs.hotspots(lon=pts[0], lat=pts[1], cell_m=100, mask=shapely.geometry.mapping(mask))
    assert res.lattice.n == lt.n


def test_same_lattice_for_two_months_and_compare(pts):
    lon, lat = pts
    half = lon.size // 2
    lt = hs.lattice(lon=lon, lat=lat, cell_m=100)
    a = hs.hotspots(lon=lon[:half], lat=lat[:half], lattice_=lt)
    b = hs.hotspots(lon=lon[half:], lat=lat[half:], lattice_=lt)
    assert a.lattice.n == b.lattice.n == lt.n
    assert np.array_equal(a.lattice.counts + b.lattice.counts, lt.counts)
    ch = hs.compare_periods(a.classes, b.classes)
    assert len(ch) == lt.n and set(ch) <= set(hs.CHANGE_LABELS)
    with pytest.raises(BadInput, match="same lattice"):
        hs.compare_periods(a.classes, b.classes[:-1])


def test_compare_periods_table():
    prev = [
        "not_significant",
        "hot_99",
        "hot_90",
        "not_significant",
        "cold_95",
        "cold_90",
        "hot_95",
        "cold_99",
        "not_significant",
    ]
    curr = [
        "hot_95",
        "hot_90",
        "not_significant",
        "cold_90",
        "cold_99",
        "not_significant",
        "cold_90",
        "hot_90",
        "not_significant",
    ]
    assert hs.compare_periods(prev, curr) == [
        "new_hot",
        "still_hot",
        "no_longer_hot",
        "new_cold",
        "still_cold",
        "no_longer_cold",
        "hot_to_cold",
        "cold_to_hot",
        "unchanged",
    ]


# ---------------------------------------------------------------------------
# Emerging hotspots
# ---------------------------------------------------------------------------


def test_emerging_labels_on_synthetic_sequences():
    T = 12
    t = np.arange(T, dtype=float)
    series = {
        "new": np.r_[np.zeros(T - 1), 3.0],
        "intensifying": 2.0 + 0.2 * t,
        "persistent": 2.5 + 0.3 * np.sin(t * 2.1),  # hot throughout, no trend
        "diminishing": 5.0 - 0.2 * t,
        "sporadic": np.where(t % 3 == 2, 2.2, 0.3) * (t != T - 1) + 2.2 * (t == T - 1),
        "none": 0.3 * np.cos(t),
    }
    labels = list(series)
    z = np.column_stack([series[k] for k in labels])
    hot = z > stats.norm.isf(0.05)
    assert hot[:, 1].mean() >= 0.9 and hot[:, 3].all() and hot[:, 2].all()
    assert hs.emerging_labels(z, hot) == labels
    # hot in >= 90 % of periods but not the last: not diminishing (ArcGIS: historical)
    z2 = np.r_[np.full(T - 1, 3.0), 0.0][:, None]
    assert hs.emerging_labels(z2, z2 > 1.645) == ["none"]
    # 11 of 12 periods hot (91.7 % >= 90 %) with a significant upward trend; 10 of 12 is sporadic
    z3 = 2.0 + 0.2 * t
    z3[4] = 0.0
    assert hs.emerging_labels(z3[:, None], z3[:, None] > 1.645) == ["intensifying"]
    z3[7] = 0.0
    assert hs.emerging_labels(z3[:, None], z3[:, None] > 1.645) == ["sporadic"]
    with pytest.raises(BadInput, match="at least 2 periods"):
        hs.emerging_labels(np.zeros((1, 3)), np.zeros((1, 3), bool))


def test_emerging_end_to_end():
    rng = np.random.default_rng(9)
    periods = []
    for k in range(10):
        bx = X0 + rng.random(300) * 2000
        by = Y0 + rng.random(300) * 2000
        # a cluster that grows every period in the south-west, a steady one in the south-east
        m = 24 + 8 * k
        cx = [X0 + 400 + rng.normal(0, 40, m), X0 + 1500 + rng.normal(0, 40, 150)]
        cy = [Y0 + 400 + rng.normal(0, 40, m), Y0 + 500 + rng.normal(0, 40, 150)]
        # a cluster that appears only in the last period in the north-east
        if k == 9:
            cx.append(X0 + 1600 + rng.normal(0, 40, 80))
            cy.append(Y0 + 1600 + rng.normal(0, 40, 80))
        periods.append(lonlat(np.r_[bx, np.concatenate(cx)], np.r_[by, np.concatenate(cy)]))
    labels = hs.emerging(periods=periods, cell_m=100, transform="B")
    lt = hs.lattice(
        lon=np.concatenate([p[0] for p in periods]), lat=np.concatenate([p[1] for p in periods]), cell_m=100
    )
    assert len(labels) == lt.n
    sw = lt.cell_index(np.array([X0 + 420.0]), np.array([Y0 + 420.0]))[0]
    ne = lt.cell_index(np.array([X0 + 1620.0]), np.array([Y0 + 1620.0]))[0]
    se = lt.cell_index(np.array([X0 + 1520.0]), np.array([Y0 + 520.0]))[0]
    assert labels[sw] == "intensifying"
    assert labels[ne] == "new"
    # hot in every period; its z drifts down as the other clusters raise the variance
    assert labels[se] in ("persistent", "diminishing")
    assert labels.count("none") > 0.8 * lt.n
    # the same with the lattice given
    assert hs.emerging(periods=periods, transform="B", lattice_=lt) == labels
