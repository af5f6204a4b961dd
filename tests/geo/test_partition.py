"""geo.partition: building cells and the edits (assign, reshape, split, merge) as a partition.

Pure geometry, no database: hand-built grids in metres. The invariant every edit
must keep is that the community's grids still tile it: same union, no overlaps.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import shapely.affinity

import pytest
import shapely
from shapely import GeometryCollection, LineString, MultiPolygon, Point, Polygon, box
from shapely.geometry import shape
from shapely.testing import assert_geometries_equal

from geo import partition
from geo.crs import to_metric
from geo.errors import BadInput
from geo.partition import (
    CELL_SPACING_M,
    FRAGMENT_M2,
    GRID_SIZE,
    absorb_fragments,
    assign,
    building_cells,
    keep_buildings_whole,
    merge,
    polygonal,
    reshape,
    shared_border,
    split,
)


def same(a, b, tol: float = 1e-3) -> None:
    """``a`` and ``b`` cover the same land to within ``tol`` m² (vertex lists may differ)."""
    assert shapely.symmetric_difference(a, b).area < tol, (a.wkt[:200], b.wkt[:200])


def apply(grids: dict, changes: dict) -> dict:
    out = dict(grids)
    for code, g in changes.items():
        if g is None:
            out.pop(code, None)
        else:
            out[code] = g
    return out


def assert_tiles(grids: dict, region, *, union_tol: float = 1e-3, overlap_tol: float = 1e-6) -> None:
    """The grids cover ``region`` exactly and do not overlap."""
    geoms = [g for g in grids.values() if g is not None]
    same(shapely.union_all(geoms), region, union_tol)
    for (ca, a), (cb, b) in itertools.combinations(grids.items(), 2):
        assert shapely.intersection(a, b).area < overlap_tol, f"{ca} and {cb} overlap"


THIRDS_REGION = box(0, 0, 300, 100)


def thirds() -> dict:
    return {"A": box(0, 0, 100, 100), "B": box(100, 0, 200, 100), "C": box(200, 0, 300, 100)}


# --- building_cells ----------------------------------------------------------------


def test_two_buildings_split_the_region_at_the_midline():
    fps = [box(10, 10, 30, 20), box(60, 10, 80, 20)]
    region = box(0, 0, 100, 30)
    cells = building_cells(fps, region)
    assert len(cells) == 2
    assert all(isinstance(c, MultiPolygon) for c in cells)
    # the two footprints mirror each other about x = 45, so the boundary is x = 45
    assert cells[0].area == pytest.approx(45 * 30, rel=1e-6)
    assert cells[1].area == pytest.approx(55 * 30, rel=1e-6)
    same(cells[0], box(0, 0, 45, 30), 1e-6)
    same(cells[1], box(45, 0, 100, 30), 1e-6)


def test_cells_tile_the_region_and_hold_their_footprints():
    # an L-shaped community and buildings of different sizes, one of them L-shaped
    region = Polygon([(0, 0), (200, 0), (200, 80), (90, 80), (90, 150), (0, 150)])
    fps = [
        box(10, 10, 40, 30),
        Polygon([(60, 10), (100, 10), (100, 20), (76, 20), (76, 46), (60, 46)]),
        box(150, 20, 190, 60),
        box(20, 100, 36, 140),
        box(54, 90, 80, 110),
        box(120, 54, 136, 70),
    ]
    cells = building_cells(fps, region)
    assert len(cells) == len(fps)
    union = shapely.union_all(cells)
    assert union.area == pytest.approx(region.area, rel=1e-6)
    same(union, region, 1e-6 * region.area)
    for (i, a), (j, b) in itertools.combinations(enumerate(cells), 2):
        assert shapely.intersection(a, b).area < 1e-6, (i, j)
    for i, (cell, fp) in enumerate(zip(cells, fps, strict=True)):
        assert shapely.difference(fp, cell).area < 1e-6, i  # the footprint lies wholly in its cell
        assert cell.within(region.buffer(1e-6))


def test_cells_of_odd_sized_footprints():
    fps = [box(10, 10, 21, 21), box(100, 100, 110, 110)]
    region = box(0, 0, 200, 200)
    cells = building_cells(fps, region)
    same(shapely.union_all(cells), region, 1e-6 * region.area)


def test_cells_of_one_or_no_building():
    region = box(0, 0, 50, 50)
    assert building_cells([], region) == []
    cell, = building_cells([box(10, 10, 20, 20)], region)
    same(cell, region, 1e-9)


# --- building_cells against the old algorithm ---------------------------------------
#
# reference_building_cells is the algorithm building_cells had before it was made fast (a copy, kept
# here on purpose): it is the reference the fast path must match, cell by cell, to within the 1 mm
# overlay precision. bench/partition.py times the two against each other.


def _ref_diff(a, b) -> MultiPolygon:
    return polygonal(shapely.difference(a, b, grid_size=GRID_SIZE))


def _ref_inter(a, b) -> MultiPolygon:
    return polygonal(shapely.intersection(a, b, grid_size=GRID_SIZE))


def _ref_union(*geoms) -> MultiPolygon:
    return polygonal(shapely.union_all([g for g in geoms if g is not None and not g.is_empty], grid_size=GRID_SIZE))


def reference_building_cells(footprints, region, *, spacing: float = CELL_SPACING_M, which=None) -> list:
    """building_cells as it was: each cell's overlay ran against the union of *all* footprints (the
    cost grows with the square of the building count). Do not change: it is the reference."""
    if not footprints:
        return []
    fps = [shapely.make_valid(f) for f in footprints]
    if len(fps) == 1:
        return [_ref_inter(region, region) for _ in (range(1) if which is None else which)]
    points, owner = [], []
    for i, fp in enumerate(fps):
        ring = shapely.segmentize(fp.boundary, spacing)
        coords = np.unique(shapely.get_coordinates(ring), axis=0)
        points.append(coords)
        owner.append(np.full(len(coords), i))
    xy = np.vstack(points)
    owner_of = np.concatenate(owner)
    xy = xy + np.random.default_rng(0).uniform(-5e-4, 5e-4, xy.shape)
    minx, miny, maxx, maxy = region.bounds
    pad = max(maxx - minx, maxy - miny)
    envelope = shapely.box(minx - pad, miny - pad, maxx + pad, maxy + pad)
    vor = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(xy), extend_to=envelope))
    vor = shapely.make_valid(vor)
    generators = shapely.points(xy)
    tree = shapely.STRtree(generators)
    poly_idx, pt_idx = tree.query(vor, predicate="contains")
    poly_owner = np.full(len(vor), -1)
    poly_owner[poly_idx] = owner_of[pt_idx]
    lost = np.nonzero(poly_owner < 0)[0]
    if len(lost):
        _, nearest = tree.query_nearest(shapely.point_on_surface(vor[lost]), all_matches=False)
        poly_owner[lost] = owner_of[nearest]
    wanted = range(len(fps)) if which is None else which
    all_fps = shapely.union_all(fps, grid_size=GRID_SIZE)
    cells = []
    for i in wanted:
        fp = fps[i]
        mine = shapely.union_all(vor[poly_owner == i], grid_size=GRID_SIZE)
        others = _ref_diff(all_fps, fp)
        cell = _ref_union(_ref_diff(mine, others), fp)
        cells.append(_ref_inter(cell, region))
    return cells


def rotated_layout(n: int, seed: int = 0) -> tuple[list, Polygon]:
    """``n`` rotated rectangles (14–24 m × 8–11 m, any angle) on a jittered 40 m lattice, disjoint,
    in a rectangular region: a deterministic synthetic community."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n)))
    fps = []
    for k in range(n):
        r, c = divmod(k, side)
        x, y = 30 + 40 * c + rng.uniform(-3, 3), 30 + 40 * r + rng.uniform(-3, 3)
        w, d = rng.uniform(14, 24), rng.uniform(8, 11)
        fps.append(shapely.affinity.rotate(box(x - w / 2, y - d / 2, x + w / 2, y + d / 2), rng.uniform(0, 180)))
    rows = int(np.ceil(n / side))
    return fps, box(0, 0, 40 * side + 20, 40 * rows + 20)


