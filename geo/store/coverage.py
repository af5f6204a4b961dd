"""Camera views, per-grid coverage and gap polygons in PostGIS: every query of the coverage feature.

Storage only: rows and WGS84 geometries in and out. What is computed from them (views by ray casting,
coverage, gaps, suggestions, all in the metric CRS) is :mod:`geo.coverage`'s, and the recompute that
ties the two together is :mod:`geo.coverage_service`'s.

Tables (migrations/versions/0002_coverage.py): ``camera_view`` holds each camera's visible view with
a digest of its inputs (``inputs``: the camera's parameters and the footprints near it), so a
recompute finds stale views without recomputing the others; ``grid_coverage`` and ``coverage_gap``
hold the published plan's per-grid figures and gap polygons, keyed by the grid's geometry
(``grid.geom_key``, migration 0010): a plan that takes a grid over unchanged finds its coverage there.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import shapely
from shapely.errors import GEOSException
from sqlalchemy import Connection, Row, text

from geo.store import boxes
from geo.errors import NotFound

__all__ = [
    "any_views",
    "buildings",
    "nearest_buildings",
    "camera_rows",
    "camera_status_counts",
    "delete_gaps",
    "forget_coverage_outside",
    "delete_views",
    "gaps_geojson",
    "grid_coverage_rows",
    "grid_geometry",
    "grids_seen_by_cameras",
    "grids_seen_by_views",
    "grids_without_coverage",
    "insert_gaps",
    "key_place_rows",
    "online_camera_views",
    "online_views",
    "plan_grids",
    "published_plan",
    "recent_incident_points",
    "roads_meeting",
    "storable",
    "storable_many",
    "town_geometry",
    "upsert_grid_coverages",
    "upsert_views",
    "view_feature",
    "view_inputs",
    "views_geojson",
]


def _geoms(wkbs: Sequence[Any]) -> np.ndarray:
    """WKB values of a query as an array of shapely geometries (WGS84)."""
    return np.asarray(shapely.from_wkb([bytes(w) for w in wkbs]), dtype=object) if len(wkbs) \
        else np.array([], dtype=object)


# ---------------------------------------------------------------------------
# Inputs: buildings, cameras, the published plan's grids
# ---------------------------------------------------------------------------


def buildings(conn: Connection) -> tuple[np.ndarray, np.ndarray]:
    """Building ids and footprints (WGS84), in id order."""
    rows = conn.execute(text("SELECT id, ST_AsBinary(geom) FROM building ORDER BY id")).all()
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    return ids, _geoms([r[1] for r in rows])


def nearest_buildings(conn: Connection, points: Sequence[tuple[float, float]]) -> list[dict[str, Any] | None]:
    """The building nearest each (lon, lat) in *points*, in their order: ``{code, name, address, distance_m}``
    (metres, 0 on or inside its footprint); None where there is no building at all."""
    if not points:
        return []
    rows = conn.execute(text("""
        SELECT p.i, b.code, b.name, b.address,
               ST_Distance(b.geom::geography, ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326)::geography)
        FROM unnest(CAST(:lons AS float8[]), CAST(:lats AS float8[])) WITH ORDINALITY AS p(lon, lat, i)
        CROSS JOIN LATERAL (
            SELECT code, name, address, geom FROM building
            ORDER BY geom <-> ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326) LIMIT 1) AS b
        ORDER BY p.i"""), {"lons": [float(x) for x, _ in points], "lats": [float(y) for _, y in points]}).all()
    found = {int(r[0]): {"code": r[1], "name": r[2], "address": r[3], "distance_m": round(float(r[4]), 1)}
             for r in rows}
    return [found.get(i) for i in range(1, len(points) + 1)]


def camera_rows(conn: Connection, *, camera_ids: Sequence[int] | None = None) -> list[Row[Any]]:
    """Cameras (all, or ``camera_ids``) in id order: ``id, lon, lat`` and the fields of a camera spec."""
    return list(conn.execute(text(
        "SELECT id, ST_X(geom) AS lon, ST_Y(geom) AS lat, azimuth_deg, hfov_deg, range_m, resolution_px, kind, "
        "mount, height_m, building_id, status FROM camera "
        "WHERE CAST(:ids AS int[]) IS NULL OR id = ANY(:ids) ORDER BY id"),
        {"ids": list(camera_ids) if camera_ids is not None else None}).all())


def published_plan(conn: Connection) -> int:
    """The published plan's id; :class:`~geo.errors.NotFound` before any plan is published."""
    plan = conn.execute(text("SELECT id FROM grid_plan WHERE status = 'published'")).scalar()
    if plan is None:
        raise NotFound("no plan is published yet: load data (`gridmap demo load`) or publish a plan")
    return plan


