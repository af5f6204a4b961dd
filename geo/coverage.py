"""Camera fields of view, occlusion, coverage, blind spots and new camera sites.

Everything here works in a **metric CRS** (EPSG:4547 by default: x east, y north,
metres) on shapely geometries and numpy arrays. There is no database access: the
caller converts from WGS84 (:func:`geo.crs.to_metric`) and stores the results.

Conventions
-----------
Bearings (``azimuth_deg``) are degrees clockwise from north, so the unit vector of
bearing ``a`` is ``(sin a, cos a)``. A camera's horizontal field of view
``hfov_deg`` is centred on its azimuth; a fisheye (or ``hfov_deg >= 360``) sees
the whole disc.

Fields of view
--------------
:func:`nominal_view`
    The sector (apex at the camera, radius = range) or the disc, its arc drawn
    with ``arc_step_deg`` chords. A chord polygon misses ``r^2 (d - sin d) / 2``
    of each ``d``-radian wedge: a relative area error of ``d^2 / 6`` (5e-5 at 1
    degree).
:func:`visible_view` / :func:`visible_views`
    The view clipped by building footprints (occlusion): what remains of the
    sector once everything inside or behind a footprint is removed.

How the visible polygon is computed, and its error
--------------------------------------------------
The visible region of a camera at ``c`` is star-shaped about ``c``: along each
bearing it reaches the nearest footprint boundary or the range, whichever is
closer. :func:`visible_views` casts rays from ``c`` and joins their end points
in bearing order (apex first for a sector). It is vectorised over all cameras
at once, with no Python loop over cameras or rays:

1. Footprint rings are split into edges (exteriors counter-clockwise, holes
   clockwise, so the solid is always on an edge's left). An edge can be the first
   thing a ray from outside meets only if the camera is on its right (the
   *front* side): back edges are dropped (exact for a camera outside every
   footprint, which is what it means to be outside).
2. One STRtree query of the footprints with every camera's sector bounding box
   gives candidate (camera, edge) pairs; pairs farther than the range or
   outside the field of view are dropped.
3. Rays: ``rays_per_degree`` evenly spaced across the field of view, plus (with
   ``corner_rays=True``, the default) rays at ``+-1e-7`` rad either side of every
   candidate corner within range, and at every bearing where a candidate edge
   crosses the range circle.
4. Each edge spans an interval of bearings; a sorted search finds the rays in
   it, and the ray/edge distances ``t = (p x e) / (u x e)`` of all those
   (ray, edge) pairs are reduced to the nearest per ray (``np.minimum.at``).
   A ray between two rays stopped by the same edge only adds a collinear
   vertex and is dropped (the polygon is unchanged, overlays get faster).
5. The end points become one ring per camera (``shapely.linearrings`` with
   indices): star-shaped about the camera with strictly increasing bearings,
   hence simple and valid. Blocks of 2,048 cameras run in threads.

Why hand-written: shapely/GEOS have no visibility polygon, and the libraries
that do (CGAL's Visibility_2 through scikit-geometry, VisiLibity) compute one
viewpoint per call in an exact-arithmetic arrangement: a Python loop over
100,000 cameras, where this is a few numpy passes over all of them (the
per-ray shapely loop, :func:`naive_visible_view`, is ~150x slower on the demo
town). Nor does shapely build sectors: a buffered point cut by a wedge would
cost two overlays per camera.

**Error.** Between two consecutive rays the polygon is the triangle on their end
points. With corner rays, two consecutive rays that both stop on footprint edges
stop on the *same* edge (any change of the nearest edge happens at a corner or at
a range crossing, and those bearings are cast), so that triangle is exact. Only
two errors remain:

* on the range arc, the chord loses ``r^2 (d - sin d) / 2`` per wedge of
  ``d`` radians: relative ``d^2 / 6``, 1.3e-5 at 2 rays per degree;
* at a silhouette corner seen at distance ``t1`` with the background at ``t2``
  the chord from ``t1`` to ``t2`` spans ``2e-7`` rad, so the view may overlap a
  footprint corner by less than ``t1 * t2 * 1e-7`` (2e-3 m2 at 150 m).

(Footprints that overlap one another add a change of nearest edge where their
edges cross, which is not cast: each such crossing can miss at most one wedge,
``r^2 d / 2``. Building footprints do not overlap.)

Without corner rays (plain casting, ``corner_rays=False``; also what
:func:`naive_visible_view` does) the polygon is wrong inside every wedge whose
two rays stop on different things: at each silhouette corner, the wedge of
``d = pi / (180 k)`` radians at ``k`` rays per degree is either added (the chord
cuts the corner: the view overlaps the footprint) or missed (the shadow edge is
cut), by at most ``r^2 d / 2`` per corner (the whole wedge), and in practice about
``t1 * (t2 - t1) * d / 2``. The tests measure both against 20 rays per degree.

Wall-mounted cameras
--------------------
A camera on a building wall (``building_index`` set) stands up to 0.5 m outside
its wall: its own footprint is then an ordinary obstacle, so it sees outward,
never into or through its building. A position on the wall or up to
:data:`WALL_CLEARANCE_M` inside the footprint (rounding, survey error) is moved
to 1 cm outside the nearest wall along its outward normal first: the building
does not block rays leaving it, and nothing inside or behind it is seen. (Just
ignoring the wall for the first 0.5 m of each ray would be wrong at grazing
bearings, where a ray runs inside the wall for metres.)
A wall camera more than 0.5 m inside its footprint, or any other camera inside
a footprint, is indoors and sees no outdoor space: its view is empty. Where the
move fails (a re-entrant corner), hits on its own footprint closer than 0.5 m
are ignored, its back walls still stop rays, and the footprint is subtracted
from the view.

Coverage and gaps
-----------------
:func:`coverage` is the union of the online cameras' views; :func:`watchable`
is an area minus the footprints; :func:`gaps` is watchable minus covered, split
into parts; :func:`coverage_stats` reports the areas (covered + gaps =
watchable, up to floating point). :func:`key_place_coverage` says whether a key
place is watched, by which cameras, and at which DORI level.

New camera sites
----------------
:func:`candidate_sites` lays out realistic mounts (walls, road poles) and
:func:`suggest` picks k of them by greedy maximal covering with the existing
coverage fixed.

Examples
--------
>>> from shapely import box
>>> cam = CameraSpec(x=0.0, y=0.0, azimuth_deg=0.0, hfov_deg=90.0, range_m=20.0)
>>> round(nominal_view(cam).area / (math.pi * 20**2 / 4), 4)
0.9999
>>> wall = box(-50.0, 10.0, 50.0, 12.0)          # a long wall 10 m north of the camera
>>> round(visible_view(cam, obstacles=[wall]).area, 1)   # triangle 10 m deep, 20 m wide
100.0
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import shapely
from shapely import LineString, MultiPolygon, Point, Polygon, STRtree

from geo import budgets as _budgets
from geo.budgets import Budgets, Pacer
from geo.errors import BadInput

__all__ = [
    "CAMERA_KINDS",
    "CAMERA_MOUNTS",
    "CAMERA_STATUSES",
    "DORI_LEVELS",
    "DORI_PPM",
    "MAX_RANGE_M",
    "WALL_CLEARANCE_M",
    "CameraSpec",
    "Candidate",
    "Obstacles",
    "Suggestion",
    "best_dori",
    "candidate_sites",
    "coverage",
    "coverage_stats",
    "dori_range",
    "effective_range",
    "gaps",
    "key_place_coverage",
    "naive_visible_view",
    "nominal_view",
    "nominal_views",
    "pixel_density",
    "ptz_envelope",
    "suggest",
    "visible_view",
    "visible_views",
    "watchable",
]

DoriLevel = Literal["detect", "observe", "recognise", "identify"]

#: Horizontal pixels per metre of each DORI level (IEC 62676-4).
DORI_PPM: dict[str, float] = {"detect": 25.0, "observe": 62.5, "recognise": 125.0, "identify": 250.0}
#: DORI levels, best first.
DORI_LEVELS: tuple[str, ...] = ("identify", "recognise", "observe", "detect")
CAMERA_KINDS = ("bullet", "dome", "ptz", "fisheye")
CAMERA_MOUNTS = ("pole", "wall", "ceiling")
CAMERA_STATUSES = ("online", "offline", "fault")
#: The longest range a camera may have (the API's limit).
MAX_RANGE_M = 2000.0
#: How far inside its own footprint a wall camera may stand and still be moved
#: out to its wall (see "Wall-mounted cameras" above).
WALL_CLEARANCE_M = 0.5

_TWO_PI = 2.0 * math.pi
_KEY_STRIDE = 8.0  # > 2 pi: a ray's sort key is camera * 8 + bearing offset
_CORNER_EPS = 1e-7  # rad either side of a corner
_SAME_RAY = 1e-9  # rad: rays closer than this are one ray
_SPAN_TOL = 1e-11  # rad: a ray this close to an edge's end bearing still meets it
_MIN_T = 1e-6  # m: no end point closer than this to the apex (keeps rings simple)


# ---------------------------------------------------------------------------
# Cameras and DORI
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CameraSpec:
    """One camera, in metres of the metric CRS.

    Parameters
    ----------
    x, y : float
        Position (easting, northing) in metres.
    azimuth_deg : float
        Centre of the view, degrees clockwise from north, in [0, 360).
    hfov_deg : float
        Horizontal field of view in (0, 360]; a fisheye always sees 360.
    range_m : float or None
        Stored range; ``None`` derives one from the resolution (DORI).
    resolution_px : int or None
        Horizontal pixels.
    kind : {"bullet", "dome", "ptz", "fisheye"}
    mount : {"pole", "wall", "ceiling"}
    height_m : float
        Mount height (kept for callers; the 2-D view does not use it).
    building_index : int or None
        Index, in the obstacles array, of the building the camera is mounted on.
    status : {"online", "offline", "fault"}
        Only online cameras count towards coverage.

    Raises
    ------
    geo.errors.BadInput
        A value out of range; the message names the field.
    """

    x: float
    y: float
    azimuth_deg: float = 0.0
    hfov_deg: float = 90.0
    range_m: float | None = None
    resolution_px: int | None = None
    kind: str = "bullet"
    mount: str = "pole"
    height_m: float = 4.0
    building_index: int | None = None
    status: str = "online"

    def __post_init__(self) -> None:
        def bad(name: str, msg: str) -> BadInput:
            return BadInput(f"{name}={getattr(self, name)!r}: {msg}", details={"field": name})

        for name in ("x", "y", "azimuth_deg", "hfov_deg", "height_m", "range_m"):
            v = getattr(self, name)
            if v is None and name == "range_m":
                continue
            try:
                f = float(v)  # numpy floats, Decimal from a NUMERIC column, ...
            except (TypeError, ValueError):
                raise bad(name, "must be a finite number") from None
            if isinstance(v, bool) or not math.isfinite(f):
                raise bad(name, "must be a finite number")
            object.__setattr__(self, name, f)
        if not 0.0 <= self.azimuth_deg < 360.0:
            raise bad("azimuth_deg", "must be in [0, 360) degrees clockwise from north")
        if not 0.0 < self.hfov_deg <= 360.0:
            raise bad("hfov_deg", "must be in (0, 360]")
        if self.range_m is not None and not (0.0 < self.range_m <= MAX_RANGE_M):
            raise bad("range_m", f"must be in (0, {MAX_RANGE_M:g}] metres, or null to derive it")
        if self.resolution_px is not None and not self.resolution_px > 0:
            raise bad("resolution_px", "must be a positive pixel count")
        if self.kind not in CAMERA_KINDS:
            raise bad("kind", f"must be one of {', '.join(CAMERA_KINDS)}")
        if self.mount not in CAMERA_MOUNTS:
            raise bad("mount", f"must be one of {', '.join(CAMERA_MOUNTS)}")
        if self.status not in CAMERA_STATUSES:
            raise bad("status", f"must be one of {', '.join(CAMERA_STATUSES)}")
        if self.range_m is None and self.resolution_px is None:
            raise bad("range_m", "give a range, or a resolution to derive one from")

    @property
    def online(self) -> bool:
        """True if the camera counts towards coverage."""
        return self.status == "online"

    @property
    def full_circle(self) -> bool:
        """True for a fisheye or a 360-degree field of view."""
        return self.kind == "fisheye" or self.hfov_deg >= 360.0

    @classmethod
    def from_record(cls, record: Mapping[str, Any], *, x: float, y: float,
                    building_index: int | None = None) -> CameraSpec:
        """Build from a camera record (the API / GeoJSON properties) and metric x, y.

        Examples
        --------
        >>> CameraSpec.from_record({"kind": "dome", "hfov_deg": 100, "range_m": 12,
        ...                         "azimuth_deg": 0, "mount": "wall"}, x=1.0, y=2.0).mount
        'wall'
        """
        def num(name: str, default: float | None) -> float | None:
            v = record.get(name, default)
            return None if v is None else float(v)

        res = record.get("resolution_px")
        return cls(
            x=float(x), y=float(y),
            azimuth_deg=num("azimuth_deg", 0.0) % 360.0,
            hfov_deg=num("hfov_deg", 90.0),
            range_m=num("range_m", None),
            resolution_px=None if res is None else int(res),
            kind=record.get("kind") or "bullet",
            mount=record.get("mount") or "pole",
            height_m=num("height_m", 4.0),
            building_index=building_index,
            status=record.get("status") or "online",
        )


def _width_factor(hfov_deg: float, fisheye: bool) -> float:
    """Metres of scene width per metre of distance that the sensor's pixels span.

    A rectilinear lens spreads its pixels over the chord ``2 d tan(hfov / 2)``.
    A fisheye (or any field of view of 180 degrees or more, which no rectilinear
    lens has) spreads them over the arc ``d * hfov`` (radians): for a 360-degree
    fisheye that is the circumference rule ``2 pi d``.
    """
    if fisheye or hfov_deg >= 180.0:
        return math.radians(min(hfov_deg if not fisheye else 360.0, 360.0))
    return 2.0 * math.tan(math.radians(hfov_deg) / 2.0)


def pixel_density(*, resolution_px: float, hfov_deg: float, distance_m: float,
                  fisheye: bool = False) -> float:
    """Horizontal pixels per metre at a distance (see :func:`dori_range`).

    Examples
    --------
    >>> round(pixel_density(resolution_px=1920, hfov_deg=90.0, distance_m=15.36), 9)
    62.5
    """
    if distance_m <= 0:
        return math.inf
    return resolution_px / (distance_m * _width_factor(hfov_deg, fisheye))


def dori_range(*, resolution_px: float, hfov_deg: float, level: DoriLevel = "observe",
               fisheye: bool = False) -> float:
    """Distance at which the horizontal pixel density equals a DORI level.

    ``D = resolution_px / (ppm * 2 tan(hfov / 2))`` for a rectilinear lens, with
    ppm = 25 (detect), 62.5 (observe), 125 (recognise), 250 (identify). A fisheye
    (or a field of view of 180 degrees or more) uses the arc rule
    ``D = resolution_px / (ppm * hfov_rad)``; for 360 degrees the circumference
    rule ``resolution_px / (ppm * 2 pi)``: the horizontal pixels go once round
    the circle of radius D.

    Examples
    --------
    >>> round(dori_range(resolution_px=1920, hfov_deg=90, level="observe"), 9)   # tan 45 is 1 - 1e-16
    15.36
    >>> round(dori_range(resolution_px=3840, hfov_deg=360, level="detect", fisheye=True), 2)
    24.45
    """
    if level not in DORI_PPM:
        raise BadInput(f"level={level!r}: must be one of {', '.join(DORI_PPM)}", details={"field": "level"})
    if not resolution_px > 0 or not 0 < hfov_deg <= 360:
        raise BadInput("resolution_px must be > 0 and hfov_deg in (0, 360]",
                       details={"resolution_px": resolution_px, "hfov_deg": hfov_deg})
    return float(resolution_px / (DORI_PPM[level] * _width_factor(hfov_deg, fisheye)))


def effective_range(spec: CameraSpec, *, default_level: DoriLevel = "observe") -> tuple[float, str | None]:
    """The range a view is drawn with, and the DORI level it means.

    Returns
    -------
    (range_m, level)
        With a stored range: that range, and the best DORI level still reached
        at it (``None`` if the resolution is unknown or even "detect" is not
        reached there). Without: the ``default_level`` range from the
        resolution, and ``default_level``.

    Examples
    --------
    >>> rng, level = effective_range(CameraSpec(x=0, y=0, hfov_deg=90, resolution_px=1920))
    >>> round(rng, 9), level
    (15.36, 'observe')
    >>> effective_range(CameraSpec(x=0, y=0, hfov_deg=90, resolution_px=1920, range_m=30.0))
    (30.0, 'detect')
    """
    fisheye = spec.kind == "fisheye"
    if spec.range_m is not None:
        level = None
        if spec.resolution_px is not None:
            level = _level_at(pixel_density(resolution_px=spec.resolution_px, hfov_deg=spec.hfov_deg,
                                            distance_m=spec.range_m, fisheye=fisheye))
        return float(spec.range_m), level
    assert spec.resolution_px is not None  # CameraSpec guarantees one of the two
    return dori_range(resolution_px=spec.resolution_px, hfov_deg=spec.hfov_deg,
                      level=default_level, fisheye=fisheye), default_level


def _level_at(ppm: float) -> str | None:
    for level in DORI_LEVELS:
        if ppm >= DORI_PPM[level] * (1.0 - 1e-9):
            return level
    return None


def best_dori(spec: CameraSpec, distance_m: float) -> str | None:
    """The best DORI level the camera reaches at a distance.

    ``None`` when the resolution is unknown, the distance is beyond the camera's
    effective range, or the pixel density there is below "detect".

    Examples
    --------
    >>> cam = CameraSpec(x=0, y=0, hfov_deg=90, resolution_px=1920, range_m=40)
    >>> [best_dori(cam, d) for d in (3.0, 7.0, 15.0, 30.0, 50.0)]
    ['identify', 'recognise', 'observe', 'detect', None]
    """
    if spec.resolution_px is None or distance_m > effective_range(spec)[0] * (1 + 1e-9):
        return None
    return _level_at(pixel_density(resolution_px=spec.resolution_px, hfov_deg=spec.hfov_deg,
                                   distance_m=distance_m, fisheye=spec.kind == "fisheye"))


# ---------------------------------------------------------------------------
# Nominal views
# ---------------------------------------------------------------------------


def _arrays(specs: Sequence[CameraSpec], range_m: float | np.ndarray | None) -> dict[str, np.ndarray]:
    n = len(specs)
    cx = np.fromiter((s.x for s in specs), float, n)
    cy = np.fromiter((s.y for s in specs), float, n)
    az = np.fromiter((s.azimuth_deg for s in specs), float, n)
    fov = np.fromiter((360.0 if s.full_circle else s.hfov_deg for s in specs), float, n)
    if range_m is None:
        rng = np.fromiter((effective_range(s)[0] for s in specs), float, n)
    else:
        rng = np.broadcast_to(np.asarray(range_m, dtype=float), (n,)).astype(float)
    own = np.fromiter((-1 if s.building_index is None or s.mount != "wall" else s.building_index
                       for s in specs), np.int64, n)
    return {"cx": cx, "cy": cy, "az": az, "fov": fov, "rng": rng, "own": own}


def nominal_views(specs: Sequence[CameraSpec], *, range_m: float | np.ndarray | None = None,
                  arc_step_deg: float = 1.0) -> np.ndarray:
    """Sectors (or discs) of many cameras, ignoring obstacles: see :func:`nominal_view`."""
    a = _arrays(specs, range_m)
    full = a["fov"] >= 360.0
    n_arc = np.where(full, np.ceil(360.0 / arc_step_deg), np.ceil(a["fov"] / arc_step_deg) + 1).astype(np.int64)
    n_arc = np.maximum(n_arc, np.where(full, 8, 2))
    cam = np.repeat(np.arange(len(specs)), n_arc)
    first = np.cumsum(n_arc) - n_arc
    j = np.arange(cam.size) - first[cam]
    fov_r = np.radians(a["fov"])
    start = np.radians(a["az"]) - fov_r / 2.0
    phi = np.where(full[cam], j * _TWO_PI / n_arc[cam], j * fov_r[cam] / np.maximum(n_arc[cam] - 1, 1))
    theta = start[cam] + phi
    r = a["rng"][cam]
    px = a["cx"][cam] + r * np.sin(theta)
    py = a["cy"][cam] + r * np.cos(theta)
    return _star_polygons(a["cx"], a["cy"], full, cam, px, py, valid=a["rng"] > 0)


def nominal_view(spec: CameraSpec, *, range_m: float | None = None, arc_step_deg: float = 1.0) -> Polygon:
    """The camera's sector, ignoring obstacles.

    Apex at the camera, centred on its azimuth (clockwise from north: direction
    ``(sin az, cos az)``), radius ``range_m`` (default: :func:`effective_range`),
    arc drawn with chords of at most ``arc_step_deg``. A fisheye or a 360-degree
    camera gets the full disc; a PTZ its current sector (see :func:`ptz_envelope`).
    The chords lose a relative area of ``d^2 / 6`` (``d`` the step in radians):
    5e-5 at 1 degree.

    Examples
    --------
    >>> v = nominal_view(CameraSpec(x=0, y=0, azimuth_deg=90, hfov_deg=60, range_m=10))
    >>> v.centroid.x > 0 and abs(v.centroid.y) < 1e-9
    True
    """
    return nominal_views([spec], range_m=range_m, arc_step_deg=arc_step_deg)[0]


def ptz_envelope(spec: CameraSpec, *, range_m: float | None = None, obstacles: Any = None,
                 rays_per_degree: float = 2.0) -> Polygon:
    """The 360-degree disc a PTZ camera can reach by panning (its range around it).

    With ``obstacles``, the visible part of it (:func:`visible_view` of the disc).

    Examples
    --------
    >>> cam = CameraSpec(x=0, y=0, kind="ptz", hfov_deg=60, range_m=10)
    >>> round(ptz_envelope(cam).area / (math.pi * 100), 3)
    1.0
    """
    disc = CameraSpec(x=spec.x, y=spec.y, azimuth_deg=spec.azimuth_deg, hfov_deg=360.0,
                      range_m=spec.range_m, resolution_px=spec.resolution_px, kind=spec.kind,
                      mount=spec.mount, height_m=spec.height_m, building_index=spec.building_index,
                      status=spec.status)
    rng = effective_range(spec)[0] if range_m is None else range_m
    if obstacles is None:
        return nominal_view(disc, range_m=rng, arc_step_deg=1.0 / rays_per_degree)
    return visible_view(disc, obstacles=obstacles, range_m=rng, rays_per_degree=rays_per_degree)


def _star_polygons(cx: np.ndarray, cy: np.ndarray, full: np.ndarray, cam: np.ndarray,
                   px: np.ndarray, py: np.ndarray, *, valid: np.ndarray) -> np.ndarray:
    """Polygons from end points grouped by camera (sorted by bearing within a camera).

    A sector's ring is apex, end points, apex; a full circle's is the end points,
    closed. Cameras with fewer than 2 end points (or not ``valid``) get an empty
    polygon.
    """
    n = cx.size
    counts = np.bincount(cam, minlength=n)
    ok = valid & (counts >= np.where(full, 3, 2))
    keep = ok[cam]
    cam, px, py = cam[keep], px[keep], py[keep]
    counts = np.where(ok, counts, 0)
    extra = np.where(full, 1, 2) * ok
    size = counts + extra
    start = np.cumsum(size) - size
    first_pt = np.cumsum(counts) - counts
    j = np.arange(cam.size) - first_pt[cam]
    pos = start[cam] + j + np.where(full[cam], 0, 1)
    out = np.empty((int(size.sum()), 2))
    out[pos, 0] = px
    out[pos, 1] = py
    sec = np.flatnonzero(ok & ~full)
    out[start[sec]] = np.column_stack([cx[sec], cy[sec]])
    out[start[sec] + size[sec] - 1] = np.column_stack([cx[sec], cy[sec]])
    ful = np.flatnonzero(ok & full)
    out[start[ful] + size[ful] - 1] = out[start[ful]]
    result = np.full(n, shapely.Polygon(), dtype=object)
    okidx = np.flatnonzero(ok)
    if okidx.size:
        ring_of = np.repeat(np.arange(okidx.size), size[okidx])
        rings = shapely.linearrings(out, indices=ring_of)
        result[okidx] = shapely.polygons(rings)
    return result


# ---------------------------------------------------------------------------
# Obstacles
# ---------------------------------------------------------------------------


class Obstacles:
    """Building footprints prepared for ray casting: an STRtree and their edges.

    Build it once and pass it to every call (``visible_views``, ``suggest``, ...);
    plain arrays and STRtrees are accepted too and converted on each call (an
    STRtree's conversion is cached).

    Parameters
    ----------
    polygons : array_like of Polygon or MultiPolygon, or STRtree
        Footprints in metres. Indices (a camera's ``building_index``) refer to
        this order.
    """

    def __init__(self, polygons: Any):
        if isinstance(polygons, STRtree):
            tree = polygons
            polys = np.asarray(tree.geometries, dtype=object)
        else:
            polys = np.asarray(list(polygons) if not isinstance(polygons, np.ndarray) else polygons,
                               dtype=object).reshape(-1)
            tree = STRtree(polys)
        self.polygons: np.ndarray = polys
        self.tree: STRtree = tree
        parts, part_of = shapely.get_parts(polys, return_index=True)
        if parts.size:
            parts = shapely.orient_polygons(parts, exterior_cw=False)  # solid on the left of every edge
            rings, ring_part = shapely.get_rings(parts, return_index=True)
            xy, ring_of_pt = shapely.get_coordinates(rings, return_index=True)
            same = ring_of_pt[:-1] == ring_of_pt[1:]
            a, b = xy[:-1][same], xy[1:][same]
            owner = part_of[ring_part[ring_of_pt[:-1][same]]]
            nonzero = (a != b).any(axis=1)
            a, b, owner = a[nonzero], b[nonzero], owner[nonzero]
            order = np.argsort(owner, kind="stable")
            a, b, owner = a[order], b[order], owner[order]
        else:
            a = b = np.empty((0, 2))
            owner = np.empty(0, np.int64)
        self.ax, self.ay = a[:, 0].copy(), a[:, 1].copy()
        self.bx, self.by = b[:, 0].copy(), b[:, 1].copy()
        self.owner: np.ndarray = owner.astype(np.int64)
        counts = np.bincount(self.owner, minlength=len(polys))
        self.edge_count: np.ndarray = counts
        self.edge_start: np.ndarray = np.cumsum(counts) - counts

    def __len__(self) -> int:
        return len(self.polygons)


_OBSTACLE_CACHE: dict[int, tuple[STRtree, Obstacles]] = {}


def _obstacles(obstacles: Any) -> Obstacles:
    if isinstance(obstacles, Obstacles):
        return obstacles
    if obstacles is None:
        return Obstacles(np.empty(0, dtype=object))
    if isinstance(obstacles, STRtree):
        hit = _OBSTACLE_CACHE.get(id(obstacles))
        if hit is not None and hit[0] is obstacles:
            return hit[1]
        prepared = Obstacles(obstacles)
        if len(_OBSTACLE_CACHE) >= 4:
            _OBSTACLE_CACHE.pop(next(iter(_OBSTACLE_CACHE)))
        _OBSTACLE_CACHE[id(obstacles)] = (obstacles, prepared)
        return prepared
    return Obstacles(obstacles)


# ---------------------------------------------------------------------------
# Visible views (ray casting, vectorised over all cameras)
# ---------------------------------------------------------------------------


def _sector_boxes(cx, cy, start, fov_r, rng, full) -> np.ndarray:
    """Bounding boxes of sectors: apex, both arc ends and any cardinal point in the view."""
    xs = [cx, cx + rng * np.sin(start), cx + rng * np.sin(start + fov_r)]
    ys = [cy, cy + rng * np.cos(start), cy + rng * np.cos(start + fov_r)]
    for b in (0.0, 0.5 * math.pi, math.pi, 1.5 * math.pi):
        inside = full | (np.mod(b - start, _TWO_PI) <= fov_r)
        xs.append(np.where(inside, cx + rng * math.sin(b), np.nan))
        ys.append(np.where(inside, cy + rng * math.cos(b), np.nan))
    X, Y = np.vstack(xs), np.vstack(ys)
    return shapely.box(np.nanmin(X, 0), np.nanmin(Y, 0), np.nanmax(X, 0), np.nanmax(Y, 0))


#: Cameras per block in :func:`_cast`: keeps the ray arrays in cache and lets
#: blocks run in parallel threads (numpy and GEOS release the GIL).
_BLOCK = 2048


def _cast(a: dict[str, np.ndarray], obs: Obstacles, *, rays_per_degree: float,
          corner_rays: bool, workers: int | None = None) -> np.ndarray:
    n = a["cx"].size
    if n <= _BLOCK:
        return _cast_block(a, obs, rays_per_degree=rays_per_degree, corner_rays=corner_rays)
    blocks = [{k: v[i:i + _BLOCK] for k, v in a.items()} for i in range(0, n, _BLOCK)]

    def run(b: dict[str, np.ndarray]) -> np.ndarray:
        return _cast_block(b, obs, rays_per_degree=rays_per_degree, corner_rays=corner_rays)

    nw = workers if workers is not None else min(len(blocks), os.cpu_count() or 1)
    if nw <= 1:
        return np.concatenate([run(b) for b in blocks])
    with ThreadPoolExecutor(max_workers=nw) as pool:
        return np.concatenate(list(pool.map(run, blocks)))


_WALL_SNAP_M = 0.01  # how far outside its wall a snapped wall camera is put


def _snap_wall_cameras(cx: np.ndarray, cy: np.ndarray, own: np.ndarray, obs: Obstacles
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Move wall cameras standing on or just inside their own wall to its outer face.

    A wall camera on, or at most :data:`WALL_CLEARANCE_M` inside, its own footprint
    (rounding, survey error) is moved to 1 cm outside the nearest wall, along that
    wall's outward normal; from there its own building is an ordinary obstacle.
    Returns the new positions and, per camera, the index of the footprint that
    still needs the special treatment where the move failed (a re-entrant
    corner), -2 for a camera more than 0.5 m inside (indoors), -1 otherwise.
    """
    wall = np.flatnonzero(own >= 0)
    special = np.full(cx.size, -1, np.int64)
    if wall.size == 0 or obs.ax.size == 0:
        return cx, cy, special
    on = shapely.intersects_xy(obs.polygons[own[wall]], cx[wall], cy[wall])
    w = wall[on]
    if w.size == 0:
        return cx, cy, special
    cx, cy = cx.copy(), cy.copy()
    cnt = obs.edge_count[own[w]]
    wc = np.repeat(np.arange(w.size), cnt)
    we = np.repeat(obs.edge_start[own[w]], cnt) + (np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt))
    ax, ay = obs.ax[we], obs.ay[we]
    ex, ey = obs.bx[we] - ax, obs.by[we] - ay
    ee = ex * ex + ey * ey
    s = np.clip(((cx[w][wc] - ax) * ex + (cy[w][wc] - ay) * ey) / ee, 0.0, 1.0)
    qx, qy = ax + s * ex, ay + s * ey
    d2 = (cx[w][wc] - qx) ** 2 + (cy[w][wc] - qy) ** 2
    o = np.lexsort((d2, wc))
    first = o[np.r_[0, np.flatnonzero(np.diff(wc[o])) + 1]]
    length = np.sqrt(ee[first])
    # the solid is on an edge's left: its outward normal is the right one, (ey, -ex)
    nx, ny = ey[first] / length, -ex[first] / length
    new_x = qx[first] + _WALL_SNAP_M * nx
    new_y = qy[first] + _WALL_SNAP_M * ny
    shallow = d2[first] <= WALL_CLEARANCE_M**2
    ok = shallow & ~shapely.intersects_xy(obs.polygons[own[w]], new_x, new_y)
    cx[w[ok]], cy[w[ok]] = new_x[ok], new_y[ok]
    special[w[shallow & ~ok]] = own[w[shallow & ~ok]]
    special[w[~shallow]] = -2  # indoors
    return cx, cy, special


def _cast_block(a: dict[str, np.ndarray], obs: Obstacles, *, rays_per_degree: float,
                corner_rays: bool) -> np.ndarray:
    rng = a["rng"]
    n = a["cx"].size
    cx, cy, own = _snap_wall_cameras(a["cx"], a["cy"], a["own"], obs)
    indoors = own == -2
    own = np.where(indoors, -1, own)
    full = a["fov"] >= 360.0
    fov_r = np.radians(np.minimum(a["fov"], 360.0))
    start = np.radians(a["az"]) - fov_r / 2.0
    valid = np.isfinite(rng) & (rng > 0)

    # 1. evenly spaced rays (phi: bearing offset from the start of the view, in [0, fov])
    k = float(rays_per_degree)
    n_u = np.where(full, np.ceil(360.0 * k), np.ceil(a["fov"] * k) + 1).astype(np.int64)
    n_u = np.where(valid, np.maximum(n_u, np.where(full, 8, 2)), 0)
    ray_cam = [np.repeat(np.arange(n), n_u)]
    j = np.arange(ray_cam[0].size) - (np.cumsum(n_u) - n_u)[ray_cam[0]]
    c0 = ray_cam[0]
    ray_phi = [np.where(full[c0], j * _TWO_PI / np.maximum(n_u[c0], 1), j * fov_r[c0] / np.maximum(n_u[c0] - 1, 1))]

    # 2. candidate (camera, edge) pairs
    pc = pe = np.empty(0, np.int64)
    blocked = indoors.copy()  # indoor cameras: empty view
    flagged = np.zeros(n, bool)  # wall cameras whose own footprint must be subtracted
    if obs.ax.size and valid.any():
        vi = np.flatnonzero(valid)
        qc, qo = obs.tree.query(_sector_boxes(cx[vi], cy[vi], start[vi], fov_r[vi], rng[vi], full[vi]))
        qc = vi[qc]
        cnt = obs.edge_count[qo]
        pc = np.repeat(qc, cnt)
        pe = np.repeat(obs.edge_start[qo], cnt) + (np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt))
        # cameras standing inside a footprint (other than a wall camera's own: see above)
        ic, io = obs.tree.query(shapely.points(cx[vi], cy[vi]), predicate="within")
        ic = vi[ic]
        is_own = own[ic] == io
        blocked[ic[~is_own]] = True
        flagged[own >= 0] = True

    pax, pay = obs.ax[pe] - cx[pc], obs.ay[pe] - cy[pc]
    pbx, pby = obs.bx[pe] - cx[pc], obs.by[pe] - cy[pc]
    ex, ey = pbx - pax, pby - pay
    own_pair = own[pc] == obs.owner[pe]
    cross_pe = pax * ey - pay * ex  # p x e < 0: the camera is on the edge's outer side
    ee = ex * ex + ey * ey
    s_near = np.clip(-(pax * ex + pay * ey) / ee, 0.0, 1.0)
    d2 = (pax + s_near * ex) ** 2 + (pay + s_near * ey) ** 2
    r2 = rng[pc] ** 2
    keep = ((cross_pe < 0) | own_pair) & (d2 < r2) & ~blocked[pc]
    th_a = np.arctan2(pax, pay)
    th_b = np.arctan2(pbx, pby)
    phi_a = np.mod(th_a - start[pc], _TWO_PI)
    phi_b = np.mod(th_b - start[pc], _TWO_PI)
    dth = np.mod(th_b - th_a + math.pi, _TWO_PI) - math.pi
    lo = np.where(dth >= 0, phi_a, phi_b)
    hi = lo + np.abs(dth)
    keep &= full[pc] | (lo <= fov_r[pc]) | (hi >= _TWO_PI)
    sel = np.flatnonzero(keep)
    pc, pe, pax, pay, pbx, pby, ex, ey = (v[sel] for v in (pc, pe, pax, pay, pbx, pby, ex, ey))
    own_pair, cross_pe, ee, r2, lo, hi = (v[sel] for v in (own_pair, cross_pe, ee, r2, lo, hi))
    phi_a, phi_b = phi_a[sel], phi_b[sel]

    # 3. rays at corners (either side) and where edges cross the range circle
    if corner_rays and pc.size:
        for phi, px, py in ((phi_a, pax, pay), (phi_b, pbx, pby)):
            near = px * px + py * py < r2
            for eps in (-_CORNER_EPS, _CORNER_EPS):
                ray_cam.append(pc[near])
                ray_phi.append(np.mod(phi[near] + eps, _TWO_PI))
        pe_dot = pax * ex + pay * ey
        disc = pe_dot * pe_dot - ee * (pax * pax + pay * pay - r2)
        has = disc > 0
        root = np.sqrt(np.where(has, disc, 0.0))
        for sgn in (-1.0, 1.0):
            s = (-pe_dot + sgn * root) / ee
            m = has & (s > 0) & (s < 1)
            qx, qy = pax[m] + s[m] * ex[m], pay[m] + s[m] * ey[m]
            ray_cam.append(pc[m])
            ray_phi.append(np.mod(np.arctan2(qx, qy) - start[pc[m]], _TWO_PI))

    # the evenly spaced rays are already in (camera, bearing) order: sort only the
    # extra rays and merge them in (O(n), where a full argsort of all rays is not)
    u_cam, u_phi = ray_cam[0], ray_phi[0]
    u_key = u_cam * _KEY_STRIDE + u_phi
    if len(ray_cam) > 1:
        x_cam = np.concatenate(ray_cam[1:])
        x_phi = np.concatenate(ray_phi[1:])
        inside = (full[x_cam] & (x_phi < _TWO_PI - _SAME_RAY)) | (~full[x_cam] & (x_phi <= fov_r[x_cam]))
        x_cam, x_phi = x_cam[inside], x_phi[inside]
        x_key = x_cam * _KEY_STRIDE + x_phi
        o = np.argsort(x_key, kind="stable")
        x_cam, x_phi, x_key = x_cam[o], x_phi[o], x_key[o]
        total = u_key.size + x_key.size
        at_x = np.searchsorted(u_key, x_key, side="right") + np.arange(x_key.size)
        is_u = np.ones(total, bool)
        is_u[at_x] = False
        key = np.empty(total)
        rc = np.empty(total, np.int64)
        rp = np.empty(total)
        key[is_u], key[at_x] = u_key, x_key
        rc[is_u], rc[at_x] = u_cam, x_cam
        rp[is_u], rp[at_x] = u_phi, x_phi
        distinct = np.ones(total, bool)
        distinct[1:] = (np.diff(key) > _SAME_RAY) | (rc[1:] != rc[:-1])
        key, rc, rp = key[distinct], rc[distinct], rp[distinct]
    else:
        key, rc, rp = u_key, u_cam, u_phi
    theta = start[rc] + rp
    ux, uy = np.sin(theta), np.cos(theta)
    tmin = rng[rc].copy()

    # 4. nearest hit per ray: every (ray, edge) pair with the ray inside the edge's bearing span
    if pc.size:
        base = pc * _KEY_STRIDE
        lo1, hi1 = lo, np.minimum(hi, _TWO_PI)
        wrap = np.flatnonzero(hi > _TWO_PI)
        q_lo = np.concatenate([base + lo1, base[wrap]]) - _SPAN_TOL
        q_hi = np.concatenate([base + hi1, base[wrap] + hi[wrap] - _TWO_PI]) + _SPAN_TOL
        q_pair = np.concatenate([np.arange(pc.size), wrap])
        i0 = np.searchsorted(key, q_lo, side="left")
        i1 = np.searchsorted(key, q_hi, side="right")
        cnt = np.maximum(i1 - i0, 0)
        tot = int(cnt.sum())
        if tot:
            pair = np.repeat(q_pair, cnt)
            ray = np.repeat(i0, cnt) + (np.arange(tot) - np.repeat(np.cumsum(cnt) - cnt, cnt))
            denom = ux[ray] * ey[pair] - uy[ray] * ex[pair]
            with np.errstate(divide="ignore", invalid="ignore"):
                t = cross_pe[pair] / denom
            t = np.where(np.isfinite(t) & (t >= 0), t, np.inf)
            ownp = own_pair[pair]
            ignored = ownp & (t < WALL_CLEARANCE_M)
            if ignored.any():
                flagged[pc[pair[ignored]]] = True
                t = np.where(ignored, np.inf, t)
            np.minimum.at(tmin, ray, t)
            # which edge stopped each ray: a ray between two rays stopped by the same
            # edge adds a collinear vertex, so it is dropped (the polygon is unchanged)
            is_min = t == tmin[ray]
            hit = np.full(tmin.size, -1, np.int64)
            hit[ray[is_min]] = pe[pair[is_min]]
            mid = np.zeros(tmin.size, bool)
            mid[1:-1] = (hit[1:-1] >= 0) & (hit[1:-1] == hit[:-2]) & (hit[1:-1] == hit[2:]) \
                & (rc[:-2] == rc[2:])
            if mid.any():
                kept = ~mid
                rc, tmin, ux, uy = rc[kept], tmin[kept], ux[kept], uy[kept]
    tmin = np.maximum(tmin, _MIN_T)
    px = cx[rc] + tmin * ux
    py = cy[rc] + tmin * uy
    views = _star_polygons(cx, cy, full, rc, px, py, valid=valid & ~blocked)
    fl = np.flatnonzero(flagged & ~blocked & valid)
    if fl.size:
        views[fl] = _polygonal(shapely.difference(views[fl], obs.polygons[own[fl]]))
    return views


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal parts (overlay results may carry stray lines)."""
    out = np.asarray(geoms, dtype=object).copy()
    for i in np.flatnonzero(shapely.get_type_id(out) == 7):  # GeometryCollection
        parts = [p for p in shapely.get_parts(out[i]) if p.geom_type in ("Polygon", "MultiPolygon")]
        out[i] = shapely.union_all(parts) if parts else Polygon()
    return out


def visible_views(specs: Sequence[CameraSpec], *, obstacles: Any = None, rays_per_degree: float = 2.0,
                  range_m: float | np.ndarray | None = None, corner_rays: bool = True,
                  workers: int | None = None) -> np.ndarray:
    """Occlusion-clipped views of many cameras at once (see the module docstring).

    Parameters
    ----------
    specs : sequence of CameraSpec
        In metres.
    obstacles : Obstacles, STRtree or array_like of Polygon, optional
        Building footprints; a camera's ``building_index`` indexes them.
    rays_per_degree : float, default 2
        Evenly spaced rays per degree of field of view (at least 1 is sensible).
    range_m : float or array, optional
        Override the cameras' effective ranges.
    corner_rays : bool, default True
        Also cast at every corner and range crossing: the polygon is then exact
        apart from the range arc's chords (relative ``d^2 / 6``).
    workers : int, optional
        Threads for blocks of 2,048 cameras (default: one per CPU).

    Returns
    -------
    numpy.ndarray of Polygon
        One per camera, in input order; empty for a zero range or an indoor camera.
        A wall camera standing inside its own wall can get a MultiPolygon.
    """
    a = _arrays(specs, range_m)
    return _cast(a, _obstacles(obstacles), rays_per_degree=rays_per_degree, corner_rays=corner_rays,
                 workers=workers)


def visible_view(spec: CameraSpec, *, obstacles: Any = None, rays_per_degree: float = 2.0,
                 range_m: float | None = None, corner_rays: bool = True) -> Polygon:
    """One camera's view clipped by occlusion: what it sees of the ground.

    The nominal sector minus everything inside or behind a footprint, by ray
    casting from the camera (``rays_per_degree`` across the view, plus a ray at
    each corner and range crossing); see the module docstring for the method and
    its error bound.

    Examples
    --------
    >>> from shapely import box
    >>> cam = CameraSpec(x=0, y=0, azimuth_deg=0, hfov_deg=360, range_m=10, kind="fisheye")
    >>> v = visible_view(cam, obstacles=[box(-1, 5, 1, 7)])
    >>> v.contains(Point(0, 4.9)), v.contains(Point(0, 8)), v.contains(Point(3, 8))
    (True, False, True)
    """
    return visible_views([spec], obstacles=obstacles, rays_per_degree=rays_per_degree,
                         range_m=range_m, corner_rays=corner_rays)[0]


def naive_visible_view(spec: CameraSpec, *, obstacles: Any = None, rays_per_degree: float = 2.0,
                       range_m: float | None = None) -> Polygon:
    """Reference ray cast: one shapely LineString per ray, one intersection per footprint.

    The obvious implementation, kept as the peer that ``bench/coverage`` measures
    :func:`visible_views` against and as an independent check in the tests. No
    corner rays: its error is the plain casting bound (module docstring). Wall
    cameras are treated as in :func:`visible_views` (moved out of their wall;
    deeper inside, their own footprint is cut back by a disc of
    :data:`WALL_CLEARANCE_M` around the camera and subtracted at the end).
    """
    obs = _obstacles(obstacles)
    rng = effective_range(spec)[0] if range_m is None else float(range_m)
    full = spec.full_circle
    fov = 360.0 if full else spec.hfov_deg
    start = math.radians(spec.azimuth_deg) - math.radians(fov) / 2
    n = int(math.ceil(360.0 * rays_per_degree)) if full else int(math.ceil(fov * rays_per_degree)) + 1
    own = spec.building_index if spec.mount == "wall" and spec.building_index is not None else -1
    sx, sy, special = _snap_wall_cameras(np.array([spec.x]), np.array([spec.y]), np.array([own]), obs)
    x, y, own = float(sx[0]), float(sy[0]), int(special[0])
    if own == -2:
        return Polygon()
    apex = Point(x, y)
    own_geom = None
    if own >= 0:
        own_geom = obs.polygons[own].difference(apex.buffer(WALL_CLEARANCE_M, quad_segs=16))
    if any(i != own and obs.polygons[i].contains(apex) for i in obs.tree.query(apex)):
        return Polygon()
    pts = []
    for i in range(n):
        th = start + (i * 2 * math.pi / n if full else i * math.radians(fov) / (n - 1))
        end = (x + rng * math.sin(th), y + rng * math.cos(th))
        ray = LineString([(x, y), end])
        best = rng
        for j in obs.tree.query(ray, predicate="intersects"):
            geom = own_geom if j == own else obs.polygons[j]
            hit = ray.intersection(geom)
            if not hit.is_empty:
                best = min(best, apex.distance(hit))
        pts.append((x + best * math.sin(th), y + best * math.cos(th)))
    ring = pts if full else [(x, y), *pts]
    view = Polygon(ring)
    if not view.is_valid:
        view = shapely.make_valid(view)
    if own >= 0:
        view = view.difference(obs.polygons[own])
    return view


# ---------------------------------------------------------------------------
# Coverage, watchable space, gaps
# ---------------------------------------------------------------------------


def _as_multi(g: Any) -> MultiPolygon:
    if g is None or g.is_empty:
        return MultiPolygon()
    if isinstance(g, MultiPolygon):
        return g
    if isinstance(g, Polygon):
        return MultiPolygon([g])
    parts = [p for p in shapely.get_parts(g) if isinstance(p, Polygon) and not p.is_empty]
    return MultiPolygon(parts)


def _threads(workers: int | None, jobs: int) -> int:
    return max(1, min(jobs, workers if workers is not None else (os.cpu_count() or 1)))


def _chunked(fn: Callable[..., np.ndarray], arrays: Sequence[np.ndarray], workers: int | None,
             min_chunk: int = 16) -> np.ndarray:
    """``fn(*arrays)`` (a vectorised shapely function) over chunks in threads."""
    n = len(arrays[0])
    nw = _threads(workers, max(1, n // min_chunk))
    if nw <= 1:
        return fn(*arrays)
    bounds = np.linspace(0, n, nw + 1).astype(int)
    with ThreadPoolExecutor(max_workers=nw) as pool:
        parts = list(pool.map(lambda i: fn(*(x[bounds[i]:bounds[i + 1]] for x in arrays)), range(nw)))
    return np.concatenate(parts)


def _union_disjoint_groups(v: np.ndarray, workers: int | None) -> Any:
    """Union of polygons, split into groups whose bounding boxes never meet.

    Groups are connected components of the bounding-box overlap graph, so
    their unions are disjoint and are simply collected; the groups are spread
    over threads, each running GEOS's DisjointSubsetUnion.
    """
    union = getattr(shapely, "disjoint_subset_union_all", shapely.union_all)
    nw = _threads(workers, v.size // 256)
    if nw <= 1:
        return union(v)
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    a, b = STRtree(v).query(v)
    n_comp, label = connected_components(coo_matrix((np.ones(a.size, np.int8), (a, b)), shape=(v.size, v.size)),
                                         directed=False)
    if n_comp < 2:
        return union(v)
    # deal the components out to nw bins of about equal vertex count
    weight = np.bincount(label, shapely.get_num_coordinates(v), minlength=n_comp)
    load = np.zeros(nw)
    bin_of = np.empty(n_comp, np.int64)
    for c in np.argsort(-weight, kind="stable"):
        j = int(np.argmin(load))
        bin_of[c] = j
        load[j] += weight[c]
    groups = [v[bin_of[label] == j] for j in range(nw)]
    with ThreadPoolExecutor(max_workers=nw) as pool:
        unions = list(pool.map(union, groups))
    parts = shapely.get_parts(np.asarray(unions, dtype=object))
    return MultiPolygon(list(parts[shapely.get_type_id(parts) == 3]))


def coverage(views: Sequence[Polygon] | np.ndarray, *, online_mask: Sequence[bool] | np.ndarray | None = None,
             workers: int | None = None) -> MultiPolygon:
    """The area seen by at least one online camera: the union of their views.

    Parameters
    ----------
    views : array_like of Polygon
        Visible views (:func:`visible_views`).
    online_mask : array_like of bool, optional
        True for cameras that count (status online); offline and faulty cameras
        are shown but not counted. Default: all.
    workers : int, optional
        Threads (default: one per CPU).

    Returns
    -------
    MultiPolygon
        The union. GEOS's DisjointSubsetUnion (shapely >= 2.1) unions each
        cluster of overlapping views on its own, 3x faster than ``union_all``
        on the demo town; clusters whose bounding boxes never meet are spread
        over threads.
    """
    v = np.asarray(views, dtype=object).reshape(-1)
    if online_mask is not None:
        v = v[np.asarray(online_mask, dtype=bool)]
    v = v[~shapely.is_empty(v)]
    if v.size == 0:
        return MultiPolygon()
    return _as_multi(_union_disjoint_groups(v, workers))


def watchable(area: Polygon | MultiPolygon, obstacles: Any, *, workers: int | None = None
              ) -> Polygon | MultiPolygon:
    """Outdoor space a camera could watch: ``area`` minus the building footprints.

    Each part of a MultiPolygon ``area`` (a community, a grid) is cut by only
    the footprints that meet it.

    Examples
    --------
    >>> from shapely import box
    >>> watchable(box(0, 0, 10, 10), [box(2, 2, 4, 4), box(20, 20, 30, 30)]).area
    96.0
    """
    obs = _obstacles(obstacles)
    parts = np.asarray(shapely.get_parts(area), dtype=object)
    if parts.size == 0 or len(obs) == 0:
        return area
    pi, oi = obs.tree.query(parts, predicate="intersects")
    if pi.size == 0:
        return area
    out = parts.copy()
    order = np.argsort(pi, kind="stable")
    pi, oi = pi[order], oi[order]
    cut = np.flatnonzero(np.diff(pi)) + 1
    # footprints rarely overlap: DisjointSubsetUnion is ~50x faster than union_all on them
    union = getattr(shapely, "disjoint_subset_union_all", shapely.union_all)
    met = pi[np.r_[0, cut]]
    blocks = np.array([union(obs.polygons[g]) for g in np.split(oi, cut)], dtype=object)
    out[met] = _chunked(shapely.difference, [parts[met], blocks], workers)
    polys = shapely.get_parts(out)
    polys = polys[(shapely.get_type_id(polys) == 3) & (shapely.area(polys) > 0)]
    if isinstance(area, Polygon) and polys.size == 1:
        return polys[0]
    return MultiPolygon(list(polys))


def _per_part(watch: Any, covered: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parts of ``watch``, and for those a covered part meets, the covered parts as one
    MultiPolygon each: (watch parts, indices of those met, their MultiPolygons)."""
    wparts = np.asarray(shapely.get_parts(watch), dtype=object)
    cov = _as_multi(covered)
    cparts = np.asarray(shapely.get_parts(cov), dtype=object)
    if wparts.size == 0 or cparts.size == 0:
        return wparts, np.empty(0, np.int64), np.empty(0, dtype=object)
    wi, ci = STRtree(cparts).query(wparts, predicate="intersects")
    if wi.size == 0:
        return wparts, np.empty(0, np.int64), np.empty(0, dtype=object)
    met, slot = np.unique(wi, return_inverse=True)
    # the parts of a valid MultiPolygon are disjoint, so any subset is a valid MultiPolygon
    multis = shapely.multipolygons(cparts[ci], indices=slot)
    return wparts, met, multis


