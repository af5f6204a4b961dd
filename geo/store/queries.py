"""Read queries: plans, and GeoJSON FeatureCollections built in PostGIS.

FeatureCollections are assembled by PostgreSQL (``json_agg``) and returned as
text, so the API streams them without parsing and re-serialising in Python.
Every Feature carries its id in ``id`` and ``properties.id`` (the v1 contract).

A building belongs to the grid of its plan that covers its point-on-surface;
grids keep buildings whole, and ``DISTINCT ON ... ORDER BY code`` makes the
answer deterministic even if a draft grid were to split one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import shapely
from shapely import Geometry
from sqlalchemy import Connection, text

from geo.errors import NotFound

#: Coordinate decimals in GeoJSON output: 1e-8 degrees is about 1 mm, the grid that plan edits
#: store coordinates on (so a grid read back and sent again is exactly the stored one).
PRECISION = 8

PLAN_COLUMNS = "id, name, status, version, parent_id, published_at, retired_at"


def plan_dict(row: Any) -> dict[str, Any]:
    return {
        "id": row.id, "name": row.name, "status": row.status, "version": row.version,
        "parent_id": row.parent_id,
        "published_at": row.published_at.isoformat() if row.published_at else None,
        "retired_at": row.retired_at.isoformat() if row.retired_at else None,
    }


def published_plan(conn: Connection, *, at: dt.datetime | None = None) -> dict[str, Any] | None:
    """The plan published now, or the one that was in force at ``at``."""
    if at is None:
        row = conn.execute(text(f"SELECT {PLAN_COLUMNS} FROM grid_plan WHERE status = 'published'")).first()
    else:
        row = conn.execute(text(
            f"SELECT {PLAN_COLUMNS} FROM grid_plan WHERE published_at <= :at "
            "AND (retired_at IS NULL OR retired_at > :at) ORDER BY published_at DESC LIMIT 1"
        ), {"at": at}).first()
    return plan_dict(row) if row else None


def no_plan(plan_id: int | None) -> NotFound:
    """The error for plan *plan_id* not found (None: no plan is published)."""
    if plan_id is not None:
        return NotFound.say("plan.not_found", plan=plan_id)
    return NotFound.say("lookup.no_plan_published")


def get_plan(conn: Connection, *, plan_id: int) -> dict[str, Any]:
    row = conn.execute(text(f"SELECT {PLAN_COLUMNS} FROM grid_plan WHERE id = :id"), {"id": plan_id}).first()
    if row is None:
        raise no_plan(plan_id)
    return plan_dict(row)


def resolve_plan(conn: Connection, *, plan_id: int | None) -> dict[str, Any]:
    """The plan asked for, else the published one."""
    if plan_id is not None:
        return get_plan(conn, plan_id=plan_id)
    plan = published_plan(conn)
    if plan is None:
        raise no_plan(None)
    return plan


_BUILDING_GRID = """
    building_grid AS (
      SELECT DISTINCT ON (b.id) b.id AS building_id, g.id AS grid_id, g.code AS grid_code
      FROM building b JOIN grid g ON g.plan_id = :plan AND ST_Covers(g.geom, ST_PointOnSurface(b.geom))
      ORDER BY b.id, g.code
    ),
    unit_totals AS (
      SELECT building_id, count(*) AS units, sum(households) AS households, sum(population) AS population
      FROM unit GROUP BY building_id
    )"""


def _collection(conn: Connection, sql: str, params: dict[str, Any]) -> str:
    wrapped = (
        "SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(f.feature), '[]'::json))::text "
        f"FROM ({sql}) AS f"
    )
    return conn.execute(text(wrapped), params).scalar_one()


def _feature(props: str, *, alias: str = "") -> str:
    """SQL building one Feature from ``props``; ``alias`` qualifies the id and geom columns."""
    q = f"{alias}." if alias else ""
    return (
        f"json_build_object('type', 'Feature', 'id', {q}id, "
        f"'geometry', ST_AsGeoJSON({q}geom, {PRECISION})::json, 'properties', {props}) AS feature"
    )


def communities_geojson(conn: Connection) -> str:
    return _collection(conn, f"""
        SELECT {_feature("json_build_object('id', id, 'code', code, 'name', name, 'name_en', name_en, "
                         "'pinyin', pinyin, 'aliases', aliases)")}
        FROM community ORDER BY code""", {})


def _grids_sql() -> str:
    return f"""
        WITH {_BUILDING_GRID},
        totals AS (
          SELECT bg.grid_id, count(*) AS buildings, coalesce(sum(t.units), 0) AS units,
                 coalesce(sum(t.households), 0) AS households, coalesce(sum(t.population), 0) AS population
          FROM building_grid bg LEFT JOIN unit_totals t ON t.building_id = bg.building_id GROUP BY bg.grid_id
        )
        SELECT {_feature("json_build_object('id', g.id, 'code', g.code, 'name', g.name, "
                         "'community_code', c.code, 'community_name', c.name, "
                         "'households', coalesce(t.households, 0), 'population', coalesce(t.population, 0), "
                         "'buildings', coalesce(t.buildings, 0), 'units', coalesce(t.units, 0), "
                         "'plan_id', g.plan_id, 'grid_member', m.name, 'grid_member_phone', m.phone)", alias="g")}
        FROM grid g JOIN community c ON c.id = g.community_id
        LEFT JOIN totals t ON t.grid_id = g.id
        LEFT JOIN LATERAL (SELECT name, phone FROM staff s WHERE s.role = 'grid_member' AND s.grid_code = g.code
                           ORDER BY s.id LIMIT 1) m ON true
        WHERE g.plan_id = :plan AND (CAST(:code AS text) IS NULL OR g.code = :code)
          AND (CAST(:community AS text) IS NULL OR c.code = :community)
        ORDER BY g.code"""


def grids_geojson(conn: Connection, *, plan_id: int, community: str | None = None) -> str:
    """The grids of a plan (of one community when given), with households, population, buildings, units
    and grid member."""
    return _collection(conn, _grids_sql(), {"plan": plan_id, "code": None, "community": community})


def grid_feature(conn: Connection, *, plan_id: int, code: str) -> str:
    """One grid of a plan as a GeoJSON Feature; raises :class:`NotFound`."""
    row = conn.execute(text(f"SELECT f.feature::text FROM ({_grids_sql()}) AS f"),
                       {"plan": plan_id, "code": code, "community": None}).first()
    if row is None:
        raise NotFound(f"no grid {code!r} in plan {plan_id}: GET /v1/grids lists the codes")
    return row[0]


def buildings_geojson(conn: Connection, *, plan_id: int, community: str | None = None) -> str:
    return _collection(conn, f"""
        WITH {_BUILDING_GRID}
        SELECT {_feature("json_build_object('id', b.id, 'code', b.code, 'name', b.name, 'address', b.address, "
                         "'community_code', c.code, 'grid_code', bg.grid_code, 'floors', b.floors, "
                         "'height_m', b.height_m, 'units', coalesce(t.units, 0), "
                         "'households', coalesce(t.households, 0), 'population', coalesce(t.population, 0))",
                         alias="b")}
        FROM building b JOIN community c ON c.id = b.community_id
        LEFT JOIN building_grid bg ON bg.building_id = b.id
        LEFT JOIN unit_totals t ON t.building_id = b.id
        WHERE CAST(:community AS text) IS NULL OR c.code = :community
        ORDER BY b.code""", {"plan": plan_id, "community": community})


_CAMERA_PROPS = _feature(
    "json_build_object('id', id, 'code', code, 'name', name, 'kind', kind, "
    "'status', status, 'mount', mount, 'lon', round(ST_X(geom)::numeric, 7), "
    "'lat', round(ST_Y(geom)::numeric, 7), 'height_m', height_m, "
    "'azimuth_deg', azimuth_deg, 'hfov_deg', hfov_deg, 'range_m', range_m, "
    "'resolution_px', resolution_px, "
    "'building_code', (SELECT code FROM building b WHERE b.id = camera.building_id))")


def cameras_geojson(conn: Connection) -> str:
    return _collection(conn, f"SELECT {_CAMERA_PROPS} FROM camera ORDER BY code", {})


def camera_feature(conn: Connection, *, camera_id: int) -> str:
    row = conn.execute(text(f"SELECT f.feature::text FROM (SELECT {_CAMERA_PROPS} FROM camera WHERE id = :id) f"),
                       {"id": camera_id}).first()
    if row is None:
        raise NotFound(f"no camera with id {camera_id}: GET /v1/cameras lists them")
    return row[0]


def key_places_geojson(conn: Connection) -> str:
    return _collection(conn, f"""
        SELECT {_feature("json_build_object('id', id, 'kind', kind, 'name', name)")}
        FROM key_place ORDER BY id""", {})


def bounds(conn: Connection) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) of all communities, or None when there are none."""
    row = conn.execute(text(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) AS e FROM community) s"
    )).one()
    return None if row[0] is None else (row[0], row[1], row[2], row[3])


