"""geo.analysis.gistar: Gi* against esda, the formula, classes and FDR, hot spots end to end and their GeoJSON.
No database."""

from __future__ import annotations

import math

import esda
import libpysal
import numpy as np
import pytest
import scipy.sparse as sp
import shapely
from scipy import stats

from geo.analysis.gistar import classify, gi_star, hotspots
from geo.analysis.lattice import lattice
from geo.analysis.weights import weights
from geo.crs import to_metric
from geo.errors import BadInput
from tests.geo.analysis.synthetic import CRS, TO_M, X0, Y0, lonlat


def esda_zs(counts, w, transform):
    W = libpysal.weights.WSP(sp.csr_matrix(w)).to_W(silence_warnings=True)
    g = esda.G_Local(counts, W, transform=transform, star=True, permutations=0)
    return g.Zs, g.p_norm


@pytest.mark.parametrize("kind", ["distance_band", "knn", "queen", "rook"])
@pytest.mark.parametrize("transform", ["B", "R"])
def test_gi_star_equals_esda(lat20, kind, transform):
    w, spec = weights(lat20, kind=kind, transform=transform)
    assert (w.diagonal() > 0).all() and spec.self_weight and spec.transform == transform
    z, p = gi_star(lat20.counts, w)
    ez, ep = esda_zs(lat20.counts, w, transform)
    assert np.abs(z - ez).max() < 1e-6
    assert np.abs(p - 2 * ep).max() < 1e-9  # esda's p_norm is one-sided
    assert np.abs(z).max() > 3  # the clusters are there


@pytest.mark.parametrize("kind", ["distance_band", "knn", "queen"])
def test_gi_star_equals_esda_on_hexagons(pts, kind):
    lt = lattice(lon=pts[0], lat=pts[1], cell_m=100, shape="hex")
    for transform in "BR":
        w, _ = weights(lt, kind=kind, transform=transform, k=6)
        z, _ = gi_star(lt.counts, w)
        assert np.abs(z - esda_zs(lt.counts, w, transform)[0]).max() < 1e-6


def test_gi_star_formula_and_general_variance(lat20):
    x = lat20.counts
    n = x.size
    b, _ = weights(lat20, kind="distance_band", transform="B")
    r, _ = weights(lat20, kind="distance_band", transform="R")
    zb, _ = gi_star(x, b)
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
    assert np.allclose(gi_star(x, b, variance="general")[0], zb, rtol=1e-12)
    assert np.allclose(gi_star(x, r, variance="general")[0], zb, rtol=1e-12)
    # esda's row-standardised z is the binary z scaled by sqrt((n-k-1)/((k+1)(n-1)))
    zr, _ = gi_star(x, r)
    kk = np.asarray(b.sum(axis=1)).ravel()
    assert np.allclose(zr, zb * np.sqrt((n - kk) / (kk * (n - 1))), rtol=1e-12)


def test_gi_star_degenerate_and_bad_input():
    w = sp.csr_matrix(np.ones((3, 3)))
    z, p = gi_star([2, 2, 2], sp.eye(3, format="csr"))
    assert z.tolist() == [0, 0, 0] and p.tolist() == [1, 1, 1]
    z, p = gi_star([1, 2, 9], w)  # every cell's neighbourhood is everything
    assert z.tolist() == [0, 0, 0] and p.tolist() == [1, 1, 1]
    with pytest.raises(BadInput, match="sparse 2 x 2"):
        gi_star([1, 2], sp.eye(3, format="csr"))
    with pytest.raises(BadInput, match="variance"):
        gi_star([1, 2], sp.eye(2, format="csr"), variance="nope")


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
    assert classify(z, p) == expect
    assert classify([0.0, 10.0], [1.0, 1e-20]) == ["not_significant", "hot_99"]
    assert classify([3.5], [0.0005], alpha_levels=(0.001, 0.01)) == ["hot_99.9"]


def test_fdr_never_adds_significance_and_matches_hand_bh():
    rng = np.random.default_rng(2)
    z = rng.normal(0, 1.6, 2000)
    p = 2 * stats.norm.sf(np.abs(z))
    plain = classify(z, p)
    fdr = classify(z, p, fdr=True)
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
    assert classify(z, p, fdr=True) == [
        "hot_90",
        "hot_99",
        "not_significant",
        "cold_95",
        "hot_90",
        "cold_90",
    ]
    assert classify(z, p) == ["hot_95", "hot_99", "not_significant", "cold_99", "hot_95", "cold_95"]


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
    res = hotspots(
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
    res = hotspots(lon=[], lat=[], cell_m=100, bounds_m=(X0, Y0, X0 + 1000, Y0 + 1000))
    assert set(res.classes) == {"not_significant"} and (res.z == 0).all() and (res.p == 1).all()
    with pytest.raises(BadInput, match="no points and no bounds_m or mask"):
        hotspots(lon=[], lat=[])
    with pytest.raises(BadInput, match="'square' or 'hex'"):
        hotspots(lon=[113.1], lat=[40.05], shape="triangle")


def test_to_geojson_structure_and_cells_tile_the_extent(pts):
    res = hotspots(lon=pts[0], lat=pts[1], cell_m=100, fdr=True)
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