def gaps(watchable: Polygon | MultiPolygon, covered: Any, *, min_area_m2: float = 0.0,
         workers: int | None = None) -> list[Polygon]:
    """Blind spots: the parts of ``watchable`` that ``covered`` misses, largest first.

    Parameters
    ----------
    watchable : Polygon or MultiPolygon
        From :func:`watchable`.
    covered : Polygon or MultiPolygon
        From :func:`coverage`.
    min_area_m2 : float, default 0
        Leave out parts smaller than this (slivers along view edges).
    workers : int, optional
        Threads (default: one per CPU).

    Notes
    -----
    Each part of ``watchable`` is differenced with only the covered parts that
    meet it (in threads): the same result as one ``difference`` but much
    cheaper for a town or a city of many compounds.
    """
    wparts, met, multis = _per_part(watchable, covered)
    rest = wparts.copy()
    if met.size:
        rest[met] = _chunked(shapely.difference, [wparts[met], multis], workers)
    parts = np.asarray(shapely.get_parts(rest), dtype=object)
    if parts.size == 0:
        return []
    parts = parts[shapely.get_type_id(parts) == 3]
    areas = shapely.area(parts)
    keep = (areas > 0) & (areas >= min_area_m2)
    order = np.argsort(-areas[keep], kind="stable")
    return list(parts[keep][order])