def town_communities() -> list[tuple[str, list, Polygon]]:
    """The committed town (data/boundaries): per community its code, footprints and polygon in metres."""
    root = Path(__file__).resolve().parents[2] / "data" / "boundaries"
    comms = json.loads((root / "communities.geojson").read_text(encoding="utf-8"))["features"]
    blds = json.loads((root / "buildings.geojson").read_text(encoding="utf-8"))["features"]
    out = []
    for c in comms:
        code = c["properties"]["code"]
        fps = [to_metric(shape(b["geometry"])) for b in blds if b["properties"]["community_code"] == code]
        out.append((code, fps, to_metric(shape(c["geometry"]))))
    return out


def assert_matches_reference(new: list, ref: list, fps: list, region, *, tol: float = 0.01) -> float:
    """``new`` cells match the reference's to ``tol`` m² and tile ``region``; returns the largest
    symmetric difference of a cell from its reference.

    The old algorithm cut "all footprints minus this one" out of each cell; snap-rounding that
    difference left slivers of the building's own wall in it (under 1 mm wide, up to ~0.015 m² along a
    20 m wall), holes no cell covered, which the fast path does not leave. So each cell must match the
    reference to ``tol`` outside the land no reference cell covers, and the raw difference stays
    under ``2 * tol``.
    """
    assert len(new) == len(ref) == len(fps)
    rounded = shapely.set_precision(region, GRID_SIZE)
    ref_gaps = shapely.difference(rounded, shapely.union_all(ref))
    worst = 0.0
    for i, (a, b) in enumerate(zip(new, ref, strict=True)):
        sd = shapely.symmetric_difference(a, b)
        worst = max(worst, sd.area)
        assert shapely.difference(sd, ref_gaps).area < tol, (i, sd.area)
        assert sd.area < 2 * tol, (i, sd.area)
        assert shapely.difference(fps[i], a).area < 1e-6, i  # the footprint lies wholly in its own cell
    # the cells cover the (snap-rounded) region, stay inside it and do not overlap one another
    cover = shapely.union_all(new)
    assert shapely.difference(rounded, cover).area < tol
    assert shapely.difference(cover, rounded).area < tol
    arr = np.asarray(new, dtype=object)
    left, right = shapely.STRtree(arr).query(arr, predicate="intersects")
    pairs = left < right
    overlaps = shapely.area(shapely.intersection(arr[left[pairs]], arr[right[pairs]]))
    assert (overlaps < tol).all(), [(int(i), int(j)) for i, j in zip(left[pairs][overlaps >= tol], right[pairs][overlaps >= tol])]
    return worst


