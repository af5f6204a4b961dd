"""Building footprints prepared for ray casting and overlays: :class:`Obstacles`.

Every function of the package that takes ``obstacles`` accepts an
:class:`Obstacles`, an STRtree or an array of polygons; :func:`as_obstacles`
converts (and caches the conversion of an STRtree).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from shapely import STRtree

__all__ = ["Obstacles", "as_obstacles"]


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


def as_obstacles(obstacles: Any) -> Obstacles:
    """``obstacles`` as :class:`Obstacles` (None: no footprints; an STRtree's conversion is cached)."""
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
