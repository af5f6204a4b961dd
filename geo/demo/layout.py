"""One walled community laid out in local metres: slab rows, roads, gates, square,
parking lots and street-edge facilities (:func:`layout_community`)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import shapely
from shapely import LineString, Point, Polygon, box

from geo.demo.model import HIGHRISE, STYLES, Building, Community, CommunitySpec, Place, Road, round_to, seeded_rng


def _slab(x0: float, ys: float, units: int, uw: float, depth: float, steps: Sequence[float],
          bump_w: float, bump_d: float) -> tuple[Polygon, np.ndarray]:
    """A slab footprint: ``units`` rectangles side by side (each shifted north by its step)
    with a stair/lift core bump on the north side of each; returns it and the door points."""
    parts = []
    doors = []
    for i in range(units):
        xa, xb = round_to(x0 + i * uw), round_to(x0 + (i + 1) * uw)
        y1 = round_to(ys + steps[i])
        y2 = round_to(y1 + depth)
        parts.append(box(xa, y1, xb, y2))
        cx = round_to((xa + xb) / 2)
        parts.append(box(round_to(cx - bump_w / 2), y2, round_to(cx + bump_w / 2), round_to(y2 + bump_d)))
        doors.append((cx, round_to(y2 + bump_d)))
    poly = shapely.union_all(parts)
    poly = shapely.set_precision(poly, 0.01)
    poly = shapely.simplify(poly, 0.0)  # drop collinear vertices
    assert isinstance(poly, Polygon) and poly.is_valid and not poly.interiors
    return shapely.orient_polygons(poly), np.array(doors, dtype=float)


def _fill_interval(widths: list[float], start: int, lo: float, hi: float, gmin: float) -> int:
    """How many buildings from ``start`` fit in [lo, hi] with gaps of at least ``gmin``."""
    used = 0.0
    n = 0
    for w in widths[start:]:
        need = w + (gmin if n else 0.0)
        if used + need > hi - lo + 1e-9:
            break
        used += need
        n += 1
    return n


def _spread(widths: list[float], lo: float, hi: float, gmin: float, gmax: float, align: str) -> list[float]:
    """West x of each building: evenly spaced, gaps in [gmin, gmax], aligned in [lo, hi]."""
    n = len(widths)
    if n == 0:
        return []
    free = (hi - lo) - sum(widths)
    gap = min(gmax, free / (n - 1)) if n > 1 else 0.0
    gap = max(gap, gmin) if n > 1 else 0.0
    total = sum(widths) + gap * (n - 1)
    if align == "west":
        x = lo
    elif align == "east":
        x = hi - total
    else:
        x = lo + (hi - lo - total) / 2
    xs = []
    for w in widths:
        xs.append(round_to(x))
        x += w + gap
    return xs


def layout_community(spec: CommunitySpec, *, seed: int | Sequence[int]) -> Community:
    """Lay out one walled community in local metres (origin at its south-west corner).

    Parameters
    ----------
    spec : CommunitySpec
        Width, building list (units per building), style, facilities, gates.
    seed : int or sequence of int
        Seed of the layout's own random generator; the same seed gives the same layout.

    Returns
    -------
    Community
        Wall polygon, buildings (numbered in reading order: rows north to south, west to
        east), roads, key places; no grids or cameras yet.

    Notes
    -----
    The height of the community follows from its content: rows are added south to north
    until every building of ``spec.units`` is placed, so the counts are exact.
    """
    st = STYLES[spec.style]
    rng = seeded_rng(seed)
    W = float(spec.width)
    ring_w = float(rng.choice([6.0, 7.0]))
    spine_w = float(rng.choice([8.0, 9.0]))
    door_w = float(rng.choice([6.0, 6.5, 7.0]))
    o = ring_w / 2 + 4.0  # ring road centre line from the wall
    F = st.frontage
    end_clear = 8.0
    spine_clear = spine_w / 2 + 8.0
    xL, xR = o + ring_w / 2 + end_clear, W - o - ring_w / 2 - end_clear
    sx = round_to(W * rng.uniform(0.42, 0.58), 0.5)
    intervals = [(xL, sx - spine_clear), (sx + spine_clear, xR)]
    if intervals[0][1] - intervals[0][0] < 40 or intervals[1][1] - intervals[1][0] < 40:
        raise ValueError(f"{spec.name}: width {W} m is too small for rows of buildings")

    n_b = len(spec.units)
    uws = [round_to(rng.uniform(*st.unit_width), 0.1) for _ in range(n_b)]
    widths = [u * w for u, w in zip(spec.units, uws)]
    if max(widths) > min(i[1] - i[0] for i in intervals):
        raise ValueError(f"{spec.name}: a {max(widths):.0f} m building does not fit a {W} m wide row")

    # Pass 1: which building goes into which row and where along it (x only). Count the rows
    # a greedy fill needs, then share the buildings evenly between them; every row reaches
    # from the west end to the east end (gaps widen up to the maximum, slack stays by the
    # spine), so the ends of consecutive rows are neighbours.
    gmin, gmax = st.gap

    def split(chunk: list[float]) -> int | None:
        """Buildings of ``chunk`` for the west side so that both sides fit, fill balanced."""
        best, best_k = math.inf, None
        for k in range(len(chunk) + 1):
            w_side, e_side = chunk[:k], chunk[k:]
            if _fill_interval(w_side, 0, *intervals[0], gmin) < len(w_side):
                continue
            if _fill_interval(e_side, 0, *intervals[1], gmin) < len(e_side):
                continue
            fw = sum(w_side) / (intervals[0][1] - intervals[0][0])
            fe = sum(e_side) / (intervals[1][1] - intervals[1][0])
            if abs(fw - fe) < best:
                best, best_k = abs(fw - fe), k
        return best_k

    n_rows, i = 0, 0
    while i < n_b:
        for lo, hi in intervals:
            i += _fill_interval(widths, i, lo, hi, gmin)
        n_rows += 1
    rows: list[list[tuple[int, float]]] = []  # (building index, west x)
    i = 0
    while i < n_b:
        left = max(n_rows - len(rows), 1)
        take = min(n_b - i, math.ceil((n_b - i) / left))
        while split(widths[i:i + take]) is None:
            take -= 1
        k = split(widths[i:i + take])
        assert k is not None and take > 0
        row: list[tuple[int, float]] = []
        for (lo, hi), (a, b), align in zip(intervals, ((i, i + k), (i + k, i + take)), ("west", "east")):
            xs = _spread(widths[a:b], lo, hi, gmin, gmax, align)
            row.extend((a + m, x) for m, x in enumerate(xs))
        rows.append(row)
        i += take
    if len(rows) < 2:
        raise ValueError(f"{spec.name}: {n_b} buildings make a single row; make the community narrower")

    # Pass 2: floors per row, depths, and the y of every row (south to north).
    fl_vals = np.array([f for f, _ in st.floor_weights])
    fl_p = np.array([p for _, p in st.floor_weights])
    fl_p = fl_p / fl_p.sum()
    sq_gap = (len(rows) - 2) // 2  # the square sits north of this row
    sq_depth_min = 30.0 if st is HIGHRISE else 24.0
    buildings: list[Building] = []
    row_tops: list[float] = []
    y = F + ring_w / 2 + 10.0
    bw_bump = round_to(rng.uniform(4.6, 5.4), 0.1)
    for r, row in enumerate(rows):
        base = int(rng.choice(fl_vals, p=fl_p))
        top = y
        heights = []
        for bi, x0 in row:
            floors = int(np.clip(base + rng.choice([-1, 0, 0, 1]), *st.floor_range))
            depth = round_to(rng.uniform(*st.depth), 0.1)
            bump = round_to(rng.uniform(*st.bump), 0.1)
            u = spec.units[bi]
            steps = [0.6 * (k % 2) for k in range(u)] if rng.random() < 0.35 else [0.0] * u
            fp, doors = _slab(x0, round_to(y, 0.1), u, uws[bi], depth, steps, bw_bump, bump)
            h = round(floors * 3.0 + rng.uniform(0.8, 1.5), 1)
            heights.append(h)
            buildings.append(Building(number=0, row=r, footprint=fp, units=u, floors=floors, height_m=h,
                                      doors=doors))
            top = max(top, float(doors[:, 1].max()))
        row_tops.append(round_to(top, 0.1))
        if r < len(rows) - 1:
            gap = max(st.spacing[0] * max(heights), rng.uniform(*st.spacing) * max(heights), st.min_row_gap)
            if r == sq_gap:
                # leave room between the access road and the next row for the central square
                gap = max(gap, 3.5 + door_w + 3.0 + sq_depth_min + 6.0)
            y = round_to(top + gap, 0.5)
    H = round_to(row_tops[-1] + 3.5 + ring_w / 2 + o, 0.5)

    # Number buildings in reading order: rows north to south, west to east.
    order = sorted(range(len(buildings)), key=lambda k: (-buildings[k].row, buildings[k].footprint.bounds[0]))
    buildings = [buildings[k] for k in order]
    for n, b in enumerate(buildings, start=1):
        b.number = n
    footprints = np.array([b.footprint for b in buildings], dtype=object)

    # The wall: a cut corner on the south (frontage) side, and one on the north if it fits.
    cs = round_to(rng.uniform(14.0, min(30.0, F - o - 2.0)), 0.5)
    south_corner = "SE" if rng.random() < 0.5 else "SW"
    top_row = [b for b in buildings if b.row == len(rows) - 1]
    west_room = min(b.footprint.bounds[0] for b in top_row) - xL
    east_room = xR - max(b.footprint.bounds[2] for b in top_row)
    north_corner = "NW" if west_room > east_room else "NE"

    def wall(cn: float) -> Polygon:
        pts: list[tuple[float, float]] = []
        for corner, (cx, cy) in (("SW", (0.0, 0.0)), ("SE", (W, 0.0)), ("NE", (W, H)), ("NW", (0.0, H))):
            c = cs if corner == south_corner else cn if corner == north_corner else 0.0
            if c <= 0:
                pts.append((cx, cy))
                continue
            sxn = 1.0 if cx == 0 else -1.0
            syn = 1.0 if cy == 0 else -1.0
            a, b2 = (cx, cy + syn * c), (cx + sxn * c, cy)
            # keep the ring counter-clockwise: SW->SE->NE->NW
            pts.extend([a, b2] if corner in ("SW", "NE") else [b2, a])
        return Polygon(pts)

    def ring_of(poly: Polygon) -> Polygon:
        region = poly.intersection(box(-1, F - o, W + 1, H + 1))
        return region.buffer(-o, join_style="mitre")

    fp_tree = shapely.STRtree(footprints)
    cn = round_to(rng.uniform(20.0, 45.0), 0.5)
    while cn > 0:
        poly = wall(cn)
        ring_poly = ring_of(poly)
        near = fp_tree.query(ring_poly.exterior, predicate="dwithin", distance=ring_w / 2 + 3.0)
        if len(near) == 0:
            break
        cn -= 2.0
    cn = max(cn, 0.0)
    if cn < 6.0:
        cn = 0.0
    polygon = shapely.orient_polygons(wall(cn))
    ring_poly = ring_of(polygon)
    name = spec.name

    roads: list[Road] = [Road(f"{name}环路", "internal", ring_w, LineString(ring_poly.exterior.coords))]
    roads.append(Road(f"{name}主路", "internal", spine_w, LineString([(sx, 0.0), (sx, H - o)])))
    door_ys = [round_to(t + 3.5 + door_w / 2, 0.1) for t in row_tops[:-1]]
    for r, yr in enumerate(door_ys):
        seg = ring_poly.intersection(LineString([(-10.0, yr), (W + 10.0, yr)]))
        roads.append(Road(f"{name}宅间路{len(rows) - 1 - r}", "internal", door_w, LineString(
            [(round_to(seg.bounds[0]), yr), (round_to(seg.bounds[2]), yr)])))

    places: list[Place] = []
    # Gates: the main one on the south street; side gates at access roads or the spine's north end.
    n_gates = spec.gates if spec.gates is not None else int(rng.choice([1, 2, 3], p=[0.25, 0.45, 0.3]))
    places.append(Place("gate", f"{name}南门", Point(sx, 1.0)))
    side_opts: list[tuple[str, LineString, Point]] = []
    mid = len(door_ys) // 2
    if door_ys:
        yr = door_ys[mid]
        side_opts.append(("东门", LineString([(W - o, yr), (W, yr)]), Point(W - 1.0, yr)))
        side_opts.append(("西门", LineString([(o, yr), (0.0, yr)]), Point(1.0, yr)))
    side_opts.append(("北门", LineString([(sx, H - o), (sx, H)]), Point(sx, H - 1.0)))
    picks = rng.permutation(len(side_opts))[: max(0, min(n_gates, 3) - 1)]
    for k in sorted(picks):
        gname, line, pt = side_opts[k]
        roads.append(Road(f"{name}{gname}路", "internal", door_w, line))
        places.append(Place("gate", f"{name}{gname}", pt))

    # Central square: in the widened gap, beside the spine.
    sq_side = -1.0 if rng.random() < 0.5 else 1.0
    yb = door_ys[sq_gap] + door_w / 2 + 3.0
    next_south = min(b.footprint.bounds[1] for b in buildings if b.row == sq_gap + 1)
    yt = min(next_south - 6.0, yb + 45.0)
    sw_ = round_to(rng.uniform(*st.square_width), 0.5)
    xa = sx + sq_side * (spine_w / 2 + 3.0)
    xb = xa + sq_side * sw_
    square = box(min(xa, xb), round_to(yb), max(xa, xb), round_to(yt))
    places.append(Place("square", f"{name}中心广场", square))

    # Parking strips north of each access road (not under the square).
    lot_n = 0
    blocked = square.buffer(3.0)
    for r, yr in enumerate(door_ys):
        y1, y2 = yr + door_w / 2 + 0.5, yr + door_w / 2 + 5.8
        for lo, hi in ((o + ring_w / 2 + 3.0, sx - spine_w / 2 - 3.0), (sx + spine_w / 2 + 3.0, W - o - ring_w / 2 - 3.0)):
            x = lo + rng.uniform(0.0, 10.0)
            while x < hi - 20.0:
                ln = min(rng.uniform(*st.lot_length), hi - x)
                lot = box(round_to(x), round_to(y1), round_to(x + ln), round_to(y2))
                if rng.random() < 0.8 and not lot.intersects(blocked) and polygon.contains(lot):
                    lot_n += 1
                    places.append(Place("parking", f"{name}{lot_n}号停车场", lot))
                x += ln + rng.uniform(5.0, 14.0)

    # Street-edge facilities in the frontage zone.
    dims = {"market": (52.0, 24.0), "kindergarten": (46.0, 32.0), "clinic": (26.0, 15.0), "school": (76.0, 34.0)}
    labels = {"market": "农贸市场", "kindergarten": "幼儿园", "clinic": "社区卫生服务站", "school": "小学"}
    inner = polygon.buffer(-3.0, join_style="mitre")
    spine_zone = LineString([(sx, 0.0), (sx, F)]).buffer(spine_w / 2 + 4.0, cap_style="flat")
    taken: list[Polygon] = [spine_zone]
    ytop = F - ring_w / 2 - 3.0
    for fac in spec.facilities:
        fw, fd = dims[fac]
        fw = round_to(fw * rng.uniform(0.9, 1.1), 0.5)
        fd = min(fd, ytop - 3.0)
        y0 = 3.0 if fac in ("market", "clinic") else round_to(max(3.0, ytop - fd - rng.uniform(0, 3)), 0.5)
        placed = None
        starts = list(np.arange(6.0, W - fw - 6.0, 2.0))
        if rng.random() < 0.5:
            starts.reverse()
        for x0 in starts:
            cand = box(round_to(x0), y0, round_to(x0 + fw), round_to(y0 + fd))
            if inner.contains(cand) and not any(cand.distance(t) < 6.0 for t in taken):
                placed = cand
                break
        if placed is not None:
            taken.append(placed)
            places.append(Place(fac, f"{name}{labels[fac]}", placed))

    c = Community(spec=spec, style=st, width=W, height=H, polygon=polygon, buildings=buildings,
                  roads=roads, places=places, sample_m=st.sample_m)
    _check_layout(c)
    return c


def _road_areas(c: Community) -> np.ndarray:
    return np.array([r.geom.buffer(r.width_m / 2, cap_style="flat") for r in c.roads], dtype=object)


def _check_layout(c: Community) -> None:
    """Buildings inside the wall, apart from each other, the roads and the key places."""
    fps = np.array([b.footprint for b in c.buildings], dtype=object)
    if not shapely.contains(c.polygon, fps).all():
        raise AssertionError(f"{c.spec.name}: a building crosses the wall")
    tree = shapely.STRtree(fps)
    pairs = tree.query(fps, predicate="dwithin", distance=c.style.gap[0] - 0.5)
    if (pairs[0] != pairs[1]).any():
        raise AssertionError(f"{c.spec.name}: buildings too close")
    for area in _road_areas(c):
        if len(tree.query(area, predicate="dwithin", distance=2.0)):
            raise AssertionError(f"{c.spec.name}: a building touches a road")
    for p in c.places:
        if p.geom.geom_type == "Polygon" and len(tree.query(p.geom, predicate="dwithin", distance=2.0)):
            raise AssertionError(f"{c.spec.name}: a building touches {p.name}")


