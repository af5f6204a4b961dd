"""Plan storage: plan rows, their grids, the edit log (``plan_edit``, ``plan_edit_grid``), copies and
the publish/retire swap.

Every function runs on the caller's connection and inside the caller's transaction: the service
(:mod:`geo.plans`) decides what is locked first, what is checked and what is written in one
transaction. Geometries go in as WKB in EPSG:4326 and come out as WKB or, from :func:`plan_layers`,
as GeoDataFrames in the metric CRS asked for.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import shapely
from shapely import Geometry
from sqlalchemy import Connection, Row, text

from geo.crs import METRIC_CRS_DEFAULT, to_metric

#: Which side of a logged grid change: the grid before the edit or after it.
Side = Literal["before", "after"]

_PLAN = "SELECT id, town_id, name, status, version FROM grid_plan WHERE id = :id"
_EDIT = "SELECT seq, version, at, actor, op, summary, undone FROM plan_edit WHERE plan_id = :p "


def _json(v: Any) -> str:
    return json.dumps(v, ensure_ascii=False, default=str)


# ---------------------------------------------------------------------------- reading a plan


def plan_layers(conn: Connection, *, plan_id: int, metric_crs: str = METRIC_CRS_DEFAULT,
                community_id: int | None = None) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """(grids, communities, buildings) of a plan in ``metric_crs``, optionally of one community.

    grids: code, name, community_id, community_code; communities: id, code, name;
    buildings: id, code, address, community_id, community_code, households, population, units.
    """
    only = "AND c.id = :c" if community_id is not None else ""
    params = {"p": plan_id, "c": community_id}
    g = conn.execute(text(
        "SELECT g.code, g.name, g.community_id, c.code AS community_code, ST_AsBinary(g.geom) AS wkb "
        f"FROM grid g JOIN community c ON c.id = g.community_id WHERE g.plan_id = :p {only} ORDER BY g.code"
    ), params).all()
    c = conn.execute(text(
        f"SELECT c.id, c.code, c.name, ST_AsBinary(c.geom) AS wkb FROM community c WHERE true {only} ORDER BY c.code"
    ), params).all()
    b = conn.execute(text(
        "SELECT b.id, b.code, b.address, b.community_id, c.code AS community_code, "
        "coalesce(sum(u.households), 0) AS households, coalesce(sum(u.population), 0) AS population, "
        "count(u.id) AS units, ST_AsBinary(b.geom) AS wkb "
        "FROM building b JOIN community c ON c.id = b.community_id LEFT JOIN unit u ON u.building_id = b.id "
        f"WHERE true {only} GROUP BY b.id, c.code ORDER BY b.code"
    ), params).all()

    def frame(rows: list[Any], columns: list[str]) -> gpd.GeoDataFrame:
        geoms = to_metric(shapely.from_wkb(np.array([bytes(r.wkb) for r in rows], dtype=object)), crs=metric_crs) \
            if rows else np.array([], dtype=object)
        data = {col: [getattr(r, col) for r in rows] for col in columns}
        return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs=metric_crs), crs=metric_crs)

    return (frame(g, ["code", "name", "community_id", "community_code"]),
            frame(c, ["id", "code", "name"]),
            frame(b, ["id", "code", "address", "community_id", "community_code", "households", "population", "units"]))


def plan_row(conn: Connection, *, plan_id: int, lock: bool = False) -> Row[Any] | None:
    """id, town_id, name, status, version of a plan (``lock``: ``FOR UPDATE``), or None."""
    return conn.execute(text(_PLAN + (" FOR UPDATE" if lock else "")), {"id": plan_id}).first()


def published_plan_id(conn: Connection) -> int | None:
    return conn.execute(text("SELECT id FROM grid_plan WHERE status = 'published'")).scalar()


def lock_plan_and_published(conn: Connection, *, plan_id: int) -> list[Row[Any]]:
    """Lock ``plan_id`` and every published plan, in id order (one order for every publisher:
    no deadlock); rows of id, status, town_id, version."""
    return conn.execute(text(
        "SELECT id, status, town_id, version FROM grid_plan WHERE id = :id OR status = 'published' "
        "ORDER BY id FOR UPDATE"
    ), {"id": plan_id}).all()


def grid_community(conn: Connection, *, plan_id: int, code: str) -> int | None:
    """The community id of grid ``code`` of the plan, or None when the plan has no such grid."""
    return conn.execute(text("SELECT community_id FROM grid WHERE plan_id = :p AND code = :c"),
                        {"p": plan_id, "c": code}).scalar()


def grid_communities(conn: Connection, *, plan_id: int) -> dict[str, int]:
    """Every grid code of the plan → its community id."""
    return {r.code: r.community_id for r in conn.execute(
        text("SELECT code, community_id FROM grid WHERE plan_id = :p"), {"p": plan_id})}


def grids_by_code(conn: Connection, *, plan_id: int, codes: Iterable[str]) -> dict[str, Row[Any]]:
    """code → (code, community_id, name) of the plan's grids among ``codes``."""
    return {r.code: r for r in conn.execute(text(
        "SELECT code, community_id, name FROM grid WHERE plan_id = :p AND code = ANY(:codes)"
    ), {"p": plan_id, "codes": list(codes)})}