def community_union(conn: Connection) -> Geometry | None:
    """The union of every community's polygon (WGS84): the town's extent, the analyses' mask; None when
    there are no communities."""
    wkb = conn.execute(text("SELECT ST_AsBinary(ST_Union(geom)) FROM community")).scalar()
    return shapely.from_wkb(bytes(wkb)) if wkb is not None else None


def counts(conn: Connection) -> dict[str, int]:
    tables = ("community", "grid", "building", "unit", "camera", "key_place", "staff", "incident")
    sql = ", ".join(f"(SELECT count(*) FROM {t}) AS {t}" for t in tables)
    return dict(conn.execute(text(f"SELECT {sql}")).one()._mapping)


def community_labels(conn: Connection) -> dict[str, dict[str, str | None]]:
    """Every community's ``name`` and ``name_en`` by code, in code order (a city's legend, no geometry)."""
    return {str(r.code): {"name": r.name, "name_en": r.name_en}
            for r in conn.execute(text("SELECT code, name, name_en FROM community ORDER BY code"))}


def community_plan_counts(conn: Connection, *, plan_id: int) -> list[dict[str, Any]]:
    """Each community (code order): its code, name, grids in the plan and buildings."""
    rows = conn.execute(text("""
        SELECT c.code, c.name, coalesce(g.n, 0) AS grids, coalesce(b.n, 0) AS buildings
        FROM community c
        LEFT JOIN (SELECT community_id, count(*) AS n FROM grid WHERE plan_id = :plan GROUP BY community_id) g
               ON g.community_id = c.id
        LEFT JOIN (SELECT community_id, count(*) AS n FROM building GROUP BY community_id) b ON b.community_id = c.id
        ORDER BY c.code"""), {"plan": plan_id}).all()
    return [dict(r._mapping) for r in rows]