def plan_grids(conn: Connection, *, plan_id: int, grid_ids: Sequence[int] | None = None
               ) -> list[tuple[bytes, Any]]:
    """(geometry key, WGS84 geometry) of the plan's grids (all, or ``grid_ids``), in id order."""
    rows = conn.execute(text(
        "SELECT geom_key, ST_AsBinary(geom) FROM grid WHERE plan_id = :p "
        "AND (CAST(:ids AS int[]) IS NULL OR id = ANY(:ids)) ORDER BY id"),
        {"p": plan_id, "ids": list(grid_ids) if grid_ids is not None else None}).all()
    return list(zip([bytes(r[0]) for r in rows], _geoms([r[1] for r in rows])))


def grid_geometry(conn: Connection, *, plan_id: int, code: str) -> bytes:
    """WKB (WGS84) of the plan's grid ``code``; :class:`~geo.errors.NotFound` if it has none."""
    wkb = conn.execute(text("SELECT ST_AsBinary(geom) FROM grid WHERE plan_id = :p AND code = :c"),
                       {"p": plan_id, "c": code}).scalar()
    if wkb is None:
        raise NotFound(f"no grid {code!r} in the published plan: GET /v1/grids lists the codes")
    return bytes(wkb)


def town_geometry(conn: Connection) -> bytes:
    """WKB (WGS84) of the union of the communities."""
    return bytes(conn.execute(text("SELECT ST_AsBinary(ST_Union(geom)) FROM community")).scalar())


def roads_meeting(conn: Connection, *, wkb: bytes) -> np.ndarray:
    """Road centre lines (WGS84) that meet the WGS84 geometry ``wkb``."""
    roads = conn.execute(text("SELECT ST_AsBinary(geom) FROM road WHERE ST_Intersects(geom, ST_GeomFromWKB(:w, 4326))"),
                         {"w": wkb}).scalars().all()
    return _geoms(roads)


def recent_incident_points(conn: Connection, *, wkb: bytes) -> np.ndarray:
    """(n, 2) lon, lat of the last 12 months' incidents (not voided) inside the WGS84 geometry ``wkb``."""
    incidents = conn.execute(text(
        "SELECT ST_X(geom), ST_Y(geom) FROM incident WHERE voided_at IS NULL AND occurred_at >= now() - interval '365 days' "
        "AND ST_Intersects(geom, ST_GeomFromWKB(:w, 4326))"), {"w": wkb}).all()
    return np.array(incidents, dtype=float).reshape(-1, 2)


def key_place_rows(conn: Connection, *, bbox: boxes.Box | None = None) -> list[Row[Any]]:
    """Key places ``(id, kind, name, WKB)`` in id order (those touching *bbox* when given)."""
    where = f"WHERE {boxes.touches('geom')}" if bbox is not None else ""
    return list(conn.execute(text(f"SELECT id, kind, name, ST_AsBinary(geom) FROM key_place {where} ORDER BY id"),
                             boxes.params(bbox)).all())


