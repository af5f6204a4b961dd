"""Getis–Ord Gi* hot and cold spots: the statistic, the hot/cold classes (with optional FDR), the result.

:func:`gi_star` gives vectorised z-scores equal to ``esda.G_Local(..., star=True).Zs``;
:func:`classify` labels cells hot/cold at 99/95/90 % (optionally after Benjamini–Hochberg);
:func:`hotspots` runs all of it on a lattice (:mod:`geo.analysis.lattice`) with spatial weights
(:mod:`geo.analysis.weights`) and returns a :class:`HotspotResult` with its GeoJSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
from scipy import stats

from geo.analysis.inputs import Bounds, metric_bounds, positive, wgs84_points
from geo.analysis.lattice import (
    Lattice, Shape, StudyRegion, build_lattice, cell_vertices, check_shape, mask_metric, study_region,
)
from geo.analysis.projection import project_lonlat, to_lonlat
from geo.analysis.weights import Transform, WeightsKind, WeightsSpec, check_weights_budget, weights
from geo.budgets import Budgets
from geo.crs import METRIC_CRS_DEFAULT, require_metric
from geo.errors import BadInput

__all__ = ["HotspotResult", "Variance", "classify", "gi_star", "hotspots"]

Variance = Literal["esda", "general"]


def gi_star(
    counts: Any,
    w: sp.spmatrix,
    *,
    variance: Variance = "esda",
) -> tuple[np.ndarray, np.ndarray]:
    r"""Getis–Ord Gi* z-scores and two-sided normal p-values, vectorised.

    With :math:`x_j` the count of cell j, :math:`n` cells,
    :math:`\bar x = \frac1n\sum_j x_j`,
    :math:`S = \sqrt{\frac1n\sum_j x_j^2 - \bar x^2}` (population standard
    deviation, as esda), :math:`W_i = \sum_j w_{ij}` (self-weight included)
    and :math:`S_{2i} = \sum_j w_{ij}^2`:

    .. math::

        z_i = \frac{\sum_j w_{ij} x_j - \bar x\, W_i}
                   {S \sqrt{V_i / (n - 1)}},
        \qquad p_i = 2\,(1 - \Phi(|z_i|)),

    where ``variance="esda"`` (default) uses :math:`V_i = W_i (n - W_i)`,
    the variance of Getis & Ord (1992) for binary weights, exactly as
    ``esda.G_Local(star=True)`` computes it for either transform; and
    ``variance="general"`` uses :math:`V_i = n S_{2i} - W_i^2` (Ord & Getis
    1995; ArcGIS's Hot Spot Analysis), valid for any weights. The two agree
    for binary weights. For row-standardised weights (:math:`W_i = 1`,
    :math:`S_{2i} = 1/(k_i+1)`) the esda form gives
    :math:`z_i = (\bar x_{N(i)} - \bar x)/S`, smaller than the general form by
    :math:`\sqrt{(n - k_i - 1)/((k_i + 1)(n - 1))}` (≈ 1/3 for 8 neighbours);
    the general form is unchanged by row-standardisation. The default follows
    esda because the service promises z equal to
    ``esda.G_Local(..., star=True).Zs``.

    Hand-written rather than calling esda: ``G_Local`` also builds a libpysal
    ``W`` and (by default) runs permutation inference, which this service does
    not use and which is far slower; this is two sparse mat-vecs.

    Where the z-score is undefined (all counts equal, so S = 0; or a cell
    whose neighbourhood is every cell, so V_i = 0) z = 0 and p = 1.

    Parameters
    ----------
    counts : array_like, shape (n,)
        Value per cell (incident counts).
    w : scipy.sparse matrix, shape (n, n)
        Weights with the self-weight on the diagonal (from :func:`weights`).
    variance : {"esda", "general"}, default "esda"

    Returns
    -------
    (z, p) : tuple of ndarray, shape (n,)

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> x = np.array([2, 3, 3.2, 5, 8, 7])
    >>> b = sp.csr_matrix(np.array([[1,1,0,1,0,0],[1,1,0,1,1,0],[0,0,1,0,1,0],
    ...                             [1,1,0,1,1,0],[0,1,1,1,1,1],[0,0,0,0,1,1]], float))
    >>> z, p = gi_star(x, b)
    >>> np.round(z, 4).tolist()
    [-1.3973, -0.2892, 0.6506, -0.2892, 1.2345, 2.0242]
    """
    if variance not in ("esda", "general"):
        raise BadInput(f"variance={variance!r} is unknown; use 'esda' or 'general'")
    x = np.asarray(counts, dtype=float).ravel()
    n = x.size
    if not sp.issparse(w) or w.shape != (n, n):
        raise BadInput(
            f"w must be a sparse {n} x {n} matrix (one row per cell), got {getattr(w, 'shape', type(w))}"
        )
    if n < 2:
        raise BadInput("Gi* needs at least 2 cells (30 or more for a meaningful normal approximation)")
    if not np.isfinite(x).all():
        raise BadInput("counts must be finite numbers")
    w = sp.csr_matrix(w)
    xbar = x.mean()
    # population variance as esda computes it: mean of squares minus squared mean
    s = 0.0 if np.ptp(x) == 0 else float(np.sqrt(max(np.mean(x * x) - xbar * xbar, 0.0)))
    wi = np.asarray(w.sum(axis=1)).ravel()
    lag = w @ x
    if variance == "esda":
        v = wi * (n - wi)
    else:
        s2 = np.asarray(w.multiply(w).sum(axis=1)).ravel()
        v = n * s2 - wi * wi
    denom = s * np.sqrt(np.clip(v, 0.0, None) / (n - 1))
    num = lag - xbar * wi
    ok = denom > 0
    z = np.zeros(n)
    z[ok] = num[ok] / denom[ok]
    p = np.ones(n)
    p[ok] = 2.0 * stats.norm.sf(np.abs(z[ok]))
    return z, p


def _level_label(alpha: float) -> str:
    return f"{(1 - alpha) * 100:.10g}"


def _check_alphas(alpha_levels: Sequence[float]) -> list[float]:
    try:
        levels = sorted(float(a) for a in alpha_levels)
    except (TypeError, ValueError):
        raise BadInput(
            f"alpha_levels={alpha_levels!r} must be numbers in (0, 1), e.g. (0.01, 0.05, 0.10)"
        ) from None
    if not levels or not all(0 < a < 1 for a in levels):
        raise BadInput(f"alpha_levels={alpha_levels!r} must be numbers in (0, 1), e.g. (0.01, 0.05, 0.10)")
    return levels


def classify(
    z: Any,
    p: Any,
    *,
    fdr: bool = False,
    alpha_levels: Sequence[float] = (0.01, 0.05, 0.10),
) -> list[str]:
    """Hot/cold class of each cell from its z-score and two-sided p-value.

    A cell is ``hot_<c>`` (z > 0) or ``cold_<c>`` (z < 0) for the highest
    confidence ``c = 100 (1 - α)`` whose ``α`` satisfies ``p <= α``, else
    ``not_significant``. With the default levels: ``hot_99`` / ``cold_99``
    when |z| >= 2.576, ``_95`` when |z| >= 1.960, ``_90`` when |z| >= 1.645.

    With ``fdr=True`` the p-values are first adjusted by Benjamini–Hochberg
    over all n cells (``scipy.stats.false_discovery_control``):
    :math:`p^{BH}_{(i)} = \\min_{k \\ge i} \\min(1, n\\,p_{(k)} / k)`. A cell
    passes level α exactly when BH at false-discovery rate α rejects it, and
    since :math:`p^{BH} \\ge p`, FDR never makes a cell more significant.
    (ArcGIS's "Apply False Discovery Rate Correction" is the same procedure
    run at each confidence level.)

    Parameters
    ----------
    z, p : array_like, shape (n,)
    fdr : bool, default False
    alpha_levels : sequence of float, default (0.01, 0.05, 0.10)

    Returns
    -------
    list of str

    Examples
    --------
    >>> classify([3.0, -2.0, 1.7, 1.6], [0.0027, 0.0455, 0.0891, 0.1096])
    ['hot_99', 'cold_95', 'hot_90', 'not_significant']
    """
    za = np.asarray(z, dtype=float).ravel()
    pa = np.asarray(p, dtype=float).ravel()
    if za.shape != pa.shape:
        raise BadInput(f"z has {za.size} values but p has {pa.size}; send one of each per cell")
    if pa.size and not (np.isfinite(pa).all() and (pa >= 0).all() and (pa <= 1).all()):
        raise BadInput("p-values must be numbers between 0 and 1")
    levels = _check_alphas(alpha_levels)
    if fdr and pa.size:
        pa = stats.false_discovery_control(pa, method="bh")
    out = np.full(za.size, "not_significant", dtype=object)
    for a in reversed(levels):  # loosest first, tighter levels overwrite
        sig = pa <= a
        lab = _level_label(a)
        out[sig & (za > 0)] = f"hot_{lab}"
        out[sig & (za < 0)] = f"cold_{lab}"
    return out.tolist()


@dataclass(eq=False)
class HotspotResult:
    """Gi* hotspots on a lattice.

    Attributes
    ----------
    lattice : Lattice
    w : scipy.sparse.csr_matrix
    spec : WeightsSpec
    z, p : ndarray
        Gi* z-scores and two-sided normal p-values.
    p_adjusted : ndarray
        Benjamini–Hochberg p-values when ``fdr``, else ``p``.
    classes : list of str
        From :func:`classify`.
    fdr : bool
    alpha_levels : tuple of float
    variance : str
        ``"esda"`` or ``"general"`` (see :func:`gi_star`).
    """

    lattice: Lattice
    w: sp.csr_matrix
    spec: WeightsSpec
    z: np.ndarray
    p: np.ndarray
    p_adjusted: np.ndarray
    classes: list[str]
    fdr: bool
    alpha_levels: tuple[float, ...]
    variance: str = "esda"
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, int]:
        """Number of cells per class."""
        out: dict[str, int] = {}
        for c in self.classes:
            out[c] = out.get(c, 0) + 1
        return dict(sorted(out.items()))

    def features(self, start: int = 0, stop: int | None = None, *, precision: int = 7) -> list[dict[str, Any]]:
        """The GeoJSON Features of cells ``start`` to ``stop`` (see :meth:`to_geojson`): a big lattice can be
        written a slice at a time."""
        lt = self.lattice
        stop = lt.n if stop is None else min(stop, lt.n)
        if start >= stop:
            return []
        v = cell_vertices(lt.shape, lt.cell_m, lt.ij[start:stop])
        lon, lat = to_lonlat(v[..., 0].ravel(), v[..., 1].ravel(), lt.crs)
        coords = np.round(np.stack([lon, lat], axis=-1).reshape(v.shape), precision).tolist()
        keys = [f"{lt.shape}:{lt.cell_m:g}:{i}:{j}" for i, j in lt.ij[start:stop].tolist()]
        counts = lt.counts[start:stop].tolist()
        z = self.z[start:stop].tolist()
        p = self.p[start:stop].tolist()
        padj = self.p_adjusted[start:stop].tolist()
        feats = []
        for k in range(stop - start):
            i = start + k
            props: dict[str, Any] = {
                "id": i,
                "key": keys[k],
                "count": int(counts[k]) if float(counts[k]).is_integer() else counts[k],
                "z": z[k],
                "p": p[k],
                "class": self.classes[i],
            }
            if self.fdr:
                props["p_fdr"] = padj[k]
            feats.append(
                {
                    "type": "Feature",
                    "id": i,
                    "geometry": {"type": "Polygon", "coordinates": [coords[k]]},
                    "properties": props,
                }
            )
        return feats

    def to_geojson(self, *, precision: int = 7, features: bool = True) -> dict[str, Any]:
        """An RFC 7946 FeatureCollection of the cells (WGS84).

        Top level: ``weights`` (:meth:`WeightsSpec.as_dict`), ``cell_m``,
        ``shape``, ``n_cells``, ``fdr``, ``alpha_levels``, ``method``,
        ``variance``, ``crs_metric``, ``n_points``, ``n_outside``, ``classes``
        (cells per class) and ``bbox``. Each Feature: a cell polygon, ``id``
        (the cell's position) and properties ``id``, ``key`` (stable across
        lattices), ``count``, ``z``, ``p`` (and ``p_fdr`` when ``fdr``),
        ``class``. With ``features=False`` the collection comes without its
        ``features`` member (write them with :meth:`features`).
        """
        lt = self.lattice
        bbox = None
        if lt.n:
            v = cell_vertices(lt.shape, lt.cell_m, lt.ij)
            lon, lat = to_lonlat(v[..., 0].ravel(), v[..., 1].ravel(), lt.crs)
            lon, lat = np.round(lon, precision), np.round(lat, precision)
            bbox = [float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())]
        fc: dict[str, Any] = {
            "type": "FeatureCollection",
            "method": "Getis-Ord Gi*",
            "weights": self.spec.as_dict(),
            "cell_m": lt.cell_m,
            "shape": lt.shape,
            "n_cells": lt.n,
            "fdr": self.fdr,
            "alpha_levels": list(self.alpha_levels),
            "variance": self.variance,
            "crs_metric": lt.crs,
            "n_points": lt.n_points,
            "n_outside": lt.n_outside,
            "classes": self.summary(),
        }
        if bbox is not None:
            fc["bbox"] = bbox
        fc.update(self.extra)
        if features:
            fc["features"] = self.features(precision=precision)
        return fc


def _count_on(lt: Lattice, lon: Any, lat: Any) -> tuple[np.ndarray, int, int]:
    counts, outside = lt.count(lon=lon, lat=lat)
    return counts, int(np.asarray(lon).size - outside), outside


def hotspots(
    *,
    lon: Any,
    lat: Any,
    cell_m: float = 100.0,
    shape: Shape = "square",
    weights_kind: WeightsKind = "distance_band",
    threshold_m: float | None = None,
    k: int = 8,
    transform: Transform = "B",
    fdr: bool = False,
    mask: Any = None,
    bounds_m: Bounds | None = None,
    crs: str = METRIC_CRS_DEFAULT,
    alpha_levels: Sequence[float] = (0.01, 0.05, 0.10),
    variance: Variance = "esda",
    lattice_: Lattice | None = None,
    budgets: Budgets | None = None,
) -> HotspotResult:
    """Getis–Ord Gi* hot and cold spots of incident counts on metric cells.

    :func:`lattice` → counts per cell; :func:`weights` (``weights_kind``,
    ``threshold_m`` defaulting to 1.5 × ``cell_m``, ``k``, ``transform``, with
    self-weights); :func:`gi_star` → z, p; :func:`classify` (optionally with
    Benjamini–Hochberg FDR).

    Parameters
    ----------
    lon, lat : array_like
        Incident points, WGS84 degrees.
    cell_m, shape, bounds_m, mask, crs
        As in :func:`lattice`.
    weights_kind, threshold_m, k, transform
        As in :func:`weights` (``k`` is used only for ``knn``).
    fdr : bool, default False
    alpha_levels : sequence of float, default (0.01, 0.05, 0.10)
    variance : {"esda", "general"}, default "esda"
        See :func:`gi_star`.
    lattice_ : Lattice, optional
        Count onto these cells instead of laying a new lattice (e.g. the same
        cells for every month).
    budgets : geo.budgets.Budgets, optional
        Refuse (:class:`~geo.errors.OverBudget`) weights of more than
        ``budgets.gi_weights`` non-zero entries (cells x neighbours): estimated
        from the study area before any cell is made, checked again on the cells.

    Returns
    -------
    HotspotResult

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> lon = np.r_[113.09 + rng.random(300) * 0.02, 113.1 + rng.normal(0, 0.0003, 200)]
    >>> lat = np.r_[40.04 + rng.random(300) * 0.02, 40.05 + rng.normal(0, 0.0003, 200)]
    >>> res = hotspots(lon=lon, lat=lat, cell_m=100)
    >>> res.summary()["hot_99"] > 0
    True
    """
    c = require_metric(crs)
    sh = check_shape(shape)
    if lattice_ is not None:
        lt = lattice_.with_counts(*_count_on(lattice_, lon, lat))
        region = None
    else:
        cell = positive("cell_m", cell_m, "100")
        b = metric_bounds(bounds_m, c)
        lon_a, lat_a = wgs84_points(lon, lat)
        mask_m = None if mask is None else mask_metric(mask, c)
        x, y = project_lonlat(lon_a, lat_a, c) if lon_a.size else (lon_a, lat_a)
        region = study_region(x, y, cell, b, mask_m) if budgets is not None else None
        if region is not None and budgets is not None:
            check_weights_budget(budgets, region, cells=region.cells(sh, cell), shape=sh, cell=cell,
                                 kind=weights_kind, threshold_m=threshold_m, k=k)
        lt = build_lattice(x, y, cell=cell, shape=sh, bounds=b, mask_m=mask_m, crs=c)
    if budgets is not None:
        if region is None:
            region = StudyRegion.of_box(lt.extent_m)
        check_weights_budget(budgets, region, cells=lt.n, shape=lt.shape, cell=lt.cell_m, kind=weights_kind,
                             threshold_m=threshold_m, k=k, exact=True)
    w, spec = weights(lt, kind=weights_kind, threshold_m=threshold_m, k=k, transform=transform)
    z, p = gi_star(lt.counts, w, variance=variance)
    levels = _check_alphas(alpha_levels)
    padj = stats.false_discovery_control(p, method="bh") if fdr and p.size else p
    classes = classify(z, padj, fdr=False, alpha_levels=levels)
    return HotspotResult(
        lattice=lt,
        w=w,
        spec=spec,
        z=z,
        p=p,
        p_adjusted=np.asarray(padj),
        classes=classes,
        fdr=bool(fdr),
        alpha_levels=tuple(levels),
        variance=variance,
    )

