"""The rows an import writes (communities, buildings with their units, cameras, key places) and the
lookups its checks need; geo/exchange.py reads and checks the files."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import shapely
from sqlalchemy import Connection, text

from geo.errors import BadInput

#: Tables whose natural key an import checks for duplicates (the only names interpolated into SQL).
KEYED_TABLES = {("community", "code"), ("building", "code"), ("camera", "code")}


def community_ids(conn: Connection) -> dict[str, int]:
    """Community code → id."""
    return dict(conn.execute(text("SELECT code, id FROM community")).all())


def existing_keys(conn: Connection, *, table: str, key: str) -> set[str]:
    """The natural keys already stored in ``table`` (one of :data:`KEYED_TABLES`)."""
    if (table, key) not in KEYED_TABLES:
        raise ValueError(f"{table}.{key} is not a keyed table")
    return set(conn.execute(text(f"SELECT {key} FROM {table}")).scalars())


def ewkt(geom: Any, *, multi: bool = False) -> str:
    if multi and geom.geom_type == "Polygon":
        geom = shapely.MultiPolygon([geom])
    return "SRID=4326;" + shapely.to_wkt(geom, rounding_precision=-1)


def insert_communities(conn: Connection, rows: list[tuple[dict[str, Any], Any]]) -> None:
    town = conn.execute(text("SELECT id FROM town ORDER BY id LIMIT 1")).scalar()
    if town is None:
        raise BadInput("no town in the database: load the town first (`gridmap demo load`)")
    for p, g in rows:
        conn.execute(text(
            "INSERT INTO community (town_id, code, name, name_en, pinyin, geom) "
            "VALUES (:t, :code, :name, :en, :py, ST_GeomFromEWKT(:g))"
        ), {"t": town, "code": str(p["code"]), "name": p["name"], "en": p.get("name_en"), "py": p.get("pinyin"),
            "g": ewkt(g, multi=True)})


def insert_buildings(conn: Connection, rows: list[tuple[dict[str, Any], Any]]) -> None:
    for p, g in rows:
        community = conn.execute(text("SELECT id, name FROM community WHERE code = :c"),
                                 {"c": str(p["community_code"])}).one()
        number = int(p["number"])
        bid = conn.execute(text(
            "INSERT INTO building (community_id, code, number, name, address, floors, height_m, geom) "
            "VALUES (:c, :code, :n, :name, :addr, :f, :h, ST_GeomFromEWKT(:g)) RETURNING id"
        ), {"c": community.id, "code": str(p["code"]), "n": number, "name": p.get("name") or f"{number}号楼",
            "addr": p.get("address") or f"{community.name}{number}号楼", "f": int(p["floors"]),
            "h": float(p["height_m"]), "g": ewkt(g)}).scalar_one()
        # Optional unit counts: households and population are split evenly over the units.
        units = int(p.get("units") or 0)
        hh, pop = int(p.get("households") or 0), int(p.get("population") or 0)
        for u in range(units):
            conn.execute(text("INSERT INTO unit (building_id, number, households, population) VALUES (:b, :n, :h, :p)"),
                         {"b": bid, "n": u + 1, "h": hh // units + (u < hh % units), "p": pop // units + (u < pop % units)})


def insert_cameras(conn: Connection, rows: list[tuple[dict[str, Any], Any]]) -> None:
    for p, g in rows:
        conn.execute(text(
            "INSERT INTO camera (code, name, kind, status, mount, height_m, azimuth_deg, hfov_deg, range_m, "
            "resolution_px, community_id, geom) VALUES (:code, :name, :kind, :status, :mount, :h, :az, :fov, :r, "
            ":px, (SELECT id FROM community WHERE ST_Covers(geom, ST_GeomFromEWKT(:g)) LIMIT 1), ST_GeomFromEWKT(:g))"
        ), {"code": str(p["code"]), "name": p["name"], "kind": p["kind"], "status": p["status"], "mount": p["mount"],
            "h": float(p.get("height_m") or 3.0), "az": float(p["azimuth_deg"]), "fov": float(p["hfov_deg"]),
            "r": p.get("range_m"), "px": p.get("resolution_px"), "g": ewkt(g)})


def insert_key_places(conn: Connection, rows: list[tuple[dict[str, Any], Any]]) -> None:
    for p, g in rows:
        conn.execute(text(
            "INSERT INTO key_place (community_id, kind, name, geom) VALUES "
            "((SELECT id FROM community WHERE code = :cc), :kind, :name, ST_GeomFromEWKT(:g))"
        ), {"cc": str(p.get("community_code") or ""), "kind": p["kind"], "name": p["name"], "g": ewkt(g)})


#: Layer name → the function that writes its rows (property dict, WGS84 geometry).
INSERT: dict[str, Callable[[Connection, list[tuple[dict[str, Any], Any]]], None]] = {
    "communities": insert_communities,
    "buildings": insert_buildings,
    "cameras": insert_cameras,
    "key_places": insert_key_places,
}
