"""Hot spots over time: emerging-hot-spot labels over many periods, and the change between two.

:func:`emerging` counts every period onto one lattice, runs Gi* (:mod:`geo.analysis.gistar`) per
period and labels each cell by :func:`emerging_labels` (new, intensifying, persistent, diminishing,
sporadic; ArcGIS's Emerging Hot Spot Analysis, hot side); :func:`check_emerging_budget` refuses more
cells × periods than the deployment allows before any work; :func:`compare_periods` says how each
cell's class changed between two periods (the monthly report).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

from geo import budgets as _budgets
from geo.analysis.gistar import Variance, gi_star
from geo.analysis.inputs import Bounds, metric_bounds, positive, wgs84_points
from geo.analysis.lattice import Lattice, Shape, StudyRegion, build_lattice, check_shape, mask_metric
from geo.analysis.projection import project_lonlat
from geo.analysis.weights import Transform, WeightsKind, check_weights_budget, weights
from geo.budgets import Budgets
from geo.crs import METRIC_CRS_DEFAULT, require_metric
from geo.errors import BadInput

__all__ = ["CHANGE_LABELS", "EMERGING_LABELS", "check_emerging_budget", "compare_periods", "emerging",
           "emerging_labels"]

#: Labels of :func:`emerging` / :func:`emerging_labels`.
EMERGING_LABELS = ("new", "intensifying", "persistent", "diminishing", "sporadic", "none")
#: Labels of :func:`compare_periods`.
CHANGE_LABELS = (
    "new_hot",
    "still_hot",
    "no_longer_hot",
    "new_cold",
    "still_cold",
    "no_longer_cold",
    "hot_to_cold",
    "cold_to_hot",
    "unchanged",
)


def emerging_labels(
    z: Any,
    hot: Any,
    *,
    trend_alpha: float = 0.05,
    share: float = 0.9,
) -> list[str]:
    """Emerging-hotspot label per cell from its series of Gi* results.

    With T periods, ``hot[t, i]`` whether cell i was a significant hot spot in
    period t (the last row is the latest period) and ``z[t, i]`` its z-score:

    ``new``
        hot in the last period and in no earlier one;
    ``intensifying``
        hot in at least ``share`` (90 %) of the periods, the last included,
        and the z-scores trend up: Mann–Kendall test (Kendall's τ of z against
        time, ``scipy.stats.kendalltau``) with τ > 0 and p < ``trend_alpha``;
    ``persistent``
        hot in ≥ 90 % of the periods, the last included, no significant trend;
    ``diminishing``
        hot in ≥ 90 % of the periods, the last included, significant
        downward trend;
    ``sporadic``
        hot in the last period and in some, but fewer than 90 %, of the
        periods before;
    ``none``
        anything else.

    The model is ArcGIS's Emerging Hot Spot Analysis. Deviations: only the
    hot-spot side is labelled (ArcGIS has the same set for cold spots);
    ArcGIS's *consecutive* (an unbroken final run of hot periods) and
    *oscillating* (hot last, cold at some time) are folded into
    ``sporadic``; ArcGIS's *historical* (hot ≥ 90 % but not in the last
    period) is ``none``, as is a cell whose ≥ 90 % includes every period but
    the last. ArcGIS asks for at least 10 periods; with fewer the
    Mann–Kendall test can rarely reach p < 0.05 (never with 4 or fewer), so
    ``persistent`` is the usual outcome there.

    Parameters
    ----------
    z : array_like, shape (T, n)
    hot : array_like of bool, shape (T, n)
    trend_alpha : float, default 0.05
    share : float, default 0.9

    Returns
    -------
    list of str

    Examples
    --------
    >>> import numpy as np
    >>> z = np.array([[0.1, 3.0, 2.0], [0.2, 3.1, 2.5], [2.5, 3.0, 2.1]])
    >>> emerging_labels(z, z > 1.645)
    ['new', 'persistent', 'persistent']
    """
    za = np.asarray(z, dtype=float)
    ha = np.asarray(hot, dtype=bool)
    if za.ndim != 2 or za.shape != ha.shape:
        raise BadInput(f"z and hot must both be (periods, cells) arrays; got {za.shape} and {ha.shape}")
    t_count = za.shape[0]
    if t_count < 2:
        raise BadInput("emerging hotspots need at least 2 periods (ArcGIS recommends 10 or more)")
    last = ha[-1]
    before = ha[:-1].any(axis=0)
    frac = ha.mean(axis=0)
    out = np.full(za.shape[1], "none", dtype=object)
    out[last & ~before] = "new"
    many = last & before & (frac >= share - 1e-12)
    out[last & before & ~many] = "sporadic"
    t = np.arange(t_count)
    for i in np.flatnonzero(many):
        zi = za[:, i]
        if np.ptp(zi) == 0:
            out[i] = "persistent"
            continue
        tau, pv = stats.kendalltau(t, zi)
        if np.isfinite(pv) and pv < trend_alpha and tau > 0:
            out[i] = "intensifying"
        elif np.isfinite(pv) and pv < trend_alpha and tau < 0:
            out[i] = "diminishing"
        else:
            out[i] = "persistent"
    return out.tolist()


def emerging(
    *,
    periods: Sequence[tuple[Any, Any]],
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
    alpha: float = 0.10,
    trend_alpha: float = 0.05,
    variance: Variance = "esda",
    lattice_: Lattice | None = None,
    budgets: Budgets | None = None,
) -> list[str]:
    """Emerging-hotspot labels per cell over consecutive periods.

    Every period is counted onto one lattice (*lattice_*, or the one
    :func:`lattice` lays over all periods' points together with the same
    *cell_m*, *shape*, *bounds_m*, *mask*, so ``lattice(lon=concat, lat=concat,
    ...)`` gives the cells the labels refer to) and one weights matrix; Gi*
    runs per period; a cell is *hot* in a period when z > 0 and its p (BH-
    adjusted within the period when ``fdr``) is at most *alpha* (90 %
    confidence, as ArcGIS). Labels by :func:`emerging_labels`.

    Parameters
    ----------
    periods : sequence of (lon, lat)
        Oldest first; at least 2.
    alpha : float, default 0.10
    trend_alpha : float, default 0.05
    budgets : geo.budgets.Budgets, optional
        Refuse (:class:`~geo.errors.OverBudget`) more than ``budgets.emerging_cells``
        cells x periods, or weights over ``budgets.gi_weights``, before any Gi* runs.
    other parameters
        As in :func:`geo.analysis.gistar.hotspots`.

    Returns
    -------
    list of str
        One of :data:`EMERGING_LABELS` per cell, in the lattice's order.
    """
    if len(periods) < 2:
        raise BadInput("emerging hotspots need at least 2 periods, oldest first (10 or more recommended)")
    c = require_metric(crs)
    sh = check_shape(shape)
    xy = []
    for t_i, per in enumerate(periods):
        try:
            plon, plat = per
        except (TypeError, ValueError):
            raise BadInput(f"periods[{t_i}] must be a (lon, lat) pair of arrays") from None
        lon_a, lat_a = wgs84_points(plon, plat)
        xy.append(project_lonlat(lon_a, lat_a, c) if lon_a.size else (lon_a, lat_a))
    if lattice_ is None:
        allx = np.concatenate([p[0] for p in xy])
        ally = np.concatenate([p[1] for p in xy])
        cell = positive("cell_m", cell_m, "100")
        b = metric_bounds(bounds_m, c)
        mask_m = None if mask is None else mask_metric(mask, c)
        lt = build_lattice(allx, ally, cell=cell, shape=sh, bounds=b, mask_m=mask_m, crs=c)
    else:
        lt = lattice_
    if budgets is not None:
        check_emerging_budget(budgets, cells=lt.n, periods=len(xy), cell_m=lt.cell_m, exact=True)
        box = StudyRegion.of_box(lt.extent_m)
        check_weights_budget(budgets, box, cells=lt.n, shape=lt.shape, cell=lt.cell_m, kind=weights_kind,
                             threshold_m=threshold_m, k=k, exact=True)
    w, _ = weights(lt, kind=weights_kind, threshold_m=threshold_m, k=k, transform=transform)
    zs = np.empty((len(xy), lt.n))
    hot = np.empty((len(xy), lt.n), dtype=bool)
    for t_i, (x, y) in enumerate(xy):
        counts, _ = lt.count_xy(x, y) if x.size else (np.zeros(lt.n), 0)
        z, p = gi_star(counts, w, variance=variance)
        if fdr:
            p = stats.false_discovery_control(p, method="bh")
        zs[t_i] = z
        hot[t_i] = (z > 0) & (p <= alpha)
    return emerging_labels(zs, hot, trend_alpha=trend_alpha)


def check_emerging_budget(
    budgets: Budgets | None, *, cells: float, periods: int, cell_m: float, exact: bool = False
) -> None:
    """Cells x periods of an emerging-hot-spot request against ``budgets.emerging_cells``.

    Examples
    --------
    >>> check_emerging_budget(Budgets(emerging_cells=1000), cells=100, periods=10, cell_m=100)
    """
    if budgets is None:
        return
    fewer = int(budgets.emerging_cells // max(cells, 1))
    ways = [f"fewer periods (periods <= {fewer})"] if fewer >= 2 else []
    ways.append("a bigger cell_m")
    _budgets.check(
        budgets, "emerging_cells", estimate=cells * periods,
        what=(f"emerging hot spots: {'' if exact else 'about '}{math.ceil(cells):,} cells of {cell_m:g} m x "
              f"{periods} periods = {math.ceil(cells * periods):,} cell-periods"),
        narrow="use " + " or ".join(ways),
    )


def _side(label: str) -> str:
    if label.startswith("hot"):
        return "hot"
    if label.startswith("cold"):
        return "cold"
    return "none"


def compare_periods(prev_classes: Sequence[str], curr_classes: Sequence[str]) -> list[str]:
    """Per-cell change of hotspot class between two periods on the same cells.

    ============  ===========  =================
    previous      current      label
    ============  ===========  =================
    not hot/cold  hot          ``new_hot``
    hot           hot          ``still_hot``
    hot           not sig.     ``no_longer_hot``
    not hot/cold  cold         ``new_cold``
    cold          cold         ``still_cold``
    cold          not sig.     ``no_longer_cold``
    hot           cold         ``hot_to_cold``
    cold          hot          ``cold_to_hot``
    not sig.      not sig.     ``unchanged``
    ============  ===========  =================

    Confidence levels are ignored here (hot_90 → hot_99 is ``still_hot``);
    compare the classes themselves for that.

    Examples
    --------
    >>> compare_periods(["not_significant", "hot_99", "hot_90", "cold_95"],
    ...                 ["hot_95", "hot_90", "not_significant", "hot_90"])
    ['new_hot', 'still_hot', 'no_longer_hot', 'cold_to_hot']
    """
    if len(prev_classes) != len(curr_classes):
        raise BadInput(
            f"the periods have {len(prev_classes)} and {len(curr_classes)} cells; "
            "compare classes on the same lattice (pass lattice_ to hotspots for both)"
        )
    table = {
        ("none", "hot"): "new_hot",
        ("hot", "hot"): "still_hot",
        ("hot", "none"): "no_longer_hot",
        ("none", "cold"): "new_cold",
        ("cold", "cold"): "still_cold",
        ("cold", "none"): "no_longer_cold",
        ("hot", "cold"): "hot_to_cold",
        ("cold", "hot"): "cold_to_hot",
        ("none", "none"): "unchanged",
    }
    return [table[(_side(a), _side(b))] for a, b in zip(prev_classes, curr_classes)]
