"""Camera fields of view, occlusion, coverage, blind spots and new camera sites.

Everything here works in a **metric CRS** (the deployment's ``settings.metric_crs``,
:data:`geo.crs.METRIC_CRS_DEFAULT` unless set: x east, y north, metres) on shapely
geometries and numpy arrays. There is no database access: the caller converts from
WGS84 (:func:`geo.crs.to_metric`) and stores the results (:mod:`geo.coverage_service`
does both for the stored cameras).

Modules
-------
:mod:`geo.coverage.camera`
    :class:`CameraSpec`, DORI levels and ranges (:func:`dori_range`,
    :func:`effective_range`, :func:`best_dori`).
:mod:`geo.coverage.fov`
    Nominal fields of view: sectors and discs, ignoring obstacles.
:mod:`geo.coverage.obstacles`
    :class:`Obstacles`: building footprints prepared for ray casting.
:mod:`geo.coverage.visibility`
    Occlusion-clipped views by vectorised ray casting (the method and its error
    bound are in its docstring), wall-mounted cameras, PTZ envelopes, and the
    naive reference cast.
:mod:`geo.coverage.areas`
    Coverage (the union of views), watchable space, gaps and their statistics.
:mod:`geo.coverage.key_places`
    Whether a key place is watched, by which cameras, at which DORI level.
:mod:`geo.coverage.siting`
    Candidate mounts for new cameras and the greedy maximal-covering choice, with
    its work budget.
:mod:`geo.coverage.parallel`
    Vectorised shapely functions over chunks in threads (used by areas and siting).

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
    sector once everything inside or behind a footprint is removed. How, and
    with what error: :mod:`geo.coverage.visibility`. A camera on a building wall
    sees outward, never into or through its building (same module).

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
>>> import math
>>> from shapely import box
>>> cam = CameraSpec(x=0.0, y=0.0, azimuth_deg=0.0, hfov_deg=90.0, range_m=20.0)
>>> round(nominal_view(cam).area / (math.pi * 20**2 / 4), 4)
0.9999
>>> wall = box(-50.0, 10.0, 50.0, 12.0)          # a long wall 10 m north of the camera
>>> round(visible_view(cam, obstacles=[wall]).area, 1)   # triangle 10 m deep, 20 m wide
100.0
"""

from __future__ import annotations

from geo.coverage.areas import coverage, coverage_stats, gaps, watchable
from geo.coverage.camera import (
    CAMERA_KINDS,
    CAMERA_MOUNTS,
    CAMERA_STATUSES,
    DORI_LEVELS,
    DORI_PPM,
    MAX_RANGE_M,
    CameraSpec,
    best_dori,
    dori_range,
    effective_range,
    pixel_density,
)
from geo.coverage.fov import nominal_view, nominal_views
from geo.coverage.key_places import key_place_coverage
from geo.coverage.obstacles import Obstacles
from geo.coverage.siting import Candidate, Suggestion, candidate_sites, check_suggest_budget, suggest
from geo.coverage.visibility import (
    WALL_CLEARANCE_M,
    naive_visible_view,
    ptz_envelope,
    visible_view,
    visible_views,
)

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
    "check_suggest_budget",
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
