"""Mapbox Vector Tiles made by PostGIS (ST_TileEnvelope, ST_AsMVTGeom, ST_AsMVT), and the change
counters their keys are made of (``data_version``, migration 0006).

Rows are found with the GiST index on the stored WGS84 geometry (the tile's Web Mercator envelope,
widened by the MVT buffer, is a lon/lat rectangle exactly: Mercator maps meridians and parallels to
straight lines), then projected to EPSG:3857, simplified to a quarter pixel of the zoom
(:func:`geo.tiles.simplify_tolerance_m`) and clipped and quantised by ST_AsMVTGeom. Measured on the
town's z14 tile (bench/README.md): ST_AsMVTGeom alone leaves the coverage gaps at 50.8 kB in 22.6 ms;
ST_Simplify(…, true) first gives 10.4 kB in 15.9 ms (ST_SimplifyPreserveTopology: 10.8 kB, 75 ms). Each layer
carries only the properties a map draws or labels (:data:`geo.tiles.LAYERS` lists them); no phone
numbers. An empty tile is ``b""`` (no layers).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from geo.store import queries
from geo.tiles import (
    BUFFER,
    CAMERA_VIEWS_MINZOOM,
    EXTENT,
    INCIDENT_CELLS_PER_TILE,
    INCIDENT_POINTS_MINZOOM,
    simplify_tolerance_m,
    tile_width_m,
)

__all__ = ["TileContext", "data_versions", "fill_grid_stats", "grid_stats_stamp", "mvt", "tile_context"]

#: No parallel plan for a tile (the rest of this transaction only): ST_AsMVTGeom's high declared cost
#: makes the planner start a parallel worker for a few hundred indexed rows, and starting it costs more
#: than the scan (measured on the city set, bench/README.md "bench/ogc").
_NO_PARALLEL = "set_config('max_parallel_workers_per_gather', '0', true)"


def data_versions(conn: Connection, tables: tuple[str, ...]) -> dict[str, int]:
    """The change counters of *tables*, plus ``epoch`` (the schema's random number)."""
    rows = conn.execute(text("SELECT table_name, version FROM data_version WHERE table_name = ANY(:t)"),
                        {"t": [*tables, "epoch"]}).all()
    return {r.table_name: r.version for r in rows}


@dataclass(frozen=True)
class TileContext:
    """What a tile's key is made of, read in one statement before the tile: the change counters of
    the layer's tables (:func:`data_versions`) and the plan (None for a layer without one)."""

    versions: dict[str, int]
    plan: dict[str, Any] | None


def tile_context(conn: Connection, tables: tuple[str, ...], *, plan: bool, plan_id: int | None) -> TileContext:
    """The counters of *tables* and, when *plan*, the plan *plan_id* (None: the published one), in one
    round trip (a tile request is a few milliseconds: each statement counts), which also turns
    parallel plans off for the rest of the transaction (the tile). Raises NotFound for no such plan.

    Counters and plan come from one snapshot, taken before the tile's rows are read: the tile is at
    least as new as its key (a write committed in between gives a newer tile under the older key,
    which the next request, reading the newer counter, does not match)."""
    row = conn.execute(text(f"""
        SELECT {_NO_PARALLEL} AS no_parallel,
               (SELECT json_object_agg(table_name, version) FROM data_version WHERE table_name = ANY(:t)) AS versions,
               p.*
        FROM (SELECT 1) one LEFT JOIN LATERAL (
          SELECT {queries.PLAN_COLUMNS} FROM grid_plan
          WHERE :plan AND (CASE WHEN CAST(:id AS bigint) IS NULL THEN status = 'published' ELSE id = :id END)
        ) p ON true"""), {"t": [*tables, "epoch"], "plan": plan, "id": plan_id}).one()
    if not plan:
        return TileContext(versions=row.versions or {}, plan=None)
    if row.id is None:
        raise queries.no_plan(plan_id)
    return TileContext(versions=row.versions or {}, plan=queries.plan_dict(row))


# The tile's envelope in 3857 (clip box of ST_AsMVTGeom) and, widened by the buffer, in 4326 (index box).
_BOUNDS = f"""
    bounds AS (
      SELECT ST_TileEnvelope(:z, :x, :y) AS env,
             ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => {BUFFER / EXTENT}), 4326) AS box,
             ST_Transform(ST_TileEnvelope(:z, :x, :y), 4326) AS inner_box
    )"""


def _geom(column: str, *, simplify: bool) -> str:
    projected = f"ST_Transform({column}, 3857)"
    if simplify:
        projected = f"ST_Simplify({projected}, :tol, true)"  # keeps collapsed parts; ST_AsMVTGeom mends validity
    return f"ST_AsMVTGeom({projected}, bounds.env, {EXTENT}, {BUFFER}, true)"


def _tile(conn: Connection, name: str, select: str, params: dict[str, Any], *, id_column: str | None = "id") -> bytes:
    fid = f", '{id_column}'" if id_column else ""
    # MATERIALIZED: ST_AsMVTGeom once per row. Inlined, the CTE's geometry expression is copied into every
    # use: a "WHERE geom IS NOT NULL" ran it in the filter and again in the output, and so would the
    # count and the aggregate here (measured on a city z16 buildings tile: 2.7 -> 1.5 ms of the
    # database's CPU, tipg's same tile 1.4 ms). ST_AsMVT skips a NULL geometry itself; the count only
    # tells an empty tile (b"") from a layer of none.
    sql = (f"WITH {_BOUNDS}, rows AS MATERIALIZED ({select}) "
           f"SELECT CASE WHEN count(rows.geom) > 0 THEN ST_AsMVT(rows.*, '{name}', {EXTENT}, 'geom'{fid}) "
           "ELSE ''::bytea END FROM rows")
    return bytes(conn.execute(text(sql), params).scalar_one())


#: A grid's households and population (its buildings are those whose point on surface it covers) and
#: its grid member, for the grid ``g`` of the enclosing query; *live* guards them (a one-time filter:
#: not computed at all where a stored row of grid_stats is current).
def _grid_totals(live: str) -> str:
    return f"""
        LEFT JOIN LATERAL (
          SELECT sum(u.households) AS households, sum(u.population) AS population
          FROM building b JOIN unit u ON u.building_id = b.id
          WHERE {live} AND b.geom && g.geom AND ST_Covers(g.geom, ST_PointOnSurface(b.geom))) h ON true
        LEFT JOIN LATERAL (SELECT s.name FROM staff s WHERE {live} AND s.role = 'grid_member'
                           AND s.grid_code = g.code ORDER BY s.id LIMIT 1) m ON true"""


def grid_stats_stamp(versions: dict[str, int]) -> str:
    """What grid_stats rows are made of (migration 0008): the epoch and the counters of grid, building,
    unit and staff, from :func:`data_versions` read before the rows."""
    return ":".join(str(versions.get(t, 0)) for t in ("epoch", "grid", "building", "unit", "staff"))


def _grids(conn: Connection, p: dict[str, Any]) -> bytes:
    """The grids tile. A grid's totals come from its grid_stats row when that row's stamp is the
    reader's, else they are computed here (then the whole plan's rows are filled: :func:`fill_grid_stats`)."""
    if p["stamp"] is None:  # no stamp given: every grid live
        p = {**p, "stamp": ""}
    sql = (f"""WITH {_BOUNDS}, rows AS (
        SELECT g.id, g.code, g.name, c.code AS community_code,
               coalesce(st.households, h.households, 0)::int AS households,
               coalesce(st.population, h.population, 0)::int AS population,
               CASE WHEN st.grid_id IS NULL THEN m.name ELSE st.grid_member END AS grid_member,
               st.grid_id IS NULL AS missed, {_geom("g.geom", simplify=True)} AS geom
        FROM grid g JOIN community c ON c.id = g.community_id CROSS JOIN bounds
        LEFT JOIN grid_stats st ON st.grid_id = g.id AND st.stamp = :stamp
        {_grid_totals("st.grid_id IS NULL")}
        WHERE g.plan_id = :plan AND g.geom && bounds.box)
        SELECT (SELECT coalesce(ST_AsMVT(t.*, 'grids', {EXTENT}, 'geom', 'id'), ''::bytea)
                FROM (SELECT id, code, name, community_code, households, population, grid_member, geom
                      FROM rows WHERE geom IS NOT NULL) t),
               (SELECT coalesce(bool_or(missed), false) FROM rows)""")
    body, missed = conn.execute(text(sql), p).one()
    if missed and p["stamp"]:
        fill_grid_stats(conn, plan_id=p["plan"], stamp=p["stamp"])
    return bytes(body)


def fill_grid_stats(conn: Connection, *, plan_id: int, stamp: str) -> bool:
    """Store every grid of the plan's totals under *stamp*, in a transaction of its own (one worker at a
    time per plan; the others go on computing live). False when it did not (another worker is at it,
    or the database is a read-only replica: the tiles stay right, only slower)."""
    from sqlalchemy.exc import DBAPIError

    try:
        with conn.engine.begin() as w:
            if not w.execute(text("SELECT pg_try_advisory_xact_lock(hashtext('grid_stats'), :p)"),
                             {"p": plan_id}).scalar_one():
                return False
            w.execute(text(f"""
                INSERT INTO grid_stats (grid_id, households, population, grid_member, stamp)
                SELECT g.id, coalesce(h.households, 0), coalesce(h.population, 0), m.name, :stamp
                FROM grid g {_grid_totals("true")}
                WHERE g.plan_id = :plan
                ON CONFLICT (grid_id) DO UPDATE SET households = EXCLUDED.households,
                  population = EXCLUDED.population, grid_member = EXCLUDED.grid_member, stamp = EXCLUDED.stamp"""),
                {"plan": plan_id, "stamp": stamp})
        return True
    except DBAPIError as exc:  # a read-only replica (or a plan deleted meanwhile): nothing stored
        if "read-only" in str(exc.orig) or "foreign key" in str(exc.orig):
            return False
        raise


def _communities(conn: Connection, p: dict[str, Any]) -> bytes:
    return _tile(conn, "communities", f"""
        SELECT c.id, c.code, c.name, c.name_en, {_geom("c.geom", simplify=True)} AS geom
        FROM community c CROSS JOIN bounds WHERE c.geom && bounds.box""", p)


def _buildings(conn: Connection, p: dict[str, Any]) -> bytes:
    return _tile(conn, "buildings", f"""
        SELECT b.id, b.code, b.name, c.code AS community_code, b.floors::int AS floors, b.height_m,
               {_geom("b.geom", simplify=True)} AS geom
        FROM building b JOIN community c ON c.id = b.community_id CROSS JOIN bounds WHERE b.geom && bounds.box""", p)


def _cameras(conn: Connection, p: dict[str, Any]) -> bytes:
    points = _tile(conn, "cameras", f"""
        SELECT k.id, k.code, k.name, k.kind, k.status, k.mount, k.azimuth_deg, k.hfov_deg, k.range_m,
               {_geom("k.geom", simplify=False)} AS geom
        FROM camera k CROSS JOIN bounds WHERE k.geom && bounds.box""", p)
    if p["z"] < CAMERA_VIEWS_MINZOOM:
        return points
    views = _tile(conn, "camera_views", f"""
        SELECT v.camera_id, k.status, v.range_level, round(v.area_m2::numeric, 1)::float8 AS area_m2,
               {_geom("ST_CollectionExtract(v.geom, 3)", simplify=True)} AS geom
        FROM camera_view v JOIN camera k ON k.id = v.camera_id CROSS JOIN bounds
        WHERE v.geom && bounds.box""", p, id_column="camera_id")
    return points + views  # two MVT layers: protobuf messages concatenate


def _gaps(conn: Connection, p: dict[str, Any]) -> bytes:
    return _tile(conn, "gaps", f"""
        SELECT cg.id, g.code AS grid_code, round(cg.area_m2::numeric, 1)::float8 AS area_m2,
               {_geom("cg.geom", simplify=True)} AS geom
        FROM coverage_gap cg JOIN grid g ON g.geom_key = cg.geom_key CROSS JOIN bounds
        WHERE g.plan_id = :plan AND cg.geom && bounds.box""", p)


_INCIDENT_FILTER = """
        i.voided_at IS NULL
        AND (CAST(:start AS timestamptz) IS NULL OR i.occurred_at >= :start)
        AND (CAST(:end AS timestamptz) IS NULL OR i.occurred_at <= :end)
        AND (CAST(:categories AS text[]) IS NULL OR i.category = ANY(:categories))"""


def _incidents(conn: Connection, p: dict[str, Any]) -> bytes:
    if p["z"] >= INCIDENT_POINTS_MINZOOM:
        return _tile(conn, "incidents", f"""
            SELECT i.id, i.category, i.status, i.severity::int AS severity,
                   to_char(i.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS occurred_at,
                   {_geom("i.geom", simplify=False)} AS geom
            FROM incident i CROSS JOIN bounds WHERE i.geom && bounds.box AND {_INCIDENT_FILTER}""", p)
    # Cells of a grid aligned with the tiles (floor, not ST_SnapToGrid's rounding), so a cell lies in one
    # tile and a cluster is drawn once; only the tile's own points (inner_box), its mean position.
    return _tile(conn, "incident_clusters", f"""
        SELECT count(*)::int AS count, mode() WITHIN GROUP (ORDER BY category) AS top_category,
               ST_AsMVTGeom(ST_Centroid(ST_Collect(g)), (SELECT env FROM bounds), {EXTENT}, 0, true) AS geom
        FROM (SELECT ST_Transform(i.geom, 3857) AS g, i.category FROM incident i CROSS JOIN bounds
              WHERE i.geom && bounds.inner_box AND ST_Intersects(i.geom, bounds.inner_box) AND {_INCIDENT_FILTER}) pts
        GROUP BY floor(ST_X(g) / :cell), floor(ST_Y(g) / :cell)""", p, id_column=None)


_BUILDERS = {"grids": _grids, "communities": _communities, "buildings": _buildings, "cameras": _cameras,
             "gaps": _gaps, "incidents": _incidents}


def mvt(conn: Connection, layer: str, z: int, x: int, y: int, *, plan_id: int | None = None,
        start: dt.datetime | None = None, end: dt.datetime | None = None,
        categories: list[str] | None = None, context: TileContext | None = None) -> bytes:
    """The MVT of *layer* (a :data:`geo.tiles.LAYERS` name) at z/x/y; ``b""`` when the tile is empty.

    *context*: the :func:`tile_context` this transaction read (the tile's key; it turned parallel plans
    off already). With it the grids tile uses and fills the stored per-grid totals of those counters
    (grid_stats); without it this function turns parallel plans off itself (one more round trip) and
    computes every grid's totals."""
    if context is None:
        conn.execute(text(f"SELECT {_NO_PARALLEL}"))
    params = {"z": z, "x": x, "y": y, "tol": simplify_tolerance_m(z), "plan": plan_id, "start": start,
              "end": end, "categories": categories, "cell": tile_width_m(z) / INCIDENT_CELLS_PER_TILE,
              "stamp": grid_stats_stamp(context.versions) if context is not None else None}
    return _BUILDERS[layer](conn, params)