def coverage_stats(*, area: Polygon | MultiPolygon, obstacles: Any, covered: Any,
                   min_gap_m2: float = 1.0, workers: int | None = None) -> dict[str, float | int]:
    """Coverage of an area (a grid, a community, the town).

    Returns
    -------
    dict
        ``watchable_m2`` (area minus footprints), ``covered_m2`` (watchable and
        seen: an intersection), ``ratio`` (covered / watchable, 0 when nothing is
        watchable), ``gap_m2`` (watchable and unseen: a difference, so
        ``covered_m2 + gap_m2 = watchable_m2`` up to floating point),
        ``largest_gap_m2`` and ``gap_count`` (parts of at least ``min_gap_m2``).

    Examples
    --------
    >>> from shapely import box
    >>> st = coverage_stats(area=box(0, 0, 10, 10), obstacles=[box(0, 0, 2, 2)], covered=box(5, 0, 20, 10))
    >>> st["watchable_m2"], st["covered_m2"], st["ratio"], st["gap_count"]
    (96.0, 50.0, 0.5208333333333334, 1)
    """
    w = watchable(area, obstacles, workers=workers)
    w_m2 = float(w.area)
    wparts, met, multis = _per_part(w, covered)
    c_m2 = 0.0
    if met.size:
        c_m2 = float(shapely.area(_chunked(shapely.intersection, [wparts[met], multis], workers)).sum())
    holes = gaps(w, covered, workers=workers)
    big = [g for g in holes if g.area >= min_gap_m2]
    return {
        "watchable_m2": w_m2,
        "covered_m2": c_m2,
        "ratio": c_m2 / w_m2 if w_m2 > 0 else 0.0,
        "gap_m2": float(sum(g.area for g in holes)),
        "largest_gap_m2": float(big[0].area) if big else 0.0,
        "gap_count": len(big),
    }


