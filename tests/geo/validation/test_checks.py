"""geo.validation.checks: require_valid's error and its type check."""

from __future__ import annotations

import json

import pytest
from shapely import Point, Polygon
from shapely.testing import assert_geometries_equal

from geo.errors import InvalidGeometry
from geo.validation import require_valid


def test_require_valid_raises_with_details():
    bow = Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    with pytest.raises(InvalidGeometry) as exc:
        require_valid(bow, what="grid 140214001001003")
    err = exc.value
    assert err.code == "invalid_geometry"
    assert err.message.startswith("grid 140214001001003: ring 0 (exterior) self-intersects at (1, 1)")
    assert err.details["reason"] == "self_intersection"
    assert err.details["location"] == [1.0, 1.0]
    assert err.details["what"] == "grid 140214001001003"
    json.dumps(err.details)


def test_require_valid_returns_shapely_and_checks_type():
    g = require_valid({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}, what="x")
    assert_geometries_equal(g, Polygon([(0, 0), (1, 0), (1, 1)]))
    assert require_valid(g, what="x", types={"Polygon", "MultiPolygon"}) is g
    with pytest.raises(InvalidGeometry, match="expected MultiPolygon or Polygon, got Point"):
        require_valid(Point(1, 1), what="boundary", types={"Polygon", "MultiPolygon"})
    with pytest.raises(InvalidGeometry, match="null geometry"):
        require_valid(None, what="boundary")