def test_cells_match_the_reference_on_200_rotated_rectangles():
    # max symmetric difference seen: 0.0140 m² (a reference hole along one wall); 0.00014 m² of
    # reference land missing from a cell at most
    fps, region = rotated_layout(200)
    cells = building_cells(fps, region)
    worst = assert_matches_reference(cells, reference_building_cells(fps, region), fps, region)
    assert worst < 0.02
    # which= gives the same cells as the whole tessellation
    only = building_cells(fps, region, which=[150, 7, 7])
    for k, c in zip([150, 7, 7], only, strict=True):
        assert shapely.symmetric_difference(c, cells[k]).area < 1e-9


def test_cells_match_the_reference_on_the_town():
    # max symmetric difference seen: 0.00165 m² (140214101003)
    for code, fps, region in town_communities():
        cells = building_cells(fps, region)
        worst = assert_matches_reference(cells, reference_building_cells(fps, region), fps, region)
        assert worst < 0.01, code


def test_cells_without_the_coverage_union_are_the_same(monkeypatch):
    """The overlay fallback of the Voronoi union (for a diagram with a repaired polygon) gives the
    same cells as the coverage union, but for the slivers along walls it leaves (as the reference)."""
    fps, region = rotated_layout(40, seed=3)
    fast = building_cells(fps, region)
    plain = partition._voronoi_union
    monkeypatch.setattr(partition, "_voronoi_union", lambda pieces, *, repaired: plain(pieces, repaired=True))
    slow = building_cells(fps, region)
    assert assert_matches_reference(fast, slow, fps, region) > 0.0  # the overlay path really ran


