"""Camera storage: camera rows and the buildings and communities a position falls in.

Every function runs on the caller's connection and inside the caller's transaction; the placement
rules (a camera inside a footprint must be wall-mounted, ...) are :mod:`geo.cameras`'.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Row, text

_POINT = "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)"

#: The stored columns a camera is written with (besides its position).
COLUMNS = ("code", "name", "kind", "status", "mount", "height_m", "azimuth_deg", "hfov_deg", "range_m",
           "resolution_px", "community_id", "building_id")


def building_covering(conn: Connection, *, lon: float, lat: float) -> Row[Any] | None:
    """id, code of a building whose footprint covers (lon, lat), or None."""
    return conn.execute(text(f"SELECT id, code FROM building WHERE ST_Covers(geom, {_POINT}) LIMIT 1"),
                        {"lon": lon, "lat": lat}).first()


def nearest_wall(conn: Connection, *, lon: float, lat: float, tolerance_m: float) -> Row[Any] | None:
    """id, code and distance ``d`` (m) of the building whose outline is nearest (lon, lat), among those
    within ``tolerance_m``; None when there is none."""
    return conn.execute(text(
        f"SELECT id, code, ST_Distance(ST_Boundary(geom)::geography, {_POINT}::geography) AS d FROM building "
        f"WHERE ST_DWithin(geom::geography, {_POINT}::geography, :tol) ORDER BY d LIMIT 1"),
        {"lon": lon, "lat": lat, "tol": tolerance_m}).first()


def community_covering(conn: Connection, *, lon: float, lat: float) -> int | None:
    """The id of a community covering (lon, lat), or None."""
    return conn.execute(text(f"SELECT id FROM community WHERE ST_Covers(geom, {_POINT}) LIMIT 1"),
                        {"lon": lon, "lat": lat}).scalar()


def camera(conn: Connection, *, camera_id: int) -> dict[str, Any] | None:
    """A camera's fields (id, code, ..., lon, lat, ..., resolution_px), or None."""
    row = conn.execute(text(
        "SELECT id, code, name, kind, status, mount, ST_X(geom) AS lon, ST_Y(geom) AS lat, height_m, azimuth_deg, "
        "hfov_deg, range_m, resolution_px FROM camera WHERE id = :id"), {"id": camera_id}).mappings().first()
    return None if row is None else dict(row)


def code_owner(conn: Connection, *, code: str, camera_id: int | None) -> int | None:
    """The id of another camera (not ``camera_id``) with this code, or None."""
    return conn.execute(text("SELECT id FROM camera WHERE code = :code AND id IS DISTINCT FROM :id"),
                        {"code": code, "id": camera_id}).scalar()


def insert(conn: Connection, *, fields: Mapping[str, Any]) -> int:
    """A new camera from ``fields`` (every one of :data:`COLUMNS`, and lon, lat); returns its id."""
    columns, values = ", ".join(COLUMNS), ", ".join(f":{c}" for c in COLUMNS)
    return conn.execute(text(f"INSERT INTO camera ({columns}, geom) VALUES ({values}, {_POINT}) RETURNING id"),
                        dict(fields)).scalar_one()


def update(conn: Connection, *, camera_id: int, fields: Mapping[str, Any]) -> None:
    """Overwrite a camera with ``fields`` (every one of :data:`COLUMNS`, and lon, lat)."""
    sets = ", ".join(f"{c} = :{c}" for c in COLUMNS)
    conn.execute(text(f"UPDATE camera SET {sets}, geom = {_POINT} WHERE id = :id"), {**fields, "id": camera_id})


def delete(conn: Connection, *, camera_id: int) -> None:
    conn.execute(text("DELETE FROM camera WHERE id = :id"), {"id": camera_id})
