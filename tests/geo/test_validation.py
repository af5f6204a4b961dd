"""geo.validation: messages that name the problem, the ring and the place."""

from __future__ import annotations

import json
import re
import struct

import numpy as np
import pytest
import shapely
from shapely import LineString, MultiPolygon, Point, Polygon, box
from shapely.testing import assert_geometries_equal

from geo.errors import InvalidGeometry
from geo.validation import diagnose, explain_invalid, parse_geometry, require_valid

SHELL = [(113.100, 40.050), (113.104, 40.050), (113.104, 40.054), (113.100, 40.054)]
_POINT_RE = re.compile(r"\((-?\d+(?:\.\d+)?), (-?\d+(?:\.\d+)?)\)")


def points_in(message: str) -> list[tuple[float, float]]:
    return [(float(a), float(b)) for a, b in _POINT_RE.findall(message)]


def wkb_polygon(*rings) -> bytes:
    """Hand-made little-endian WKB: shapely would refuse to build these rings."""
    out = struct.pack("<BII", 1, 3, len(rings))
    for ring in rings:
        out += struct.pack("<I", len(ring))
        for x, y in ring:
            out += struct.pack("<dd", x, y)
    return out


# --- self-intersections --------------------------------------------------------


def test_bowtie_names_ring_0_and_the_crossing_point():
    # A lopsided bowtie in Datong, so the crossing is not a round number.
    a, b, c, d = (113.1000, 40.0500), (113.1030, 40.0521), (113.1024, 40.0497), (113.1003, 40.0518)
    bowtie = Polygon([a, b, c, d])
    expected = LineString([a, b]).intersection(LineString([c, d]))
    msg = explain_invalid(bowtie)
    assert msg is not None
    assert msg.startswith("ring 0 (exterior) self-intersects at (")
    assert "bowtie" in msg and "redraw" in msg
    (x, y), = points_in(msg)
    assert abs(x - expected.x) < 1e-6 and abs(y - expected.y) < 1e-6
    problem = diagnose(bowtie)
    assert problem.reason == "self_intersection"
    assert_geometries_equal(Point(problem.location), expected, tolerance=1e-9)


def test_bowtie_in_second_polygon_of_multipolygon():
    bow = Polygon([(2, 0), (3, 1), (3, 0), (2, 1)])
    msg = explain_invalid(MultiPolygon([box(0, 0, 1, 1), bow]))
    assert msg.startswith("polygon 1, ring 0 (exterior) self-intersects at (2.5, 0.5)")


def test_pinched_ring():
    figure8 = Polygon([(0, 0), (2, 0), (1, 1), (2, 2), (0, 2), (1, 1), (0, 0)])
    msg = explain_invalid(figure8)
    assert "ring 0 (exterior) touches itself at (1, 1)" in msg


def test_hole_crossing_exterior():
    poly = Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1, 1), (5, 1), (5, 2), (1, 2)]])
    msg = explain_invalid(poly)
    assert msg.startswith("hole 1 (ring 1) crosses the exterior ring at (4, 2)")


def test_overlapping_multipolygon_parts():
    msg = explain_invalid(MultiPolygon([box(0, 0, 2, 2), box(1, 1, 3, 3)]))
    assert "polygons 0 and 1" in msg and "overlap" in msg


# --- holes ----------------------------------------------------------------------


def test_hole_outside_shell():
    hole = [(113.110, 40.060), (113.111, 40.060), (113.111, 40.061), (113.110, 40.060)]
    msg = explain_invalid(Polygon(SHELL, [hole]))
    assert msg.startswith("hole 1 (ring 1) lies outside the exterior ring")
    assert "move it inside" in msg
    (x, y), = points_in(msg)
    assert Polygon(hole).exterior.distance(Point(x, y)) < 1e-9