# --- assign ------------------------------------------------------------------------

ROW_FPS = [box(20, 30, 40, 70), box(70, 30, 90, 70),      # in A
           box(120, 30, 140, 70), box(160, 30, 180, 70),  # in B
           box(220, 30, 240, 70), box(260, 30, 280, 70)]  # in C


def test_assign_moves_exactly_the_buildings_cell():
    grids = thirds()
    cells = building_cells(ROW_FPS, THIRDS_REGION)
    cell = cells[1]
    # the building at x 70–90 owns the land between the midlines x = 55 and x = 105
    same(cell, box(55, 0, 105, 100), 1e-6)
    changes = assign(grids, cell=cell, target="B")
    assert set(changes) == {"A", "B"}
    lost = shapely.intersection(cell, grids["A"])
    assert lost.area == pytest.approx(4_500, rel=1e-6)
    same(changes["A"], shapely.difference(grids["A"], cell))
    same(changes["B"], shapely.union(grids["B"], cell))
    assert changes["A"].area == pytest.approx(grids["A"].area - lost.area, rel=1e-9)
    assert changes["B"].area == pytest.approx(grids["B"].area + lost.area, rel=1e-9)
    same(changes["A"], box(0, 0, 55, 100))
    same(changes["B"], box(55, 0, 200, 100))
    assert_tiles(apply(grids, changes), THIRDS_REGION)


def test_assign_takes_a_straddling_cell_from_every_grid_it_lies_in():
    region = box(0, 0, 200, 200)
    grids = {"A": box(0, 0, 100, 100), "C": box(100, 0, 200, 100), "B": box(0, 100, 200, 200)}
    fps = [box(70, 70, 90, 90), box(10, 10, 30, 30), box(170, 10, 190, 30), box(10, 170, 30, 190),
           box(170, 170, 190, 190)]
    cell = building_cells(fps, region)[0]
    in_a, in_c = shapely.intersection(cell, grids["A"]).area, shapely.intersection(cell, grids["C"]).area
    assert in_a > 100 and in_c > 100  # the cell straddles A and C (and reaches into B)
    changes = assign(grids, cell=cell, target="B")
    assert set(changes) == {"A", "B", "C"}
    same(changes["A"], shapely.difference(grids["A"], cell))
    same(changes["C"], shapely.difference(grids["C"], cell))
    same(changes["B"], shapely.union(grids["B"], cell))
    assert changes["A"].area == pytest.approx(10_000 - in_a, rel=1e-9)
    assert changes["C"].area == pytest.approx(10_000 - in_c, rel=1e-9)
    assert_tiles(apply(grids, changes), region)


def test_assign_leaves_grids_the_cell_does_not_touch_alone():
    grids = thirds()
    changes = assign(grids, cell=box(120, 0, 150, 100), target="C")
    assert set(changes) == {"B", "C"}
    same(changes["B"], Polygon([(100, 0), (120, 0), (120, 100), (100, 100)]).union(box(150, 0, 200, 100)))
    assert_tiles(apply(grids, changes), THIRDS_REGION)


