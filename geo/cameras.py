"""Cameras: validation that names the field, and create / update / delete with audit rows.

Positions come in as lon/lat (any accepted CRS) and are stored in WGS84. A camera
inside a building footprint must be wall-mounted; a wall-mounted camera must sit
within ``WALL_TOLERANCE_M`` of a building's outline and is tied to that building
(its view is then computed outward from the wall).
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import Connection, Engine, text

from geo.errors import BadInput, Conflict, NotFound
from geo.points import point_to_wgs84
from geo.store import audit
from geo.vocabulary import CAMERA_KINDS, CAMERA_MOUNTS, CAMERA_STATUSES

WALL_TOLERANCE_M = 1.0
FIELDS = ("code", "name", "kind", "status", "mount", "lon", "lat", "height_m", "azimuth_deg", "hfov_deg",
          "range_m", "resolution_px")


def _bad(field: str, message: str) -> BadInput:
    return BadInput(f"{field}: {message}", details={"field": field})


def _number(data: dict[str, Any], field: str) -> float | None:
    v = data.get(field)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise _bad(field, f"must be a finite number, not {v!r}")
    return float(v)


def validate(data: dict[str, Any]) -> dict[str, Any]:
    """Check a full camera record (after merging a PATCH onto the stored one)."""
    unknown = sorted(set(data) - set(FIELDS) - {"crs", "id"})
    if unknown:
        raise _bad(unknown[0], f"is not a camera field; fields are {', '.join(FIELDS)}")
    code = str(data.get("code") or "")
    if not (len(code) == 20 and code.isdigit()):
        raise _bad("code", f"must be the 20-digit GB/T 28181 device id, not {code!r}")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise _bad("name", "is required (text, at most 200 characters)")
    for field, allowed in (("kind", CAMERA_KINDS), ("status", CAMERA_STATUSES), ("mount", CAMERA_MOUNTS)):
        if data.get(field) not in allowed:
            raise _bad(field, f"must be one of {', '.join(allowed)}, not {data.get(field)!r}")
    azimuth = _number(data, "azimuth_deg")
    if azimuth is None or not 0 <= azimuth < 360:
        raise _bad("azimuth_deg", f"must be in [0, 360) degrees clockwise from north, not {data.get('azimuth_deg')!r}")
    hfov = _number(data, "hfov_deg")
    if hfov is None or not 0 < hfov <= 360:
        raise _bad("hfov_deg", f"the horizontal field of view must be in (0, 360] degrees, not {data.get('hfov_deg')!r}")
    rng = _number(data, "range_m")
    if rng is not None and not 0 < rng <= 2000:
        raise _bad("range_m", f"must be in (0, 2000] metres, not {rng:g}")
    px = data.get("resolution_px")
    if px is not None and (isinstance(px, bool) or not isinstance(px, int) or not 0 < px <= 20000):
        raise _bad("resolution_px", f"must be a whole number of horizontal pixels (1 to 20000), not {px!r}")
    if rng is None and px is None:
        raise _bad("range_m", "give range_m, or resolution_px so a DORI range can be derived")
    height = _number(data, "height_m")
    if height is None:
        height = 3.0
    if not 0 <= height <= 300:
        raise _bad("height_m", f"must be in [0, 300] metres, not {height:g}")
    for f in ("lon", "lat"):
        if _number(data, f) is None:
            raise _bad(f, "is required")
    lon, lat = point_to_wgs84(float(data["lon"]), float(data["lat"]), crs=data.get("crs"))
    return {"code": code, "name": name.strip(), "kind": data["kind"], "status": data["status"],
            "mount": data["mount"], "lon": lon, "lat": lat, "height_m": height, "azimuth_deg": azimuth,
            "hfov_deg": hfov, "range_m": rng, "resolution_px": px}


def _placement(conn: Connection, clean: dict[str, Any]) -> tuple[int | None, int | None]:
    """(community_id, building_id) for a position, refusing a camera inside a footprint unless wall-mounted."""
    point = "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)"
    inside = conn.execute(text(f"SELECT id, code FROM building WHERE ST_Covers(geom, {point}) LIMIT 1"),
                          clean).first()
    wall = conn.execute(text(
        f"SELECT id, code, ST_Distance(ST_Boundary(geom)::geography, {point}::geography) AS d FROM building "
        f"WHERE ST_DWithin(geom::geography, {point}::geography, :tol) ORDER BY d LIMIT 1"),
        {**clean, "tol": WALL_TOLERANCE_M}).first()
    if clean["mount"] == "wall":
        if wall is None:
            raise _bad("mount", f"a wall-mounted camera must be within {WALL_TOLERANCE_M:g} m of a building wall; "
                                "move it onto the wall or use mount=pole")
        building_id = wall.id
    else:
        if inside is not None:
            raise _bad("lon", f"the camera lies inside the footprint of building {inside.code}; mount it on "
                              "the wall (mount=wall) or move it outside the building")
        building_id = None
    community = conn.execute(text(f"SELECT id FROM community WHERE ST_Covers(geom, {point}) LIMIT 1"),
                             clean).scalar()
    return community, building_id


def _row(conn: Connection, camera_id: int) -> dict[str, Any]:
    row = conn.execute(text(
        "SELECT id, code, name, kind, status, mount, ST_X(geom) AS lon, ST_Y(geom) AS lat, height_m, azimuth_deg, "
        "hfov_deg, range_m, resolution_px FROM camera WHERE id = :id"), {"id": camera_id}).mappings().first()
    if row is None:
        raise NotFound(f"no camera with id {camera_id}: GET /v1/cameras lists them")
    return dict(row)


def _write(conn: Connection, clean: dict[str, Any], *, camera_id: int | None) -> int:
    community_id, building_id = _placement(conn, clean)
    params = {**clean, "community_id": community_id, "building_id": building_id, "id": camera_id}
    taken = conn.execute(text("SELECT id FROM camera WHERE code = :code AND id IS DISTINCT FROM :id"), params).first()
    if taken is not None:
        raise Conflict(f"code {clean['code']} is already camera {taken.id}", details={"field": "code"})
    columns = ("code, name, kind, status, mount, height_m, azimuth_deg, hfov_deg, range_m, resolution_px, "
               "community_id, building_id")
    values = (":code, :name, :kind, :status, :mount, :height_m, :azimuth_deg, :hfov_deg, :range_m, "
              ":resolution_px, :community_id, :building_id")
    geom = "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)"
    if camera_id is None:
        return conn.execute(text(f"INSERT INTO camera ({columns}, geom) VALUES ({values}, {geom}) RETURNING id"),
                            params).scalar_one()
    sets = ", ".join(f"{c} = :{c}" for c in columns.split(", "))
    conn.execute(text(f"UPDATE camera SET {sets}, geom = {geom} WHERE id = :id"), params)
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
        raise _bad("crs", "applies only to coordinates sent in the same request: send lon and lat with it "
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
        conn.execute(text("DELETE FROM camera WHERE id = :id"), {"id": camera_id})
        audit.record(conn, actor=actor, action="delete", entity="camera", entity_id=str(camera_id), before=before)


def get(conn: Connection, camera_id: int) -> dict[str, Any]:
    return _row(conn, camera_id)
