"""Deterministic demo data: the Gaoshan Town resettlement communities, or a Datong-sized city.

Everything here is synthetic. The *numbers* of the town scale follow the source article
(50 grids of 200–300 households and 400–500 people, 125 buildings, 390 units, 32 cadres,
700+ cameras); the place is an illustrative site in Yungang District, Datong (Shanxi),
and every geometry, name, phone number and incident is made up.

How the data are built
----------------------
All geometry is computed in metres in EPSG:4547 (CGCS2000 / 3-degree Gauss–Krüger CM 114E)
and converted to EPSG:4326 (RFC 7946 GeoJSON, 8 decimals) only when written.

A *community* (a walled compound, 小区) is laid out by :func:`layout_community` in local
metres (x east, y north, origin at its south-west corner):

* a street-edge frontage along the south wall holds the main gate and the market,
  kindergarten, clinic (and school) buildings;
* rows of south-facing slab buildings (long axis east–west, 2–4 units of ~15 m, 12–13 m
  deep, a stair/lift core bump at each unit door on the north side, sometimes a 0.6 m
  step between units) fill the rest, west to east and south to north; the clear distance
  between rows is 1.2–1.45 × the height of the taller southern building (winter sun);
* a ring road runs inside the wall, a main road (spine) runs north from the south gate,
  and a 6–7 m access road passes 3.5 m north of every row's doors, with parking strips on
  its north side; one row gap is widened for the central square; 0–2 side gates join the
  access roads or the spine to the street;
* a cut corner (or two) keeps the wall from being a plain rectangle.

Two styles exist: ``highrise`` (11–18 floors, the Gaoshan resettlement blocks) and
``walkup`` (5–7 floors, ~13 m units, rows 23–28 m apart: the older estates that make up
most of the city scale).

:func:`partition_community` then divides the community into grids: the Voronoi cells of
points sampled every ``sample_m`` metres along every building outline are merged per
building (each building lies wholly in its own region because buildings are further
apart than half the sampling step) and clipped to the wall; buildings taken in snake
order along the rows are grouped by dynamic programming into contiguous runs whose
household capacity fits the band; each grid is the union of its buildings' regions,
simplified as a coverage and snapped to a 1 cm grid, and the community polygon is
rebuilt as the union of its grids, so the grids tile it exactly. Households and
population are then drawn per grid inside the band and spread over its units.

:func:`place_cameras` puts one camera above every unit door, gate cameras, a fisheye
over each parking lot, a PTZ dome over the square, ceiling domes in the market and
clinic, and pole cameras spaced along the internal roads.

:func:`generate` assembles communities on a lattice separated by town streets, then
draws staff and a year of incidents (with hotspots and seasonality) and writes the files.

Azimuths are grid bearings in EPSG:4547 (0 = grid north, clockwise); they differ from
true north by the meridian convergence (about 0.6° at Gaoshan), which is ignored.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import shapely
from pyproj import Transformer
from shapely import LineString, Point, Polygon, box

from geo.numbering import reading_order
from geo.vocabulary import HOUSEHOLDS_BAND, INCIDENT_SOURCES, INCIDENT_STATUSES, POPULATION_BAND

__all__ = [
    "CommunitySpec",
    "Community",
    "generate",
    "layout_community",
    "make_community",
    "partition_community",
    "place_cameras",
    "HOUSEHOLD_BAND",
    "POPULATION_BAND",
]

Progress = Callable[[str, int, int], None]

METRIC_CRS = "EPSG:4547"
DISTRICT_CODE = "140214"
TOWN_CODE = "140214101"
TOWN_LONLAT = (113.10, 40.05)
CITY_LONLAT = (113.30, 40.08)
PLAN = {"name": "2026 年网格方案", "published_at": "2026-01-01T00:00:00+08:00"}
TZ = "+08:00"
PERIOD_START = dt.datetime(2025, 12, 1)
PERIOD_END = dt.datetime(2026, 12, 1)  # exclusive: the data end at 2026-11-30T23:59:59+08:00

HOUSEHOLD_BAND = HOUSEHOLDS_BAND
# What is drawn inside the bands (a little margin on both sides).
_HH_DRAW = (203, 297)
_POP_DRAW = (405, 495)
# A grid's capacity (2 households per floor per unit) must allow a household count in the
# band at a believable occupancy (resettled families often got more than one flat, so
# 70-96 % of the flats are lived in): 203 at <= 96 %, 297 at >= 70 %.
_OCCUPANCY = (0.70, 0.96)
_CAP_BOUNDS = (math.ceil(_HH_DRAW[0] / _OCCUPANCY[1]), math.floor(_HH_DRAW[1] / _OCCUPANCY[0]))

INCIDENT_STATES = INCIDENT_STATUSES  # generated incidents walk the workflow in this order


# --------------------------------------------------------------------------------------
# Styles and specs
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Style:
    """Building and layout parameters of one kind of compound."""

    name: str
    floor_weights: tuple[tuple[int, float], ...]  # a row's base number of floors
    floor_range: tuple[int, int]  # after the per-building jitter of -1/0/+1
    depth: tuple[float, float]  # main body, north–south
    unit_width: tuple[float, float]
    gap: tuple[float, float]  # clear east–west gap between slabs of a row
    spacing: tuple[float, float]  # clear row gap / height of the southern row
    min_row_gap: float
    bump: tuple[float, float]  # depth of the stair/lift core on the north side
    sample_m: float  # Voronoi sampling step along building outlines
    door_camera_share: float
    fisheye_share: float
    pole_spacing: tuple[float, float]
    lot_length: tuple[float, float]
    square_width: tuple[float, float]
    frontage: float  # depth of the street-edge frontage zone along the south wall


HIGHRISE = Style(
    name="highrise",
    floor_weights=((11, 0.03), (12, 0.02), (13, 0.03), (14, 0.05), (15, 0.07), (16, 0.10), (17, 0.25), (18, 0.45)),
    floor_range=(11, 18),
    depth=(12.0, 12.8),
    unit_width=(14.6, 15.4),
    gap=(13.0, 22.0),
    spacing=(1.2, 1.45),
    min_row_gap=30.0,
    bump=(1.2, 1.6),
    sample_m=1.0,
    door_camera_share=1.0,
    fisheye_share=1.0,
    pole_spacing=(55.0, 75.0),
    lot_length=(45.0, 80.0),
    square_width=(40.0, 60.0),
    frontage=46.0,
)

WALKUP = Style(
    name="walkup",
    floor_weights=((5, 0.3), (6, 0.7)),
    floor_range=(5, 7),
    depth=(10.8, 12.0),
    unit_width=(12.5, 14.0),
    gap=(8.0, 12.0),
    spacing=(1.2, 1.45),
    min_row_gap=22.5,
    bump=(1.0, 1.4),
    sample_m=2.5,
    door_camera_share=0.4,
    fisheye_share=0.25,
    pole_spacing=(110.0, 140.0),
    lot_length=(60.0, 120.0),
    square_width=(30.0, 45.0),
    frontage=40.0,
)

STYLES = {"highrise": HIGHRISE, "walkup": WALKUP}


@dataclass(frozen=True)
class CommunitySpec:
    """What a community must contain; :func:`layout_community` decides where.

    ``units`` lists the number of units of every building (its length is the number of
    buildings). ``facilities`` are placed along the south (street) edge in this order
    when they fit: ``market``, ``kindergarten``, ``clinic``, ``school``. ``gates`` is
    the number of gates (1–3) or ``None`` to draw it.
    """

    code: str
    name: str
    name_en: str
    pinyin: str
    aliases: tuple[str, ...]
    width: float
    units: tuple[int, ...]
    style: str = "highrise"
    facilities: tuple[str, ...] = ("market", "kindergarten", "clinic")
    gates: int | None = None


# --------------------------------------------------------------------------------------
# Community model
# --------------------------------------------------------------------------------------


@dataclass
class Building:
    number: int
    row: int
    footprint: Polygon
    units: int
    floors: int
    height_m: float
    doors: np.ndarray  # (units, 2): the middle of each unit's door, on the north wall
    households: np.ndarray | None = None  # per unit
    population: np.ndarray | None = None
    grid: int = -1  # index into Community.grids

    @property
    def name(self) -> str:
        return f"{self.number}号楼"


@dataclass
class Road:
    name: str
    kind: str  # street | internal
    width_m: float
    geom: LineString


@dataclass
class Place:
    kind: str  # gate | square | parking | kindergarten | market | clinic | school
    name: str
    geom: Any  # Point or Polygon


@dataclass
class Grid:
    number: int
    polygon: Polygon
    buildings: list[int]
    households: int = 0
    population: int = 0


@dataclass
class Camera:
    name: str
    kind: str
    mount: str
    x: float
    y: float
    height_m: float
    azimuth_deg: float
    hfov_deg: float
    range_m: float
    resolution_px: int
    building: int | None = None  # index into Community.buildings
    status: str = "online"


@dataclass
class Community:
    """A laid-out community, in local metres until :meth:`translate` moves it."""

    spec: CommunitySpec
    style: Style
    width: float
    height: float
    polygon: Polygon
    buildings: list[Building]
    roads: list[Road]
    places: list[Place]
    grids: list[Grid] = field(default_factory=list)
    cameras: list[Camera] = field(default_factory=list)
    sample_m: float = 1.0

    @property
    def capacity(self) -> int:
        """Households at full occupancy: 2 per floor per unit."""
        return int(sum(2 * b.floors * b.units for b in self.buildings))

    @property
    def households(self) -> int:
        return int(sum(int(b.households.sum()) for b in self.buildings if b.households is not None))

    @property
    def population(self) -> int:
        return int(sum(int(b.population.sum()) for b in self.buildings if b.population is not None))

    def translate(self, dx: float, dy: float) -> None:
        """Move every geometry by (dx, dy) metres."""
        off = np.array([dx, dy])

        def mv(g: Any) -> Any:
            return shapely.transform(g, lambda c: c + off)

        self.polygon = mv(self.polygon)
        for b in self.buildings:
            b.footprint = mv(b.footprint)
            b.doors = b.doors + off
        for r in self.roads:
            r.geom = mv(r.geom)
        for p in self.places:
            p.geom = mv(p.geom)
        for g in self.grids:
            g.polygon = mv(g.polygon)
        for c in self.cameras:
            c.x += dx
            c.y += dy


def _rng(seed: int | Sequence[int]) -> np.random.Generator:
    return np.random.default_rng(list(seed) if isinstance(seed, Sequence) else seed)


def _r(v: float, step: float = 0.01) -> float:
    """Round to a multiple of ``step`` (and to a clean float)."""
    return round(round(v / step) * step, 6)


# --------------------------------------------------------------------------------------
# Layout
# --------------------------------------------------------------------------------------


def _slab(x0: float, ys: float, units: int, uw: float, depth: float, steps: Sequence[float],
          bump_w: float, bump_d: float) -> tuple[Polygon, np.ndarray]:
    """A slab footprint: ``units`` rectangles side by side (each shifted north by its step)
    with a stair/lift core bump on the north side of each; returns it and the door points."""
    parts = []
    doors = []
    for i in range(units):
        xa, xb = _r(x0 + i * uw), _r(x0 + (i + 1) * uw)
        y1 = _r(ys + steps[i])
        y2 = _r(y1 + depth)
        parts.append(box(xa, y1, xb, y2))
        cx = _r((xa + xb) / 2)
        parts.append(box(_r(cx - bump_w / 2), y2, _r(cx + bump_w / 2), _r(y2 + bump_d)))
        doors.append((cx, _r(y2 + bump_d)))
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
        xs.append(_r(x))
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
    rng = _rng(seed)
    W = float(spec.width)
    ring_w = float(rng.choice([6.0, 7.0]))
    spine_w = float(rng.choice([8.0, 9.0]))
    door_w = float(rng.choice([6.0, 6.5, 7.0]))
    o = ring_w / 2 + 4.0  # ring road centre line from the wall
    F = st.frontage
    end_clear = 8.0
    spine_clear = spine_w / 2 + 8.0
    xL, xR = o + ring_w / 2 + end_clear, W - o - ring_w / 2 - end_clear
    sx = _r(W * rng.uniform(0.42, 0.58), 0.5)
    intervals = [(xL, sx - spine_clear), (sx + spine_clear, xR)]
    if intervals[0][1] - intervals[0][0] < 40 or intervals[1][1] - intervals[1][0] < 40:
        raise ValueError(f"{spec.name}: width {W} m is too small for rows of buildings")

    n_b = len(spec.units)
    uws = [_r(rng.uniform(*st.unit_width), 0.1) for _ in range(n_b)]
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
    bw_bump = _r(rng.uniform(4.6, 5.4), 0.1)
    for r, row in enumerate(rows):
        base = int(rng.choice(fl_vals, p=fl_p))
        top = y
        heights = []
        for bi, x0 in row:
            floors = int(np.clip(base + rng.choice([-1, 0, 0, 1]), *st.floor_range))
            depth = _r(rng.uniform(*st.depth), 0.1)
            bump = _r(rng.uniform(*st.bump), 0.1)
            u = spec.units[bi]
            steps = [0.6 * (k % 2) for k in range(u)] if rng.random() < 0.35 else [0.0] * u
            fp, doors = _slab(x0, _r(y, 0.1), u, uws[bi], depth, steps, bw_bump, bump)
            h = round(floors * 3.0 + rng.uniform(0.8, 1.5), 1)
            heights.append(h)
            buildings.append(Building(number=0, row=r, footprint=fp, units=u, floors=floors, height_m=h,
                                      doors=doors))
            top = max(top, float(doors[:, 1].max()))
        row_tops.append(_r(top, 0.1))
        if r < len(rows) - 1:
            gap = max(st.spacing[0] * max(heights), rng.uniform(*st.spacing) * max(heights), st.min_row_gap)
            if r == sq_gap:
                # leave room between the access road and the next row for the central square
                gap = max(gap, 3.5 + door_w + 3.0 + sq_depth_min + 6.0)
            y = _r(top + gap, 0.5)
    H = _r(row_tops[-1] + 3.5 + ring_w / 2 + o, 0.5)

    # Number buildings in reading order: rows north to south, west to east.
    order = sorted(range(len(buildings)), key=lambda k: (-buildings[k].row, buildings[k].footprint.bounds[0]))
    buildings = [buildings[k] for k in order]
    for n, b in enumerate(buildings, start=1):
        b.number = n
    footprints = np.array([b.footprint for b in buildings], dtype=object)

    # The wall: a cut corner on the south (frontage) side, and one on the north if it fits.
    cs = _r(rng.uniform(14.0, min(30.0, F - o - 2.0)), 0.5)
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
    cn = _r(rng.uniform(20.0, 45.0), 0.5)
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
    door_ys = [_r(t + 3.5 + door_w / 2, 0.1) for t in row_tops[:-1]]
    for r, yr in enumerate(door_ys):
        seg = ring_poly.intersection(LineString([(-10.0, yr), (W + 10.0, yr)]))
        roads.append(Road(f"{name}宅间路{len(rows) - 1 - r}", "internal", door_w, LineString(
            [(_r(seg.bounds[0]), yr), (_r(seg.bounds[2]), yr)])))

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
    sw_ = _r(rng.uniform(*st.square_width), 0.5)
    xa = sx + sq_side * (spine_w / 2 + 3.0)
    xb = xa + sq_side * sw_
    square = box(min(xa, xb), _r(yb), max(xa, xb), _r(yt))
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
                lot = box(_r(x), _r(y1), _r(x + ln), _r(y2))
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
        fw = _r(fw * rng.uniform(0.9, 1.1), 0.5)
        fd = min(fd, ytop - 3.0)
        y0 = 3.0 if fac in ("market", "clinic") else _r(max(3.0, ytop - fd - rng.uniform(0, 3)), 0.5)
        placed = None
        starts = list(np.arange(6.0, W - fw - 6.0, 2.0))
        if rng.random() < 0.5:
            starts.reverse()
        for x0 in starts:
            cand = box(_r(x0), y0, _r(x0 + fw), _r(y0 + fd))
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


# --------------------------------------------------------------------------------------
# Grids
# --------------------------------------------------------------------------------------


def _building_regions(c: Community) -> np.ndarray:
    """The part of the community nearer to each building than to any other (clipped)."""
    fps = np.array([b.footprint for b in c.buildings], dtype=object)
    seg = shapely.segmentize(fps, c.sample_m)
    coords, owner = shapely.get_coordinates(seg, return_index=True)
    keep = np.r_[owner[1:] == owner[:-1], False]  # drop each ring's closing point
    pts, owner = coords[keep], owner[keep]
    # A millimetre of (fixed) jitter: points sampled on parallel walls are cocircular, which
    # makes degenerate, self-intersecting Voronoi cells.
    pts = pts + np.random.default_rng(0).normal(0.0, 0.001, pts.shape)
    env = box(*c.polygon.buffer(100.0).bounds)
    cells = np.asarray(shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=env,
                                                                   ordered=True)))
    if len(cells) != len(pts):
        raise AssertionError("voronoi cells do not match their sites")
    bad = ~shapely.is_valid(cells)
    if bad.any():
        cells[bad] = shapely.make_valid(cells[bad])
    cuts = np.flatnonzero(np.diff(owner)) + 1
    regions = np.array([_merge_cells(part) for part in np.split(cells, cuts)], dtype=object)
    regions = shapely.intersection(regions, c.polygon)
    return shapely.set_precision(regions, 0.001)


def _merge_cells(cells: np.ndarray) -> Any:
    try:  # fast path: Voronoi cells share their edges exactly
        return shapely.coverage_union_all(cells)
    except shapely.errors.GEOSException:  # cells cut by the envelope may not be noded alike
        return shapely.union_all(cells)


def _snake(c: Community) -> list[int]:
    """Buildings row by row, north to south, each row starting at the end nearer to where
    the previous one ended (west to east in the first row)."""
    rows: dict[int, list[int]] = {}
    for k, b in enumerate(c.buildings):
        rows.setdefault(b.row, []).append(k)
    out: list[int] = []
    for r in sorted(rows, reverse=True):  # north to south
        ks = sorted(rows[r], key=lambda k: c.buildings[k].footprint.bounds[0])
        if out:  # start the row at the end nearer to where the previous row ended
            x = c.buildings[out[-1]].footprint.centroid.x
            if abs(c.buildings[ks[-1]].footprint.centroid.x - x) < abs(c.buildings[ks[0]].footprint.centroid.x - x):
                ks = ks[::-1]
        out.extend(ks)
    return out


def _dp_groups(caps: np.ndarray, adj: np.ndarray, k: int, lo: int, hi: int) -> list[tuple[int, int]] | None:
    """Cut ``caps`` (in order) into ``k`` contiguous runs with sums in [lo, hi], runs not
    crossing a non-adjacent pair (``adj[t]`` is False between t and t+1), minimising the
    squared deviation of the sums from their mean. Returns [start, stop) pairs or None."""
    n = len(caps)
    if k < 1 or k > n:
        return None
    pre = np.concatenate([[0], np.cumsum(caps)])
    target = pre[-1] / k
    earliest = np.zeros(n + 1, dtype=int)
    last_break = 0
    for j in range(1, n + 1):
        if j >= 2 and not adj[j - 2]:
            last_break = j - 1
        earliest[j] = last_break
    INF = math.inf
    dp = np.full((k + 1, n + 1), INF)
    arg = np.full((k + 1, n + 1), -1, dtype=int)
    dp[0, 0] = 0.0
    for g in range(1, k + 1):
        prev = dp[g - 1]
        for j in range(g, n + 1):
            best, bi = INF, -1
            for i in range(j - 1, earliest[j] - 1, -1):
                s = pre[j] - pre[i]
                if s > hi:
                    break
                if s < lo or prev[i] == INF:
                    continue
                v = prev[i] + (s - target) ** 2
                if v < best:
                    best, bi = v, i
            dp[g, j], arg[g, j] = best, bi
    if dp[k, n] == INF:
        return None
    out = []
    j = n
    for g in range(k, 0, -1):
        i = int(arg[g, j])
        out.append((i, j))
        j = i
    return out[::-1]


def _partition_inputs(c: Community, regions: np.ndarray | None = None
                      ) -> tuple[np.ndarray, list[int], np.ndarray, np.ndarray]:
    """Building regions, snake order, capacities in that order, and whether each
    consecutive pair of the order has touching regions."""
    if regions is None:
        regions = _building_regions(c)
    order = _snake(c)
    caps = np.array([2 * c.buildings[k].floors * c.buildings[k].units for k in order])
    bnd = shapely.boundary(regions)
    a, b = np.array(order[:-1], dtype=int), np.array(order[1:], dtype=int)
    adj = shapely.length(shapely.intersection(bnd[a], bnd[b])) > 1.0 if len(a) else np.array([], dtype=bool)
    return regions, order, caps, adj


def _grid_count_range(caps: np.ndarray) -> range:
    total = int(caps.sum())
    return range(max(1, math.ceil(total / _CAP_BOUNDS[1])), math.floor(total / _CAP_BOUNDS[0]) + 1)


def feasible_grid_counts(c: Community, regions: np.ndarray | None = None) -> list[int]:
    """Every number of grids ``c`` can be divided into (see :func:`partition_community`)."""
    _, _, caps, adj = _partition_inputs(c, regions)
    return [k for k in _grid_count_range(caps) if _dp_groups(caps, adj, k, *_CAP_BOUNDS) is not None]


def partition_community(c: Community, *, seed: int | Sequence[int], n_grids: int | None = None,
                        grid_target: float = 250.0, regions: np.ndarray | None = None) -> None:
    """Divide ``c`` into grids and fill in households and population per unit.

    Parameters
    ----------
    c : Community
        A community from :func:`layout_community` (local coordinates).
    seed : int or sequence of int
        Seed for the household and population draws.
    n_grids : int, optional
        Number of grids; by default the feasible count nearest to capacity / ``grid_target``.
    grid_target : float
        Mean household capacity per grid used when ``n_grids`` is None.
    regions : array of Polygon, optional
        The buildings' Voronoi regions, when already computed.

    Raises
    ------
    ValueError
        When no division into ``n_grids`` grids fits the household band.

    Notes
    -----
    Each grid is a run of whole buildings in snake order (north row west to east, the next
    row east to west, ...), never crossing between buildings whose regions do not touch,
    so its polygon (the union of the run's regions) is one piece. The runs are chosen by
    dynamic programming so that each grid's capacity (2 × floors per unit) lies in
    [212, 424]; the grid's households are then drawn in [203, 297] at 70–96 % occupancy
    and its population in [405, 495], and both are spread over its units (a unit never
    holds more than 2 households per floor, and never fewer people than households).
    The community polygon is replaced by the exact union of its grids (it moves by less
    than a centimetre), so the grids tile it without gaps or overlaps.
    """
    rng = _rng(seed)
    regions, order, caps, adj = _partition_inputs(c, regions)
    if n_grids is None:
        want = caps.sum() / grid_target
        cands = sorted(_grid_count_range(caps), key=lambda k: (abs(k - want), k))
    else:
        cands = [n_grids]
    runs = None
    for k in cands:
        runs = _dp_groups(caps, adj, k, *_CAP_BOUNDS)
        if runs is not None:
            break
    if runs is None:
        raise ValueError(f"{c.spec.name}: no division into {n_grids or 'any number of'} grids fits the band")
    groups = [[order[t] for t in range(i, j)] for i, j in runs]

    polys = np.array([shapely.union_all(regions[g]) for g in groups], dtype=object)
    polys = np.array([_one_polygon(p) for p in polys], dtype=object)
    fps = np.array([bd.footprint for bd in c.buildings], dtype=object)
    owner = np.empty(len(fps), dtype=int)
    for gi, g in enumerate(groups):
        owner[g] = gi

    def contains_all(ps: np.ndarray) -> bool:
        inside = shapely.area(shapely.intersection(fps, ps[owner]))
        return bool((inside >= shapely.area(fps) - 1e-6).all())

    simple = shapely.coverage_simplify(polys, 0.8, simplify_boundary=False)
    simple = shapely.set_precision(simple, 0.01)
    if all(isinstance(p, Polygon) for p in simple) and contains_all(simple):
        polys = simple
    else:
        polys = shapely.set_precision(polys, 0.01)
    polys = np.array([shapely.orient_polygons(_one_polygon(p)) for p in polys], dtype=object)
    if not contains_all(polys):
        raise AssertionError(f"{c.spec.name}: a grid does not contain its buildings")
    union = shapely.union_all(polys)
    if not isinstance(union, Polygon):
        raise AssertionError(f"{c.spec.name}: grids do not form one polygon")
    c.polygon = shapely.orient_polygons(union)

    # Grid numbers: reading order of the grid centroids.
    cent = shapely.get_coordinates(shapely.centroid(polys))
    ro = reading_order(cent)
    c.grids = []
    for num, gi in enumerate(ro, start=1):
        c.grids.append(Grid(number=num, polygon=polys[gi], buildings=sorted(groups[gi])))
    for gi, g in enumerate(c.grids):
        for k in g.buildings:
            c.buildings[k].grid = gi

    # Households and population per unit, per grid inside the bands.
    for g in c.grids:
        ucap = np.concatenate([np.full(c.buildings[k].units, 2 * c.buildings[k].floors) for k in g.buildings])
        cap = int(ucap.sum())
        occ = rng.uniform(max(_OCCUPANCY[0], _HH_DRAW[0] / cap), min(_OCCUPANCY[1], _HH_DRAW[1] / cap))
        hh = min(int(np.clip(round(cap * occ), *_HH_DRAW)), cap)
        pop = int(rng.integers(_POP_DRAW[0], _POP_DRAW[1] + 1))
        units_hh = _allocate(hh, ucap * rng.uniform(0.8, 1.0, len(ucap)), ucap)
        units_pop = units_hh + rng.multinomial(pop - hh, units_hh / units_hh.sum())
        pos = 0
        for k in g.buildings:
            n = c.buildings[k].units
            c.buildings[k].households = units_hh[pos:pos + n]
            c.buildings[k].population = units_pop[pos:pos + n]
            pos += n
        g.households, g.population = int(units_hh.sum()), int(units_pop.sum())


def _one_polygon(g: Any) -> Polygon:
    """The largest polygon of ``g`` (tiny slivers from snapping are dropped)."""
    if isinstance(g, Polygon):
        return g
    parts = [p for p in shapely.get_parts(g) if isinstance(p, Polygon)]
    parts.sort(key=lambda p: -p.area)
    if len(parts) > 1 and parts[1].area > 0.01:
        raise AssertionError(f"a grid is in {len(parts)} pieces (second: {parts[1].area:.2f} m²)")
    return parts[0]


def _allocate(total: int, weights: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """Integers summing to ``total``, proportional to ``weights``, each <= its cap."""
    out = np.zeros(len(weights), dtype=np.int64)
    free = np.ones(len(weights), dtype=bool)
    remaining = total
    while remaining > 0:
        w = np.where(free, weights, 0.0)
        share = remaining * w / w.sum()
        take = np.minimum(np.floor(share).astype(np.int64), caps - out)
        out += take
        left = remaining - int(take.sum())
        if left > 0:
            frac = np.where(free & (out < caps), share - np.floor(share), -1.0)
            for i in np.argsort(-frac, kind="stable")[:left]:
                if frac[i] >= 0 and out[i] < caps[i]:
                    out[i] += 1
        remaining = total - int(out.sum())
        free = out < caps
        if remaining > 0 and not free.any():
            raise ValueError("households exceed capacity")
    return out


# --------------------------------------------------------------------------------------
# Cameras
# --------------------------------------------------------------------------------------


def _bearing(dx: float, dy: float) -> float:
    return math.degrees(math.atan2(dx, dy)) % 360.0


def _az(v: float) -> float:
    return round(v % 360.0, 1) % 360.0


def place_cameras(c: Community, *, seed: int | Sequence[int], n_pole: int | None = None) -> int:
    """Put cameras in ``c`` (replacing any); returns the number of fixed (non-road) cameras.

    One camera above each unit door (a share of them in walk-up estates), two at each
    gate, a fisheye over each parking lot (a share in walk-ups), a PTZ dome over the
    square, ceiling domes in the market and clinic, then ``n_pole`` pole cameras spread
    along the internal roads (default: one every 55–75 m, 110–140 m in walk-ups). The
    fixed cameras are drawn first, so calling again with the same seed and a different
    ``n_pole`` only changes the pole cameras.
    """
    rng = _rng(seed)
    st = c.style
    cams: list[Camera] = []
    name = c.spec.name
    for k, b in enumerate(c.buildings):
        if st.door_camera_share < 1.0 and rng.random() >= st.door_camera_share:
            continue
        for u, (dx, dy) in enumerate(b.doors, start=1):
            cams.append(Camera(
                name=f"{name}{b.number}号楼{u}单元门口", kind="dome" if rng.random() < 0.6 else "bullet",
                mount="wall", x=float(dx), y=_r(float(dy) + 0.3), height_m=round(rng.uniform(2.8, 3.2), 1),
                azimuth_deg=_az(rng.normal(0.0, 3.0)), hfov_deg=round(rng.uniform(97.0, 104.0), 1),
                range_m=round(rng.uniform(10.0, 15.0), 1), resolution_px=int(rng.choice([1920, 2560], p=[0.7, 0.3])),
                building=k))
    gates = [p for p in c.places if p.kind == "gate"]
    W, H = c.width, c.height
    for g in gates:
        gx, gy = g.geom.x, g.geom.y
        if gy < 2.0:
            out_dir, along = (0.0, -1.0), (1.0, 0.0)
        elif gy > H - 2.0:
            out_dir, along = (0.0, 1.0), (1.0, 0.0)
        elif gx > W - 2.0:
            out_dir, along = (1.0, 0.0), (0.0, 1.0)
        else:
            out_dir, along = (-1.0, 0.0), (0.0, 1.0)
        for side, (look, label) in ((-1.0, (out_dir, "出口")), (1.0, ((-out_dir[0], -out_dir[1]), "入口"))):
            px = gx - out_dir[0] * 2.5 + side * along[0] * 6.0
            py = gy - out_dir[1] * 2.5 + side * along[1] * 6.0
            cams.append(Camera(
                name=f"{g.name}{label}", kind="bullet", mount="pole", x=_r(px), y=_r(py),
                height_m=round(rng.uniform(3.5, 4.5), 1), azimuth_deg=_az(_bearing(*look) + rng.normal(0, 4.0)),
                hfov_deg=round(rng.uniform(50.0, 70.0), 1), range_m=round(rng.uniform(20.0, 35.0), 1),
                resolution_px=int(rng.choice([2560, 3840]))))
    for p in c.places:
        if p.kind == "parking":
            if st.fisheye_share < 1.0 and rng.random() >= st.fisheye_share:
                continue
            x0, y0, x1, y1 = p.geom.bounds
            cams.append(Camera(
                name=f"{p.name}全景", kind="fisheye", mount="pole", x=_r((x0 + x1) / 2 + rng.uniform(-5, 5)),
                y=_r(y1 + 0.8), height_m=round(rng.uniform(5.0, 7.0), 1), azimuth_deg=0.0, hfov_deg=360.0,
                range_m=round(rng.uniform(18.0, 28.0), 1), resolution_px=int(rng.choice([2560, 3840]))))
        elif p.kind == "square":
            x0, y0, x1, y1 = p.geom.bounds
            cams.append(Camera(
                name=f"{p.name}球机", kind="ptz", mount="pole", x=_r(x0 + 2.0 if rng.random() < 0.5 else x1 - 2.0),
                y=_r((y0 + y1) / 2), height_m=round(rng.uniform(8.0, 12.0), 1),
                azimuth_deg=_az(rng.uniform(0, 360)), hfov_deg=round(rng.uniform(57.0, 63.0), 1),
                range_m=round(rng.uniform(80.0, 150.0), 1), resolution_px=int(rng.choice([1920, 2560]))))
        elif p.kind in ("market", "clinic"):
            x0, y0, x1, y1 = p.geom.bounds
            for j in range(2 if p.kind == "market" else 1):
                cams.append(Camera(
                    name=f"{p.name}室内{j + 1}", kind="dome", mount="ceiling",
                    x=_r(x0 + (x1 - x0) * (j + 1) / 3), y=_r(y0 + (y1 - y0) * 0.6),
                    height_m=round(rng.uniform(3.0, 3.6), 1), azimuth_deg=_az(rng.choice([90.0, 270.0])),
                    hfov_deg=round(rng.uniform(100.0, 110.0), 1), range_m=round(rng.uniform(10.0, 15.0), 1),
                    resolution_px=1920))
    n_fixed = len(cams)

    roads = [r for r in c.roads if r.kind == "internal"]
    lengths = np.array([r.geom.length for r in roads])
    if n_pole is None:
        n_pole = int(round(lengths.sum() / rng.uniform(*st.pole_spacing)))
    fps = np.array([b.footprint for b in c.buildings], dtype=object)
    tree = shapely.STRtree(fps)
    inner = c.polygon.buffer(-1.0)
    cum = np.concatenate([[0.0], np.cumsum(lengths)])
    per_road: dict[int, int] = {}
    for i in range(n_pole):
        t = (i + rng.uniform(0.25, 0.75)) * cum[-1] / max(n_pole, 1)
        for attempt in range(12):
            tt = (t + attempt * 4.0) % cum[-1]
            ri = int(np.searchsorted(cum, tt, side="right") - 1)
            road = roads[ri]
            d = min(max(tt - cum[ri], 0.5), road.geom.length - 0.5)
            p0 = road.geom.interpolate(d)
            p1 = road.geom.interpolate(min(d + 1.0, road.geom.length))
            if p1.equals(p0):
                p1 = road.geom.interpolate(d - 1.0)
                ux, uy = p0.x - p1.x, p0.y - p1.y
            else:
                ux, uy = p1.x - p0.x, p1.y - p0.y
            norm = math.hypot(ux, uy) or 1.0
            ux, uy = ux / norm, uy / norm
            side = 1.0 if (i + attempt) % 2 == 0 else -1.0
            off = road.width_m / 2 + 1.0
            px, py = p0.x - side * uy * off, p0.y + side * ux * off
            pt = Point(px, py)
            if inner.contains(pt) and not len(tree.query(pt, predicate="dwithin", distance=1.5)):
                break
        else:  # pragma: no cover - the road centre is always clear
            px, py = p0.x, p0.y
        per_road[ri] = per_road.get(ri, 0) + 1
        facing = _bearing(ux, uy) if i % 2 == 0 else _bearing(-ux, -uy)
        cams.append(Camera(
            name=f"{road.name}{per_road[ri]:02d}号杆", kind="bullet" if rng.random() < 0.8 else "dome",
            mount="pole", x=_r(px), y=_r(py), height_m=round(rng.uniform(4.0, 6.0), 1),
            azimuth_deg=_az(facing + rng.normal(0.0, 5.0)), hfov_deg=round(rng.uniform(60.0, 90.0), 1),
            range_m=round(rng.uniform(30.0, 60.0), 1),
            resolution_px=int(rng.choice([1920, 2560, 3840], p=[0.4, 0.4, 0.2]))))
    c.cameras = cams
    return n_fixed


def make_community(spec: CommunitySpec, *, seed: int | Sequence[int], n_grids: int | None = None,
                   n_pole: int | None = None, grid_target: float = 250.0) -> Community:
    """Layout, grids, households and cameras of one community, in local metres.

    When no division of the buildings into grids fits the household band, the layout is
    drawn again (deterministically) with other floors, up to 20 times.

    >>> spec = CommunitySpec(code="140214101001", name="试验小区", name_en="Test", pinyin="Shiyan",
    ...                      aliases=(), width=420.0, units=(3,) * 14)
    >>> c = make_community(spec, seed=7)
    >>> len(c.buildings), sum(b.units for b in c.buildings)
    (14, 42)
    """
    base = list(seed) if isinstance(seed, Sequence) else [int(seed)]
    for attempt in range(20):
        # Whole buildings do not always split into the band: lay out again (new floors).
        c = layout_community(spec, seed=base + [1] + ([attempt] if attempt else []))
        try:
            partition_community(c, seed=base + [2], n_grids=n_grids, grid_target=grid_target)
        except ValueError:
            continue
        place_cameras(c, seed=base + [3], n_pole=n_pole)
        return c
    raise ValueError(f"{spec.name}: no layout splits into grids inside the band")


# --------------------------------------------------------------------------------------
# Names and numbers
# --------------------------------------------------------------------------------------

SURNAMES = ("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶"
            "阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹武乔贺常樊")
# Shanxi surnames weigh more: 王 张 李 刘 郭 赵 杨 武 贾 高.
_SURNAME_BOOST = {"王": 6, "张": 5, "李": 5, "刘": 4, "郭": 4, "赵": 3, "杨": 3, "武": 3, "贾": 3, "高": 3}
GIVEN = ("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志红海燕鹏飞丹晓东文斌宇浩凯俊峰"
         "春梅玲秀兰淑珍凤翠莲宏亮永利广福德成林旭晨阳欣怡子涵梓轩雨婷佳琪思远")


def _names(rng: np.random.Generator, n: int) -> list[str]:
    sur = list(SURNAMES)
    w = np.array([_SURNAME_BOOST.get(s, 1.0) for s in sur], dtype=float)
    s_idx = rng.choice(len(sur), size=n, p=w / w.sum())
    two = rng.random(n) < 0.62
    g1 = rng.integers(0, len(GIVEN), n)
    g2 = rng.integers(0, len(GIVEN), n)
    return [sur[a] + GIVEN[b] + (GIVEN[c2] if t else "") for a, b, c2, t in zip(s_idx, g1, g2, two)]


def _phones(rng: np.random.Generator, n: int) -> list[str]:
    """Obviously fictional Datong numbers: 0352 (the area code) + a local part that starts
    with 0, which no real Chinese local number does."""
    nums = rng.choice(1_000_000, size=n, replace=False)
    return [f"0352-0{v:06d}" for v in nums]


# --------------------------------------------------------------------------------------
# Town and city assembly
# --------------------------------------------------------------------------------------

TOWN_COMMUNITIES = (
    # name, name_en, pinyin, aliases, buildings, width, facilities, lattice (column, stack from south)
    ("春安新区", "Chun'an New District", "Chun'an Xinqu", ("春安",), 40, 540.0,
     ("market", "kindergarten", "clinic", "school"), (0, 1)),
    ("宁丰社区", "Ningfeng Community", "Ningfeng Shequ", ("宁丰",), 32, 480.0,
     ("kindergarten", "market", "clinic"), (1, 1)),
    ("宏盛家园", "Hongsheng Homeland", "Hongsheng Jiayuan", ("宏盛",), 30, 480.0,
     ("clinic", "kindergarten", "market"), (1, 0)),
    ("高山佳苑", "Gaoshan Jiayuan", "Gaoshan Jiayuan", ("佳苑", "高山"), 23, 540.0,
     ("market", "clinic", "kindergarten"), (0, 0)),
)
TOWN_BUILDINGS, TOWN_UNITS, TOWN_GRIDS, TOWN_CADRES = 125, 390, 50, 32


def _units_list(rng: np.random.Generator, n: int, total: int, p: Sequence[float]) -> list[int]:
    units = list(rng.choice([2, 3, 4], size=n, p=p))
    while sum(units) != total:
        i = int(rng.integers(n))
        if sum(units) > total and units[i] > 2:
            units[i] -= 1
        elif sum(units) < total and units[i] < 4:
            units[i] += 1
    return [int(u) for u in units]


def _largest_remainder(total: int, weights: Sequence[float]) -> list[int]:
    w = np.asarray(weights, dtype=float)
    share = total * w / w.sum()
    out = np.floor(share).astype(int)
    for i in np.argsort(-(share - out), kind="stable")[: total - out.sum()]:
        out[i] += 1
    return [int(v) for v in out]


@dataclass
class _Site:
    communities: list[Community]
    streets: list[Road]


def _lattice(comms: list[Community], cells: list[tuple[int, int]], rng: np.random.Generator,
             street_names: Callable[[str, int], str]) -> list[Road]:
    """Place communities (local coordinates) on a lattice of columns separated by streets;
    moves them and returns the streets (kind "street"), all relative to (0, 0)."""
    ncol = max(c for c, _ in cells) + 1
    col_w = [max(cm.width for cm, (c, _) in zip(comms, cells) if c == col) for col in range(ncol)]
    gaps_v = [_r(rng.uniform(26.0, 36.0), 0.5) for _ in range(ncol + 1)]
    col_x = []
    x = 0.0
    for col in range(ncol):
        col_x.append(x)
        x += col_w[col] + gaps_v[col + 1]
    streets: list[Road] = []
    tops: list[float] = []
    for col in range(ncol):
        members = sorted([(s, i) for i, (c, s) in enumerate(cells) if c == col])
        y = 0.0
        for j, (_, i) in enumerate(members):
            cm = comms[i]
            cm.translate(col_x[col], y)
            gap = _r(rng.uniform(24.0, 34.0), 0.5)
            yc = y + cm.height + gap / 2
            width = _r(gap - 2 * rng.uniform(4.0, 6.0), 0.5)
            streets.append(Road(street_names("ew", col * 100 + j + 1), "street", width,
                                LineString([(col_x[col] - gaps_v[col] / 2, yc),
                                            (col_x[col] + col_w[col] + gaps_v[col + 1] / 2, yc)])))
            y += cm.height + gap
        tops.append(y - gap / 2)
    south = -14.0
    x_end = col_x[-1] + col_w[-1] + gaps_v[-1] / 2
    streets.append(Road(street_names("ew", 0), "street", 20.0, LineString([(-gaps_v[0] / 2, south), (x_end, south)])))
    for col in range(ncol + 1):
        xc = (col_x[col] - gaps_v[col] / 2) if col < ncol else x_end
        ytop = max(tops[max(col - 1, 0)], tops[min(col, ncol - 1)]) - 0.0
        width = _r(gaps_v[col] - 2 * rng.uniform(4.0, 6.0), 0.5)
        streets.append(Road(street_names("ns", col), "street", width, LineString([(xc, south), (xc, ytop)])))
    return streets


def _town_street_name(kind: str, k: int) -> str:
    if kind == "ns":
        return ("新村路", "云冈路", "东环路")[k] if k < 3 else f"经{k}路"
    if k == 0:
        return "高山大街"
    col, j = divmod(k, 100)
    names = {(0, 1): "佳苑街", (0, 2): "北环街", (1, 1): "宏盛街", (1, 2): "北环街"}
    return names.get((col, j), f"纬{j}街")


def _city_street_name(kind: str, k: int) -> str:
    if kind == "ns":
        return f"经{k + 1}路"
    if k == 0:
        return "南环路"
    col, j = divmod(k, 100)
    return f"纬{j}街({col + 1}段)"


def _split_grids(total: int, feasible: list[list[int]], caps: list[int]) -> list[int] | None:
    """Grid counts per community summing to ``total``, each feasible, capacities per grid as
    even as possible."""
    best, best_cost = None, math.inf
    mean = sum(caps) / total

    def rec(i: int, left: int, acc: list[int]) -> None:
        nonlocal best, best_cost
        if i == len(feasible):
            if left == 0:
                cost = sum((c / k - mean) ** 2 for c, k in zip(caps, acc))
                if cost < best_cost:
                    best, best_cost = list(acc), cost
            return
        for k in feasible[i]:
            if k <= left:
                rec(i + 1, left - k, acc + [k])

    rec(0, total, [])
    return best


def build_town(seed: int = 1, progress: Progress | None = None) -> _Site:
    """The four Gaoshan communities with exactly 125 buildings, 390 units and 50 grids.

    Buildings come whole, so not every draw of units and floors can be cut into exactly
    50 grids inside the household band; draws are repeated (deterministically, attempt
    by attempt) until one can.
    """
    progress = progress or (lambda s, d, t: None)
    for attempt in range(50):
        rng = _rng([seed, 0, attempt])
        units = _units_list(rng, TOWN_BUILDINGS, TOWN_UNITS, (0.25, 0.38, 0.37))
        specs = []
        pos = 0
        for i, (name, en, py, aliases, nb, width, fac, _) in enumerate(TOWN_COMMUNITIES):
            specs.append(CommunitySpec(code=f"{TOWN_CODE}{i + 1:03d}", name=name, name_en=en, pinyin=py,
                                       aliases=aliases, width=width, units=tuple(units[pos:pos + nb]),
                                       facilities=fac, gates=3 if i == 0 else None))
            pos += nb
        comms = [layout_community(s, seed=[seed, 1, i, attempt]) for i, s in enumerate(specs)]
        regions = [_building_regions(cm) for cm in comms]
        feas = [feasible_grid_counts(cm, r) for cm, r in zip(comms, regions)]
        alloc = _split_grids(TOWN_GRIDS, feas, [cm.capacity for cm in comms])
        if alloc is not None:
            break
    else:  # pragma: no cover
        raise ValueError(f"seed {seed}: no layout splits into {TOWN_GRIDS} grids")
    for i, cm in enumerate(comms):
        partition_community(cm, seed=[seed, 2, i], n_grids=alloc[i], regions=regions[i])
        progress("communities", i + 1, len(comms))
    # Cameras: a town total in 718..745, pole cameras shared by internal road length.
    fixed = [place_cameras(cm, seed=[seed, 3, i], n_pole=0) for i, cm in enumerate(comms)]
    total = int(rng.integers(718, 746))
    road_len = [sum(r.geom.length for r in cm.roads if r.kind == "internal") for cm in comms]
    poles = _largest_remainder(total - sum(fixed), road_len)
    for i, cm in enumerate(comms):
        place_cameras(cm, seed=[seed, 3, i], n_pole=poles[i])
    streets = _lattice(comms, [t[-1] for t in TOWN_COMMUNITIES], rng, _town_street_name)
    return _Site(comms, streets)


CITY_PREFIXES = (
    ("御河", "Yuhe"), ("文瀛", "Wenying"), ("平城", "Pingcheng"), ("魏都", "Weidu"), ("云冈", "Yungang"),
    ("同泉", "Tongquan"), ("和阳", "Heyang"), ("恒安", "Heng'an"), ("振华", "Zhenhua"), ("新建", "Xinjian"),
    ("永泰", "Yongtai"), ("华林", "Hualin"), ("迎宾", "Yingbin"), ("柳航", "Liuhang"), ("锦绣", "Jinxiu"),
    ("金地", "Jindi"), ("馨园", "Xinyuan"), ("龙园", "Longyuan"), ("兴云", "Xingyun"), ("南关", "Nanguan"),
    ("北关", "Beiguan"), ("东信", "Dongxin"), ("西苑", "Xiyuan"), ("鼓楼", "Gulou"), ("开源", "Kaiyuan"),
    ("富乐", "Fule"), ("安康", "Ankang"), ("怡馨", "Yixin"), ("阳光", "Yangguang"), ("春晖", "Chunhui"),
    ("瑞和", "Ruihe"), ("泰和", "Taihe"), ("康乐", "Kangle"), ("幸福", "Xingfu"), ("祥和", "Xianghe"),
    ("明珠", "Mingzhu"), ("凤凰", "Fenghuang"), ("桃园", "Taoyuan"), ("白马", "Baima"), ("青年", "Qingnian"),
)
CITY_SUFFIXES = (
    ("小区", "Xiaoqu"), ("家园", "Jiayuan"), ("花园", "Huayuan"), ("新村", "Xincun"), ("佳苑", "Jiayuan"),
    ("雅苑", "Yayuan"), ("公寓", "Gongyu"), ("里", "Li"), ("社区", "Shequ"), ("新城", "Xincheng"),
)
CITY_DISTRICTS = ("140213", "140214", "140215", "140212")
CITY_COMMUNITIES = 375
CITY_STACK = 19


def _city_specs(seed: int) -> tuple[list[CommunitySpec], list[tuple[int, int]]]:
    rng = _rng([seed, 100])
    combos = [(p, s) for p in CITY_PREFIXES for s in CITY_SUFFIXES]
    pick = rng.permutation(len(combos))[:CITY_COMMUNITIES]
    ncol = math.ceil(CITY_COMMUNITIES / CITY_STACK)
    col_w = [_r(rng.uniform(520.0, 660.0), 10.0) for _ in range(ncol)]
    specs, cells = [], []
    for i in range(CITY_COMMUNITIES):
        (pn, pp), (sn, sp) = combos[pick[i]]
        block = i // 25
        town = f"{CITY_DISTRICTS[block % len(CITY_DISTRICTS)]}{block + 1:03d}"
        code = f"{town}{i % 25 + 1:03d}"
        col, stack = divmod(i, CITY_STACK)
        walkup = rng.random() < 0.75
        if walkup:
            n = int(rng.integers(170, 236))
            units = tuple(int(u) for u in rng.choice([2, 3], size=n, p=[0.8, 0.2]))
            fac = tuple(rng.permutation(["market", "kindergarten", "clinic"]))
        else:
            n = int(rng.integers(25, 46))
            units = tuple(int(u) for u in rng.choice([2, 3, 4], size=n, p=[0.1, 0.68, 0.22]))
            fac = ("kindergarten", "market", "clinic")
        specs.append(CommunitySpec(code=code, name=pn + sn, name_en=f"{pp} {sp}", pinyin=f"{pp} {sp}",
                                   aliases=(pn,), width=col_w[col], units=units,
                                   style="walkup" if walkup else "highrise", facilities=fac))
        cells.append((col, stack))
    return specs, cells


def _city_worker(args: tuple[CommunitySpec, int, int]) -> Community:
    spec, seed, i = args
    return make_community(spec, seed=[seed, 9, i], grid_target=290.0)


def build_city(seed: int = 1, progress: Progress | None = None, workers: int | None = None) -> _Site:
    """About 375 compounds (three in four are 6-storey walk-up estates), ~6,000 grids."""
    progress = progress or (lambda s, d, t: None)
    specs, cells = _city_specs(seed)
    jobs = [(s, seed, i) for i, s in enumerate(specs)]
    workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    comms: list[Community] = []
    if workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers) as ex:
            for c in ex.map(_city_worker, jobs, chunksize=4):
                comms.append(c)
                progress("communities", len(comms), len(jobs))
    else:
        for job in jobs:
            comms.append(_city_worker(job))
            progress("communities", len(comms), len(jobs))
    streets = _lattice(comms, cells, _rng([seed, 101]), _city_street_name)
    return _Site(comms, streets)


# --------------------------------------------------------------------------------------
# Incidents
# --------------------------------------------------------------------------------------

# category, subcategory, annual share, seasonal amplitude, peak month, hour profile
SUBCATEGORIES = (
    ("dispute", "neighbour", 0.10, 0.6, 7.5, "day"),
    ("dispute", "family", 0.04, 0.4, 2.0, "evening"),
    ("dispute", "property", 0.07, 0.5, 7.0, "day"),
    ("safety_hazard", "fire", 0.07, 0.7, 1.0, "heating"),
    ("safety_hazard", "gas", 0.05, 0.9, 1.0, "heating"),
    ("safety_hazard", "electrical", 0.05, 0.6, 1.0, "heating"),
    ("safety_hazard", "structural", 0.02, 0.5, 4.0, "day"),
    ("public_order", "noise", 0.10, 0.5, 7.5, "evening"),
    ("public_order", "parking", 0.10, 0.0, 1.0, "day"),
    ("public_order", "other", 0.04, 0.3, 8.0, "evening"),
    ("environment", "sanitation", 0.09, 0.6, 7.0, "day"),
    ("environment", "other", 0.03, 0.3, 5.0, "day"),
    ("facilities", "lighting", 0.04, 0.5, 12.0, "evening"),
    ("facilities", "lift", 0.05, 0.0, 1.0, "day"),
    ("facilities", "water", 0.05, 0.6, 1.0, "day"),
    ("facilities", "other", 0.04, 0.2, 6.0, "day"),
    ("other", "other", 0.06, 0.0, 1.0, "day"),
)
SOURCES = INCIDENT_SOURCES
_HOURS = {
    "day": np.array([1, 0.5, 0.3, 0.3, 0.4, 1, 2, 4, 7, 9, 9, 8, 6, 6, 8, 9, 9, 8, 6, 5, 4, 3, 2, 1.5]),
    "evening": np.array([3, 2, 1, 0.5, 0.3, 0.5, 1, 2, 3, 4, 4, 4, 4, 4, 4, 5, 5, 6, 8, 10, 11, 10, 8, 5]),
    "heating": np.array([2, 1.5, 1, 1, 1, 2, 5, 8, 7, 6, 5, 5, 5, 4, 4, 4, 5, 7, 9, 9, 8, 6, 4, 3]),
}
# kernel kinds: market, parking, building (a troubled building), square, background
_AFFINITY = {
    "market": {"noise": 1.0, "parking": 0.8, ("public_order", "other"): 0.8, "sanitation": 1.0,
               ("environment", "other"): 0.3, "fire": 0.2, "electrical": 0.2, ("other", "other"): 0.3,
               "neighbour": 0.1},
    "parking": {"parking": 1.0, "noise": 0.4, ("public_order", "other"): 0.3, "fire": 0.15, "electrical": 0.25,
                "lighting": 0.3},
    "building": {"neighbour": 1.0, "property": 0.8, "family": 0.6, "lift": 1.0, "water": 0.8, "gas": 0.6,
                 "structural": 0.8, "fire": 0.4, "electrical": 0.4, "sanitation": 0.2, "noise": 0.3,
                 ("facilities", "other"): 0.3},
    "square": {"noise": 1.0, ("public_order", "other"): 0.3, "lighting": 0.3, ("facilities", "other"): 0.4,
               ("environment", "other"): 0.2},
    "background": {},
}
_KINDS = ("market", "parking", "building", "square", "background")
_SEVERITY = {
    "dispute": (0.35, 0.4, 0.2, 0.05), "safety_hazard": (0.1, 0.35, 0.35, 0.2),
    "public_order": (0.5, 0.35, 0.12, 0.03), "environment": (0.6, 0.3, 0.08, 0.02),
    "facilities": (0.4, 0.4, 0.15, 0.05), "other": (0.7, 0.25, 0.05, 0.0),
}
_DESCRIPTIONS = {
    ("dispute", "neighbour"): ("{b}楼上漏水引发邻里纠纷", "{b}邻居因噪音发生争执", "{b}楼道占用引发邻里矛盾"),
    ("dispute", "family"): ("{b}家庭矛盾需调解", "{b}赡养老人问题引发家庭纠纷"),
    ("dispute", "property"): ("{b}物业费收缴纠纷", "{b}安置房面积争议", "{b}车位归属纠纷"),
    ("safety_hazard", "fire"): ("{b}楼道堆放杂物，存在消防隐患", "{p}电动车违规充电", "{p}消防通道被占用"),
    ("safety_hazard", "gas"): ("{b}居民反映闻到燃气味", "{b}燃气管道老化需检修", "{b}违规燃煤取暖，存在一氧化碳中毒隐患"),
    ("safety_hazard", "electrical"): ("{b}私拉电线", "{b}配电箱异常发热", "{p}飞线充电"),
    ("safety_hazard", "structural"): ("{b}外墙保温层脱落", "{b}楼顶防水层破损", "{b}楼梯扶手松动"),
    ("public_order", "noise"): ("{p}夜间噪音扰民", "{p}广场舞音响声音过大", "{p}装修噪音扰民"),
    ("public_order", "parking"): ("{p}车辆乱停乱放", "{p}占用消防通道停车", "{p}僵尸车长期占用车位"),
    ("public_order", "other"): ("{p}流动摊贩占道经营", "{p}可疑人员逗留", "{p}醉酒人员滋事"),
    ("environment", "sanitation"): ("{p}垃圾未及时清运", "{p}下水道堵塞有异味", "{b}楼道卫生差"),
    ("environment", "other"): ("{p}绿化带被毁", "{p}私自种菜", "{p}违规焚烧杂物"),
    ("facilities", "lighting"): ("{p}路灯不亮", "{b}楼道声控灯损坏"),
    ("facilities", "lift"): ("{b}电梯故障停运", "{b}电梯困人", "{b}电梯异响"),
    ("facilities", "water"): ("{b}停水", "{b}水管冻裂漏水", "{b}自来水水压不足"),
    ("facilities", "other"): ("{p}健身器材损坏", "{p}井盖缺失", "{b}单元门禁损坏"),
    ("other", "other"): ("{p}居民咨询政策", "{p}居民反映其他事项"),
}
_NOTES_ASSIST = {
    "dispute": ("社区调委会介入调解", "联系物业公司协调", "约双方到社区调解室面谈"),
    "safety_hazard": ("通知物业清理并复查", "联系燃气公司上门检修", "联系供电所排查线路", "联系消防站协助"),
    "public_order": ("联系社区民警协助", "联系城管中队处理", "劝离并登记"),
    "environment": ("通知保洁公司清运", "联系环卫所处理"),
    "facilities": ("联系物业公司维修", "联系电梯维保单位", "联系供水公司抢修"),
    "other": ("转相关部门答复",),
}


@dataclass
class _Kernel:
    kind: str
    community: int
    x: float
    y: float
    sx: float
    sy: float
    weight: float
    name: str
    doors: np.ndarray | None = None


def _iso(sec: np.ndarray) -> np.ndarray:
    """Local (Asia/Shanghai) seconds since 1970 as ISO 8601 strings with +08:00."""
    s = np.datetime_as_string(sec.astype("datetime64[s]"), unit="s")
    return np.char.add(s.astype("U19"), TZ)


def _sec(d: dt.datetime) -> int:
    return int((d - dt.datetime(1970, 1, 1)).total_seconds())


def _kernels(site: _Site, rng: np.random.Generator, town: bool) -> list[_Kernel]:
    """Where incidents come from: hotspots (markets, parking lots, squares, troubled
    buildings) and one background component per community (weighted by population).

    In the town one market, one parking lot and one building are hot; in the city about
    three compounds in ten have a busy market, one lot in twenty is hot, and one compound
    in five has a troubled building."""
    ks: list[_Kernel] = []
    comms = site.communities
    pops = np.array([cm.population for cm in comms], dtype=float)
    n_markets = sum(p.kind == "market" for cm in comms for p in cm.places)
    n_lots = sum(p.kind == "parking" for cm in comms for p in cm.places)
    hot_market = int(rng.integers(n_markets)) if town else -1
    hot_lot = int(rng.integers(n_lots)) if town else -1
    trouble = int(rng.integers(len(comms))) if town else -1
    mk = lot_i = 0
    for ci, cm in enumerate(comms):
        busy = rng.random() < 0.3
        for p in cm.places:
            x0, y0, x1, y1 = p.geom.bounds
            if p.kind == "market":
                w = (1.0 if mk == hot_market else 0.12) if town else (0.5 if busy else 0.05)
                ks.append(_Kernel("market", ci, (x0 + x1) / 2, y1 + 6.0, 16.0, 12.0, w, p.name))
                mk += 1
            elif p.kind == "parking":
                w = (0.7 if lot_i == hot_lot else 0.02) if town else (0.3 if rng.random() < 0.05 else 0.01)
                ks.append(_Kernel("parking", ci, (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 3, 5.0, w, p.name))
                lot_i += 1
            elif p.kind == "square":
                ks.append(_Kernel("square", ci, (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 3, (y1 - y0) / 3,
                                  0.2 if town else 0.08, p.name))
        if ci == trouble or (not town and rng.random() < 0.2):
            b = cm.buildings[int(rng.integers(len(cm.buildings)))]
            ks.append(_Kernel("building", ci, 0.0, 0.0, 5.0, 6.0, 0.8 if town else 0.25,
                              f"{cm.spec.name}{b.name}", doors=b.doors))
        bg = 4.0 * pops[ci] / pops.sum() if town else pops[ci] / pops.mean()
        ks.append(_Kernel("background", ci, 0.0, 0.0, 0.0, 0.0, bg, cm.spec.name))
    return ks


def _incidents(site: _Site, n: int, rng: np.random.Generator, town: bool,
               progress: Progress) -> dict[str, np.ndarray]:
    """``n`` incidents as column arrays (local seconds, metres); sorted by time."""
    comms = site.communities
    # When and what: a day x subcategory intensity with seasonality.
    days = np.arange((PERIOD_END - PERIOD_START).days)
    month = np.array([(PERIOD_START + dt.timedelta(days=int(d))).month
                      + (PERIOD_START + dt.timedelta(days=int(d))).day / 31.0 for d in days])
    lam = np.stack([share * (1.0 + amp * np.cos(2 * np.pi * (month - peak) / 12.0))
                    for _, _, share, amp, peak, _ in SUBCATEGORIES], axis=1)
    flat = rng.choice(lam.size, size=n, p=(lam / lam.sum()).ravel())
    day, sub = np.divmod(flat, len(SUBCATEGORIES))
    hour = np.empty(n, dtype=np.int64)
    for s, (_, _, _, _, _, prof) in enumerate(SUBCATEGORIES):
        m = sub == s
        p = _HOURS[prof] / _HOURS[prof].sum()
        hour[m] = rng.choice(24, size=int(m.sum()), p=p)
    t_occ = _sec(PERIOD_START) + day * 86400 + hour * 3600 + rng.integers(0, 3600, n)

    # Where: one component per incident (a hotspot kernel or a community's background).
    ks = _kernels(site, rng, town)
    kind_idx = np.array([_KINDS.index(k.kind) for k in ks])
    aff = np.zeros((len(_KINDS), len(SUBCATEGORIES)))
    for ki, kind in enumerate(_KINDS):
        for s, (cat, subc, *_rest) in enumerate(SUBCATEGORIES):
            tab = _AFFINITY[kind]
            aff[ki, s] = 1.0 if kind == "background" else tab.get((cat, subc), tab.get(subc, 0.0))
    kw = np.array([k.weight for k in ks])
    comp = np.empty(n, dtype=np.int64)
    for s in range(len(SUBCATEGORIES)):
        m = sub == s
        w = kw * aff[kind_idx, s]
        comp[m] = rng.choice(len(ks), size=int(m.sum()), p=w / w.sum())

    fps = np.array([b.footprint for cm in comms for b in cm.buildings], dtype=object)
    fp_tree = shapely.STRtree(shapely.buffer(fps, 1.0, quad_segs=2))
    polys = np.array([cm.polygon for cm in comms], dtype=object)
    c_tree = shapely.STRtree(shapely.buffer(polys, -0.5))
    roads = [(ci, r) for ci, cm in enumerate(comms) for r in cm.roads if r.kind == "internal"]
    r_geom = np.array([r.geom for _, r in roads], dtype=object)
    r_w = np.array([r.width_m for _, r in roads])
    r_len = shapely.length(r_geom)
    r_comm = np.array([ci for ci, _ in roads])
    r_cum = np.cumsum(r_len)
    r_first = np.searchsorted(r_comm, np.arange(len(comms)), side="left")
    r_last = np.searchsorted(r_comm, np.arange(len(comms)), side="right") - 1
    bounds = shapely.bounds(polys)
    kx = np.array([k.x for k in ks])
    ky = np.array([k.y for k in ks])
    ksx = np.array([k.sx for k in ks])
    ksy = np.array([k.sy for k in ks])
    kcomm = np.array([k.community for k in ks])
    xy = np.zeros((n, 2))

    def sample(idx: np.ndarray) -> None:
        kinds = kind_idx[comp[idx]]
        ci = kcomm[comp[idx]]
        out = np.zeros((len(idx), 2))
        g = kinds <= 3
        out[g, 0] = rng.normal(kx[comp[idx][g]], ksx[comp[idx][g]])
        out[g, 1] = rng.normal(ky[comp[idx][g]], ksy[comp[idx][g]])
        bld = np.flatnonzero(kinds == 2)
        for j in bld:
            doors = ks[comp[idx[j]]].doors
            dx, dy = doors[int(rng.integers(len(doors)))]
            out[j] = (dx + rng.normal(0, 5.0), dy + 1.0 + abs(rng.normal(0, 6.0)))
        bg = np.flatnonzero(kinds == 4)
        on_road = bg[rng.random(len(bg)) < 0.5]
        free = np.setdiff1d(bg, on_road)
        if len(on_road):
            cc = ci[on_road]
            lo = np.where(r_first[cc] > 0, r_cum[r_first[cc] - 1], 0.0)
            hi = r_cum[r_last[cc]]
            tpos = lo + rng.random(len(on_road)) * (hi - lo)
            ri = np.minimum(np.searchsorted(r_cum, tpos, side="right"), len(r_cum) - 1)
            d = tpos - np.where(ri > 0, r_cum[ri - 1], 0.0)
            d = np.clip(d, 1.0, r_len[ri] - 1.0)
            p0 = shapely.get_coordinates(shapely.line_interpolate_point(r_geom[ri], d))
            p1 = shapely.get_coordinates(shapely.line_interpolate_point(r_geom[ri], d + 0.5))
            v = p1 - p0
            v /= np.maximum(np.hypot(v[:, 0], v[:, 1]), 1e-9)[:, None]
            off = (rng.random(len(on_road)) * 2 - 1) * (r_w[ri] / 2 + 3.0)
            out[on_road, 0] = p0[:, 0] - v[:, 1] * off
            out[on_road, 1] = p0[:, 1] + v[:, 0] * off
        if len(free):
            cc = ci[free]
            out[free, 0] = bounds[cc, 0] + rng.random(len(free)) * (bounds[cc, 2] - bounds[cc, 0])
            out[free, 1] = bounds[cc, 1] + rng.random(len(free)) * (bounds[cc, 3] - bounds[cc, 1])
        xy[idx] = out

    for chunk in np.array_split(np.arange(n), max(1, n // 200_000)):
        todo = chunk
        for _round in range(200):
            sample(todo)
            pts = shapely.points(xy[todo])
            bad = np.zeros(len(todo), dtype=bool)
            hit = fp_tree.query(pts, predicate="intersects")
            bad[hit[0]] = True
            inside = c_tree.query(pts, predicate="within")
            ok_comm = np.zeros(len(todo), dtype=bool)
            ok_comm[inside[0][inside[1] == kcomm[comp[todo[inside[0]]]]]] = True
            bad |= ~ok_comm
            todo = todo[bad]
            if not len(todo):
                break
        if len(todo):  # pragma: no cover
            raise AssertionError(f"{len(todo)} incidents could not be placed")
    progress("incidents placed", n, n)

    cat_arr = np.array([c for c, *_ in SUBCATEGORIES])
    category = cat_arr[sub]
    sev = np.empty(n, dtype=np.int64)
    for cat, p in _SEVERITY.items():
        m = category == cat
        sev[m] = rng.choice([1, 2, 3, 4], size=int(m.sum()), p=p)
    src_p = np.tile([0.30, 0.20, 0.10, 0.25, 0.15], (len(SUBCATEGORIES), 1))
    for s, (cat, subc, *_r2) in enumerate(SUBCATEGORIES):
        if subc in ("noise", "parking") or (cat, subc) == ("public_order", "other"):
            src_p[s] = (0.25, 0.15, 0.30, 0.20, 0.10)
        elif cat == "safety_hazard":
            src_p[s] = (0.35, 0.10, 0.05, 0.25, 0.25)
        elif subc in ("lift", "water"):
            src_p[s] = (0.15, 0.30, 0.00, 0.40, 0.15)
    source = np.empty(n, dtype=np.int64)
    for s in range(len(SUBCATEGORIES)):
        m = sub == s
        source[m] = rng.choice(len(SOURCES), size=int(m.sum()), p=src_p[s] / src_p[s].sum())

    # Workflow times; the status is the last step reached before the end of the period.
    now = _sec(PERIOD_END) - 1
    lag = np.where(source == SOURCES.index("camera"), rng.exponential(300, n), rng.exponential(1800, n))
    t_rep = t_occ + lag.astype(np.int64) + 60
    late = t_rep > now
    t_rep[late] = t_occ[late] + (now - t_occ[late]) // 2
    outcome = rng.choice(3, size=n, p=[0.92, 0.04, 0.04])  # normal, rejected, duplicate
    stall = rng.random((n, 4)) < np.array([0.04, 0.04, 0.05, 0.04])
    base = np.array([1.5 * 3600, 4 * 3600, 10 * 3600, 2.0 * 86400])
    slow = np.array([4 * 86400, 3 * 86400, 10 * 86400, 40 * 86400])
    steps = rng.exponential(1.0, (n, 4)) * np.where(stall, slow, base)
    steps[:, 3] *= (1.0 + 0.5 * (sev - 1))
    steps = np.maximum(steps, 120).astype(np.int64)
    t_steps = t_rep[:, None] + np.cumsum(steps, axis=1)  # accepted, assigned, assisting, closed
    t_end = t_rep + np.maximum(rng.exponential(3 * 3600, n), 300).astype(np.int64)
    reached = (t_steps <= now).sum(axis=1)  # 0..4 steps after reported
    status = np.where(outcome == 0, reached + 0, np.where(t_end <= now, 4 + outcome, 0))
    # Every workflow state occurs: the latest incidents take any missing one (as if slower).
    order = np.argsort(t_occ, kind="stable")
    for st_i in range(len(INCIDENT_STATES)):
        if (status == st_i).any():
            continue
        for j in order[::-1]:
            if outcome[j] != 0 or np.sum(status == status[j]) < 2:
                continue
            if st_i <= 4 and status[j] > st_i:
                status[j] = st_i
                break
            if st_i >= 5:
                outcome[j] = st_i - 4
                t_end[j] = max(min(t_end[j], now), t_rep[j] + 60)
                status[j] = st_i
                break
    # time order and refs
    o = order
    res = {
        "t_occ": t_occ[o], "t_rep": t_rep[o], "t_steps": t_steps[o], "t_end": t_end[o],
        "status": status[o], "outcome": outcome[o], "sub": sub[o], "sev": sev[o], "source": source[o],
        "xy": xy[o], "comp": comp[o], "community": kcomm[comp[o]],
    }
    res["kernels"] = np.array(ks, dtype=object)
    return res


# --------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------


class _Wgs84:
    """EPSG:4547 -> EPSG:4326, rounded to 8 decimals, valid polygons, RFC 7946 winding."""

    def __init__(self) -> None:
        self.tr = Transformer.from_crs(METRIC_CRS, "EPSG:4326", always_xy=True)
        self.fixed = 0

    def xy(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lon, lat = self.tr.transform(np.asarray(x, float), np.asarray(y, float))
        return np.round(lon, 8), np.round(lat, 8)

    def geoms(self, geoms: Sequence[Any]) -> np.ndarray:
        arr = np.asarray(geoms, dtype=object)
        out = shapely.transform(arr, lambda c: np.column_stack(self.xy(c[:, 0], c[:, 1])))
        polys = shapely.get_type_id(out) == 3
        if polys.any():
            out[polys] = shapely.orient_polygons(out[polys])
            bad = np.flatnonzero(polys & ~shapely.is_valid(out))
            for i in bad:
                fixedg = _one_polygon(shapely.make_valid(out[i]))
                out[i] = shapely.orient_polygons(fixedg)
                self.fixed += 1
        return out


def _geometry(g: Any) -> dict[str, Any]:
    t = g.geom_type
    if t == "Point":
        return {"type": "Point", "coordinates": [g.x, g.y]}
    if t == "LineString":
        return {"type": "LineString", "coordinates": np.asarray(g.coords).tolist()}
    if t == "Polygon":
        return {"type": "Polygon", "coordinates": [np.asarray(g.exterior.coords).tolist()]
                + [np.asarray(r.coords).tolist() for r in g.interiors]}
    raise TypeError(t)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _write_fc(path: Path, feats: Iterable[tuple[str, dict[str, Any], Any]]) -> int:
    n = 0
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write('{"type":"FeatureCollection","features":[\n')
        for fid, props, geom in feats:
            if n:
                fh.write(",\n")
            fh.write(_dumps({"type": "Feature", "id": fid, "properties": props, "geometry": _geometry(geom)}))
            n += 1
        fh.write("\n]}\n")
    return n


def _csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    n = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        for row in rows:
            w.writerow(row)
            n += 1
    return n


def _write(site: _Site, out_dir: Path, *, seed: int, scale: str, town_meta: dict[str, Any],
           n_incidents: int, ref_prefix: str, rng: np.random.Generator, progress: Progress) -> dict[str, int]:
    out_dir.mkdir(parents=True, exist_ok=True)
    tr = _Wgs84()
    comms = site.communities
    counts: dict[str, int] = {}
    town = dict(town_meta, plan=PLAN, seed=seed, scale=scale)
    (out_dir / "town.json").write_text(json.dumps(town, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    counts["town.json"] = 1

    def grid_code(cm: Community, gi: int) -> str:
        return f"{cm.spec.code}{cm.grids[gi].number:03d}"

    def bcode(cm: Community, b: Building) -> str:
        return f"{cm.spec.code}-{b.number:02d}"

    geoms = tr.geoms([cm.polygon for cm in comms])
    counts["communities.geojson"] = _write_fc(out_dir / "communities.geojson", (
        (cm.spec.code, {"code": cm.spec.code, "name": cm.spec.name, "name_en": cm.spec.name_en,
                        "pinyin": cm.spec.pinyin, "aliases": list(cm.spec.aliases),
                        "buildings": len(cm.buildings), "households": cm.households,
                        "population": cm.population}, g)
        for cm, g in zip(comms, geoms)))

    def grid_feats() -> Iterable[tuple[str, dict[str, Any], Any]]:
        for cm in comms:
            gg = tr.geoms([g.polygon for g in cm.grids])
            for gi, (g, geom) in enumerate(zip(cm.grids, gg)):
                code = grid_code(cm, gi)
                yield code, {"code": code, "name": f"{cm.spec.name}第{g.number}网格",
                             "community_code": cm.spec.code, "households": g.households,
                             "population": g.population, "buildings": len(g.buildings)}, geom
    counts["grids.geojson"] = _write_fc(out_dir / "grids.geojson", grid_feats())

    def building_feats() -> Iterable[tuple[str, dict[str, Any], Any]]:
        for cm in comms:
            gg = tr.geoms([b.footprint for b in cm.buildings])
            for b, geom in zip(cm.buildings, gg):
                code = bcode(cm, b)
                yield code, {"code": code, "number": b.number, "name": b.name,
                             "address": f"{cm.spec.name}{b.name}", "community_code": cm.spec.code,
                             "grid_code": grid_code(cm, b.grid), "floors": b.floors, "height_m": b.height_m,
                             "units": b.units, "households": int(b.households.sum()),
                             "population": int(b.population.sum())}, geom
    counts["buildings.geojson"] = _write_fc(out_dir / "buildings.geojson", building_feats())
    progress("buildings", counts["buildings.geojson"], counts["buildings.geojson"])

    counts["units.csv"] = _csv(out_dir / "units.csv", ["building_code", "number", "households", "population"], (
        (bcode(cm, b), u + 1, int(b.households[u]), int(b.population[u]))
        for cm in comms for b in cm.buildings for u in range(b.units)))

    def road_feats() -> Iterable[tuple[str, dict[str, Any], Any]]:
        rows = [(None, r) for r in site.streets] + [(cm.spec.code, r) for cm in comms for r in cm.roads]
        gg = tr.geoms([r.geom for _, r in rows])
        for k, ((cc, r), geom) in enumerate(zip(rows, gg), start=1):
            yield f"road-{k}", {"name": r.name, "community_code": cc, "width_m": r.width_m, "kind": r.kind}, geom
    counts["roads.geojson"] = _write_fc(out_dir / "roads.geojson", road_feats())

    def place_feats() -> Iterable[tuple[str, dict[str, Any], Any]]:
        rows = [(cm.spec.code, p) for cm in comms for p in cm.places]
        gg = tr.geoms([p.geom for _, p in rows])
        for k, ((cc, p), geom) in enumerate(zip(rows, gg), start=1):
            yield f"place-{k}", {"kind": p.kind, "name": p.name, "community_code": cc}, geom
    counts["key_places.geojson"] = _write_fc(out_dir / "key_places.geojson", place_feats())

    # Cameras: GB/T 28181 ids = 8-digit centre code + 2-digit industry + 132 (IP camera) + 7-digit serial.
    allc = [(ci, cam) for ci, cm in enumerate(comms) for cam in cm.cameras]
    n_cam = len(allc)
    n_bad = int(round(n_cam * rng.uniform(0.025, 0.035)))
    bad = rng.choice(n_cam, size=n_bad, replace=False)
    for j, i in enumerate(bad):
        allc[i][1].status = "offline" if j % 5 < 3 else "fault"
    cx = np.array([cam.x for _, cam in allc])
    cy = np.array([cam.y for _, cam in allc])
    lon, lat = tr.xy(cx, cy)

    def cam_feats() -> Iterable[tuple[str, dict[str, Any], Any]]:
        for k, ((ci, cam), x, y) in enumerate(zip(allc, lon, lat), start=1):
            cm = comms[ci]
            centre = cm.spec.code[:6] + ("10" if scale == "town" else "00")
            code = f"{centre}{'01' if cam.mount != 'pole' or cam.kind != 'bullet' else '00'}132{k:07d}"
            b = cm.buildings[cam.building] if cam.building is not None else None
            yield code, {"code": code, "name": cam.name, "kind": cam.kind, "status": cam.status, "mount": cam.mount,
                         "height_m": cam.height_m, "azimuth_deg": cam.azimuth_deg, "hfov_deg": cam.hfov_deg,
                         "range_m": cam.range_m, "resolution_px": cam.resolution_px,
                         "community_code": cm.spec.code, "building_code": bcode(cm, b) if b is not None else None
                         }, Point(float(x), float(y))
    counts["cameras.geojson"] = _write_fc(out_dir / "cameras.geojson", cam_feats())
    progress("cameras", n_cam, n_cam)

    # Staff: cadres per community, a member per grid, a chief per building and per unit.
    cadres = (_largest_remainder(TOWN_CADRES, [cm.population for cm in comms]) if scale == "town"
              else [int(rng.integers(5, 10)) for _ in comms])
    n_staff = sum(cadres) + sum(len(cm.grids) + len(cm.buildings) + sum(b.units for b in cm.buildings)
                                for cm in comms)
    names = iter(_names(rng, n_staff))
    phones = iter(_phones(rng, n_staff))
    member: dict[str, str] = {}
    chief: dict[str, str] = {}
    staff_rows = []
    for cm, nc in zip(comms, cadres):
        for _ in range(nc):
            staff_rows.append(("cadre", next(names), next(phones), cm.spec.code, "", "", ""))
        for gi in range(len(cm.grids)):
            nm = next(names)
            member[grid_code(cm, gi)] = nm
            staff_rows.append(("grid_member", nm, next(phones), cm.spec.code, grid_code(cm, gi), "", ""))
        for b in cm.buildings:
            nm = next(names)
            chief[bcode(cm, b)] = nm
            staff_rows.append(("building_chief", nm, next(phones), cm.spec.code, "", bcode(cm, b), ""))
        for b in cm.buildings:
            for u in range(1, b.units + 1):
                staff_rows.append(("unit_chief", next(names), next(phones), cm.spec.code, "", bcode(cm, b), u))
    counts["staff.csv"] = _csv(out_dir / "staff.csv", ["role", "name", "phone", "community_code", "grid_code",
                                                       "building_code", "unit_number"], staff_rows)
    del staff_rows

    # Incidents, written in chunks (a million at city scale).
    inc = _incidents(site, n_incidents, rng, scale == "town", progress)
    n = len(inc["t_occ"])
    day_idx = (inc["t_occ"] - _sec(PERIOD_START)) // 86400
    seq = np.arange(n) - np.searchsorted(day_idx, day_idx, side="left") + 1
    near_b = _nearest_building(inc["xy"], inc["community"], comms)
    ks = inc["kernels"]
    tmpl_pick = rng.integers(0, 1000, n)
    suf_pick = rng.integers(0, 4, n)
    place_suffix = ("附近", "楼下", "北侧", "门前")
    cats = [c for c, *_ in SUBCATEGORIES]
    subs = [s for _, s, *_ in SUBCATEGORIES]
    tmpls = [_DESCRIPTIONS[(c, s)] for c, s, *_ in SUBCATEGORIES]
    kname = [k.name if k.kind in ("market", "parking", "square") else None for k in ks]
    addresses = [[f"{cm.spec.name}{b.name}" for b in cm.buildings] for cm in comms]
    src_actor = {"patrol": "网格员巡查", "hotline": "12345热线", "camera": "视频巡查", "resident": "居民上报",
                 "building_chief": "楼长上报"}
    ev_header = ["incident_ref", "seq", "from_status", "to_status", "at", "actor", "note", "assignee"]
    town_scale = scale == "town"
    refs_all: list[str] = []
    with (out_dir / "incidents.csv").open("w", encoding="utf-8", newline="") as fh, \
            (out_dir / "incident_events.csv").open("w", encoding="utf-8", newline="") as fe:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["ref", "category", "subcategory", "source", "severity", "lon", "lat", "occurred_at", "status",
                    "description"])
        we = csv.writer(fe, lineterminator="\n")
        we.writerow(ev_header)
        step = 100_000
        for a in range(0, n, step):
            sl = slice(a, min(n, a + step))
            lon, lat = tr.xy(inc["xy"][sl, 0], inc["xy"][sl, 1])
            days = np.datetime_as_string(inc["t_occ"][sl].astype("datetime64[s]").astype("datetime64[D]"),
                                         unit="D")
            refs = [f"{ref_prefix}-{d[:4]}{d[5:7]}{d[8:]}-{q:04d}" for d, q in zip(days.tolist(), seq[sl].tolist())]
            occ_s = _iso(inc["t_occ"][sl]).tolist()
            rep_s = _iso(inc["t_rep"][sl]).tolist()
            descs = []
            for sub_i, comp_i, ci, bi, tp, sp in zip(inc["sub"][sl].tolist(), inc["comp"][sl].tolist(),
                                                     inc["community"][sl].tolist(), near_b[sl].tolist(),
                                                     tmpl_pick[sl].tolist(), suf_pick[sl].tolist()):
                addr = addresses[ci][bi]
                t = tmpls[sub_i]
                descs.append(t[tp % len(t)].format(b=addr, p=kname[comp_i] or addr + place_suffix[sp]))
            sub_l = inc["sub"][sl].tolist()
            src_l = inc["source"][sl].tolist()
            w.writerows(zip(refs, (cats[i] for i in sub_l), (subs[i] for i in sub_l), (SOURCES[i] for i in src_l),
                            inc["sev"][sl].tolist(), lon.tolist(), lat.tolist(), occ_s,
                            (INCIDENT_STATES[i] for i in inc["status"][sl].tolist()), descs))
            if town_scale:
                refs_all.extend(refs)
            else:  # city scale: only the first event of each incident
                we.writerows((r, 1, "", "reported", t, src_actor[SOURCES[i]], "", "")
                             for r, t, i in zip(refs, rep_s, src_l))
            progress("incidents", sl.stop, n)
        counts["incidents.csv"] = n
        if not town_scale:
            counts["incident_events.csv"] = n
            return counts

        # Town scale: the full history of every incident.
        gtree = shapely.STRtree(np.array([g.polygon for cm in comms for g in cm.grids], dtype=object))
        gcodes = [grid_code(cm, gi) for cm in comms for gi in range(len(cm.grids))]
        gq = gtree.query(shapely.points(inc["xy"]), predicate="intersects")
        inc_grid = np.full(n, -1)
        inc_grid[gq[0]] = gq[1]
        rep_s = _iso(inc["t_rep"])
        step_s = [_iso(inc["t_steps"][:, j]) for j in range(4)]
        end_s = _iso(inc["t_end"])
        centre = "高山镇综治中心"
        last_ref: dict[tuple[int, int], str] = {}
        last_any: dict[int, str] = {}
        n_events = 0
        for i in range(n):
            sub_i = int(inc["sub"][i])
            cat = SUBCATEGORIES[sub_i][0]
            ci = int(inc["community"][i])
            cm, b = comms[ci], comms[ci].buildings[near_b[i]]
            gm = member[gcodes[inc_grid[i]]] if inc_grid[i] >= 0 else centre
            src = SOURCES[inc["source"][i]]
            actor = (f"网格员{gm}" if src == "patrol" else f"楼长{chief[bcode(cm, b)]}" if src == "building_chief"
                     else src_actor[src])
            ev = [(1, "", "reported", rep_s[i], actor, "", "")]
            st_i = int(inc["status"][i])
            if st_i >= 5:
                if st_i == 5:
                    note = "经核实不属于受理范围" if tmpl_pick[i] % 2 else "经核实情况不实"
                else:
                    prev = last_ref.get((sub_i, ci), last_any.get(sub_i))
                    note = f"与{prev}重复" if prev else "重复上报"
                ev.append((2, "reported", INCIDENT_STATES[st_i], end_s[i], centre, note, ""))
            else:
                notes = {
                    1: (centre, "已受理", ""),
                    2: (centre, "派单至网格员", gm),
                    3: (f"网格员{gm}", _NOTES_ASSIST[cat][tmpl_pick[i] % len(_NOTES_ASSIST[cat])], ""),
                    4: (f"网格员{gm}", "已办结，回访群众满意" if tmpl_pick[i] % 3 else "已处理完毕", ""),
                }
                for j in range(1, st_i + 1):
                    actor_j, note, asg = notes[j]
                    ev.append((j + 1, INCIDENT_STATES[j - 1], INCIDENT_STATES[j], step_s[j - 1][i], actor_j, note,
                               asg))
            we.writerows((refs_all[i],) + e for e in ev)
            n_events += len(ev)
            last_ref[(sub_i, ci)] = refs_all[i]
            last_any[sub_i] = refs_all[i]
        counts["incident_events.csv"] = n_events
    return counts


def _nearest_building(xy: np.ndarray, community: np.ndarray, comms: list[Community]) -> np.ndarray:
    """Index (within its community) of the building whose centroid is nearest each point."""
    out = np.zeros(len(xy), dtype=np.int64)
    order = np.argsort(community, kind="stable")
    bounds = np.searchsorted(community[order], np.arange(len(comms) + 1))
    for ci, cm in enumerate(comms):
        idx = order[bounds[ci]:bounds[ci + 1]]
        if not len(idx):
            continue
        cent = shapely.get_coordinates(shapely.centroid([b.footprint for b in cm.buildings]))
        for part in np.array_split(idx, max(1, len(idx) // 5000)):
            dx = xy[part, 0, None] - cent[None, :, 0]
            dy = xy[part, 1, None] - cent[None, :, 1]
            dx *= dx
            dy *= dy
            dx += dy
            out[part] = dx.argmin(axis=1)
    return out


def _centre_offset(site: _Site, lonlat: tuple[float, float]) -> tuple[float, float]:
    tr = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)
    cx, cy = tr.transform(*lonlat)
    allb = shapely.union_all([cm.polygon.envelope for cm in site.communities])
    x0, y0, x1, y1 = allb.bounds
    return round(cx - (x0 + x1) / 2), round(cy - (y0 + y1) / 2)


def generate(*, seed: int = 1, scale: Literal["town", "city"] = "town", out_dir: Path,
             progress: Progress | None = None) -> dict[str, int]:
    """Write a demo data set into ``out_dir``; returns the number of records per file.

    Parameters
    ----------
    seed : int
        The same seed (and library versions) gives byte-identical files.
    scale : {"town", "city"}
        ``town``: Gaoshan Town as in the source — 4 communities, exactly 50 grids, 125
        buildings, 390 units, 32 cadres, 718–745 cameras, ~3,000 incidents with their full
        event history. ``city``: a Datong-sized set for benchmarks — 375 compounds (three
        in four 5–7-storey walk-up estates), about 6,000 grids, 60,000 buildings, 100,000
        cameras, 1,000,000 incidents; there ``incident_events.csv`` holds only the first
        ("reported") event of each incident, although ``incidents.csv`` still carries the
        simulated status.
    out_dir : Path
        Created if missing; existing files of the same names are replaced.
    progress : callable, optional
        ``progress(stage, done, total)``: per community and per 100,000 incidents.

    Files: ``town.json``, ``communities.geojson``, ``grids.geojson``,
    ``buildings.geojson``, ``units.csv``, ``roads.geojson``, ``key_places.geojson``,
    ``cameras.geojson``, ``staff.csv``, ``incidents.csv``, ``incident_events.csv``.
    """
    progress = progress or (lambda s, d, t: None)
    out_dir = Path(out_dir)
    if scale == "town":
        site = build_town(seed, progress)
        meta = {"code": TOWN_CODE, "name": "高山镇", "name_en": "Gaoshan Town", "district_code": DISTRICT_CODE,
                "district": "云冈区", "city": "大同市", "province": "山西省"}
        lonlat, n_inc, prefix = TOWN_LONLAT, int(_rng([seed, 7]).integers(2950, 3051)), "GS"
    elif scale == "city":
        site = build_city(seed, progress)
        meta = {"code": "140200000", "name": "大同市城区（合成）", "name_en": "Datong (synthetic city scale)",
                "district_code": "140200", "district": "（多区）", "city": "大同市", "province": "山西省"}
        lonlat, n_inc, prefix = CITY_LONLAT, 1_000_000, "DT"
    else:
        raise ValueError(f"scale must be 'town' or 'city', not {scale!r}")
    dx, dy = _centre_offset(site, lonlat)
    for cm in site.communities:
        cm.translate(dx, dy)
    off = np.array([dx, dy])
    for r in site.streets:
        r.geom = shapely.transform(r.geom, lambda c: c + off)
    meta["synthetic"] = True
    meta["metric_crs"] = METRIC_CRS
    return _write(site, out_dir, seed=seed, scale=scale, town_meta=meta, n_incidents=n_inc, ref_prefix=prefix,
                  rng=_rng([seed, 8]), progress=progress)