def test_a_move_takes_the_cell_only_from_the_grid_holding_the_building():
    """Issue 15: a cell reaching by slivers into the grids around the building "changed" five grids for
    one move. With the footprint, only the building's grid gives land: C keeps its share of the cell."""
    region = box(0, 0, 200, 200)
    grids = {"A": box(0, 0, 100, 100), "C": box(100, 0, 200, 100), "B": box(0, 100, 200, 200)}
    fps = [box(70, 70, 90, 90), box(10, 10, 30, 30), box(170, 10, 190, 30), box(10, 170, 30, 190),
           box(170, 170, 190, 190)]
    cell = building_cells(fps, region)[0]
    assert shapely.intersection(cell, grids["C"]).area > 100  # the cell reaches into C
    changes = assign(grids, cell=cell, target="B", footprint=fps[0])
    assert set(changes) == {"A", "B"}
    same(changes["A"], shapely.difference(grids["A"], cell))
    same(changes["B"], shapely.union(grids["B"], shapely.intersection(cell, grids["A"])))
    assert_tiles(apply(grids, changes), region)


def test_a_move_of_a_building_already_in_the_target_changes_nothing():
    grids = thirds()
    cells = building_cells(ROW_FPS, THIRDS_REGION)
    assert assign(grids, cell=cells[1], target="A", footprint=ROW_FPS[1]) == {}


def test_a_fragment_a_move_leaves_goes_to_the_target_when_it_borders_it():
    grids = {"A": box(0, 0, 100, 100), "B": box(100, 0, 200, 100), "C": box(0, 100, 200, 120)}
    # the cell leaves a detached 10 m² strip of A (80–100 × 99.5–100) behind: 20 m along C, 0.5 m along B
    cell = box(50, 0, 100, 100).difference(box(80, 99.5, 100, 100))
    changes = assign(grids, cell=cell, target="B", footprint=box(60, 10, 90, 60))
    assert set(changes) == {"A", "B"}
    same(changes["A"], box(0, 0, 50, 100))
    same(changes["B"], box(50, 0, 200, 100))


def test_assign_gives_a_fragment_it_leaves_behind_to_a_neighbour():
    grids = {"A": box(0, 0, 100, 100), "B": box(100, 0, 200, 100)}
    # the cell leaves a detached 20 m² corner of A (95–100 × 96–100) behind
    cell = box(50, 0, 100, 100).difference(box(95, 96, 100, 100))
    changes = assign(grids, cell=cell, target="B")
    same(changes["A"], box(0, 0, 50, 100))
    same(changes["B"], box(50, 0, 200, 100))
    assert len(changes["A"].geoms) == 1


def test_assign_to_an_unknown_grid_is_bad_input():
    with pytest.raises(BadInput, match="no grid 'Z'"):
        assign(thirds(), cell=box(0, 0, 10, 10), target="Z")


# --- reshape -----------------------------------------------------------------------


def test_reshape_enlarging_a_grid_shrinks_its_neighbour_by_as_much():
    grids = thirds()
    changes = reshape(grids, code="A", geometry=box(0, 0, 130, 100), region=THIRDS_REGION)
    assert set(changes) == {"A", "B"}
    same(changes["A"], box(0, 0, 130, 100))
    same(changes["B"], box(130, 0, 200, 100))
    assert changes["A"].area - grids["A"].area == pytest.approx(grids["B"].area - changes["B"].area, rel=1e-9)
    assert_tiles(apply(grids, changes), THIRDS_REGION)


@pytest.mark.parametrize(("edge", "winner"), [(125, "B"), (135, "A")])
def test_reshape_through_a_building_moves_it_whole_to_the_grid_holding_most(edge, winner):
    grids = thirds()
    fp = box(120, 40, 140, 60)  # 400 m²
    changes = reshape(grids, code="A", geometry=box(0, 0, edge, 100), region=THIRDS_REGION,
                      footprints=[fp, box(20, 40, 40, 60)])
    result = apply(grids, changes)
    loser = "A" if winner == "B" else "B"
    assert shapely.intersection(result[loser], fp).area < 1e-6
    assert shapely.difference(fp, result[winner]).area < 1e-6
    if winner == "B":  # 5 m of it were in the new A: A gives those 100 m² back
        same(result["A"], box(0, 0, edge, 100).difference(fp))
        assert result["A"].area == pytest.approx(edge * 100 - 100, rel=1e-9)
    else:              # 5 m of it were left in B: A takes those 100 m² too
        same(result["A"], box(0, 0, edge, 100).union(fp))
        assert result["A"].area == pytest.approx(edge * 100 + 100, rel=1e-9)
    assert_tiles(result, THIRDS_REGION)


