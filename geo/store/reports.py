"""What the monthly briefing (:mod:`geo.reports`) reads: the month's incidents with their workflow
times, the plan in force and its grids, and which published grid holds each hot-spot cell."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, text


def month_incidents(conn: Connection, *, start: dt.datetime, end: dt.datetime) -> list[Row[Any]]:
    """The counted incidents that occurred in [start, end), in id order: id, grid_code, category, status,
    lon, lat, reported_at and closed_at (their first such event) and since (their latest event)."""
    return conn.execute(text("""
        SELECT i.id, i.grid_code, i.category, i.status, ST_X(i.geom) AS lon, ST_Y(i.geom) AS lat,
               r.at AS reported_at, c.at AS closed_at, last.at AS since
        FROM incident i
        LEFT JOIN LATERAL (SELECT min(at) AS at FROM incident_event WHERE incident_id = i.id
                           AND to_status = 'reported') r ON true
        LEFT JOIN LATERAL (SELECT min(at) AS at FROM incident_event WHERE incident_id = i.id
                           AND to_status = 'closed') c ON true
        LEFT JOIN LATERAL (SELECT at FROM incident_event WHERE incident_id = i.id ORDER BY seq DESC LIMIT 1) last
          ON true
        WHERE i.voided_at IS NULL AND i.occurred_at >= :start AND i.occurred_at < :end
        ORDER BY i.id"""), {"start": start, "end": end}).all()


def plan_in_force(conn: Connection, *, before: dt.datetime) -> Row[Any] | None:
    """id, name of the plan that was published last before ``before`` and not retired by then, or None."""
    return conn.execute(text(
        "SELECT id, name FROM grid_plan WHERE published_at < :end AND (retired_at IS NULL OR retired_at >= :end) "
        "ORDER BY published_at DESC LIMIT 1"), {"end": before}).first()


def published_plan(conn: Connection) -> Row[Any] | None:
    """id, name of the plan published now, or None."""
    return conn.execute(text("SELECT id, name FROM grid_plan WHERE status = 'published'")).first()


def plan_grids(conn: Connection, *, plan_id: int) -> list[Row[Any]]:
    """The plan's grids in code order: code, name, community_code, community_name."""
    return conn.execute(text(
        "SELECT g.code, g.name, c.code AS community_code, c.name AS community_name FROM grid g "
        "JOIN community c ON c.id = g.community_id WHERE g.plan_id = :p ORDER BY g.code"),
        {"p": plan_id}).all()


def published_grid_at(conn: Connection, *, x: Sequence[float], y: Sequence[float]) -> list[Row[Any]]:
    """(i, code) for each point i of (x, y) (lon, lat): the lowest code of the published grids
    covering it, or None."""
    return conn.execute(text(
        "SELECT q.i, (SELECT g.code FROM grid g JOIN grid_plan p ON p.id = g.plan_id AND p.status = 'published' "
        "WHERE ST_Covers(g.geom, ST_SetSRID(ST_MakePoint(q.x, q.y), 4326)) ORDER BY g.code LIMIT 1) "
        "FROM unnest(CAST(:i AS int[]), CAST(:x AS float8[]), CAST(:y AS float8[])) AS q(i, x, y)"),
        {"i": list(range(len(x))), "x": list(x), "y": list(y)}).all()
