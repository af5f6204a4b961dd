"""geo.analysis.emerging: emerging-hot-spot labels (synthetic sequences, end to end) and the change between two
periods on one lattice. No database."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from geo.analysis.emerging import CHANGE_LABELS, compare_periods, emerging, emerging_labels
from geo.analysis.gistar import hotspots
from geo.analysis.lattice import lattice
from geo.errors import BadInput
from tests.geo.analysis.synthetic import X0, Y0, lonlat


def test_same_lattice_for_two_months_and_compare(pts):
    lon, lat = pts
    half = lon.size // 2
    lt = lattice(lon=lon, lat=lat, cell_m=100)
    a = hotspots(lon=lon[:half], lat=lat[:half], lattice_=lt)
    b = hotspots(lon=lon[half:], lat=lat[half:], lattice_=lt)
    assert a.lattice.n == b.lattice.n == lt.n
    assert np.array_equal(a.lattice.counts + b.lattice.counts, lt.counts)
    ch = compare_periods(a.classes, b.classes)
    assert len(ch) == lt.n and set(ch) <= set(CHANGE_LABELS)
    with pytest.raises(BadInput, match="same lattice"):
        compare_periods(a.classes, b.classes[:-1])


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
    assert compare_periods(prev, curr) == [
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
    assert emerging_labels(z, hot) == labels
    # hot in >= 90 % of periods but not the last: not diminishing (ArcGIS: historical)
    z2 = np.r_[np.full(T - 1, 3.0), 0.0][:, None]
    assert emerging_labels(z2, z2 > 1.645) == ["none"]
    # 11 of 12 periods hot (91.7 % >= 90 %) with a significant upward trend; 10 of 12 is sporadic
    z3 = 2.0 + 0.2 * t
    z3[4] = 0.0
    assert emerging_labels(z3[:, None], z3[:, None] > 1.645) == ["intensifying"]
    z3[7] = 0.0
    assert emerging_labels(z3[:, None], z3[:, None] > 1.645) == ["sporadic"]
    with pytest.raises(BadInput, match="at least 2 periods"):
        emerging_labels(np.zeros((1, 3)), np.zeros((1, 3), bool))


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
    labels = emerging(periods=periods, cell_m=100, transform="B")
    lt = lattice(
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
    assert emerging(periods=periods, transform="B", lattice_=lt) == labels