def test_reshape_past_the_community_edge_is_clipped_and_snapped_to_it():
    grids = thirds()
    # drawn 1.5 m past the top edge (y = 101.5), and 1.5 m short of the left one (x = 1.5)
    drawn = Polygon([(1.5, 0), (130, 0), (130, 101.5), (1.5, 101.5)])
    changes = reshape(grids, code="A", geometry=drawn, region=THIRDS_REGION, snap_to=THIRDS_REGION.boundary)
    same(changes["A"], box(0, 0, 130, 100))
    same(changes["B"], box(130, 0, 200, 100))
    assert_tiles(apply(grids, changes), THIRDS_REGION)


def test_reshape_short_of_the_community_edge_snaps_to_it():
    grids = thirds()
    drawn = box(0, 0, 130, 98.5)  # the top edge 1.5 m short of the community's edge y = 100
    changes = reshape(grids, code="A", geometry=drawn, region=THIRDS_REGION, snap_to=THIRDS_REGION.boundary)
    same(changes["A"], box(0, 0, 130, 100))
    same(changes["B"], box(130, 0, 200, 100))


def test_reshape_far_from_the_edge_does_not_snap():
    grids = thirds()
    changes = reshape(grids, code="A", geometry=box(0, 0, 130, 100), region=THIRDS_REGION,
                      snap_to=THIRDS_REGION.boundary)
    same(changes["A"], box(0, 0, 130, 100))  # x = 130 is 170 m from any community edge


def test_reshape_released_land_goes_to_the_neighbour_with_the_longest_border():
    region = box(0, 0, 200, 100)
    grids = {"A": box(0, 0, 100, 100), "B": box(100, 0, 200, 70), "C": box(100, 70, 200, 100)}
    changes = reshape(grids, code="A", geometry=box(0, 0, 60, 100), region=region)
    assert set(changes) == {"A", "B"}  # B shares 70 m with the released strip, C 30 m
    same(changes["A"], box(0, 0, 60, 100))
    same(changes["B"], box(100, 0, 200, 70).union(box(60, 0, 100, 100)))
    assert_tiles(apply(grids, changes), region)


def test_reshape_released_land_with_no_neighbour_stays_a_gap():
    region = box(0, 0, 100, 100)
    changes = reshape({"A": region}, code="A", geometry=box(0, 0, 100, 60), region=region)
    assert set(changes) == {"A"}
    same(changes["A"], box(0, 0, 100, 60))


def test_reshape_errors():
    with pytest.raises(BadInput, match="no grid 'Z'"):
        reshape(thirds(), code="Z", geometry=box(0, 0, 10, 10), region=THIRDS_REGION)
    with pytest.raises(BadInput, match="does not overlap its community"):
        reshape(thirds(), code="A", geometry=box(500, 0, 600, 100), region=THIRDS_REGION)


# --- split -------------------------------------------------------------------------

RECT = box(0, 0, 100, 50)


def test_split_along_a_line_across_gives_two_parts_that_sum_to_the_grid():
    left, right = split(RECT, LineString([(50, -10), (50, 60)]))  # upwards: left is x < 50
    assert left.area + right.area == pytest.approx(RECT.area, rel=1e-9)
    assert_geometries_equal(left, MultiPolygon([box(0, 0, 50, 50)]), normalize=True)
    assert_geometries_equal(right, MultiPolygon([box(50, 0, 100, 50)]), normalize=True)
    # drawn the other way round, the sides swap
    left2, right2 = split(RECT, LineString([(50, 60), (50, -10)]))
    same(left2, right)
    same(right2, left)