# ---------------------------------------------------------------------------
# Key places
# ---------------------------------------------------------------------------


def key_place_coverage(*, place: Point | Polygon, specs: Sequence[CameraSpec], views: Sequence[Polygon],
                       min_fraction: float = 0.5, min_seen_m2: float = 1.0) -> dict[str, Any]:
    """Is a key place watched, by which cameras, and how well?

    Rule: a point is covered if it lies in (or on the edge of) an online
    camera's view. A polygon is covered if the union of the online views sees at
    least ``min_fraction`` (default half) of its area; a camera is listed for it
    if its view sees at least ``min(min_seen_m2, 5% of the place)`` of it.
    ``best_dori`` is the best :func:`best_dori` level over the listed cameras,
    at the distance from each camera to the nearest point of the place it sees.
    Offline and faulty cameras are ignored.

    Returns
    -------
    dict
        ``covered`` (bool), ``cameras`` (indices into ``specs``), ``best_dori``
        (str or None), ``seen_fraction`` (float: 1/0 for a point).
    """
    v = np.asarray(views, dtype=object).reshape(-1)
    online = np.fromiter((s.online for s in specs), bool, len(specs))
    is_point = place.geom_type in ("Point", "MultiPoint")
    idx = np.flatnonzero(online & ~shapely.is_empty(v))
    idx = idx[shapely.intersects(v[idx], place)] if idx.size else idx  # cheap filter before overlays
    apexes = shapely.points([specs[i].x for i in idx], [specs[i].y for i in idx]) if idx.size else np.empty(0)
    if is_point:
        hit = shapely.covers(v[idx], place) if idx.size else np.zeros(0, bool)
        cams = idx[hit]
        dist = shapely.distance(apexes[hit], place) if cams.size else np.empty(0)
        frac = 1.0 if cams.size else 0.0
    else:
        inter = shapely.intersection(v[idx], place) if idx.size else np.empty(0)
        seen = shapely.area(inter) if idx.size else np.empty(0)
        need = min(min_seen_m2, 0.05 * place.area)
        hit = seen >= need if place.area > 0 else np.zeros(idx.size, bool)
        cams = idx[hit]
        dist = shapely.distance(apexes[hit], inter[hit]) if cams.size else np.empty(0)
        frac = float(shapely.union_all(inter[hit]).area / place.area) if cams.size else 0.0
    levels = [best_dori(specs[c], float(d)) for c, d in zip(cams, dist)]
    ranked = [lv for lv in DORI_LEVELS if lv in levels]
    covered = bool(cams.size) if is_point else frac >= min_fraction
    return {"covered": covered, "cameras": [int(c) for c in cams],
            "best_dori": ranked[0] if ranked else None, "seen_fraction": frac}