def layer_counts(conn: Connection, *, plan_id: int, community: str | None = None) -> dict[str, int]:
    """How many grids (of the plan), buildings (both of one community when given), cameras and camera
    views there are: what a map page weighs before it decides to embed a layer or load it by view."""
    row = conn.execute(text("""
        SELECT (SELECT count(*) FROM grid g JOIN community c ON c.id = g.community_id
                WHERE g.plan_id = :plan AND (CAST(:community AS text) IS NULL OR c.code = :community)) AS grids,
               (SELECT count(*) FROM building b JOIN community c ON c.id = b.community_id
                WHERE CAST(:community AS text) IS NULL OR c.code = :community) AS buildings,
               (SELECT count(*) FROM camera) AS cameras,
               (SELECT count(*) FROM camera_view) AS camera_views,
               (SELECT count(*) FROM key_place) AS key_places"""), {"plan": plan_id, "community": community}).one()
    return dict(row._mapping)


def overview_totals(conn: Connection, *, plan_id: int) -> dict[str, Any]:
    """The overview map's counts (maps.overview.totals_of's keys) from the database: grids of the plan,
    buildings, cameras, the households and residents of every unit, cameras by status.

    The embedded page counts the households of the buildings in the plan's grids; a publishable plan
    leaves no piece of a community in no grid (geo.plan_checks: "gap"), so the two agree (both towns
    and the city set here), and this is a sum instead of a spatial join of every building (0.05 s
    instead of 2.3 s at city scale)."""
    row = conn.execute(text("""
        SELECT (SELECT count(*) FROM grid WHERE plan_id = :plan) AS grids,
               (SELECT count(*) FROM building) AS buildings,
               (SELECT count(*) FROM camera) AS cameras,
               (SELECT coalesce(sum(households), 0) FROM unit) AS households,
               (SELECT coalesce(sum(population), 0) FROM unit) AS population"""), {"plan": plan_id}).one()
    status = conn.execute(text("SELECT status, count(*) FROM camera GROUP BY status ORDER BY status")).all()
    return {**{k: int(v) for k, v in row._mapping.items()}, "camera_status": {str(s): int(n) for s, n in status}}