def last_grid_code(conn: Connection, *, community_id: int) -> Row[Any]:
    """(community_code, last): the community's code and the highest grid code any plan gave it (or None)."""
    return conn.execute(text(
        "SELECT c.code AS community_code, max(g.code) AS last FROM community c "
        "LEFT JOIN grid g ON g.community_id = c.id WHERE c.id = :c GROUP BY c.code"), {"c": community_id}).one()


# ---------------------------------------------------------------------------- what an edit reads


def community_id(conn: Connection, *, code: str) -> int | None:
    return conn.execute(text("SELECT id FROM community WHERE code = :c"), {"c": code}).scalar()


def community_under(conn: Connection, *, wkb: bytes) -> int | None:
    """The id of the community holding most of the polygon ``wkb`` (EPSG:4326), or None when it overlaps none."""
    return conn.execute(text(
        "SELECT c.id FROM community c WHERE ST_Intersects(c.geom, ST_GeomFromWKB(:g, 4326)) "
        "ORDER BY ST_Area(ST_Intersection(c.geom, ST_GeomFromWKB(:g, 4326))::geography) DESC, c.code LIMIT 1"
    ), {"g": wkb}).scalar()


def community_name(conn: Connection, *, community_id: int) -> str:
    return conn.execute(text("SELECT name FROM community WHERE id = :c"), {"c": community_id}).scalar_one()


def community_ids(conn: Connection) -> dict[str, int]:
    """Every community code → its id."""
    return dict(conn.execute(text("SELECT code, id FROM community")).all())


def building_communities(conn: Connection, *, codes: list[str]) -> dict[str, int]:
    """building code → community id, for the buildings among ``codes`` that exist."""
    return {r.code: r.community_id for r in conn.execute(
        text("SELECT code, community_id FROM building WHERE code = ANY(:c)"), {"c": codes})}


def community_roads(conn: Connection, *, community_id: int) -> Geometry | None:
    """The roads crossing the community, collected into one geometry (WGS84), or None."""
    roads = conn.execute(text(
        "SELECT ST_AsBinary(ST_Collect(r.geom)) FROM road r JOIN community c ON c.id = :c "
        "WHERE ST_Intersects(r.geom, c.geom)"), {"c": community_id}).scalar()
    return None if roads is None else shapely.from_wkb(bytes(roads))


# ---------------------------------------------------------------------------- the edit log


def last_edit(conn: Connection, *, plan_id: int) -> Row[Any] | None:
    """The plan's edit log row with the highest version (done or undone), or None."""
    return conn.execute(text(_EDIT + "ORDER BY version DESC LIMIT 1"), {"p": plan_id}).first()


def edit_rows(conn: Connection, *, plan_id: int) -> list[Row[Any]]:
    """The plan's edit log, oldest first: seq, version, at, actor, op, summary, undone."""
    return conn.execute(text(_EDIT + "ORDER BY seq"), {"p": plan_id}).all()


def next_edit_seq(conn: Connection, *, plan_id: int) -> int:
    """The sequence number the plan's next edit gets (one after the last one not undone)."""
    return conn.execute(text("SELECT coalesce(max(seq), 0) FROM plan_edit WHERE plan_id = :p AND NOT undone"),
                        {"p": plan_id}).scalar_one() + 1


def drop_redo_stack(conn: Connection, *, plan_id: int) -> None:
    """Forget the undone edits (a new edit discards what could have been redone)."""
    conn.execute(text("DELETE FROM plan_edit WHERE plan_id = :p AND undone"), {"p": plan_id})


