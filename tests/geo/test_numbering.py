"""Grid numbering: west→east within a band, bands north→south."""

from __future__ import annotations

import numpy as np

from geo.numbering import reading_order


def test_reading_order() -> None:
    pts = np.array([[50.0, 0.0], [0.0, 10.0], [100.0, 95.0], [0.0, 100.0], [40.0, 98.0]])
    assert reading_order(pts, band_m=30.0).tolist() == [3, 4, 2, 1, 0]


def test_a_point_just_inside_the_band_joins_it_and_one_just_outside_starts_the_next() -> None:
    pts = np.array([[10.0, 100.0], [0.0, 70.0], [5.0, 69.9]])
    assert reading_order(pts, band_m=30.0).tolist() == [1, 0, 2]
