"""Request parameters more than one router reads: dates and windows, plan ids, plan versions (If-Match),
CRS options, lists."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Header

from geo import batch
from geo.config import TOWN_TIMEZONE
from geo.errors import BadInput
from geo.ogc.collections import CRS84, CRS_BY_URI
from geo.ogc.query import parse_bbox

TOWN_TZ = ZoneInfo(TOWN_TIMEZONE)


#: The dates a time parameter may name (at, from, to): outside them date arithmetic overflows
#: (year 1 minus a time zone is year 0) and no plan or incident can be.
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2999, 12, 31)


def parse_at(at: object, *, field: str | None = None) -> dt.datetime | None:
    """ISO date or datetime; a date means 00:00 town time (Asia/Shanghai), a naive time is town time.

    With ``field`` (the parameter's name, for the message) the date must also lie within
    :data:`EARLIEST_DATE` .. :data:`LATEST_DATE`; without it any date is taken (and the message says "at").
    """
    if at is None or at == "":
        return None
    bounded = field is not None
    field = field or "at"
    example = f"use e.g. {field}=2026-03-01 or {field}=2026-03-01T08:00:00+08:00"
    if not isinstance(at, str):
        raise BadInput(f"{field} must be an ISO 8601 date or date-time string, not {batch.json_repr(at)}; {example}",
                       details={"field": field})
    try:
        if len(at) == 10:
            when = dt.datetime.combine(dt.date.fromisoformat(at), dt.time(), TOWN_TZ)
        else:
            when = dt.datetime.fromisoformat(at)
    except ValueError:
        raise BadInput(f"{field}={batch.json_repr(at)} is not an ISO 8601 date or date-time; {example}",
                       details={"field": field}) from None
    if bounded and not EARLIEST_DATE <= when.date() <= LATEST_DATE:
        raise BadInput(f"{field}={batch.json_repr(at)} is outside the dates this service answers for "
                       f"({EARLIEST_DATE} to {LATEST_DATE}); {example}", details={"field": field})
    return when if when.tzinfo else when.replace(tzinfo=TOWN_TZ)


#: Plan ids are PostgreSQL integers.
MAX_PLAN_ID = 2**31 - 1


def parse_plan(plan: object) -> int | None:
    """A plan id from a JSON body (a whole number) or a CSV option / form field (its digits)."""
    if plan is None or plan == "":
        return None
    if isinstance(plan, str) and plan.strip().isascii() and plan.strip().isdigit():
        plan = int(plan.strip())
    if isinstance(plan, bool) or not isinstance(plan, int) or not 1 <= plan <= MAX_PLAN_ID:
        raise BadInput(f"plan={batch.json_repr(plan)} is not a plan id: give a whole number from 1 (GET /v1/plans "
                       "lists them), e.g. plan=3", details={"field": "plan"})
    return plan


#: The ``If-Match`` header of a plan edit (/v1/plans and the OGC API's transactions alike).
IfMatch = Annotated[str | None, Header(description='the plan version the edit was made against, e.g. "7" '
                                                   "(the plan's ETag)")]


def parse_if_match(value: str | None) -> int | None:
    """``"7"``, ``7`` or ``W/"7"`` → 7; None when absent.

    >>> parse_if_match('W/"7"'), parse_if_match(None)
    (7, None)
    """
    if value is None or not value.strip():
        return None
    m = re.fullmatch(r'\s*(?:W/)?"?(\d{1,9})"?\s*', value)
    if m is None:
        raise BadInput.say("plan.bad_if_match", value=value)
    return int(m.group(1))


def plan_etag(version: int) -> str:
    """The ETag of a plan at ``version`` (what an edit's If-Match names)."""
    return f'"{version}"'


def parse_crs_option(crs: object) -> str | None:
    if crs is None or isinstance(crs, str):
        return crs or None
    raise BadInput(f'crs must be a string such as "wgs84", "gcj02" or "EPSG:4547", not {batch.json_repr(crs)}',
                   details={"field": "crs"})


def csv_list(values: list[str] | None) -> list[str] | None:
    """A repeated or comma-separated query parameter as one list (``None`` when empty)."""
    out = [v for part in values or () for v in part.split(",") if v]
    return out or None


def window(start: str | None, end: str | None) -> tuple[dt.datetime | None, dt.datetime | None]:
    """``from``/``to`` parameters as a time window (either end open); ``to`` must come after ``from``."""
    s, e = parse_at(start, field="from"), parse_at(end, field="to")
    if s and e and e <= s:
        raise BadInput(f"to={end} is not after from={start}; give a window with from < to")
    return s, e


def lonlat_bbox(value: str | None) -> tuple[float, float, float, float] | None:
    """``bbox=west,south,east,north`` in WGS84 longitude/latitude (the order of OGC API's CRS84 bbox), or None.

    The map pages send the box in view, so an analysis of a city covers what is shown, not the whole city.
    """
    box = parse_bbox(value, CRS_BY_URI[CRS84])
    return None if box is None else (box.minx, box.miny, box.maxx, box.maxy)
