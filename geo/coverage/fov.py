"""Nominal fields of view: a camera's sector (or disc), ignoring obstacles.

A sector has its apex at the camera, is centred on the azimuth (clockwise from
north) and reaches the camera's range; a fisheye or a 360-degree camera gets the
full disc. The arc is drawn with chords of ``arc_step_deg``: a relative area loss
of ``d^2 / 6`` (``d`` the step in radians), 5e-5 at 1 degree.

:func:`star_polygons` builds the rings of polygons star-shaped about their
camera from end points in bearing order: the sectors here and the ray-cast views
of :mod:`geo.coverage.visibility`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import shapely
from shapely import Polygon

from geo.coverage.camera import CameraSpec, camera_arrays

__all__ = ["nominal_view", "nominal_views", "star_polygons"]

_TWO_PI = 2.0 * math.pi


def nominal_views(specs: Sequence[CameraSpec], *, range_m: float | np.ndarray | None = None,
                  arc_step_deg: float = 1.0) -> np.ndarray:
    """Sectors (or discs) of many cameras, ignoring obstacles: see :func:`nominal_view`."""
    a = camera_arrays(specs, range_m)
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
    return star_polygons(a["cx"], a["cy"], full, cam, px, py, valid=a["rng"] > 0)


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



def star_polygons(cx: np.ndarray, cy: np.ndarray, full: np.ndarray, cam: np.ndarray,
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

