"""Incidents and the four-step workflow of the source: discover & accept → assign → assist → close.

States and the transitions allowed between them (anything else is refused with the
allowed ones listed)::

    reported  → accepted | rejected | duplicate      (discover & accept)
    accepted  → assigned | rejected | duplicate      (assign: needs an assignee)
    assigned  → assisting | assigned                 (assist; re-assign to someone else)
    assisting → closed | assigned                    (close; hand back for re-assignment)
    closed, rejected, duplicate: final

Every transition is an ``incident_event`` row (who, when, note, assignee) written in
the same transaction as the status change, with the incident row locked so two
operators cannot move one incident at once. The grid is assigned from the
location when the incident is reported and kept as it was then.

Overdue: an open incident whose time in its current state exceeds that state's
limit (settings ``incident_limit_<state>_h``).

Voiding: an incident reported by mistake (a test call, a duplicate typed twice, the wrong
town) is voided by an operator with a reason (:func:`void`): the row stays, with who voided
it and when, an audit row records it, and it is left out of every count — the list (unless
asked for), heatmaps, hotspots, reports and camera siting. There is no hard delete.

Times: ``occurred_at`` must carry a UTC offset in whole minutes within ±14:00, and lie
between :data:`EARLIEST_OCCURRED_AT` (a setting) and five minutes after the server's clock;
anything else is a mistake or an attack (an incident in year 1 once took a page down).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, Engine

from geo.config import Settings
from geo.errors import BadInput, Conflict, NotFound
from geo.grid_index import PlanIndex
from geo.points import point_to_wgs84
from geo.store import audit
from geo.store import incidents as store
from geo.store.boxes import Box
from geo.vocabulary import (
    INCIDENT_CATEGORIES,
    INCIDENT_LABELS,
    INCIDENT_OPEN_STATES,
    INCIDENT_SOURCES,
    INCIDENT_TRANSITIONS,
)

# The workflow's words live in geo.vocabulary; these names are this module's long-standing API.
CATEGORIES = INCIDENT_CATEGORIES
SOURCES = INCIDENT_SOURCES
TRANSITIONS = INCIDENT_TRANSITIONS
OPEN_STATES = INCIDENT_OPEN_STATES
LABELS = INCIDENT_LABELS


def limits_h(settings: Settings) -> dict[str, float]:
    return {
        "reported": settings.incident_limit_reported_h,
        "accepted": settings.incident_limit_accepted_h,
        "assigned": settings.incident_limit_assigned_h,
        "assisting": settings.incident_limit_assisting_h,
    }


#: Earliest ``occurred_at`` accepted by default (setting ``GRIDMAP_INCIDENT_EARLIEST``): long before
#: any resettlement community existed, long after any clock's zero.
EARLIEST_OCCURRED_AT = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
#: How far ahead of the server's clock an ``occurred_at`` may be (clocks of phones drift).
FUTURE_SLACK = dt.timedelta(minutes=5)


def _parse_time(value: Any, *, field: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        when = value
    else:
        text_ = str(value)
        try:
            when = dt.datetime.fromisoformat(text_)
        except ValueError:
            raise BadInput(f"{field}={text_[:40]!r} is not an ISO 8601 date-time; use e.g. "
                           "2026-11-27T08:30:00+08:00", details={"field": field}) from None
    if when.tzinfo is None:
        raise BadInput(f"{field}={str(value)[:40]!r} has no UTC offset; add one, e.g. +08:00",
                       details={"field": field})
    offset = when.utcoffset() or dt.timedelta(0)
    if offset.seconds % 60 or offset.microseconds or abs(offset) > dt.timedelta(hours=14):
        raise BadInput(f"{field}={str(value)[:40]!r} has the UTC offset {offset}; offsets are whole minutes "
                       "within ±14:00 (the town's is +08:00)", details={"field": field})
    return when


def check_occurred_at(when: dt.datetime, *, now: dt.datetime,
                      earliest: dt.datetime = EARLIEST_OCCURRED_AT) -> None:
    """Refuse an incident time outside [earliest, now + 5 minutes] (BadInput naming the field)."""
    if when < earliest:
        raise BadInput(f"occurred_at={when.isoformat()} is before {earliest.date().isoformat()}, the earliest "
                       "time incidents are recorded from (GRIDMAP_INCIDENT_EARLIEST); check the year",
                       details={"field": "occurred_at", "earliest": earliest.isoformat()})
    if when > now + FUTURE_SLACK:
        raise BadInput(f"occurred_at={when.isoformat()} is in the future (the server's clock says "
                       f"{now.isoformat(timespec='seconds')}); check the date and the UTC offset",
                       details={"field": "occurred_at"})


def validate_new(data: dict[str, Any], *, now: dt.datetime,
                 earliest: dt.datetime = EARLIEST_OCCURRED_AT) -> dict[str, Any]:
    """Check a new incident's fields; returns them cleaned. Raises BadInput naming the field."""
    category = data.get("category")
    if category not in CATEGORIES:
        raise BadInput(f"category={category!r} is not one of {', '.join(CATEGORIES)}", details={"field": "category"})
    sub = data.get("subcategory")
    if sub is None and len(CATEGORIES[category]) == 1:
        sub = CATEGORIES[category][0]
    if sub is not None and sub not in CATEGORIES[category]:
        raise BadInput(f"subcategory={sub!r} is not one of {', '.join(CATEGORIES[category])} for {category}",
                       details={"field": "subcategory"})
    source = data.get("source", "patrol")
    if source not in SOURCES:
        raise BadInput(f"source={source!r} is not one of {', '.join(SOURCES)}", details={"field": "source"})
    severity = data.get("severity", 2)
    if isinstance(severity, bool) or not isinstance(severity, int) or not 1 <= severity <= 4:
        raise BadInput(f"severity={severity!r} must be a whole number from 1 (minor) to 4 (urgent)",
                       details={"field": "severity"})
    occurred = _parse_time(data.get("occurred_at") or now, field="occurred_at")
    check_occurred_at(occurred, now=now, earliest=earliest)
    description = data.get("description")
    if description is not None and (not isinstance(description, str) or len(description) > 2000):
        raise BadInput("description must be text of at most 2,000 characters", details={"field": "description"})
    for name in ("lon", "lat"):
        if isinstance(data.get(name), bool) or not isinstance(data.get(name), (int, float)):
            raise BadInput(f"{name} is required and must be a number", details={"field": name})
    lon, lat = point_to_wgs84(float(data["lon"]), float(data["lat"]), crs=data.get("crs"))
    return {"category": category, "subcategory": sub, "source": source, "severity": severity,
            "occurred_at": occurred, "description": description, "lon": lon, "lat": lat}