# ---------------------------------------------------------------------------
# Where to put new cameras
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A realistic mount and direction for a new camera.

    ``site`` groups the azimuths offered at one mount point; ``building_index``
    is the footprint a wall site is on.
    """

    x: float
    y: float
    azimuth_deg: float
    mount: Literal["wall", "pole"]
    site: int
    building_index: int | None = None


@dataclass(frozen=True)
class Suggestion:
    """One pick of :func:`suggest`: where, which way, and what it adds.

    ``added_m2`` is the watchable area it newly covers (given the existing
    coverage and the earlier picks), ``added_incidents`` the incident weight it
    newly covers, ``gain`` the objective it adds, ``view`` its visible polygon,
    ``candidate`` its index in the candidate list.
    """

    x: float
    y: float
    azimuth_deg: float
    mount: str
    building_index: int | None
    candidate: int
    added_m2: float
    added_incidents: float
    gain: float
    view: Polygon


def _bearing_deg(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    return np.mod(np.degrees(np.arctan2(dx, dy)), 360.0)


def candidate_sites(*, obstacles: Any, roads: Sequence[LineString] | None, area: Polygon | MultiPolygon,
                    spacing_m: float = 15.0, wall_offset_m: float = 0.3, wall_spread_deg: float = 45.0,
                    min_wall_m: float = 3.0, pole_offset_m: float = 0.0) -> list[Candidate]:
    """Mount points for new cameras: on building walls and on poles along roads.

    Walls: every exterior wall at least ``min_wall_m`` long of every footprint
    meeting ``area`` gets ``max(1, floor(length / spacing_m))`` sites, evenly
    spread, ``wall_offset_m`` outside the wall, each with three azimuths: the
    wall's outward normal and the normal +- ``wall_spread_deg``. Poles: every
    ``spacing_m`` along each road (``pole_offset_m`` to alternate sides of the
    centre line, 0 = on it), each with four azimuths: both ways along the road
    and both ways across. Sites inside or on a footprint, or outside ``area``,
    are dropped.

    Returns
    -------
    list of Candidate
        Wall sites first, then poles; ``site`` numbers the mount points.
    """
    obs = _obstacles(obstacles)
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    azs: list[np.ndarray] = []
    mounts: list[np.ndarray] = []
    bidx: list[np.ndarray] = []
    if len(obs) and obs.ax.size:
        near = obs.tree.query(area, predicate="intersects")
        e = np.flatnonzero(np.isin(obs.owner, near))
        ax, ay, bx, by = obs.ax[e], obs.ay[e], obs.bx[e], obs.by[e]
        owner = obs.owner[e]
        ex, ey = bx - ax, by - ay
        length = np.hypot(ex, ey)
        # exterior rings are counter-clockwise: the outward normal is on the right
        outer = np.zeros(e.size, bool)
        if e.size:
            ext = shapely.get_exterior_ring(shapely.orient_polygons(obs.polygons[owner], exterior_cw=False))
            mid = shapely.points(ax + ex / 2, ay + ey / 2)
            outer = shapely.dwithin(ext, mid, 1e-6)
        ok = outer & (length >= min_wall_m)
        ax, ay, ex, ey, length, owner = ax[ok], ay[ok], ex[ok], ey[ok], length[ok], owner[ok]
        per = np.maximum(1, np.floor(length / spacing_m)).astype(np.int64)
        w = np.repeat(np.arange(per.size), per)
        i = np.arange(w.size) - np.repeat(np.cumsum(per) - per, per)
        s = (i + 0.5) / per[w]
        nx, ny = ey[w] / length[w], -ex[w] / length[w]
        sx = ax[w] + s * ex[w] + wall_offset_m * nx
        sy = ay[w] + s * ey[w] + wall_offset_m * ny
        normal = _bearing_deg(nx, ny)
        xs.append(sx)
        ys.append(sy)
        azs.append(np.column_stack([normal, normal - wall_spread_deg, normal + wall_spread_deg]))
        mounts.append(np.full(sx.size, "wall", dtype=object))
        bidx.append(owner[w])
    for road in roads or []:
        L = road.length
        if L <= 0:
            continue
        m = max(1, int(L // spacing_m))
        d = (np.arange(m) + 0.5) * (L / m)
        p0 = shapely.line_interpolate_point(road, np.maximum(d - 0.5, 0.0))
        p1 = shapely.line_interpolate_point(road, np.minimum(d + 0.5, L))
        c = shapely.get_coordinates(shapely.line_interpolate_point(road, d))
        t = shapely.get_coordinates(p1) - shapely.get_coordinates(p0)
        t /= np.maximum(np.hypot(t[:, 0], t[:, 1]), 1e-12)[:, None]
        side = np.where(np.arange(m) % 2 == 0, 1.0, -1.0) * pole_offset_m
        px, py = c[:, 0] + side * t[:, 1], c[:, 1] - side * t[:, 0]
        along = _bearing_deg(t[:, 0], t[:, 1])
        xs.append(px)
        ys.append(py)
        azs.append(np.column_stack([along, along + 90.0, along + 180.0, along + 270.0]))
        mounts.append(np.full(m, "pole", dtype=object))
        bidx.append(np.full(m, -1))
    if not xs:
        return []
    x, y = np.concatenate(xs), np.concatenate(ys)
    mount = np.concatenate(mounts)
    b = np.concatenate(bidx)
    ok = shapely.contains_xy(area, x, y) if not area.is_empty else np.zeros(x.size, bool)
    if len(obs):
        pi, _ = obs.tree.query(shapely.points(x, y), predicate="intersects")
        ok[pi] = False
    out: list[Candidate] = []
    site = 0
    k = 0
    pace = Pacer()
    for az_block in azs:
        for row in az_block:
            pace()
            if ok[k]:
                for a in row:
                    out.append(Candidate(x=float(x[k]), y=float(y[k]), azimuth_deg=float(round(a % 360.0, 6) % 360.0),
                                         mount=str(mount[k]), site=site,
                                         building_index=int(b[k]) if b[k] >= 0 else None))
                site += 1
            k += 1
    return out


def _split(geom: Any, tile_m: float) -> np.ndarray:
    """Polygon pieces of ``geom`` no larger than a ``tile_m`` square grid cell."""
    parts = np.asarray(shapely.get_parts(geom), dtype=object)
    parts = parts[shapely.get_type_id(parts) == 3] if parts.size else parts
    if parts.size == 0:
        return parts
    x0, y0, x1, y1 = shapely.total_bounds(parts)
    gx = np.arange(math.floor(x0 / tile_m), math.ceil(x1 / tile_m) + 1) * tile_m
    gy = np.arange(math.floor(y0 / tile_m), math.ceil(y1 / tile_m) + 1) * tile_m
    X, Y = np.meshgrid(gx[:-1], gy[:-1])
    tiles = shapely.box(X.ravel(), Y.ravel(), X.ravel() + tile_m, Y.ravel() + tile_m)
    pi, ti = STRtree(tiles).query(parts, predicate="intersects")
    bounds = shapely.bounds(parts)
    small = ((bounds[:, 2] - bounds[:, 0]) <= tile_m) & ((bounds[:, 3] - bounds[:, 1]) <= tile_m)
    # parts that fit in a tile are kept whole (once); the others are cut by the tiles
    whole = parts[np.unique(pi[small[pi]])] if pi.size else parts[:0]
    cut = ~small[pi]
    pieces = shapely.intersection(parts[pi[cut]], tiles[ti[cut]])
    pieces = np.asarray(shapely.get_parts(pieces), dtype=object)
    out = np.concatenate([whole, pieces[shapely.get_type_id(pieces) == 3]]) if pieces.size else whole
    return out[shapely.area(out) > 1e-9]


def suggest(*, k: int, candidates: Sequence[Candidate], obstacles: Any, covered: Any,
            watchable: Polygon | MultiPolygon,
            weights: np.ndarray | Callable[[np.ndarray], np.ndarray] | None = None,
            hfov_deg: float = 90.0, range_m: float = 40.0, rays_per_degree: float = 1.0,
            incident_weight_m2: float = 100.0, one_per_site: bool = True,
            tile_m: float = 50.0, workers: int | None = None,
            budgets: Budgets | None = None) -> list[Suggestion]:
    """Pick k new cameras: greedy maximal covering with the existing coverage fixed.

    The objective of a set S of new cameras is

        F(S) = area(U ∩ V(S)) + incident_weight_m2 * w(U ∩ V(S))

    where U = ``watchable`` minus ``covered`` (unwatched space), V(S) the union of
    their visible views (hfov_deg, range_m, occluded by the footprints) and w the
    incident measure given by ``weights``:

    * ``None``: w = 0 (area only);
    * an (n, 2) array of incident points in metres (or (n, 3): x, y, weight):
      w(R) = number (total weight) of incidents in R. A density raster can be
      passed as its cell centres with weight = density x cell area;
    * a callable taking an array of polygons and returning one non-negative,
      additive value each (a measure), e.g. integrating a density surface.

    So ``incident_weight_m2`` says how many square metres of newly watched space
    one incident is worth. F is a weighted coverage function: monotone and
    submodular, so the greedy choice (each step, the candidate with the largest
    gain F(S + c) - F(S)) reaches at least (1 - 1/e) ~ 63% of the best k-set
    (Nemhauser, Wolsey & Fisher 1978). Gains are evaluated lazily (CELF:
    a candidate's gain can only shrink, so only candidates whose stale bound
    beats the best fresh gain are recomputed), exactly on polygons: U is cut
    into pieces of at most ``tile_m`` square, and a gain is the sum of
    intersection areas of the view with the pieces it meets.

    We hand-write the greedy instead of using ``spopt.locate.MCLP``: spopt
    solves MCLP as an integer programme over *points* (a demand point is
    covered or not), so it would need the watchable space sampled into points
    and a solver (PuLP/CBC); here coverage is areal, exact, with occluded views,
    and greedy is fast and carries the (1 - 1/e) guarantee.

    Parameters
    ----------
    k : int
        Cameras to propose; fewer are returned if no candidate adds anything.
    candidates : sequence of Candidate
        From :func:`candidate_sites`.
    obstacles : Obstacles, STRtree or array of Polygon
        Footprints (occlusion).
    covered : Polygon or MultiPolygon or None
        Existing coverage (:func:`coverage`), kept fixed.
    watchable : Polygon or MultiPolygon
        Where coverage counts (:func:`watchable`).
    one_per_site : bool, default True
        After a pick, drop the other azimuths of its mount point.
    tile_m : float, default 50
        Size of the pieces the unwatched space is cut into.
    workers : int, optional
        Threads for the ray casting and overlays (default: one per CPU but one, so that a suggestion
        asked over HTTP leaves a core to the service's other requests).
    budgets : geo.budgets.Budgets, optional
        Refuse (:class:`~geo.errors.OverBudget`) more than ``budgets.suggest`` units of work
        (candidate views x k x view area / a 90°, 40 m view's) before any view is cast.

    Returns
    -------
    list of Suggestion
        In pick order; their gains never increase.
    """
    if k <= 0 or not candidates:
        return []
    check_suggest_budget(budgets, candidates=len(candidates), k=k, hfov_deg=hfov_deg, range_m=range_m)
    if workers is None:  # a request's own threads leave a core to the rest of the service (its event loop)
        workers = max(1, (os.cpu_count() or 1) - 1)
    obs = _obstacles(obstacles)
    cand = list(candidates)
    pace = Pacer()  # thousands of small Python steps below: let the rest of the service run between them
    specs = []
    for c in cand:
        pace()
        specs.append(CameraSpec(x=c.x, y=c.y, azimuth_deg=c.azimuth_deg % 360.0, hfov_deg=hfov_deg,
                                range_m=range_m, kind="bullet", mount=c.mount, building_index=c.building_index))
    views = _cast(_arrays(specs, range_m), obs, rays_per_degree=rays_per_degree, corner_rays=True, workers=workers)
    shapely.prepare(views)
    unseen = watchable if covered is None or covered.is_empty else shapely.difference(watchable, covered)
    pieces = _split(unseen, tile_m)

    pts = None
    alive = None
    if isinstance(weights, np.ndarray) or (weights is not None and not callable(weights)):
        arr = np.asarray(weights, dtype=float)
        if arr.ndim != 2 or arr.shape[1] not in (2, 3):
            raise BadInput("weights must be an (n, 2) or (n, 3) array of incident x, y[, weight] in metres",
                           details={"shape": list(arr.shape)})
        pw = arr[:, 2] if arr.shape[1] == 3 else np.ones(len(arr))
        pts = shapely.points(arr[:, 0], arr[:, 1])
        shapely.prepare(unseen)
        alive = shapely.intersects_xy(unseen, arr[:, 0], arr[:, 1]) if not unseen.is_empty else np.zeros(len(arr), bool)
        pt_tree = STRtree(pts)
        incident_pairs = pt_tree.query(views, predicate="intersects")
    measure = weights if callable(weights) else None

    def gains(ci: np.ndarray, tree: STRtree, pcs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        area = np.zeros(ci.size)
        inc = np.zeros(ci.size)
        if pcs.size:
            vi, pj = tree.query(views[ci], predicate="intersects")
            if vi.size:
                inter = _chunked(shapely.intersection, [views[ci][vi], pcs[pj]], workers, min_chunk=64)
                area = np.bincount(vi, shapely.area(inter), minlength=ci.size)
                if measure is not None:
                    inc = np.bincount(vi, np.asarray(measure(inter), dtype=float), minlength=ci.size)
        if pts is not None:
            sel = np.isin(incident_pairs[0], ci)
            vc, pp = incident_pairs[0][sel], incident_pairs[1][sel]
            pos = np.searchsorted(ci, vc)
            inc = np.bincount(pos, pw[pp] * alive[pp], minlength=ci.size)
        return area, inc

    n = len(cand)
    site_of = np.fromiter((c.site for c in cand), np.int64, n)
    available = ~shapely.is_empty(views)
    # first upper bounds, no overlay needed: the whole view, all its live incidents
    bound = shapely.area(views)
    if pts is not None:
        bound = bound + incident_weight_m2 * np.bincount(
            incident_pairs[0], pw[incident_pairs[1]] * alive[incident_pairs[1]], minlength=n)
    elif measure is not None:
        bound = bound + incident_weight_m2 * np.asarray(measure(views), dtype=float)
    fresh = np.full(n, -1)
    area_now = np.zeros(n)
    inc_now = np.zeros(n)
    tree = STRtree(pieces)
    picks: list[Suggestion] = []
    for step in range(k):
        batch = 64
        while True:
            pace()
            masked = np.where(available, bound, -np.inf)
            best = int(np.argmax(masked))
            if not np.isfinite(masked[best]) and masked[best] < 0:
                best = -1
                break
            if fresh[best] == step:
                break
            # recompute the most promising stale bounds, in growing batches
            stale = np.flatnonzero(available & (fresh != step))
            top = np.sort(stale[np.argsort(-bound[stale], kind="stable")[:batch]])
            batch *= 2
            a_, i_ = gains(top, tree, pieces)
            area_now[top], inc_now[top] = a_, i_
            bound[top] = a_ + incident_weight_m2 * i_
            fresh[top] = step
        if best < 0 or bound[best] <= 1e-9:
            break
        c = cand[best]
        v = views[best]
        picks.append(Suggestion(x=c.x, y=c.y, azimuth_deg=c.azimuth_deg, mount=c.mount,
                                building_index=c.building_index, candidate=best,
                                added_m2=float(area_now[best]), added_incidents=float(inc_now[best]),
                                gain=float(bound[best]), view=v))
        # update: remove the new view from the unseen pieces and the incidents
        hit = tree.query(v, predicate="intersects")
        if hit.size:
            rest = shapely.difference(pieces[hit], v)
            rest = np.asarray(shapely.get_parts(rest), dtype=object)
            rest = rest[(shapely.get_type_id(rest) == 3)] if rest.size else rest
            rest = rest[shapely.area(rest) > 1e-9] if rest.size else rest
            keep = np.ones(pieces.size, bool)
            keep[hit] = False
            pieces = np.concatenate([pieces[keep], rest])
            tree = STRtree(pieces)
        if pts is not None:
            alive &= ~shapely.intersects(v, pts)
        available[best] = False
        if one_per_site:
            available &= site_of != c.site
    return picks


def check_suggest_budget(budgets: Budgets | None, *, candidates: int, k: int, hfov_deg: float,
                         range_m: float) -> None:
    """The work of a suggestion (:func:`geo.budgets.suggest_units`) against ``budgets.suggest``.

    Examples
    --------
    >>> check_suggest_budget(Budgets(), candidates=9_000, k=5, hfov_deg=90, range_m=40)
    >>> try:
    ...     check_suggest_budget(Budgets(), candidates=9_000, k=20, hfov_deg=360, range_m=100)
    ... except Exception as e:
    ...     print(e.details)
    {'budget': 500000, 'estimate': 4500000, 'setting': 'GRIDMAP_BUDGET_SUGGEST'}
    """
    if budgets is None:
        return
    factor = max(1.0, _budgets.view_area(hfov_deg, range_m) / _budgets.REFERENCE_VIEW_M2)
    units = _budgets.suggest_units(candidates=candidates, k=k, hfov_deg=hfov_deg, range_m=range_m)
    fewer = int(budgets.suggest // max(candidates * factor, 1))
    ways = [f"fewer cameras (k <= {fewer})"] if 1 <= fewer < k else []
    if factor > 1:
        ways.append("a narrower hfov_deg or a shorter range_m (a view counts by its area: "
                    f"{_budgets.view_area(hfov_deg, range_m):,.0f} m² here, {factor:.1f} x a 90°, 40 m view)")
    ways.append("one grid (grid=CODE) instead of the whole town")
    _budgets.check(
        budgets, "suggest", estimate=units,
        what=(f"the camera suggestion: {candidates:,} candidate views x k={k} x {factor:.1f} (view area) = "
              f"{math.ceil(units):,} units of work"),
        narrow="ask for " + ", or ".join(ways),
    )
