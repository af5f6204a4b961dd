"""geo.validation.geos_reasons: GEOS's reasons as messages that name the problem, the ring and the place."""

from __future__ import annotations

from shapely import LineString, MultiPolygon, Point, Polygon, box
from shapely.testing import assert_geometries_equal

from geo.validation import diagnose, explain_invalid
from tests.geo.validation.shapes import SHELL, points_in


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
