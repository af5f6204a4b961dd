"""Where a browser test draws a split line: a horizontal line across a grid that misses its buildings."""

from __future__ import annotations

from typing import Any

from shapely.geometry import LineString

#: How far beyond the grid the line starts and ends, degrees (~20 m).
PAD = 0.00025


def split_height(grid: Any, footprints: Any, *, steps: int = 60) -> float:
    """The latitude of the horizontal line across *grid* (``PAD`` beyond it both sides) that touches no
    footprint and cuts it in two with the most even smaller half; AssertionError when there is none."""
    minx, miny, maxx, maxy = grid.bounds
    best = None
    for i in range(1, steps):
        y = miny + (maxy - miny) * i / steps
        line = LineString([(minx - PAD, y), (maxx + PAD, y)])
        if any(line.intersects(f) for f in footprints):
            continue
        parts = grid.difference(line.buffer(1e-7))
        if parts.geom_type == "MultiPolygon" and len(parts.geoms) == 2:
            best = max(best or (0, y), (min(p.area for p in parts.geoms) / grid.area, y))
    assert best, "no line across the grid that misses its buildings"
    return best[1]
