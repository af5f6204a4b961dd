"""geo.validation.parse and wkb: malformed rings in GeoJSON and WKB, caught before shapely closes or refuses them."""

from __future__ import annotations

import json

import pytest
import shapely

from geo.errors import InvalidGeometry
from geo.validation import explain_invalid, parse_geometry
from tests.geo.validation.shapes import SHELL, points_in, wkb_polygon


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