def create(engine: Engine, data: dict[str, Any], *, index: PlanIndex, actor: str,
           earliest: dt.datetime = EARLIEST_OCCURRED_AT) -> int:
    """Store a new incident (status reported) with the grid its point is in now, and its first event."""
    now = dt.datetime.now(dt.timezone.utc)
    clean = validate_new(data, now=now, earliest=earliest)
    grid, _ = index.locate(clean["lon"], clean["lat"])
    with engine.begin() as conn:
        incident_id = store.insert_incident(conn, **clean, reported_at=now, grid_code=grid.code if grid else None,
                                            plan_id=index.plan["id"])
        store.insert_event(conn, incident_id=incident_id, seq=1, from_status=None, to_status="reported", at=now,
                           actor=actor, note=clean["description"])
        audit.record(conn, actor=actor, action="create", entity="incident", entity_id=str(incident_id),
                     after={k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in clean.items()}
                     | {"grid_code": grid.code if grid else None})
    return incident_id


def transition(engine: Engine, *, incident_id: int, to: str, actor: str, note: str | None = None,
               assignee: str | None = None) -> dict[str, Any]:
    """Move an incident to ``to`` if the workflow allows it; returns the new event."""
    if to not in TRANSITIONS:
        raise BadInput(f"to={to!r} is not a state; states are {', '.join(TRANSITIONS)}", details={"field": "to"})
    with engine.begin() as conn:
        row = store.lock(conn, incident_id=incident_id)
        if row is None:
            raise NotFound(f"no incident with id {incident_id}")
        allowed = TRANSITIONS[row.status]
        if to not in allowed:
            raise Conflict(
                f"incident {incident_id} is {row.status}: it can go to "
                + (", ".join(allowed) if allowed else "no other state (it is final)") + f", not {to}",
                details={"status": row.status, "allowed": list(allowed)},
            )
        if to == "assigned" and not (assignee and assignee.strip()):
            raise BadInput("assigning needs an assignee (who will handle it)", details={"field": "assignee"})
        now = dt.datetime.now(dt.timezone.utc)
        seq = store.next_event_seq(conn, incident_id=incident_id)
        store.insert_event(conn, incident_id=incident_id, seq=seq, from_status=row.status, to_status=to, at=now,
                           actor=actor, note=note, assignee=assignee)
        store.set_status(conn, incident_id=incident_id, status=to)
        audit.record(conn, actor=actor, action="transition", entity="incident", entity_id=str(incident_id),
                     before={"status": row.status}, after={"status": to, "assignee": assignee, "note": note})
    return {"seq": seq, "from": row.status, "to": to, "at": now.isoformat(), "actor": actor, "note": note,
            "assignee": assignee}


def _feature(r: Any, *, now: dt.datetime, limits: dict[str, float]) -> dict[str, Any]:
    since = r.since or r.reported_at
    limit = limits.get(r.status)
    overdue = bool(limit is not None and r.voided_at is None and now - since > dt.timedelta(hours=limit))
    props = {
        "id": r.id, "ref": r.ref, "category": r.category, "subcategory": r.subcategory, "source": r.source,
        "severity": r.severity, "description": r.description, "occurred_at": r.occurred_at.isoformat(),
        "reported_at": r.reported_at.isoformat(), "status": r.status, "status_label": LABELS[r.status],
        "grid_code": r.grid_code, "plan_id": r.plan_id, "in_state_since": since.isoformat(),
        "assignee": r.assignee, "overdue": overdue,
        "due_at": (since + dt.timedelta(hours=limit)).isoformat() if limit is not None else None,
        "voided": ({"at": r.voided_at.isoformat(), "by": r.voided_by, "reason": r.void_reason}
                   if r.voided_at is not None else None),
    }
    return {"type": "Feature", "id": r.id, "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
            "properties": props}