def test_split_a_u_shaped_grid_crossed_twice():
    u = box(0, 0, 30, 30).difference(box(10, 10, 20, 30))
    left, right = split(u, LineString([(-5, 20), (35, 20)]))  # eastwards: left is above
    assert len(left.geoms) == 2  # both arms' tops, one grid (validation then reports it)
    same(left, box(0, 20, 10, 30).union(box(20, 20, 30, 30)))
    assert left.area + right.area == pytest.approx(u.area, rel=1e-9)


@pytest.mark.parametrize("line", [
    LineString([(200, 0), (300, 0)]),      # nowhere near
    LineString([(50, -10), (50, 25)]),     # goes in, stops inside
    LineString([(10, 10), (90, 40)]),      # wholly inside
])
def test_split_with_a_line_that_does_not_cross_is_bad_input(line):
    with pytest.raises(BadInput, match="does not cut the grid in two") as err:
        split(RECT, line)
    assert "from outside the grid, across it, to outside again" in err.value.message


def test_split_with_a_degenerate_line_is_bad_input():
    with pytest.raises(BadInput, match="LineString with at least two distinct points"):
        split(RECT, LineString([(50, -10), (50, -10)]))


def test_split_keeps_cut_footprints_whole():
    fp = box(45, 20, 60, 30)  # 50 m² left of x = 50, 100 m² right of it
    left, right = split(RECT, LineString([(50, -10), (50, 60)]), footprints=[fp, box(10, 10, 20, 20)])
    assert shapely.intersection(left, fp).area < 1e-6
    assert shapely.difference(fp, right).area < 1e-6
    assert left.area == pytest.approx(2_500 - 50, rel=1e-9)
    assert right.area == pytest.approx(2_500 + 50, rel=1e-9)
    assert left.area + right.area == pytest.approx(RECT.area, rel=1e-9)
    assert shapely.intersection(left, right).area < 1e-6


def test_split_through_a_building_filling_the_grid_is_bad_input():
    with pytest.raises(BadInput, match="draw the line between buildings"):
        split(box(0, 0, 10, 10), LineString([(4, -1), (4, 11)]), footprints=[box(0, 0, 10, 10)])


# --- merge -------------------------------------------------------------------------


def test_merge_neighbours():
    grids = thirds()
    changes = merge(grids, keep="A", drop="B")
    assert changes["B"] is None
    assert changes["A"].area == pytest.approx(grids["A"].area + grids["B"].area, rel=1e-9)
    assert isinstance(changes["A"], MultiPolygon) and len(changes["A"].geoms) == 1
    same(changes["A"], box(0, 0, 200, 100), 1e-9)
    assert set(changes) == {"A", "B"}


def test_merge_non_neighbours_is_bad_input():
    with pytest.raises(BadInput, match="do not share a border"):
        merge(thirds(), keep="A", drop="C")


def test_merge_grids_touching_at_a_corner_only_is_bad_input():
    grids = {"A": box(0, 0, 100, 100), "D": box(100, 100, 200, 200)}
    with pytest.raises(BadInput, match="do not share a border"):
        merge(grids, keep="A", drop="D")


def test_merge_errors():
    with pytest.raises(BadInput, match="no grid 'Z'"):
        merge(thirds(), keep="A", drop="Z")
    with pytest.raises(BadInput, match="two different grids"):
        merge(thirds(), keep="A", drop="A")


# --- absorb_fragments / keep_buildings_whole / shared_border / polygonal -----------


def _with_piece(piece):
    return {"A": MultiPolygon([box(0, 0, 100, 100), piece]),
            "B": box(100, 0, 200, 100).difference(piece),
            "C": box(200, 0, 300, 100).difference(piece)}


