"""geo.analysis.weights: the matrices equal libpysal's contiguity and esda's own self-weights; specs, kNN ties
and refusals. No database."""

from __future__ import annotations

import warnings

import esda
import libpysal
import numpy as np
import pytest
import scipy.sparse as sp

from geo.analysis.gistar import gi_star
from geo.analysis.lattice import lattice
from geo.analysis.weights import weights
from geo.errors import BadInput


@pytest.mark.parametrize("transform", ["B", "R"])
def test_esda_own_self_weight_gives_the_same_matrix(lat20, transform):
    """esda given neighbours without the diagonal sets the self-weight itself
    (1 for B; the row maximum, 1, before row-standardising for R): same z."""
    w, _ = weights(lat20, kind="distance_band", transform=transform)
    b, _ = weights(lat20, kind="distance_band", transform="B")
    off = sp.csr_matrix(b - sp.eye(lat20.n))
    off.eliminate_zeros()
    W = libpysal.weights.WSP(off).to_W(silence_warnings=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = esda.G_Local(lat20.counts, W, transform=transform, star=True, permutations=0)
    assert np.abs(g.w.sparse.toarray() - w.toarray()).max() < 1e-12
    assert np.abs(gi_star(lat20.counts, w)[0] - g.Zs).max() < 1e-6


def test_contiguity_equals_libpysal_polygon_contiguity(pts):
    for shape in ("square", "hex"):
        lt = lattice(lon=pts[0][:200], lat=pts[1][:200], cell_m=150, shape=shape)
        polys = list(lt.polygons_m)
        for kind, cls in (("queen", libpysal.weights.Queen), ("rook", libpysal.weights.Rook)):
            w, _ = weights(lt, kind=kind, transform="B")
            ref = cls.from_iterable(polys, silence_warnings=True)
            ref_m = ref.sparse.toarray() + np.eye(lt.n)
            assert np.array_equal(w.toarray(), ref_m), (shape, kind)


def test_weights_specs_and_knn(lat20):
    w, spec = weights(lat20, kind="knn", k=5, transform="B")
    assert (np.diff(w.indptr) == 6).all()  # k neighbours + self, ties broken by lower id
    w2, _ = weights(lat20, kind="knn", k=5, transform="B")
    assert (w != w2).nnz == 0
    assert spec.as_dict() == {
        "kind": "knn",
        "k": 5,
        "transform": "B",
        "self_weight": True,
        "description": spec.describe(),
    }
    w, spec = weights(lat20, kind="distance_band", transform="R")
    assert spec.threshold_m == 150.0 and "threshold_m" in spec.as_dict() and "k" not in spec.as_dict()
    assert np.allclose(np.asarray(w.sum(axis=1)).ravel(), 1.0)
    # interior cells: 8 neighbours + self under the default band, as queen
    q, _ = weights(lat20, kind="queen", transform="R")
    assert (w != q).nnz == 0
    with pytest.raises(BadInput, match="below the cell spacing"):
        weights(lat20, kind="distance_band", threshold_m=50)
    with pytest.raises(BadInput, match="smaller k"):
        weights(lat20, kind="knn", k=lat20.n)
    with pytest.raises(BadInput, match="distance_band, knn, queen or rook"):
        weights(lat20, kind="kernel")
