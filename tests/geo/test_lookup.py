"""The point index on hand-made polygons: boundaries, holes, multipolygons, vectorised = scalar."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, box

from geo.grid_index import NO_MATCH, Polygons

# Three grids in priority (code) order: A | B side by side sharing x = 1; C a multipolygon
# whose second part sits inside A's hole.
A = Polygon([(0, 0), (1, 0), (1, 1), (0, 1)], holes=[[(0.4, 0.4), (0.6, 0.4), (0.6, 0.6), (0.4, 0.6)]])
B = box(1, 0, 2, 1)
C = MultiPolygon([box(3, 0, 4, 1), box(0.4, 0.4, 0.6, 0.6)])


@pytest.fixture
def index() -> Polygons:
    return Polygons(np.array([A, B, C], dtype=object))


@pytest.mark.parametrize("x, y, expected", [
    (0.2, 0.2, 0),      # inside A
    (1.5, 0.5, 1),      # inside B
    (1.0, 0.5, 0),      # on the shared edge of A and B: the lower code (A) wins
    (1.0, 1.0, 0),      # on the shared corner: A again
    (2.0, 0.5, 1),      # on B's outer edge: covered, so B
    (0.5, 0.5, 2),      # in A's hole, which is C's second part
    (0.4, 0.5, 0),      # on the hole's ring: A (covers) and C (covers) — the lower code, A
    (3.5, 0.5, 2),      # C's first part
    (2.5, 0.5, NO_MATCH),  # between B and C
    (-1.0, -1.0, NO_MATCH),
])
def test_scalar_lookup(index: Polygons, x: float, y: float, expected: int) -> None:
    assert index.locate_one(x, y) == expected


def test_vectorised_equals_scalar_on_many_points(index: Polygons) -> None:
    rng = np.random.default_rng(7)
    x = rng.uniform(-0.5, 4.5, 20_000)
    y = rng.uniform(-0.5, 1.5, 20_000)
    # Add points exactly on every edge and vertex.
    edges = np.array([[1.0, 0.25], [1.0, 0.0], [0.4, 0.45], [0.6, 0.6], [2.0, 1.0], [3.0, 0.5]])
    x = np.r_[x, edges[:, 0]]
    y = np.r_[y, edges[:, 1]]
    many = index.locate(x, y)
    one = np.array([index.locate_one(a, b) for a, b in zip(x, y)])
    np.testing.assert_array_equal(many, one)
    # And against shapely's own covers, with the lowest-index rule.
    covers = np.stack([shapely.covers(g, shapely.points(x, y)) for g in (A, B, C)])
    expected = np.where(covers.any(axis=0), covers.argmax(axis=0), NO_MATCH)
    np.testing.assert_array_equal(many, expected)


def test_empty_inputs() -> None:
    empty = Polygons(np.array([], dtype=object))
    assert empty.locate_one(0, 0) == NO_MATCH
    assert list(empty.locate(np.array([0.0]), np.array([0.0]))) == [NO_MATCH]
    assert len(Polygons(np.array([A], dtype=object)).locate(np.array([]), np.array([]))) == 0
