"""Incident storage: incident rows, their events (``incident_event``), the list's filters, and the
points the analyses read.

Every function runs on the caller's connection and inside the caller's transaction; the workflow's
rules (which transition is allowed, what is overdue) are :mod:`geo.incidents`'.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, Row, text

from geo.store import boxes

_SELECT = """
    SELECT i.id, i.ref, i.category, i.subcategory, i.source, i.severity, i.description, i.occurred_at,
           i.reported_at, i.status, i.grid_code, i.plan_id, ST_X(i.geom) AS lon, ST_Y(i.geom) AS lat,
           e.at AS since, e.assignee, i.voided_at, i.voided_by, i.void_reason
    FROM incident i
    LEFT JOIN LATERAL (SELECT at, (SELECT assignee FROM incident_event a WHERE a.incident_id = i.id
                                    AND a.assignee IS NOT NULL ORDER BY seq DESC LIMIT 1) AS assignee
                       FROM incident_event ev WHERE ev.incident_id = i.id ORDER BY seq DESC LIMIT 1) e ON true
"""


# ---------------------------------------------------------------------------- writing


def insert_incident(conn: Connection, *, category: str, subcategory: str | None, source: str, severity: int,
                    description: str | None, occurred_at: dt.datetime, reported_at: dt.datetime,
                    grid_code: str | None, plan_id: int, lon: float, lat: float) -> int:
    """A new incident, status ``reported``, at (lon, lat) WGS84; returns its id."""
    return conn.execute(text("""
            INSERT INTO incident (category, subcategory, source, severity, description, occurred_at, reported_at,
                                  status, grid_code, plan_id, geom)
            VALUES (:category, :subcategory, :source, :severity, :description, :occurred_at, :now, 'reported',
                    :grid, :plan, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
            RETURNING id"""), {"category": category, "subcategory": subcategory, "source": source,
                               "severity": severity, "description": description, "occurred_at": occurred_at,
                               "lon": lon, "lat": lat, "now": reported_at, "grid": grid_code,
                               "plan": plan_id}).scalar_one()


def insert_event(conn: Connection, *, incident_id: int, seq: int, from_status: str | None, to_status: str,
                 at: dt.datetime, actor: str, note: str | None, assignee: str | None = None) -> None:
    conn.execute(text(
        "INSERT INTO incident_event (incident_id, seq, from_status, to_status, at, actor, note, assignee) "
        "VALUES (:id, :seq, :from_, :to, :now, :actor, :note, :assignee)"),
        {"id": incident_id, "seq": seq, "from_": from_status, "to": to_status, "now": at, "actor": actor,
         "note": note, "assignee": assignee})


def next_event_seq(conn: Connection, *, incident_id: int) -> int:
    return conn.execute(text("SELECT coalesce(max(seq), 0) + 1 FROM incident_event WHERE incident_id = :id"),
                        {"id": incident_id}).scalar_one()


def lock(conn: Connection, *, incident_id: int) -> Row[Any] | None:
    """Lock the incident's row (``FOR UPDATE``): status, voided_at, voided_by; None when there is none."""
    return conn.execute(text("SELECT status, voided_at, voided_by FROM incident WHERE id = :id FOR UPDATE"),
                        {"id": incident_id}).first()


def set_status(conn: Connection, *, incident_id: int, status: str) -> None:
    conn.execute(text("UPDATE incident SET status = :to WHERE id = :id"), {"to": status, "id": incident_id})


def mark_void(conn: Connection, *, incident_id: int, at: dt.datetime, actor: str, reason: str) -> None:
    conn.execute(text("UPDATE incident SET voided_at = :now, voided_by = :actor, void_reason = :reason "
                      "WHERE id = :id"), {"now": at, "actor": actor, "reason": reason, "id": incident_id})


# ---------------------------------------------------------------------------- reading


def _where(*, start: dt.datetime | None, end: dt.datetime | None, categories: list[str] | None,
           grid: str | None, statuses: list[str] | None, voided: bool,
           bbox: boxes.Box | None = None) -> tuple[str, dict[str, Any]]:
    where, params = ["i.voided_at IS NOT NULL" if voided else "i.voided_at IS NULL"], {}
    if bbox is not None:
        where.append(boxes.touches("i.geom"))
        params.update(boxes.params(bbox))
    if start:
        where.append("i.occurred_at >= :start")
        params["start"] = start
    if end:
        where.append("i.occurred_at < :end")
        params["end"] = end
    if categories:
        where.append("i.category = ANY(:cats)")
        params["cats"] = categories
    if grid:
        where.append("i.grid_code = :grid")
        params["grid"] = grid
    if statuses:
        where.append("i.status = ANY(:statuses)")
        params["statuses"] = statuses
    return " AND ".join(where), params


def count(conn: Connection, *, start: dt.datetime | None = None, end: dt.datetime | None = None,
          categories: list[str] | None = None, grid: str | None = None, statuses: list[str] | None = None,
          voided: bool = False, bbox: boxes.Box | None = None) -> int:
    """How many incidents pass the filters (``voided``: only the voided ones, else only the counted ones;
    ``bbox``: only those in a lon/lat box)."""
    where, params = _where(start=start, end=end, categories=categories, grid=grid, statuses=statuses, voided=voided,
                           bbox=bbox)
    return conn.execute(text(f"SELECT count(*) FROM incident i WHERE {where}"), params).scalar_one()


def rows(conn: Connection, *, start: dt.datetime | None = None, end: dt.datetime | None = None,
         categories: list[str] | None = None, grid: str | None = None, statuses: list[str] | None = None,
         voided: bool = False, bbox: boxes.Box | None = None, limit: int | None = None, offset: int = 0) -> list[Row[Any]]:
    """The incidents passing the filters, newest first (``limit`` None: all of them), each with the
    time of its latest event (``since``) and its latest assignee."""
    where, params = _where(start=start, end=end, categories=categories, grid=grid, statuses=statuses, voided=voided,
                           bbox=bbox)
    sql = f"{_SELECT} WHERE {where} ORDER BY i.occurred_at DESC, i.id DESC"
    if limit is None:
        return conn.execute(text(sql), params).all()
    return conn.execute(text(sql + " LIMIT :limit OFFSET :offset"),
                        {**params, "limit": limit, "offset": offset}).all()


def row(conn: Connection, *, incident_id: int) -> Row[Any] | None:
    """One incident as :func:`rows` gives it, voided or not; None when there is none."""
    return conn.execute(text(_SELECT + " WHERE i.id = :id"), {"id": incident_id}).first()


def events(conn: Connection, *, incident_id: int) -> list[Row[Any]]:
    """The incident's events in order: seq, from_status, to_status, at, actor, note, assignee."""
    return conn.execute(text(
        "SELECT seq, from_status, to_status, at, actor, note, assignee FROM incident_event "
        "WHERE incident_id = :id ORDER BY seq"), {"id": incident_id}).all()


def point_rows(conn: Connection, *, start: dt.datetime | None = None, end: dt.datetime | None = None,
               categories: list[str] | None = None, bbox: boxes.Box | None = None) -> list[Row[Any]]:
    """(lon, lat, occurred_at as epoch seconds, category) of the counted (not voided) incidents in a
    window (and a lon/lat box), in id order."""
    where, params = _where(start=start, end=end, categories=categories, grid=None, statuses=None, voided=False,
                           bbox=bbox)
    return conn.execute(text(
        "SELECT ST_X(i.geom), ST_Y(i.geom), extract(epoch FROM i.occurred_at), i.category FROM incident i "
        f"WHERE {where} ORDER BY i.id"), params).all()


def plausible_months(conn: Connection, *, earliest: dt.datetime, timezone: str) -> tuple[str | None, str | None, int]:
    """(first, last, implausible): the first and last month (``YYYY-MM`` in ``timezone``) of the counted
    incidents whose times are plausible (from ``earliest`` to a day ahead of now; None, None when there
    are none), and how many are not. The months are made in SQL: no stored time becomes a Python datetime
    (a stored year 1, 4713 BC or 20000 would not fit one)."""
    # min, max and the two tails each walk the occurred_at index (a city's 1M rows: ~1 ms, not a 0.3 s scan)
    first, last, implausible = conn.execute(text("""
        SELECT to_char((SELECT min(occurred_at) FROM incident WHERE voided_at IS NULL AND occurred_at >= :earliest
                        AND occurred_at <= now() + interval '1 day') AT TIME ZONE :tz, 'YYYY-MM'),
               to_char((SELECT max(occurred_at) FROM incident WHERE voided_at IS NULL AND occurred_at >= :earliest
                        AND occurred_at <= now() + interval '1 day') AT TIME ZONE :tz, 'YYYY-MM'),
               (SELECT count(*) FROM incident WHERE voided_at IS NULL AND occurred_at < :earliest)
               + (SELECT count(*) FROM incident WHERE voided_at IS NULL AND occurred_at > now() + interval '1 day')
        """), {"earliest": earliest, "tz": timezone}).one()
    return first, last, int(implausible)