def test_second_hole_outside_shell():
    inside = [(113.101, 40.051), (113.102, 40.051), (113.102, 40.052), (113.101, 40.051)]
    outside = [(113.110, 40.060), (113.111, 40.060), (113.111, 40.061), (113.110, 40.060)]
    msg = explain_invalid(Polygon(SHELL, [inside, outside]))
    assert msg.startswith("hole 2 (ring 2) lies outside the exterior ring")


def test_nested_holes():
    poly = Polygon(
        [(0, 0), (10, 0), (10, 10), (0, 10)],
        [[(1, 1), (5, 1), (5, 5), (1, 5)], [(2, 2), (3, 2), (3, 3), (2, 3)]],
    )
    assert explain_invalid(poly).startswith("hole 2 (ring 2) lies inside hole 1 (ring 1)")


def test_disconnected_interior():
    poly = Polygon([(0, 0), (10, 0), (10, 10), (0, 10)], [[(0, 5), (5, 0), (10, 5), (5, 10)]])
    assert "interior into separate pieces" in explain_invalid(poly)


# --- malformed rings (built from WKB or GeoJSON, since shapely would refuse or repair) ---


def test_unclosed_ring_from_geojson_dict():
    geojson = {"type": "Polygon", "coordinates": [[list(p) for p in SHELL]]}
    msg = explain_invalid(geojson)
    assert msg.startswith("ring 0 (exterior) is not closed")
    assert "repeat the first point at the end" in msg
    assert points_in(msg) == [SHELL[0], SHELL[-1]]


def test_unclosed_ring_from_wkb():
    msg = explain_invalid(wkb_polygon(SHELL))
    assert msg.startswith("ring 0 (exterior) is not closed")


def test_unclosed_hole_from_geojson_text():
    hole = [[113.101, 40.051], [113.102, 40.051], [113.102, 40.052]]
    text = json.dumps({"type": "Polygon", "coordinates": [[*map(list, SHELL), list(SHELL[0])], hole]})
    assert explain_invalid(text).startswith("hole 1 (ring 1) is not closed")


def test_too_few_points_from_wkb():
    ring = [(113.1, 40.05), (113.2, 40.05), (113.1, 40.05)]
    msg = explain_invalid(wkb_polygon(ring))
    assert msg.startswith("polygon has fewer than 4 points in ring 0")
    assert "got 3" in msg


def test_too_few_points_from_geojson_dict_in_multipolygon():
    ok = [[0, 0], [1, 0], [1, 1], [0, 0]]
    short = [[2, 2], [3, 2], [2, 2]]
    geojson = {"type": "MultiPolygon", "coordinates": [[ok], [short]]}
    assert explain_invalid(geojson).startswith("polygon has fewer than 4 points in polygon 1, ring 0")


def test_too_few_distinct_points():
    # 4 positions but only 2 distinct: shapely builds it, GEOS calls it invalid
    msg = explain_invalid(Polygon([(0, 0), (1, 0), (0, 0), (0, 0)]))
    assert msg.startswith("ring 0 (exterior) has only 2 distinct points")


def test_shape_would_have_silently_closed_the_ring():
    geojson = {"type": "Polygon", "coordinates": [[list(p) for p in SHELL]]}
    assert shapely.geometry.shape(geojson).is_valid  # why dicts are checked first
    with pytest.raises(InvalidGeometry, match="not closed"):
        parse_geometry(geojson, what="grid boundary")


def test_malformed_geojson():
    assert "unknown geometry type 'Polyline'" in explain_invalid({"type": "Polyline", "coordinates": []})
    assert "has no 'coordinates'" in explain_invalid({"type": "Polygon"})
    msg = explain_invalid({"type": "Polygon", "coordinates": [[[0, 0], [1, "a"], [1, 1], [0, 0]]]})
    assert "position 1" in msg and "ring 0" in msg


# --- empty, null, 3-D, NaN ---------------------------------------------------------


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


# --- valid things stay valid -------------------------------------------------------------


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


# --- require_valid -------------------------------------------------------------------------


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