def void(engine: Engine, *, incident_id: int, reason: str, actor: str) -> dict[str, Any]:
    """Void an incident reported by mistake: kept, audited, out of every count. Raises Conflict when
    it already is void."""
    reason = (reason or "").strip()
    if not reason:
        raise BadInput("say why the incident is voided (reason), e.g. 'test call' or 'duplicate of 2026-00412'",
                       details={"field": "reason"})
    if len(reason) > 500:
        raise BadInput("reason must be at most 500 characters", details={"field": "reason"})
    with engine.begin() as conn:
        row = store.lock(conn, incident_id=incident_id)
        if row is None:
            raise NotFound(f"no incident with id {incident_id}")
        if row.voided_at is not None:
            raise Conflict(f"incident {incident_id} was already voided at {row.voided_at.isoformat()} by "
                           f"{row.voided_by}", details={"voided_at": row.voided_at.isoformat()})
        now = dt.datetime.now(dt.timezone.utc)
        store.mark_void(conn, incident_id=incident_id, at=now, actor=actor, reason=reason)
        audit.record(conn, actor=actor, action="void", entity="incident", entity_id=str(incident_id),
                     before={"status": row.status, "voided": False}, after={"voided": True, "reason": reason})
    return {"at": now.isoformat(), "by": actor, "reason": reason}


def query(conn: Connection, *, settings: Settings, start: dt.datetime | None = None, end: dt.datetime | None = None,
          categories: list[str] | None = None, grid: str | None = None, statuses: list[str] | None = None,
          overdue: bool | None = None, voided: bool = False, bbox: Box | None = None, limit: int = 1000,
          offset: int = 0) -> dict[str, Any]:
    """Incidents as a GeoJSON FeatureCollection, newest first, with filters and paging.

    ``voided``: False (default) lists the counted incidents; True only the voided ones. ``bbox``: only
    those in a lon/lat box (west, south, east, north)."""
    for c in categories or ():
        if c not in CATEGORIES:
            raise BadInput(f"category={c!r} is not one of {', '.join(CATEGORIES)}")
    for s in statuses or ():
        if s not in TRANSITIONS:
            raise BadInput(f"status={s!r} is not one of {', '.join(TRANSITIONS)}")
    filters = {"start": start, "end": end, "categories": categories, "grid": grid, "statuses": statuses,
               "voided": voided, "bbox": bbox}
    now = dt.datetime.now(dt.timezone.utc)
    lim = limits_h(settings)
    if overdue is None:
        total = store.count(conn, **filters)
        rows = store.rows(conn, **filters, limit=limit, offset=offset)
        features = [_feature(r, now=now, limits=lim) for r in rows]
    else:  # overdue depends on the clock and the settings: filter after computing it
        every = [_feature(r, now=now, limits=lim) for r in store.rows(conn, **filters)]
        chosen = [f for f in every if f["properties"]["overdue"] == overdue]
        total, features = len(chosen), chosen[offset:offset + limit]
    return {"type": "FeatureCollection", "features": features, "total": total, "limit": limit, "offset": offset}


def get(conn: Connection, *, incident_id: int, settings: Settings) -> dict[str, Any]:
    row = store.row(conn, incident_id=incident_id)
    if row is None:
        raise NotFound(f"no incident with id {incident_id}")
    feature = _feature(row, now=dt.datetime.now(dt.timezone.utc), limits=limits_h(settings))
    feature["properties"]["events"] = [
        {"seq": e.seq, "from": e.from_status, "to": e.to_status, "at": e.at.isoformat(), "actor": e.actor,
         "note": e.note, "assignee": e.assignee}
        for e in store.events(conn, incident_id=incident_id)
    ]
    return feature


def points(conn: Connection, *, start: dt.datetime | None = None, end: dt.datetime | None = None,
           categories: list[str] | None = None, bbox: Box | None = None) -> tuple[Any, Any, Any, list[str]]:
    """lon, lat (float arrays), occurred_at (datetime64[s], UTC) and category of the counted (not
    voided) incidents in a window (and a lon/lat box), in id order."""
    import numpy as np

    for c in categories or ():
        if c not in CATEGORIES:
            raise BadInput(f"category={c!r} is not one of {', '.join(CATEGORIES)}")
    rows = store.point_rows(conn, start=start, end=end, categories=categories, bbox=bbox)
    arr = np.array([r[:3] for r in rows], dtype=float).reshape(-1, 3)
    return arr[:, 0], arr[:, 1], arr[:, 2].astype("int64").astype("datetime64[s]"), [r[3] for r in rows]
