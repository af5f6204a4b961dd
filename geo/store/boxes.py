"""A lon/lat box in the SQL of the store: what the map pages ask of a city is "what lies in this view".

- :data:`Box`: west, south, east, north (WGS84), as ``api.params.lonlat_bbox`` gives it;
- :func:`touches`: the SQL condition "*column* touches the box" (the GiST index, then exact:
  ``&&`` alone compares the index's float4 boxes and lets points just outside through);
- :func:`params`: its bind parameters.

>>> params(None)
{}

>>> touches("i.geom")
'ST_Intersects(i.geom, ST_MakeEnvelope(:bx0, :by0, :bx1, :by1, 4326))'
>>> params((113.1, 40.0, 113.2, 40.1))
{'bx0': 113.1, 'by0': 40.0, 'bx1': 113.2, 'by1': 40.1}
"""

from __future__ import annotations

__all__ = ["Box", "params", "touches"]

#: A lon/lat box (WGS84): west, south, east, north.
Box = tuple[float, float, float, float]


def touches(column: str) -> str:
    return f"ST_Intersects({column}, ST_MakeEnvelope(:bx0, :by0, :bx1, :by1, 4326))"


def params(bbox: Box | None) -> dict[str, float]:
    """The bind parameters of :func:`touches` (none without a box)."""
    return dict(zip(("bx0", "by0", "bx1", "by1"), bbox)) if bbox is not None else {}
