"""Fixtures of the analysis tests: one clustered point set, and the ~20 x 20 lattice of 100 m cells over it."""

from __future__ import annotations

import pytest

from geo.analysis.lattice import lattice
from tests.geo.analysis.synthetic import clustered


@pytest.fixture(scope="module")
def pts():
    return clustered()


@pytest.fixture(scope="module")
def lat20(pts):
    lt = lattice(lon=pts[0], lat=pts[1], cell_m=100)
    assert 18 * 18 <= lt.n <= 26 * 26  # ~20 x 20 cells
    return lt