def insert_edit(conn: Connection, *, plan_id: int, seq: int, version: int, actor: str, op: str,
                summary: Mapping[str, Any]) -> int:
    """Log an edit; returns its id."""
    return conn.execute(text(
        "INSERT INTO plan_edit (plan_id, seq, version, actor, op, summary) "
        "VALUES (:p, :s, :v, :a, :op, CAST(:sum AS jsonb)) RETURNING id"
    ), {"p": plan_id, "s": seq, "v": version, "a": actor, "op": op, "sum": _json(summary)}).scalar_one()


_STORED = "(SELECT geom FROM grid WHERE plan_id = :p AND code = CAST(:code AS varchar))"


def log_grid_before(conn: Connection, *, edit_id: int, plan_id: int, code: str, community_id: int,
                    name: str) -> None:
    """Log grid ``code`` as stored now as the edit's "before" (call it before changing the grid)."""
    conn.execute(text(
        "INSERT INTO plan_edit_grid (edit_id, code, community_id, name, before) VALUES "
        f"(:e, :code, :c, :n, {_STORED})"
    ), {"p": plan_id, "code": code, "e": edit_id, "c": community_id, "n": name})


def log_grid_after(conn: Connection, *, edit_id: int, plan_id: int, code: str, community_id: int, name: str,
                   logged_before: bool) -> None:
    """Log grid ``code`` as stored now (NULL once removed) as the edit's "after": on the row
    :func:`log_grid_before` wrote, or on a new one for a grid the edit created."""
    params = {"p": plan_id, "code": code, "e": edit_id, "c": community_id, "n": name}
    conn.execute(text(
        f"UPDATE plan_edit_grid SET after = {_STORED} WHERE edit_id = :e AND code = :code" if logged_before else
        f"INSERT INTO plan_edit_grid (edit_id, code, community_id, name, after) VALUES (:e, :code, :c, :n, {_STORED})"
    ), params)


def undo_candidate(conn: Connection, *, plan_id: int) -> Row[Any] | None:
    """id, seq, op of the latest edit not undone, or None."""
    return conn.execute(text(
        "SELECT id, seq, op FROM plan_edit WHERE plan_id = :p AND NOT undone ORDER BY seq DESC LIMIT 1"
    ), {"p": plan_id}).first()


def redo_candidate(conn: Connection, *, plan_id: int) -> Row[Any] | None:
    """id, seq, op of the earliest undone edit, or None."""
    return conn.execute(text(
        "SELECT id, seq, op FROM plan_edit WHERE plan_id = :p AND undone ORDER BY seq LIMIT 1"
    ), {"p": plan_id}).first()


def _side(side: Side) -> str:
    if side not in ("before", "after"):  # a column name goes into the SQL: only these two
        raise ValueError(f"side must be 'before' or 'after', not {side!r}")
    return side


def logged_grids(conn: Connection, *, edit_id: int, plan_id: int, side: Side) -> list[Row[Any]]:
    """The grids an edit touched, in code order: code, community_id, name, ``gone`` (the grid does not
    exist on that ``side`` of the edit) and ``present`` (the plan has the grid now)."""
    return conn.execute(text(
        f"SELECT code, community_id, name, {_side(side)} IS NULL AS gone, "
        "EXISTS (SELECT 1 FROM grid WHERE plan_id = :p AND code = e.code) AS present "
        "FROM plan_edit_grid e WHERE edit_id = :e ORDER BY code"), {"e": edit_id, "p": plan_id}).all()


def restore_grid(conn: Connection, *, edit_id: int, plan_id: int, code: str, side: Side, present: bool) -> None:
    """Give grid ``code`` the geometry logged on ``side`` of the edit: update it when the plan has it
    (``present``), else re-create it with its logged community and name."""
    column = _side(side)
    params = {"e": edit_id, "c": code, "p": plan_id}
    if present:
        conn.execute(text(
            f"UPDATE grid SET geom = (SELECT {column} FROM plan_edit_grid WHERE edit_id = :e AND code = :c) "
            "WHERE plan_id = :p AND code = :c"), params)
    else:
        conn.execute(text(
            f"INSERT INTO grid (plan_id, community_id, code, name, geom) SELECT :p, community_id, code, name, "
            f"{column} FROM plan_edit_grid WHERE edit_id = :e AND code = :c"), params)


