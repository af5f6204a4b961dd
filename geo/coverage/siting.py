"""Where to put new cameras: candidate mounts, the greedy maximal-covering choice, and its budget.

:func:`candidate_sites` lays out realistic mounts (walls, road poles);
:func:`suggest` picks k of them by greedy maximal covering with the existing
coverage fixed; :func:`check_suggest_budget` refuses a suggestion over the work
budget before any view is cast.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import shapely
from shapely import LineString, MultiPolygon, Polygon, STRtree

from geo import budgets as _budgets
from geo.budgets import Budgets, Pacer
from geo.coverage.camera import CameraSpec, camera_arrays
from geo.coverage.obstacles import as_obstacles
from geo.coverage.parallel import chunked
from geo.coverage.visibility import cast_views
from geo.errors import BadInput

__all__ = ["Candidate", "Suggestion", "candidate_sites", "check_suggest_budget", "suggest"]


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
    obs = as_obstacles(obstacles)
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
    obs = as_obstacles(obstacles)
    cand = list(candidates)
    pace = Pacer()  # thousands of small Python steps below: let the rest of the service run between them
    specs = []
    for c in cand:
        pace()
        specs.append(CameraSpec(x=c.x, y=c.y, azimuth_deg=c.azimuth_deg % 360.0, hfov_deg=hfov_deg,
                                range_m=range_m, kind="bullet", mount=c.mount, building_index=c.building_index))
    views = cast_views(camera_arrays(specs, range_m), obs, rays_per_degree=rays_per_degree, corner_rays=True, workers=workers)
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
                inter = chunked(shapely.intersection, [views[ci][vi], pcs[pj]], workers, min_chunk=64)
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