def online_camera_views(conn: Connection, *, bbox: boxes.Box | None = None) -> list[Row[Any]]:
    """Online cameras with a stored view, in id order: the fields of :func:`camera_rows` plus ``code`` and
    ``view`` (WKB, WGS84); only those whose view touches *bbox* when given."""
    box = f" AND {boxes.touches('v.geom')}" if bbox is not None else ""
    return list(conn.execute(text(
        "SELECT c.id, c.code, ST_X(c.geom) AS lon, ST_Y(c.geom) AS lat, c.azimuth_deg, c.hfov_deg, c.range_m, "
        "c.resolution_px, c.kind, c.mount, c.height_m, c.building_id, c.status, ST_AsBinary(v.geom) AS view "
        f"FROM camera c JOIN camera_view v ON v.camera_id = c.id WHERE c.status = 'online'{box} ORDER BY c.id"),
        boxes.params(bbox)).all())


def coverage_totals(conn: Connection, *, plan_id: int) -> tuple[float, float, int, int]:
    """(watchable m², covered m², grids computed, grids) of the plan's stored coverage."""
    row = conn.execute(text(
        "SELECT coalesce(sum(gc.watchable_m2), 0), coalesce(sum(gc.covered_m2), 0), count(gc.watchable_m2), "
        "count(*) FROM grid g LEFT JOIN grid_coverage gc ON gc.geom_key = g.geom_key WHERE g.plan_id = :p"),
        {"p": plan_id}).one()
    return float(row[0]), float(row[1]), int(row[2]), int(row[3])


def camera_status_counts(conn: Connection) -> dict[str, int]:
    """Cameras per status."""
    return dict(conn.execute(text("SELECT status, count(*) FROM camera GROUP BY status")).all())


# ---------------------------------------------------------------------------
# Camera views
# ---------------------------------------------------------------------------


def view_inputs(conn: Connection) -> dict[int, str]:
    """Camera id -> the digest of the inputs its stored view was computed from."""
    return dict(conn.execute(text("SELECT camera_id, inputs FROM camera_view")).all())


