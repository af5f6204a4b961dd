"""Shared by the tests of geo.validation: a shell in Datong, reading the points out of a message, and
hand-made WKB (shapely would refuse to build the broken rings)."""

from __future__ import annotations

import re
import struct

SHELL = [(113.100, 40.050), (113.104, 40.050), (113.104, 40.054), (113.100, 40.054)]
_POINT_RE = re.compile(r"\((-?\d+(?:\.\d+)?), (-?\d+(?:\.\d+)?)\)")


def points_in(message: str) -> list[tuple[float, float]]:
    return [(float(a), float(b)) for a, b in _POINT_RE.findall(message)]


def wkb_polygon(*rings) -> bytes:
    """Hand-made little-endian WKB: shapely would refuse to build these rings."""
    out = struct.pack("<BII", 1, 3, len(rings))
    for ring in rings:
        out += struct.pack("<I", len(ring))
        for x, y in ring:
            out += struct.pack("<dd", x, y)
    return out
