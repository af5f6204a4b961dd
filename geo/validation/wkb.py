"""WKB (ISO or EWKB) decoded into a GeoJSON-like dict without validating it.

Hand-written because shapely refuses (or repairs) the very input that needs
explaining: an unclosed ring or a ring of three points never reaches GEOS as a
geometry, so it is decoded here and checked structurally by
:mod:`geo.validation.parse`.
"""

from __future__ import annotations

import math
import struct

from geo.validation.problems import Malformed

__all__ = ["wkb_to_mapping"]


def wkb_to_mapping(data: bytes) -> dict:
    """Decode (ISO or EWKB) WKB into a GeoJSON-like dict without validating it."""
    view = memoryview(data)
    pos = 0

    def read(fmt: str, order: str):
        nonlocal pos
        size = struct.calcsize(order + fmt)
        if pos + size > len(view):
            raise Malformed("malformed", "WKB is truncated; send the complete geometry")
        vals = struct.unpack_from(order + fmt, view, pos)
        pos += size
        return vals

    def geom() -> dict:
        (bo,) = read("B", "<")
        if bo not in (0, 1):
            raise Malformed("malformed", "not WKB: bad byte-order mark")
        order = "<" if bo == 1 else ">"
        (t,) = read("I", order)
        has_z = bool(t & 0x80000000)
        has_m = bool(t & 0x40000000)
        if t & 0x20000000:
            read("I", order)  # EWKB SRID
        t &= 0x0FFFFFFF
        base, dims = t % 1000, t // 1000
        if dims in (1, 3):
            has_z = True
        if dims in (2, 3):
            has_m = True
        ndim = 2 + has_z + has_m

        def position():
            vals = read("d" * ndim, order)
            return tuple(vals[: 3 if has_z else 2])

        def points():
            (n,) = read("I", order)
            return [position() for _ in range(n)]

        if base == 1:
            p = position()
            return {"type": "Point", "coordinates": [] if all(math.isnan(c) for c in p) else p}
        if base == 2:
            return {"type": "LineString", "coordinates": points()}
        if base == 3:
            (n,) = read("I", order)
            return {"type": "Polygon", "coordinates": [points() for _ in range(n)]}
        if base in (4, 5, 6, 7):
            (n,) = read("I", order)
            parts = [geom() for _ in range(n)]
            if base == 7:
                return {"type": "GeometryCollection", "geometries": parts}
            name = {4: "MultiPoint", 5: "MultiLineString", 6: "MultiPolygon"}[base]
            return {"type": name, "coordinates": [p["coordinates"] for p in parts]}
        raise Malformed("malformed", f"unsupported WKB geometry type {t}")

    return geom()