def mark_edit(conn: Connection, *, edit_id: int, undone: bool, version: int) -> None:
    """Record an undo (``undone``) or redo of an edit, made at plan ``version``, now."""
    conn.execute(text("UPDATE plan_edit SET undone = :u, version = :v, at = now() WHERE id = :e"),
                 {"u": undone, "v": version, "e": edit_id})


# ---------------------------------------------------------------------------- writing grids and plans


def insert_grid(conn: Connection, *, plan_id: int, community_id: int, code: str, name: str, wkb: bytes) -> None:
    """A new grid (``wkb``: polygonal, EPSG:4326; stored as a MultiPolygon)."""
    conn.execute(text(
        "INSERT INTO grid (plan_id, community_id, code, name, geom) "
        "VALUES (:p, :c, :code, :n, ST_Multi(ST_GeomFromWKB(:g, 4326)))"
    ), {"p": plan_id, "code": code, "c": community_id, "n": name, "g": wkb})


def update_grid(conn: Connection, *, plan_id: int, code: str, wkb: bytes) -> None:
    """A grid's new geometry (``wkb``: polygonal, EPSG:4326)."""
    conn.execute(text(
        "UPDATE grid SET geom = ST_Multi(ST_GeomFromWKB(:g, 4326)) WHERE plan_id = :p AND code = :code"
    ), {"p": plan_id, "code": code, "g": wkb})


def delete_grid(conn: Connection, *, plan_id: int, code: str) -> None:
    conn.execute(text("DELETE FROM grid WHERE plan_id = :p AND code = :code"), {"p": plan_id, "code": code})


def set_version(conn: Connection, *, plan_id: int, version: int) -> None:
    conn.execute(text("UPDATE grid_plan SET version = :v WHERE id = :p"), {"v": version, "p": plan_id})


def plan_town(conn: Connection, *, plan_id: int) -> Row[Any] | None:
    """id, town_id of a plan, or None."""
    return conn.execute(text("SELECT id, town_id FROM grid_plan WHERE id = :id"), {"id": plan_id}).first()


def insert_draft(conn: Connection, *, town_id: int, name: str, parent_id: int, actor: str) -> int:
    """A new, empty draft of the town; returns its id."""
    return conn.execute(text(
        "INSERT INTO grid_plan (town_id, name, status, parent_id, created_by) "
        "VALUES (:t, :n, 'draft', :p, :a) RETURNING id"
    ), {"t": town_id, "n": name, "p": parent_id, "a": actor}).scalar_one()


def copy_grids(conn: Connection, *, source_id: int, target_id: int) -> None:
    """Copy every grid of plan ``source_id`` into plan ``target_id``."""
    conn.execute(text(
        "INSERT INTO grid (plan_id, community_id, code, name, geom) "
        "SELECT :new, community_id, code, name, geom FROM grid WHERE plan_id = :old"
    ), {"new": target_id, "old": source_id})


def retire(conn: Connection, *, plan_ids: list[int]) -> None:
    """Mark the plans retired, now."""
    conn.execute(text(
        "UPDATE grid_plan SET status = 'retired', retired_at = now() WHERE id = ANY(:ids)"
    ), {"ids": plan_ids})


def mark_published(conn: Connection, *, plan_id: int) -> None:
    """Mark the plan published, now, at its next version."""
    conn.execute(text(
        "UPDATE grid_plan SET status = 'published', published_at = now(), version = version + 1 WHERE id = :id"
    ), {"id": plan_id})


def plan_references(conn: Connection, *, plan_id: int) -> dict[str, list[int] | int]:
    """What refers to the plan (the foreign keys to ``grid_plan`` that do not cascade): the ids of the plans
    copied from it (``grid_plan.parent_id``) and how many incidents were placed in its grids
    (``incident.plan_id``). Grids and the edit log cascade with the plan and are not counted."""
    copies = conn.execute(text("SELECT id FROM grid_plan WHERE parent_id = :p ORDER BY id"),
                          {"p": plan_id}).scalars().all()
    incidents = conn.execute(text("SELECT count(*) FROM incident WHERE plan_id = :p"), {"p": plan_id}).scalar_one()
    return {"plans": list(copies), "incidents": int(incidents)}


def delete_plan(conn: Connection, *, plan_id: int) -> None:
    """Delete the plan row; its grids, their coverage and its edit log go with it (ON DELETE CASCADE)."""
    conn.execute(text("DELETE FROM grid_plan WHERE id = :p"), {"p": plan_id})
