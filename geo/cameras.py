"""Cameras: validation that names the field, and create / update / delete with audit rows.

Positions come in as lon/lat (any accepted CRS) and are stored in WGS84. A camera
inside a building footprint must be wall-mounted; a wall-mounted camera must sit
within ``WALL_TOLERANCE_M`` of a building's outline and is tied to that building
(its view is then computed outward from the wall).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine

from geo.camera_rules import FIELDS, bad_field, validate
from geo.errors import Conflict, NotFound
from geo.store import audit
from geo.store import cameras as store

__all__ = ["FIELDS", "WALL_TOLERANCE_M", "create", "delete", "get", "update", "validate"]

WALL_TOLERANCE_M = 1.0


def _placement(conn: Connection, clean: dict[str, Any]) -> tuple[int | None, int | None]:
    """(community_id, building_id) for a position, refusing a camera inside a footprint unless wall-mounted."""
    at = {"lon": clean["lon"], "lat": clean["lat"]}
    inside = store.building_covering(conn, **at)
    wall = store.nearest_wall(conn, **at, tolerance_m=WALL_TOLERANCE_M)
    if clean["mount"] == "wall":
        if wall is None:
            raise bad_field("mount", f"a wall-mounted camera must be within {WALL_TOLERANCE_M:g} m of a building wall; "
                                "move it onto the wall or use mount=pole")
        building_id = wall.id
    else:
        if inside is not None:
            raise bad_field("lon", f"the camera lies inside the footprint of building {inside.code}; mount it on "
                              "the wall (mount=wall) or move it outside the building")
        building_id = None
    community = store.community_covering(conn, **at)
    return community, building_id


def _row(conn: Connection, camera_id: int) -> dict[str, Any]:
    row = store.camera(conn, camera_id=camera_id)
    if row is None:
        raise NotFound(f"no camera with id {camera_id}: GET /v1/cameras lists them")
    return row


def _write(conn: Connection, clean: dict[str, Any], *, camera_id: int | None) -> int:
    community_id, building_id = _placement(conn, clean)
    fields = {**clean, "community_id": community_id, "building_id": building_id}
    taken = store.code_owner(conn, code=clean["code"], camera_id=camera_id)
    if taken is not None:
        raise Conflict(f"code {clean['code']} is already camera {taken}", details={"field": "code"})
    if camera_id is None:
        return store.insert(conn, fields=fields)
    store.update(conn, camera_id=camera_id, fields=fields)
    return camera_id


def create(engine: Engine, data: dict[str, Any], *, actor: str, on_change: Any = None) -> int:
    clean = validate(data)
    with engine.begin() as conn:
        camera_id = _write(conn, clean, camera_id=None)
        audit.record(conn, actor=actor, action="create", entity="camera", entity_id=str(camera_id), after=clean)
        if on_change:
            on_change(conn, [camera_id])
    return camera_id


def update(engine: Engine, camera_id: int, changes: dict[str, Any], *, actor: str, on_change: Any = None) -> None:
    """Change some fields of a camera. A ``crs`` applies only to ``lon`` and ``lat`` sent in the same
    request (both of them): the stored position is WGS84 and is never re-read in another CRS."""
    moved = {"lon", "lat"} & set(changes)
    if changes.get("crs") is not None and moved != {"lon", "lat"}:
        raise bad_field("crs", "applies only to coordinates sent in the same request: send lon and lat with it "
                          "(or leave crs out; the stored position is WGS84)")
    with engine.begin() as conn:
        before = _row(conn, camera_id)
        merged = {k: v for k, v in before.items() if k != "id"} | changes
        clean = validate(merged)
        _write(conn, clean, camera_id=camera_id)
        audit.record(conn, actor=actor, action="update", entity="camera", entity_id=str(camera_id),
                     before=before, after=clean)
        if on_change:
            on_change(conn, [camera_id])


def delete(engine: Engine, camera_id: int, *, actor: str, on_change: Any = None) -> None:
    with engine.begin() as conn:
        before = _row(conn, camera_id)
        if on_change:
            on_change(conn, [camera_id], deleting=True)
        store.delete(conn, camera_id=camera_id)
        audit.record(conn, actor=actor, action="delete", entity="camera", entity_id=str(camera_id), before=before)


def get(conn: Connection, camera_id: int) -> dict[str, Any]:
    return _row(conn, camera_id)
