"""geo.store.coverage.storable_many: the gap polygons a recompute writes, made valid for the database's CHECK."""

from __future__ import annotations

import numpy as np
import shapely
from shapely import Polygon, box
from shapely.testing import assert_geometries_equal

from geo.store.coverage import storable, storable_many


def test_valid_polygons_are_kept_as_they_are_and_invalid_ones_repaired_like_storable() -> None:
    valid = [box(113.1, 40.05, 113.1001, 40.0501), box(113.2, 40.0, 113.2000003, 40.0000002)]
    bowtie = Polygon([(113.1, 40.0), (113.1001, 40.0001), (113.1001, 40.0), (113.1, 40.0001)])
    assert not bowtie.is_valid
    out = storable_many(np.array([valid[0], bowtie, valid[1]], dtype=object))
    assert all(shapely.is_valid(out))
    assert_geometries_equal(out[0], valid[0]) and assert_geometries_equal(out[2], valid[1])
    assert out[0] is valid[0] and out[2] is valid[1]  # not even copied
    assert_geometries_equal(out[1], storable(bowtie), normalize=True)
    assert abs(out[1].area - storable(bowtie).area) < 1e-18


def test_nothing_to_store_is_an_empty_array() -> None:
    assert storable_many(np.array([], dtype=object)).size == 0