def test_small_detached_piece_goes_to_the_neighbour_with_the_longest_border():
    piece = box(196, 0, 206, 1)  # 10 m²: borders B for 4 + 1 m, C for 6 + 1 m
    assert piece.area < FRAGMENT_M2
    grids = _with_piece(piece)
    assert shared_border(piece, grids["C"]) > shared_border(piece, grids["B"]) > 0
    changes = absorb_fragments(grids)
    assert set(changes) == {"A", "C"}
    same(changes["A"], box(0, 0, 100, 100))
    same(changes["C"], box(200, 0, 300, 100).union(piece))
    assert_tiles(apply(grids, changes), THIRDS_REGION)


def test_large_detached_piece_stays():
    piece = box(190, 0, 210, 5)  # 100 m²
    assert absorb_fragments(_with_piece(piece)) == {}


def test_absorb_fragments_only_from_the_grids_asked_and_by_min_area():
    grids = _with_piece(box(196, 0, 206, 1))
    assert absorb_fragments(grids, codes=["B", "C"]) == {}
    assert absorb_fragments(grids, min_area=5.0) == {}


def test_keep_buildings_whole_ignores_rounding_but_moves_a_cut_building():
    grids = {"A": box(0, 0, 100, 100), "B": box(100, 0, 200, 100)}
    assert keep_buildings_whole(grids, [box(80, 10, 100.04, 30)]) == {}  # 0.8 m² across: rounding
    fp = box(80, 10, 110, 30)  # 400 m² in A, 200 m² in B
    changes = keep_buildings_whole(grids, [fp])
    same(changes["A"], box(0, 0, 100, 100).union(fp))
    same(changes["B"], box(100, 0, 200, 100).difference(fp))


def test_shared_border():
    a = box(0, 0, 100, 100)
    assert shared_border(a, box(100, 0, 200, 100)) == pytest.approx(100, abs=0.01)
    assert shared_border(a, box(100, 50, 200, 80)) == pytest.approx(30, abs=0.01)
    assert shared_border(a, box(101, 0, 200, 100)) == 0.0
    assert shared_border(a, Polygon()) == 0.0
    assert shared_border(a, box(100, 100, 200, 200)) == 0.0  # touching only at a corner


def test_polygonal():
    assert polygonal(None).is_empty and isinstance(polygonal(None), MultiPolygon)
    assert polygonal(Point(0, 0)).is_empty
    assert_geometries_equal(polygonal(box(0, 0, 1, 1)), MultiPolygon([box(0, 0, 1, 1)]), normalize=True)
    mixed = GeometryCollection([box(0, 0, 1, 1), LineString([(5, 5), (6, 6)]), box(1, 0, 2, 1)])
    out = polygonal(mixed)
    assert isinstance(out, MultiPolygon) and len(out.geoms) == 1  # the polygons, dissolved; the line dropped
    same(out, box(0, 0, 2, 1), 1e-12)


def test_cells_of_rotated_footprints_tile_the_region():
    """Evenly spaced outline points on rotated walls once made GEOS return a Voronoi polygon spanning the
    whole envelope (one cell covered most of the region and others overlapped it)."""
    rng = np.random.default_rng(30)
    centres: list[np.ndarray] = []
    while len(centres) < 30:
        q = rng.uniform(20, 380, 2)
        if all(np.hypot(*(q - r)) > 400 / np.sqrt(30) * 0.7 for r in centres):
            centres.append(q)
    fps = [shapely.affinity.rotate(box(x - 15, y - 6, x + 15, y + 6), rng.uniform(0, 180)) for x, y in centres]
    region = box(0, 0, 400, 400)
    cells = building_cells(fps, region)
    assert sum(c.area for c in cells) == pytest.approx(region.area, abs=1.0)
    for i, (cell, fp) in enumerate(zip(cells, fps, strict=True)):
        assert shapely.difference(fp, cell).area < 1e-6, i
    only = building_cells(fps, region, which=[27, 3])
    assert [c.area for c in only] == pytest.approx([cells[27].area, cells[3].area], abs=1e-3)
