"""Key places (gates, squares, schools, ...): watched or not, by which cameras, at which DORI level."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from shapely import Point, Polygon

from geo.coverage.camera import DORI_LEVELS, CameraSpec, best_dori

__all__ = ["key_place_coverage"]


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

