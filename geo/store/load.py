"""Load a data set written by :mod:`geo.demo` (the committed Gaoshan files, or a
city-scale set) into an empty gridmap database, in one transaction.

Bulk tables go through PostgreSQL ``COPY`` (geometries as hex EWKB), so the
city-scale set (a million incidents) loads in well under a minute; ``progress``
is called per table and per chunk.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import shape
from sqlalchemy import Connection, Engine, text

from geo.errors import Conflict

Progress = Callable[[str, int, int], None]
CHUNK = 100_000


def _noop(stage: str, done: int, total: int) -> None:
    return None


def _ewkb(geoms: Sequence[Any] | np.ndarray, *, multi: bool = False) -> list[str]:
    arr = np.asarray(geoms, dtype=object)
    if multi:
        arr = np.array(
            [g if g.geom_type == "MultiPolygon" else shapely.MultiPolygon([g]) for g in arr],
            dtype=object,
        )
    arr = shapely.set_srid(arr, 4326)
    return list(shapely.to_wkb(arr, hex=True, include_srid=True))


def _features(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)["features"]


def _copy(conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    raw = conn.connection.driver_connection
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _ids(conn: Connection, sql: str) -> dict[Any, int]:
    return {row[0]: row[1] for row in conn.execute(text(sql))}


def database_is_empty(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(text("SELECT NOT EXISTS (SELECT 1 FROM town)")).scalar_one()


def load_dataset(engine: Engine, data_dir: Path, *, progress: Progress | None = None) -> dict[str, int]:
    """Load every file of ``data_dir`` into an empty database; all or nothing.

    Returns the number of rows loaded per table. Raises :class:`Conflict` when the
    database already holds a town (``gridmap db reset`` empties it).
    """
    progress = progress or _noop
    data_dir = Path(data_dir)
    counts: dict[str, int] = {}
    with engine.begin() as conn:
        if conn.execute(text("SELECT EXISTS (SELECT 1 FROM town)")).scalar_one():
            raise Conflict("the database already holds a town: run `gridmap db reset` first to reload demo data")
        town = json.loads((data_dir / "town.json").read_text(encoding="utf-8"))
        town_id = conn.execute(
            text("INSERT INTO town (code, name, name_en, district_code) VALUES (:c, :n, :e, :d) RETURNING id"),
            {"c": town["code"], "n": town["name"], "e": town.get("name_en"), "d": town["district_code"]},
        ).scalar_one()
        counts["town"] = 1

        feats = _features(data_dir / "communities.geojson")
        geoms = _ewkb([shape(f["geometry"]) for f in feats], multi=True)
        _copy(conn, "community", ["town_id", "code", "name", "name_en", "pinyin", "aliases", "geom"], (
            (town_id, p["code"], p["name"], p.get("name_en"), p.get("pinyin"),
             json.dumps(p.get("aliases") or [], ensure_ascii=False), g)
            for p, g in ((f["properties"], g) for f, g in zip(feats, geoms))
        ))
        community = _ids(conn, "SELECT code, id FROM community")
        counts["community"] = len(feats)
        progress("communities", len(feats), len(feats))

        plan = town["plan"]
        plan_id = conn.execute(
            text("INSERT INTO grid_plan (town_id, name, status, published_at, created_by) "
                 "VALUES (:t, :n, 'published', :p, 'demo') RETURNING id"),
            {"t": town_id, "n": plan["name"], "p": plan["published_at"]},
        ).scalar_one()
        feats = _features(data_dir / "grids.geojson")
        geoms = _ewkb([shape(f["geometry"]) for f in feats], multi=True)
        _copy(conn, "grid", ["plan_id", "community_id", "code", "name", "geom"], (
            (plan_id, community[f["properties"]["community_code"]], f["properties"]["code"],
             f["properties"]["name"], g)
            for f, g in zip(feats, geoms)
        ))
        counts["grid"] = len(feats)
        progress("grids", len(feats), len(feats))

        feats = _features(data_dir / "buildings.geojson")
        geoms = _ewkb([shape(f["geometry"]) for f in feats])
        _copy(conn, "building", ["community_id", "code", "number", "name", "address", "floors", "height_m", "geom"], (
            (community[p["community_code"]], p["code"], p["number"], p["name"], p["address"],
             p["floors"], p["height_m"], g)
            for p, g in ((f["properties"], g) for f, g in zip(feats, geoms))
        ))
        building = _ids(conn, "SELECT code, id FROM building")
        counts["building"] = len(feats)
        progress("buildings", len(feats), len(feats))

        units = pd.read_csv(data_dir / "units.csv", dtype={"building_code": str})
        _copy(conn, "unit", ["building_id", "number", "households", "population"], (
            (building[b], int(n), int(h), int(p))
            for b, n, h, p in units[["building_code", "number", "households", "population"]].itertuples(index=False)
        ))
        unit = {
            (code, number): uid
            for code, number, uid in conn.execute(
                text("SELECT b.code, u.number, u.id FROM unit u JOIN building b ON b.id = u.building_id")
            )
        }
        counts["unit"] = len(units)
        progress("units", len(units), len(units))

        feats = _features(data_dir / "roads.geojson")
        geoms = _ewkb([shape(f["geometry"]) for f in feats])
        _copy(conn, "road", ["community_id", "name", "kind", "width_m", "geom"], (
            (community.get(p.get("community_code")), p.get("name"), p["kind"], p["width_m"], g)
            for p, g in ((f["properties"], g) for f, g in zip(feats, geoms))
        ))
        counts["road"] = len(feats)

        feats = _features(data_dir / "key_places.geojson")
        geoms = _ewkb([shape(f["geometry"]) for f in feats])
        _copy(conn, "key_place", ["community_id", "kind", "name", "geom"], (
            (community.get(p.get("community_code")), p["kind"], p["name"], g)
            for p, g in ((f["properties"], g) for f, g in zip(feats, geoms))
        ))
        counts["key_place"] = len(feats)

        feats = _features(data_dir / "cameras.geojson")
        total = len(feats)
        columns = ["code", "name", "kind", "status", "mount", "height_m", "azimuth_deg", "hfov_deg",
                   "range_m", "resolution_px", "community_id", "building_id", "geom"]
        for start in range(0, total, CHUNK):
            chunk = feats[start:start + CHUNK]
            geoms = _ewkb([shape(f["geometry"]) for f in chunk])
            _copy(conn, "camera", columns, (
                (p["code"], p["name"], p["kind"], p["status"], p["mount"], p["height_m"], p["azimuth_deg"],
                 p["hfov_deg"], p.get("range_m"), p.get("resolution_px"), community.get(p.get("community_code")),
                 building.get(p.get("building_code")) if p.get("building_code") else None, g)
                for p, g in ((f["properties"], g) for f, g in zip(chunk, geoms))
            ))
            progress("cameras", min(start + CHUNK, total), total)
        counts["camera"] = total

        staff = pd.read_csv(data_dir / "staff.csv", dtype=str, keep_default_na=False)

        def _staff_rows() -> Iterable[tuple[Any, ...]]:
            for r in staff.itertuples(index=False):
                unit_id = unit[(r.building_code, int(r.unit_number))] if r.unit_number else None
                yield (r.role, r.name, r.phone, community.get(r.community_code) if r.community_code else None,
                       r.grid_code or None, building[r.building_code] if r.building_code else None, unit_id)

        _copy(conn, "staff", ["role", "name", "phone", "community_id", "grid_code", "building_id", "unit_id"],
              _staff_rows())
        counts["staff"] = len(staff)
        progress("staff", len(staff), len(staff))

        counts["incident"] = _load_incidents(conn, data_dir, plan_id=plan_id, progress=progress)
        counts["incident_event"] = _load_events(conn, data_dir, progress=progress)
    return counts


def _load_incidents(conn: Connection, data_dir: Path, *, plan_id: int, progress: Progress) -> int:
    path = data_dir / "incidents.csv"
    total = sum(1 for _ in path.open(encoding="utf-8")) - 1
    done = 0
    columns = ["ref", "category", "subcategory", "source", "severity", "description", "occurred_at",
               "reported_at", "status", "geom"]
    for chunk in pd.read_csv(path, dtype={"ref": str, "description": str}, keep_default_na=False,
                             chunksize=CHUNK):
        geoms = _ewkb(shapely.points(chunk["lon"].to_numpy(float), chunk["lat"].to_numpy(float)))
        _copy(conn, "incident", columns, (
            (r.ref, r.category, r.subcategory or None, r.source, int(r.severity), r.description or None,
             r.occurred_at, r.occurred_at, r.status, g)
            for r, g in zip(chunk.itertuples(index=False), geoms)
        ))
        done += len(chunk)
        progress("incidents", done, total)
    # The grid at the time of report: the plan published when the demo data was made.
    progress("assigning incidents to grids", 0, 1)
    conn.execute(text(
        "UPDATE incident i SET grid_code = g.code, plan_id = g.plan_id "
        "FROM grid g WHERE g.plan_id = :plan AND ST_Covers(g.geom, i.geom)"
    ), {"plan": plan_id})
    progress("assigning incidents to grids", 1, 1)
    return done


def _load_events(conn: Connection, data_dir: Path, *, progress: Progress) -> int:
    path = data_dir / "incident_events.csv"
    with path.open(encoding="utf-8") as fh:
        total = sum(1 for _ in fh) - 1
    ids = _ids(conn, "SELECT ref, id FROM incident")
    done = 0
    columns = ["incident_id", "seq", "from_status", "to_status", "at", "actor", "note", "assignee"]
    for chunk in pd.read_csv(path, dtype=str, keep_default_na=False, chunksize=CHUNK):
        _copy(conn, "incident_event", columns, (
            (ids[r.incident_ref], int(r.seq), r.from_status or None, r.to_status, r.at, r.actor,
             r.note or None, r.assignee or None)
            for r in chunk.itertuples(index=False)
        ))
        done += len(chunk)
        progress("incident events", done, total)
    return done