def list_plans(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(text(f"SELECT {PLAN_COLUMNS} FROM grid_plan ORDER BY id")).all()
    return [plan_dict(r) for r in rows]


def load_gazetteer(conn: Connection) -> Any:
    """The address gazetteer of every community and building (see :mod:`geo.address`)."""
    from geo.address import Building, Community, Gazetteer

    communities = [
        Community(code=r.code, name=r.name, name_en=r.name_en, pinyin=r.pinyin, aliases=tuple(r.aliases or ()))
        for r in conn.execute(text("SELECT code, name, name_en, pinyin, aliases FROM community ORDER BY code"))
    ]
    buildings = [
        Building(code=r.code, community_code=r.community_code, number=r.number, units=r.units, floors=r.floors)
        for r in conn.execute(text(
            "SELECT b.code, c.code AS community_code, b.number, b.floors, "
            "(SELECT count(*) FROM unit u WHERE u.building_id = b.id) AS units "
            "FROM building b JOIN community c ON c.id = b.community_id ORDER BY b.code"))
    ]
    return Gazetteer(communities=communities, buildings=buildings)


def places_fingerprint(conn: Connection) -> tuple[Any, ...]:
    """Cheap summary that changes when buildings, units or communities change."""
    return tuple(conn.execute(text("""
        SELECT (SELECT count(*) || ':' || coalesce(max(id), 0) || ':' || coalesce(sum(floors), 0) FROM building),
               (SELECT count(*) || ':' || coalesce(max(id), 0) FROM unit),
               (SELECT count(*) || ':' || md5(coalesce(string_agg(name || coalesce(name_en, '') || aliases::text,
                                                                  ',' ORDER BY id), '')) FROM community)
    """)).one())


def building_rows(conn: Connection) -> list[Any]:
    """Every building in code order, with its footprint as WKB (``wkb``): what the lookup index holds."""
    return conn.execute(text(
        "SELECT id, code, name, address, floors, height_m, ST_AsBinary(geom) AS wkb FROM building ORDER BY code"
    )).all()


def grid_rows(conn: Connection, *, plan_id: int) -> list[Any]:
    """A plan's grids in code order with community, first grid member and the polygon as WKB (``wkb``)."""
    return conn.execute(text("""
        SELECT g.id, g.code, g.name, c.code AS community_code, c.name AS community_name,
               m.name AS member, m.phone AS phone, ST_AsBinary(g.geom) AS wkb
        FROM grid g JOIN community c ON c.id = g.community_id
        LEFT JOIN LATERAL (SELECT name, phone FROM staff s WHERE s.role = 'grid_member' AND s.grid_code = g.code
                           ORDER BY s.id LIMIT 1) m ON true
        WHERE g.plan_id = :plan ORDER BY g.code"""), {"plan": plan_id}).all()