def upsert_views(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Store cameras' views and what they were computed from, in one executemany (psycopg pipelines it:
    one round trip for the batch, where a statement per camera made a city's 101,126 views cost ~70 s).

    Each row: ``camera_id``, ``geom`` (WGS84, already :func:`storable`), ``area_m2``, ``range_m``,
    ``range_level``, ``rays_per_degree``, ``inputs`` (the digest)."""
    if not rows:
        return
    conn.execute(text("""
        INSERT INTO camera_view (camera_id, geom, area_m2, range_m, range_level, rays_per_degree, inputs)
        VALUES (:camera_id, ST_GeomFromWKB(:wkb, 4326), :area_m2, :range_m, :range_level, :rays_per_degree, :inputs)
        ON CONFLICT (camera_id) DO UPDATE SET geom = EXCLUDED.geom, area_m2 = EXCLUDED.area_m2,
          range_m = EXCLUDED.range_m, range_level = EXCLUDED.range_level,
          rays_per_degree = EXCLUDED.rays_per_degree, inputs = EXCLUDED.inputs, computed_at = now()"""),
        [{**{k: v for k, v in r.items() if k != "geom"}, "wkb": shapely.to_wkb(r["geom"])} for r in rows])


def delete_views(conn: Connection, *, camera_ids: Sequence[int]) -> None:
    conn.execute(text("DELETE FROM camera_view WHERE camera_id = ANY(:ids)"), {"ids": list(camera_ids)})


def any_views(conn: Connection) -> bool:
    """True once any camera view is stored."""
    return bool(conn.execute(text("SELECT EXISTS (SELECT 1 FROM camera_view)")).scalar())


def online_views(conn: Connection, *, envelope_wkb: bytes | None = None) -> np.ndarray:
    """Stored views (WGS84) of the online cameras, those whose bounding box meets ``envelope_wkb`` if given."""
    rows = conn.execute(text(
        "SELECT ST_AsBinary(v.geom) FROM camera_view v JOIN camera c ON c.id = v.camera_id "
        "WHERE c.status = 'online' AND (CAST(:env AS bytea) IS NULL OR v.geom && ST_GeomFromWKB(:env, 4326))"),
        {"env": envelope_wkb}).scalars().all()
    return _geoms(rows)


def grids_seen_by_views(conn: Connection, *, camera_ids: Sequence[int]) -> set[int]:
    """Published grids the stored views of ``camera_ids`` meet."""
    return set(conn.execute(text(
        "SELECT g.id FROM grid g JOIN grid_plan p ON p.id = g.plan_id AND p.status = 'published' "
        "JOIN camera_view v ON ST_Intersects(g.geom, v.geom) WHERE v.camera_id = ANY(:ids)"),
        {"ids": list(camera_ids)}).scalars())


def grids_seen_by_cameras(conn: Connection, *, camera_ids: Sequence[int]) -> set[int]:
    """Published grids each of ``camera_ids`` meets with its stored view (or its position, without one)."""
    return set(conn.execute(text(
        "SELECT g.id FROM grid g JOIN grid_plan p ON p.id = g.plan_id AND p.status = 'published' "
        "JOIN camera c ON true LEFT JOIN camera_view v ON v.camera_id = c.id "
        "WHERE c.id = ANY(:ids) AND ST_Intersects(g.geom, coalesce(v.geom, c.geom))"),
        {"ids": list(camera_ids)}).scalars())


def view_feature(conn: Connection, *, camera_id: int) -> dict[str, Any]:
    """One camera's stored view as a GeoJSON Feature."""
    row = conn.execute(text(
        "SELECT c.id, c.code, c.status, v.area_m2, v.range_m, v.range_level, v.rays_per_degree, v.computed_at, "
        "ST_AsGeoJSON(v.geom, 7) AS g FROM camera c LEFT JOIN camera_view v ON v.camera_id = c.id WHERE c.id = :id"),
        {"id": camera_id}).first()
    if row is None:
        raise NotFound(f"no camera with id {camera_id}: GET /v1/cameras lists them")
    if row.g is None:
        raise NotFound(f"camera {camera_id} has no computed view yet: run `gridmap coverage recompute`")
    return {"type": "Feature", "id": row.id, "geometry": json.loads(row.g), "properties": {
        "id": row.id, "camera_id": row.id, "code": row.code, "status": row.status, "area_m2": round(row.area_m2, 2),
        "range_m": row.range_m, "range_level": row.range_level, "rays_per_degree": row.rays_per_degree,
        "computed_at": row.computed_at.isoformat(), "counted": row.status == "online"}}


def views_geojson(conn: Connection) -> dict[str, Any]:
    """Every camera's stored visible view (offline and faulty ones too, marked as not counted)."""
    rows = conn.execute(text(
        "SELECT c.id, c.code, c.name, c.kind, c.status, c.mount, v.area_m2, v.range_m, v.range_level, "
        "ST_AsGeoJSON(v.geom, 7) AS g FROM camera c JOIN camera_view v ON v.camera_id = c.id ORDER BY c.id")).all()
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": r.id, "geometry": json.loads(r.g),
         "properties": {"id": r.id, "camera_id": r.id, "code": r.code, "name": r.name, "kind": r.kind,
                        "status": r.status, "mount": r.mount, "area_m2": round(r.area_m2, 2), "range_m": r.range_m,
                        "range_level": r.range_level, "counted": r.status == "online"}} for r in rows]}


# ---------------------------------------------------------------------------
# Per-grid coverage and gaps
# ---------------------------------------------------------------------------


