"""Edits of a community's grids as a partition: move a building, reshape, split, merge.

Pure geometry in a metric CRS (metres); no database. Each function takes the
grids of *one community* as ``{code: geometry}`` and returns only the grids it
changed (``None`` for a grid it removed). The store layer (:mod:`geo.plans`)
loads and writes them.

How boundaries follow buildings
-------------------------------
Moving a building to another grid moves its *cell*: the land nearer to that
building than to any other, from a Voronoi tessellation of the community's
building outlines (:func:`building_cells`). Cells tile the community, so a grid
that gives a cell away and the grid that takes it stay without gaps or overlaps;
a grid made of cells of neighbouring buildings stays contiguous.

Every overlay runs with ``grid_size`` = :data:`GRID_SIZE` (1 mm): results are
snap-rounded, so two grids computed from the same cut share identical edges and
no micro-slivers appear. Parts under :data:`FRAGMENT_M2` left behind by an edit
go to the neighbour sharing the longest border with them (:func:`absorb_fragments`).
A boundary drawn through a building is moved around it: the whole building goes
to the grid holding most of it (:func:`keep_buildings_whole`).

Examples
--------
>>> from shapely import box
>>> grids = {"a": box(0, 0, 100, 100), "b": box(100, 0, 200, 100)}
>>> changed = merge(grids, keep="a", drop="b")
>>> round(changed["a"].area), changed["b"]
(20000, None)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import shapely
import shapely.ops
from shapely import Geometry, LineString, MultiPolygon

from geo.errors import BadInput

#: Precision of every overlay, metres: results are snap-rounded to a 1 mm grid.
GRID_SIZE = 0.001
#: Parts of a grid smaller than this (m²) that an edit leaves detached are given to a neighbour.
FRAGMENT_M2 = 25.0
#: A detached sliver a move leaves behind, of at most this area (m²), stays with its grid unless it borders the
#: move's target: validation does not see parts this small (``plan_checks.SLIVER_M2``), and giving one to a
#: third grid made a one-building move "change" that grid.
KEEP_SLIVER_M2 = 1.0
#: A neighbour whose area an edit would change by less than this (m²) is left as it is: that is the
#: rounding of coordinates stored in degrees, not a change (so re-saving an unchanged outline changes nothing).
CHANGE_M2 = 0.01
#: Spacing (m) of the points sampled along building outlines for the Voronoi cells.
CELL_SPACING_M = 2.0
#: Drawn boundaries snap to community edges and roads within this distance (m).
SNAP_M = 2.0

Grids = Mapping[str, Geometry]
Changes = dict[str, Geometry | None]


def polygonal(geom: Geometry | None) -> MultiPolygon:
    """The polygonal part of ``geom`` as a MultiPolygon (empty when there is none)."""
    if geom is None or geom.is_empty:
        return MultiPolygon()
    if geom.geom_type == "Polygon":
        return MultiPolygon([geom])
    if geom.geom_type == "MultiPolygon":
        return geom
    polys = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    return polygonal(shapely.union_all(polys, grid_size=GRID_SIZE)) if polys else MultiPolygon()


def _diff(a: Geometry, b: Geometry) -> MultiPolygon:
    return polygonal(shapely.difference(a, b, grid_size=GRID_SIZE))


def union(*geoms: Geometry) -> MultiPolygon:
    """The polygonal union of ``geoms`` (None and empty ones skipped), snap-rounded to :data:`GRID_SIZE`."""
    return polygonal(shapely.union_all([g for g in geoms if g is not None and not g.is_empty], grid_size=GRID_SIZE))


def _inter(a: Geometry, b: Geometry) -> MultiPolygon:
    return polygonal(shapely.intersection(a, b, grid_size=GRID_SIZE))


def shared_border(a: Geometry, b: Geometry) -> float:
    """Length (m) of the boundary ``a`` and ``b`` share (0 when they only touch at points)."""
    if a.is_empty or b.is_empty or not a.buffer(1e-6).intersects(b):
        return 0.0
    # b is widened by 1 mm so that edges equal up to rounding count; grids touching at a corner
    # then measure ~2 mm, which is not a shared border.
    length = float(shapely.intersection(a.boundary, b.buffer(GRID_SIZE)).length)
    return length if length > 20 * GRID_SIZE else 0.0


def snap_vertices(geometry: Geometry, reference: Geometry, tolerance: float, *,
                  keep: Geometry | None = None) -> Geometry:
    """Move each vertex of ``geometry`` within ``tolerance`` of ``reference`` onto its nearest point there.

    Hand-written because ``shapely.snap`` (GEOS) snaps only to the reference's
    *vertices* — a corner drawn near the middle of a long community edge does not
    move — and also inserts reference vertices into nearby segments, which turns an
    edge lying along a densified reference into a zigzag.

    Vertices within 1 cm of ``keep`` (e.g. the grid's old vertices, which the planner did not
    move) stay where they are.

    Examples
    --------
    >>> from shapely import box
    >>> snap_vertices(box(0, 0, 10, 9), box(0, 0, 20, 10).boundary, 1.5).bounds
    (0.0, 0.0, 10.0, 10.0)
    """
    corners = shapely.multipoints(shapely.get_coordinates(reference))

    def nearest(pts: np.ndarray, target: Geometry) -> np.ndarray:
        return shapely.get_coordinates(shapely.shortest_line(pts, target))[1::2]

    def move(coords: np.ndarray) -> np.ndarray:
        if len(coords) == 0:
            return coords
        coords = coords.copy()
        pts = shapely.points(coords)
        # a vertex near a corner of the reference goes to the corner; others to the nearest edge point
        free = ~shapely.dwithin(pts, keep, 0.01) if keep is not None else np.ones(len(pts), dtype=bool)
        at_corner = free & shapely.dwithin(pts, corners, tolerance)
        on_edge = free & ~at_corner & shapely.dwithin(pts, reference, tolerance)
        if at_corner.any():
            coords[at_corner] = nearest(pts[at_corner], corners)
        if on_edge.any():
            coords[on_edge] = nearest(pts[on_edge], reference)
        return coords
    return shapely.transform(geometry, move)


def building_cells(footprints: Sequence[Geometry], region: Geometry, *,
                   spacing: float = CELL_SPACING_M, which: Sequence[int] | None = None) -> list[MultiPolygon]:
    """The land nearest each building: a tessellation of ``region`` around the footprints.

    Parameters
    ----------
    footprints : sequence of Polygon
        Building outlines in a metric CRS, disjoint.
    region : Polygon or MultiPolygon
        The community.
    spacing : float
        Distance (m) between points sampled along each outline.
    which : sequence of int, optional
        Only these footprints' cells (an edit needs one). The Voronoi diagram of every outline is
        built either way; each cell then costs about the same, whatever the number of buildings.

    Returns
    -------
    list of MultiPolygon
        One cell per footprint (or per index in ``which``), in input order. Cell ``i`` holds footprint ``i``
        whole and the land nearer to it than to any other outline (measured to
        the sampled outline points, so to within ``spacing / 2``); cells cover
        ``region`` without overlaps.

    Examples
    --------
    >>> from shapely import box
    >>> cells = building_cells([box(10, 10, 30, 20), box(60, 10, 80, 20)], box(0, 0, 100, 30))
    >>> [round(c.area) for c in cells]
    [1350, 1650]
    """
    if not footprints:
        return []
    fps = [shapely.make_valid(f) for f in footprints]
    if len(fps) == 1:
        return [_inter(region, region) for _ in (range(1) if which is None else which)]
    points, owner = [], []
    for i, fp in enumerate(fps):
        ring = shapely.segmentize(fp.boundary, spacing)
        coords = np.unique(shapely.get_coordinates(ring), axis=0)
        points.append(coords)
        owner.append(np.full(len(coords), i))
    xy = np.vstack(points)
    owner_of = np.concatenate(owner)
    # Evenly spaced collinear points along straight walls are degenerate input for GEOS's Voronoi
    # (it returned self-intersecting polygons, one spanning the whole envelope, for 39 of 1,330 points on
    # rotated slabs). A deterministic jitter of at most 0.5 mm removes the degeneracy (0 bad polygons in
    # 40 such layouts); the cells move by less than the 1 mm overlay precision.
    xy = xy + np.random.default_rng(0).uniform(-5e-4, 5e-4, xy.shape)
    # Voronoi of the outline points. Each polygon's owner is the building of the point inside it:
    # found by containment rather than trusting ordered=True, which is wrong when GEOS returns a
    # broken polygon (one containing every point).
    minx, miny, maxx, maxy = region.bounds
    pad = max(maxx - minx, maxy - miny)
    envelope = shapely.box(minx - pad, miny - pad, maxx + pad, maxy + pad)
    vor = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(xy), extend_to=envelope))
    # GEOS may return Voronoi polygons that self-intersect by round-off (edges sampled at uneven spacing):
    # repaired first, or the union below fails with a TopologyException.
    repaired = ~shapely.is_valid(vor)
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
    # Each building's Voronoi polygons, grouped by owner once (a stable sort: in diagram order, as a
    # boolean mask per building would give them), and the footprints in a tree: cutting out only the
    # footprints that reach this building's polygons keeps the work per cell independent of the
    # number of buildings (the union of all footprints made it grow with it). Cutting out the other
    # footprints themselves, rather than "all footprints minus this one", and the unrounded coverage
    # union also close sub-millimetre holes the old overlays left along a building's own walls (up to
    # ~0.015 m² along a 20 m wall; 20 in 200 cells of rotated rectangles), land no cell covered:
    # snap-rounding that difference left slivers of the building's outline in what was cut away, and
    # snap-rounding the union of its Voronoi polygons left slivers out of it.
    order = np.argsort(poly_owner, kind="stable")
    starts = np.searchsorted(poly_owner[order], np.arange(len(fps) + 1))
    fp_arr = np.asarray(fps, dtype=object)
    fp_tree = shapely.STRtree(fp_arr)
    cells = []
    for i in wanted:
        fp = fps[i]
        own = order[starts[i]:starts[i + 1]]
        mine = _voronoi_union(vor[own], repaired=bool(repaired[own].any()))
        near = fp_tree.query(mine, predicate="dwithin", distance=GRID_SIZE)
        near = near[near != i]
        cut = _diff(mine, shapely.union_all(fp_arr[near], grid_size=GRID_SIZE)) if len(near) else mine
        cells.append(_inter(union(cut, fp), region))
    return cells


def _voronoi_union(pieces: np.ndarray, *, repaired: bool) -> Geometry:
    """The union of Voronoi polygons of one diagram (one building's), snap-rounded or exact.

    Polygons of one Voronoi diagram meet along identical edges (they are a coverage), so
    GEOS's coverage union, which only drops the shared edges, gives their union several
    times faster than the overlay (unrounded: the overlays after it round to
    :data:`GRID_SIZE`; and without the sub-millimetre slivers snap-rounding the pieces' edges
    along a wall leaves). Where that premise may fail — a polygon GEOS returned invalid and
    ``make_valid`` repaired (``repaired``), or a result that is invalid or whose area is not
    the sum of the pieces' — the snap-rounded overlay union is used, as before.
    """
    if not repaired:
        merged = shapely.coverage_union_all(pieces)
        total = float(shapely.area(pieces).sum())
        if merged.is_valid and abs(merged.area - total) <= 1e-9 * max(total, 1.0):
            return merged
    return shapely.union_all(pieces, grid_size=GRID_SIZE)


def keep_buildings_whole(grids: Grids, footprints: Sequence[Geometry]) -> Changes:
    """Move each building a boundary cuts wholly into the grid holding most of it.

    Returns the changed grids. A building of which less than 1 m² lies in other
    grids is left alone (rounding, not a cut).
    """
    current = dict(grids)
    changed: Changes = {}
    codes = list(current)
    for fp in footprints:
        shares = []
        for code in codes:
            g = current[code]
            if g is not None and g.intersects(fp):
                shares.append((_inter(g, fp).area, code))
        if len(shares) < 2:
            continue
        shares.sort(key=lambda t: (-t[0], t[1]))  # most of the building; on a tie the lowest code
        if sum(a for a, _ in shares[1:]) < 1.0:
            continue
        winner = shares[0][1]
        for _, code in shares[1:]:
            current[code] = changed[code] = _diff(current[code], fp)
        current[winner] = changed[winner] = union(current[winner], _inter(fp, union(*(grids[c] for _, c in shares))))
    return changed


def absorb_fragments(grids: Grids, *, codes: Sequence[str] | None = None,
                     min_area: float = FRAGMENT_M2, prefer: str | None = None) -> Changes:
    """Give detached parts smaller than ``min_area`` to the neighbour sharing the longest border.

    Only the grids in ``codes`` (default: all) lose fragments; the largest part
    of a grid is never moved. With ``prefer`` (a move's target), a fragment bordering that grid goes
    to it, and one of at most :data:`KEEP_SLIVER_M2` that does not border it stays where it is, so that a
    move changes no third grid when it need not. Returns the changed grids.
    """
    current = dict(grids)
    changed: Changes = {}
    for code in codes if codes is not None else list(current):
        geom = current.get(code)
        if geom is None or geom.is_empty:
            continue
        parts = sorted(shapely.get_parts(polygonal(geom)), key=lambda p: p.area, reverse=True)
        if len(parts) < 2:
            continue
        keep = [parts[0]]
        for part in parts[1:]:
            if part.area >= min_area:
                keep.append(part)
                continue
            best, best_len = None, 0.0
            if prefer is not None and prefer != code and current.get(prefer) is not None \
                    and shared_border(part, current[prefer]) > 0:
                best = prefer
            elif prefer is not None and part.area <= KEEP_SLIVER_M2:
                keep.append(part)  # a sliver validation does not see: not worth changing a third grid
                continue
            else:
                for other, og in current.items():
                    if other == code or og is None:
                        continue
                    length = shared_border(part, og)
                    if length > best_len:
                        best, best_len = other, length
            if best is None:
                keep.append(part)
                continue
            current[best] = changed[best] = union(current[best], part)
        if len(keep) < len(parts):
            current[code] = changed[code] = union(*keep)
    return changed


def holders(grids: Grids, footprint: Geometry) -> list[str]:
    """The grids holding part of a building's footprint (more than :data:`CHANGE_M2` of it), by code."""
    out = []
    for code, g in sorted(grids.items()):
        if g is not None and g.intersects(footprint) and _inter(g, footprint).area > CHANGE_M2:
            out.append(code)
    return out


def assign(grids: Grids, *, cell: Geometry, target: str, footprint: Geometry | None = None) -> Changes:
    """Move a building's cell into ``target``.

    Parameters
    ----------
    grids : mapping of str to geometry
        The community's grids.
    cell : Polygon or MultiPolygon
        The building's cell (:func:`building_cells`).
    target : str
        Code of the grid that takes the building.
    footprint : Polygon, optional
        The building's outline. Given, only the grids holding the building (:func:`holders`) give up
        their share of the cell, and the land of the cell no grid holds goes to ``target``: the move
        changes the building's grid and the target, nothing else. A cell is the land nearest the
        building; the stored grids follow the cells only to within a few m² (edges drawn along roads,
        coordinates rounded), so the cell also reaches, by slivers, into the grids around it; taking
        those (``footprint`` None, every grid the cell touches gives up its share) "changed" up to five
        grids for one building without moving a household between them.

    Returns
    -------
    dict
        The changed grids (fragments absorbed, preferably by ``target``).
    """
    if target not in grids:
        raise BadInput.say("edit.no_grid_in_community", grid=target)
    givers = None if footprint is None else set(holders(grids, footprint)) - {target}
    current = dict(grids)
    changed: Changes = {}
    land = cell
    if givers is not None:
        held = union(*(grids[c] for c in givers), _diff(cell, union(*grids.values())))
        land = _inter(cell, held)
    for code, g in grids.items():
        if code == target or g is None or (givers is not None and code not in givers):
            continue
        if g.intersects(land):
            new = _diff(g, land)
            if abs(new.area - g.area) > CHANGE_M2:
                current[code] = changed[code] = new
    grown = union(grids[target], land)
    if givers is None or abs(grown.area - grids[target].area) > CHANGE_M2:
        current[target] = changed[target] = grown
    changed.update(absorb_fragments(current, codes=[c for c in changed if c != target], prefer=target))
    return changed


def reshape(grids: Grids, *, code: str, geometry: Geometry, region: Geometry,
            footprints: Sequence[Geometry] = (), snap_to: Geometry | None = None,
            snap_m: float = SNAP_M) -> Changes:
    """Give grid ``code`` a new boundary; its neighbours follow.

    The new boundary is snapped to ``snap_to`` (community edges, roads) within
    ``snap_m`` and clipped to ``region``. Neighbours lose what the grid gained;
    each piece the grid released goes to the neighbour sharing the longest
    border with it; a piece touching no other grid stays a gap (which
    validation reports) unless it is a strip narrower than ``2 * snap_m``,
    which stays with the grid. Buildings the new boundary cuts go wholly to the grid holding
    most of them.
    """
    if code not in grids:
        raise BadInput.say("edit.no_grid_in_community", grid=code)
    # make_valid keeps the lower-dimension pieces of a collapsed ring (lines, points): an overlay of
    # such a collection with the community raises "Overlay input is mixed-dimension", so keep the area.
    new = polygonal(shapely.make_valid(geometry))
    if shapely.symmetric_difference(new, grids[code]).area <= CHANGE_M2:
        return {}  # the outline as it was (a save without a change)
    if snap_to is not None and not snap_to.is_empty:
        # only vertices the planner moved or added snap; the others stay where they were
        old_vertices = shapely.multipoints(shapely.get_coordinates(grids[code]))
        new = polygonal(shapely.make_valid(snap_vertices(new, snap_to, snap_m, keep=old_vertices)))
    new = _inter(new, region)
    if new.is_empty:
        raise BadInput.say("edit.boundary_outside_community", grid=code)
    current = dict(grids)
    changed: Changes = {code: new}
    old = grids[code]
    current[code] = new
    for other, g in grids.items():
        if other != code and g is not None and g.intersects(new):
            cut = _diff(g, new)
            if abs(cut.area - g.area) > CHANGE_M2:
                current[other] = changed[other] = cut
    released = _diff(old, new)
    for piece in shapely.get_parts(released):
        best, best_len = None, 0.0
        for other, g in current.items():
            if other == code or g is None:
                continue
            length = shared_border(piece, g)
            if length > best_len:
                best, best_len = other, length
        if best is not None:
            current[best] = changed[best] = union(current[best], piece)
        elif shapely.buffer(piece, -snap_m).is_empty:
            # a strip narrower than the snapping distance along the community edge, touching no
            # other grid: what snapping could not reach, not land the planner meant to give up
            current[code] = changed[code] = union(current[code], piece)
    if footprints:
        near = [fp for fp in footprints if fp.intersects(union(old, new).buffer(1.0))]
        for c, g in keep_buildings_whole(current, near).items():
            current[c] = changed[c] = g
    for c, g in absorb_fragments(current, codes=list(changed)).items():
        current[c] = changed[c] = g
    return changed


def _side(line: LineString, point: Geometry) -> int:
    """+1 when ``point`` is left of ``line`` (at its nearest segment), else -1."""
    d = line.project(point)
    eps = min(0.5, line.length / 2)
    a = line.interpolate(max(d - eps, 0.0))
    b = line.interpolate(min(d + eps, line.length))
    cross = (b.x - a.x) * (point.y - a.y) - (b.y - a.y) * (point.x - a.x)
    return 1 if cross > 0 else -1


def split(geometry: Geometry, line: LineString, *, footprints: Sequence[Geometry] = ()) -> tuple[MultiPolygon, MultiPolygon]:
    """Cut a grid in two along ``line``: (left side, right side).

    The line must cross the grid from outside to outside. Pieces are grouped by
    the side of the line they lie on, so a line crossing a U-shaped grid twice
    still makes two grids (one may then be non-contiguous, which validation
    reports). Buildings the line cuts go wholly to the side holding most of them.
    """
    if line.geom_type != "LineString" or line.length == 0:
        raise BadInput.say("edit.split_not_a_line")
    pieces = shapely.get_parts(shapely.ops.split(polygonal(geometry), line))
    pieces = [p for p in pieces if p.area > GRID_SIZE]
    if len(pieces) < 2:
        raise BadInput.say("edit.split_not_in_two")
    left = union(*(p for p in pieces if _side(line, p.representative_point()) > 0))
    right = union(*(p for p in pieces if _side(line, p.representative_point()) < 0))
    if left.is_empty or right.is_empty:
        raise BadInput.say("edit.split_one_side")
    if footprints:
        fixed = keep_buildings_whole({"left": left, "right": right}, footprints)
        left, right = fixed.get("left", left), fixed.get("right", right)
        if left.is_empty or right.is_empty:
            raise BadInput.say("edit.split_empty_side")
    return left, right


def merge(grids: Grids, *, keep: str, drop: str) -> Changes:
    """Merge grid ``drop`` into ``keep`` (they must share a border)."""
    for c in (keep, drop):
        if c not in grids:
            raise BadInput.say("edit.merge_not_in_community", grid=c)
    if keep == drop:
        raise BadInput.say("edit.merge_same_grid")
    if shared_border(grids[keep], grids[drop]) <= 0:
        raise BadInput.say("edit.merge_not_neighbours", a=keep, b=drop)
    return {keep: union(grids[keep], grids[drop]), drop: None}


__all__ = [
    "CELL_SPACING_M", "FRAGMENT_M2", "GRID_SIZE", "SNAP_M", "absorb_fragments", "assign", "building_cells",
    "keep_buildings_whole", "merge", "polygonal", "union", "reshape", "shared_border", "snap_vertices", "split",
]
