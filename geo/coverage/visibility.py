"""Visible views: a camera's field of view clipped by building footprints (occlusion).

:func:`visible_views` (many cameras at once) and :func:`visible_view` (one) cast
rays; :func:`naive_visible_view` is the obvious per-ray shapely implementation,
kept as a reference; :func:`ptz_envelope` is the disc a PTZ camera reaches by
panning, visible or nominal. :func:`cast_views` is the vectorised cast itself, on
the arrays of :func:`geo.coverage.camera.camera_arrays` (the siting module casts
its candidates with it).

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

"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import shapely
from shapely import LineString, Point, Polygon

from geo.coverage.camera import CameraSpec, camera_arrays, effective_range
from geo.coverage.fov import nominal_view, star_polygons
from geo.coverage.obstacles import Obstacles, as_obstacles

__all__ = [
    "WALL_CLEARANCE_M",
    "cast_views",
    "naive_visible_view",
    "ptz_envelope",
    "visible_view",
    "visible_views",
]

#: How far inside its own footprint a wall camera may stand and still be moved
#: out to its wall (see "Wall-mounted cameras" above).
WALL_CLEARANCE_M = 0.5

_TWO_PI = 2.0 * math.pi
_KEY_STRIDE = 8.0  # > 2 pi: a ray's sort key is camera * 8 + bearing offset
_CORNER_EPS = 1e-7  # rad either side of a corner
_SAME_RAY = 1e-9  # rad: rays closer than this are one ray
_SPAN_TOL = 1e-11  # rad: a ray this close to an edge's end bearing still meets it
_MIN_T = 1e-6  # m: no end point closer than this to the apex (keeps rings simple)


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


#: Cameras per block in :func:`cast_views`: keeps the ray arrays in cache and lets
#: blocks run in parallel threads (numpy and GEOS release the GIL).
_BLOCK = 2048


def cast_views(a: dict[str, np.ndarray], obs: Obstacles, *, rays_per_degree: float,
               corner_rays: bool, workers: int | None = None) -> np.ndarray:
    """The views of the cameras in ``a`` (:func:`geo.coverage.camera.camera_arrays`), in blocks of
    :data:`_BLOCK` cameras run in ``workers`` threads (default one per CPU): see the module docstring."""
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
    views = star_polygons(cx, cy, full, rc, px, py, valid=valid & ~blocked)
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
    a = camera_arrays(specs, range_m)
    return cast_views(a, as_obstacles(obstacles), rays_per_degree=rays_per_degree, corner_rays=corner_rays,
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
    obs = as_obstacles(obstacles)
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