def storable(g: Any) -> Any:
    """A gap polygon reprojected to WGS84, made valid on a 1e-9° grid for the database's CHECK.

    Reprojection can leave a valid metric polygon slightly invalid (a hole touching its shell);
    ``set_precision`` on such input raises a GEOS TopologyException (seen once in the 6,087 grids of
    the city set), so it is repaired first.
    """
    g = shapely.make_valid(g)
    try:
        return shapely.make_valid(shapely.set_precision(g, 1e-9))
    except GEOSException:
        return g


def storable_many(gs: Any) -> Any:
    """:func:`storable` of an array of polygons: those valid after reprojection as they are (GEOS decides
    validity here as PostGIS will, on the same doubles: WKB carries them exactly), the others repaired
    one array at a time (one by one if that fails). A city's 42,000 gaps: ~18 s of repairs saved."""
    out = np.asarray(gs, dtype=object).copy()
    bad = np.flatnonzero(~shapely.is_valid(out))
    if bad.size:
        fixed = shapely.make_valid(out[bad])
        try:
            out[bad] = shapely.make_valid(shapely.set_precision(fixed, 1e-9))
        except GEOSException:  # one of them: repair them one by one, as storable does
            out[bad] = [storable(g) for g in fixed]
    return out


def delete_gaps(conn: Connection, *, keys: Sequence[bytes]) -> None:
    """Remove the gap polygons of the grid geometries ``keys``."""
    conn.execute(text("DELETE FROM coverage_gap WHERE geom_key = ANY(:k)"), {"k": list(keys)})


