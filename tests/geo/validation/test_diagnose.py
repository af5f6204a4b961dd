"""geo.validation.diagnose: the structural problems (empty, null, 3-D, NaN, too few points), and valid things stay valid."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely import LineString, MultiPolygon, Point, Polygon, box

from geo.validation import explain_invalid
from tests.geo.validation.shapes import SHELL


def test_too_few_distinct_points():
    # 4 positions but only 2 distinct: shapely builds it, GEOS calls it invalid
    msg = explain_invalid(Polygon([(0, 0), (1, 0), (0, 0), (0, 0)]))
    assert msg.startswith("ring 0 (exterior) has only 2 distinct points")


@pytest.mark.parametrize(
    "geom",
    [Polygon(), MultiPolygon(), Point(), shapely.from_wkt("GEOMETRYCOLLECTION EMPTY"),
     {"type": "Polygon", "coordinates": []}],
)
def test_empty(geom):
    assert explain_invalid(geom).startswith("empty geometry")


def test_null():
    assert explain_invalid(None).startswith("null geometry")


def test_three_d():
    poly = Polygon([(0, 0, 5), (1, 0, 5), (1, 1, 5), (0, 0, 5)])
    assert explain_invalid(poly).startswith("3-D coordinates")
    assert explain_invalid({"type": "Point", "coordinates": [113.1, 40.05, 1200.0]}).startswith("3-D")
    ewkb = shapely.to_wkb(shapely.set_srid(Point(1, 2, 3), 4326), include_srid=True)
    assert explain_invalid(ewkb).startswith("3-D")


def test_nan_coordinate():
    with np.errstate(invalid="ignore"):
        poly = Polygon([(0, 0), (1, 0), (np.nan, 1), (0, 0)])
    msg = explain_invalid(poly)
    assert msg.startswith("ring 0 (exterior): position 2 is not a finite number")
    assert explain_invalid(Point(np.inf, 1)).startswith("the point: position 0 is not a finite number")


@pytest.mark.parametrize(
    "geom",
    [
        Polygon(SHELL),
        Polygon([SHELL[0], SHELL[1], SHELL[1], SHELL[2], SHELL[3]]),  # repeated point is fine
        Polygon(SHELL, [[(113.101, 40.051), (113.102, 40.051), (113.102, 40.052)]]),
        MultiPolygon([box(0, 0, 1, 1), box(2, 2, 3, 3)]),
        Point(113.1, 40.05),
        LineString([(0, 0), (1, 1), (1, 0), (0, 1)]),  # self-crossing lines are valid OGC
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]},
        "POLYGON ((0 0, 1 0, 1 1, 0 0))",
        shapely.to_wkb(box(0, 0, 1, 1)),
    ],
)
def test_valid_geometries(geom):
    assert explain_invalid(geom) is None


def test_degenerate_line():
    assert "only 1 distinct point" in explain_invalid(LineString([(0, 0), (0, 0)]))