def insert_gaps(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Store gap polygons (``key``: the grid's geometry key, ``area_m2``, ``geom``: WGS84, already
    :func:`storable`) in one executemany (psycopg pipelines it: one round trip for the batch)."""
    if rows:
        conn.execute(text("INSERT INTO coverage_gap (geom_key, area_m2, geom) VALUES (:k, :a, ST_GeomFromWKB(:w, 4326))"),
                     [{"k": r["key"], "a": r["area_m2"], "w": shapely.to_wkb(r["geom"])} for r in rows])


def upsert_grid_coverages(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Store grids' coverage (``key`` (the grid's geometry key), ``watchable_m2, covered_m2, ratio,
    largest_gap_m2, gap_count``)."""
    if not rows:
        return
    conn.execute(text("""
        INSERT INTO grid_coverage (geom_key, watchable_m2, covered_m2, ratio, largest_gap_m2, gap_count)
        VALUES (:key, :watchable_m2, :covered_m2, :ratio, :largest_gap_m2, :gap_count)
        ON CONFLICT (geom_key) DO UPDATE SET watchable_m2 = EXCLUDED.watchable_m2, covered_m2 = EXCLUDED.covered_m2,
          ratio = EXCLUDED.ratio, largest_gap_m2 = EXCLUDED.largest_gap_m2, gap_count = EXCLUDED.gap_count,
          computed_at = now()"""), [dict(r) for r in rows])


def grid_coverage_rows(conn: Connection, *, plan_id: int, bbox: boxes.Box | None = None) -> list[dict[str, Any]]:
    """The plan's grids with their stored coverage (None before it is computed), by code (those touching
    *bbox* when given)."""
    box = f" AND {boxes.touches('g.geom')}" if bbox is not None else ""
    rows = conn.execute(text(f"""
        SELECT g.code, g.name, c.code AS community_code, gc.watchable_m2, gc.covered_m2, gc.ratio,
               gc.largest_gap_m2, gc.gap_count, gc.computed_at
        FROM grid g JOIN community c ON c.id = g.community_id LEFT JOIN grid_coverage gc ON gc.geom_key = g.geom_key
        WHERE g.plan_id = :p{box} ORDER BY g.code"""), {"p": plan_id, **boxes.params(bbox)}).all()
    return [{"code": r.code, "name": r.name, "community_code": r.community_code,
             "watchable_m2": r.watchable_m2, "covered_m2": r.covered_m2, "ratio": r.ratio,
             "largest_gap_m2": r.largest_gap_m2, "gap_count": r.gap_count,
             "computed_at": r.computed_at.isoformat() if r.computed_at else None} for r in rows]


def community_coverage_rows(conn: Connection, *, plan_id: int, bbox: boxes.Box | None = None) -> list[dict[str, Any]]:
    """Each community's stored coverage: the sums of its grids' watchable and covered areas under the
    plan (a city's map, zoomed out past its grids' budget, colours the communities), by code (those
    touching *bbox* when given). ``ratio`` is None until one of its grids is computed."""
    box = f" AND {boxes.touches('c.geom')}" if bbox is not None else ""
    rows = conn.execute(text(f"""
        SELECT c.code, c.name, count(g.id) AS grids, count(gc.geom_key) AS grids_computed,
               sum(gc.watchable_m2) AS watchable_m2, sum(gc.covered_m2) AS covered_m2
        FROM community c JOIN grid g ON g.community_id = c.id AND g.plan_id = :p
        LEFT JOIN grid_coverage gc ON gc.geom_key = g.geom_key
        WHERE true{box} GROUP BY c.id ORDER BY c.code"""), {"p": plan_id, **boxes.params(bbox)}).all()
    return [{"code": r.code, "name": r.name, "grids": r.grids, "grids_computed": r.grids_computed,
             "watchable_m2": r.watchable_m2, "covered_m2": r.covered_m2,
             "ratio": (r.covered_m2 / r.watchable_m2) if r.watchable_m2 else None} for r in rows]


def gaps_geojson(conn: Connection, *, grid_code: str | None = None) -> dict[str, Any]:
    """The published plan's stored gap polygons (of one grid, or all), largest first, as GeoJSON."""
    plan = published_plan(conn)
    rows = conn.execute(text(
        "SELECT cg.id, g.code, cg.area_m2, ST_AsGeoJSON(cg.geom, 7) AS g FROM coverage_gap cg "
        "JOIN grid g ON g.geom_key = cg.geom_key WHERE g.plan_id = :p AND (CAST(:code AS text) IS NULL OR g.code = :code) "
        "ORDER BY cg.area_m2 DESC"), {"p": plan, "code": grid_code}).all()
    if grid_code and not rows and not conn.execute(text("SELECT 1 FROM grid WHERE plan_id = :p AND code = :c"),
                                                   {"p": plan, "c": grid_code}).first():
        raise NotFound(f"no grid {grid_code!r} in the published plan: GET /v1/grids lists the codes")
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": r.id, "geometry": json.loads(r.g),
         "properties": {"id": r.id, "grid_code": r.code, "area_m2": round(r.area_m2, 2)}} for r in rows]}


def forget_coverage_outside(conn: Connection, *, plan_id: int) -> int:
    """Remove the stored coverage of every grid geometry the plan does not have (a publish: the shapes
    it changed); the rows of the shapes it kept stay as they are. Returns the number of grids forgotten.

    Only the published plan's shapes keep rows, so every stored figure is current (a camera change
    recomputes the published grids it touches; a row of an older shape would not be, and a later plan
    taking that shape again must not find it)."""
    keep = "SELECT geom_key FROM grid WHERE plan_id = :p"
    conn.execute(text(f"DELETE FROM coverage_gap WHERE geom_key NOT IN ({keep})"), {"p": plan_id})
    return conn.execute(text(f"DELETE FROM grid_coverage WHERE geom_key NOT IN ({keep})"), {"p": plan_id}).rowcount


def grids_without_coverage(conn: Connection, *, plan_id: int) -> list[int]:
    """Grids of the plan with no stored coverage (of their geometry)."""
    return list(conn.execute(text(
        "SELECT id FROM grid g WHERE plan_id = :p AND NOT EXISTS "
        "(SELECT 1 FROM grid_coverage c WHERE c.geom_key = g.geom_key) ORDER BY id"
    ), {"p": plan_id}).scalars().all())
