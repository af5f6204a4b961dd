"""An OGC API – Features items request, read and checked: paging, bbox, datetime, properties, sortby,
crs and the CQL2 filter (Part 3). Pure: the SQL is :mod:`geo.store.ogc`'s.

Every problem is :class:`~geo.errors.InvalidParameter` (HTTP 400) naming the parameter, what was wrong
and what is accepted. CQL2 is parsed by the ``cql2`` library (text and JSON, the standard's grammar)
into CQL2-JSON; this module then walks that tree once to check that it names only the collection's
queryables and uses only the operators :mod:`geo.store.ogc` translates, within size limits.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from geo.config import TOWN_TIMEZONE
from geo.errors import InvalidParameter, excerpt
from geo.ogc.collections import (CRS84, CRSS, CRS_BY_URI, DEFAULT_LIMIT, GEOMETRY, MAX_LIMIT, Collection,
                                 OutputCrs, Property, find_crs)

TOWN_TZ = ZoneInfo(TOWN_TIMEZONE)
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2999, 12, 31)

#: Size limits of a filter: nesting depth, nodes (operators and values), coordinates of its geometries.
FILTER_MAX_DEPTH = 50
FILTER_MAX_NODES = 2_000
FILTER_MAX_VERTICES = 100_000
FILTER_MAX_CHARS = 256_000

COMPARISONS = ("=", "<>", "<", "<=", ">", ">=")
SPATIAL = ("s_intersects", "s_within", "s_contains", "s_disjoint", "s_equals", "s_touches", "s_crosses",
           "s_overlaps")
TEMPORAL = ("t_after", "t_before", "t_during", "t_equals", "t_intersects", "t_disjoint")
OPERATORS = ("and", "or", "not", *COMPARISONS, "like", "in", "between", "isNull", "casei", *SPATIAL, *TEMPORAL)


def visible(collection: Collection, allows: Callable[[str], bool]) -> tuple[Property, ...]:
    """The properties a caller sees (``allows(role)``: whether the caller's role grants ``role``)."""
    return tuple(p for p in collection.properties if allows(p.role))


def queryables(collection: Collection, allows: Callable[[str], bool]) -> tuple[Property, ...]:
    return tuple(p for p in visible(collection, allows) if p.queryable)


@dataclass(frozen=True)
class Bbox:
    """A box in PostGIS x/y order (longitude or easting first) in ``srid``."""

    minx: float
    miny: float
    maxx: float
    maxy: float
    srid: int


@dataclass(frozen=True)
class Window:
    """A time: from ``start`` (inclusive; None: open) to ``end`` (None: open; inclusive when
    ``end_inclusive``). An instant has start == end, inclusive."""

    start: dt.datetime | None
    end: dt.datetime | None
    end_inclusive: bool = True


@dataclass(frozen=True)
class ItemsQuery:
    limit: int
    offset: int
    bbox: Bbox | None
    window: Window | None
    #: Names of the properties to send, in registry order (already only the visible ones).
    properties: tuple[str, ...]
    #: (property, descending) pairs; the feature id is always the last key (stable pages).
    sort: tuple[tuple[str, bool], ...]
    crs: OutputCrs
    #: The filter as CQL2-JSON (checked), or None.
    filter: Any
    filter_crs: OutputCrs
    #: The plan of a versioned collection: an id, or the instant whose plan in force is meant.
    plan_id: int | None
    plan_at: dt.datetime | None


def _bad(parameter: str, message: str, **details: Any) -> InvalidParameter:
    return InvalidParameter(message, details={"parameter": parameter, **details})


# ---------------------------------------------------------------------------- simple parameters


def parse_int(value: str | None, *, parameter: str, default: int, minimum: int, example: str) -> int:
    if value is None or value == "":
        return default
    v = value.strip()
    if not (v.isascii() and v.lstrip("-").isdigit()) or len(v) > 12:
        raise _bad(parameter, f"{parameter}={excerpt(value)} is not a whole number; use e.g. {example}")
    n = int(v)
    if n < minimum:
        raise _bad(parameter, f"{parameter}={n} is below {minimum}; use e.g. {example}")
    return n


def parse_limit(value: str | None) -> int:
    """Items per page: default :data:`DEFAULT_LIMIT`; above :data:`MAX_LIMIT` it is taken as the maximum."""
    return min(parse_int(value, parameter="limit", default=DEFAULT_LIMIT, minimum=1, example="limit=100"),
               MAX_LIMIT)


def parse_crs(value: str | None, *, parameter: str) -> OutputCrs:
    if value is None or value == "":
        return CRS_BY_URI[CRS84]
    found = find_crs(value)
    if found is None:
        raise _bad(parameter, f"{parameter}={excerpt(value, chars=60)} is not offered: use one of "
                   f"{', '.join(c.uri for c in CRSS)}", accepted=[c.uri for c in CRSS])
    return found


def _number(text: str, *, parameter: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise _bad(parameter, f"{parameter} holds {excerpt(text)}, not a number; give minx,miny,maxx,maxy, "
                   "e.g. bbox=113.10,40.05,113.12,40.07") from None
    if not math.isfinite(x):
        raise _bad(parameter, f"{parameter} holds {excerpt(text)}: coordinates must be finite numbers")
    return x


def parse_bbox(value: str | None, crs: OutputCrs) -> Bbox | None:
    """``bbox`` as 4 numbers (or 6, the heights ignored) in ``crs``'s axis order: lon/lat for CRS84,
    lat/lon for EPSG:4326 and EPSG:4490, northing/easting for EPSG:4547."""
    if value is None or value == "":
        return None
    parts = [p.strip() for p in value.split(",")]
    if len(parts) not in (4, 6):
        raise _bad("bbox", f"bbox needs 4 numbers (or 6 with heights), got {len(parts)}: give lower corner then "
                   "upper corner in the bbox-crs axis order, e.g. bbox=113.10,40.05,113.12,40.07 (CRS84)")
    n = [_number(p, parameter="bbox") for p in parts]
    a1, a2, b1, b2 = (n[0], n[1], n[2], n[3]) if len(n) == 4 else (n[0], n[1], n[3], n[4])
    if crs.north_first:
        a1, a2, b1, b2 = a2, a1, b2, b1
    minx, miny, maxx, maxy = a1, a2, b1, b2
    if miny > maxy or minx > maxx:
        raise _bad("bbox", f"bbox {value} has its lower corner above or right of its upper corner (boxes across "
                   f"the antimeridian are not supported): give minimum values first in {crs.uri}'s axis order")
    x0, y0, x1, y1 = crs.bounds
    if not (x0 <= minx <= maxx <= x1 and y0 <= miny <= maxy <= y1):
        if crs.srid in (4326, 4490):
            hint = (" (EPSG:4326 and EPSG:4490 are latitude first; CRS84 is longitude first)" if crs.north_first
                    else " (did you give latitude first? CRS84 is longitude first)")
            raise _bad("bbox", f"bbox {value} is outside longitude -180..180 / latitude -90..90{hint}")
        raise _bad("bbox", f"bbox {value} is outside the area of {crs.uri} ({x0:g}..{x1:g}, {y0:g}..{y1:g} in x/y "
                   "order; give the box in the bbox-crs axis order)")
    return Bbox(minx, miny, maxx, maxy, crs.srid)


def _time(text: str, *, parameter: str, end: bool) -> tuple[dt.datetime, bool]:
    """An RFC 3339 date-time (a time without offset is town time) or a date (00:00 town time). Returns the
    time and whether it was a date (a date as an end means the end of that day)."""
    t = text.strip()
    example = f"use RFC 3339, e.g. {parameter}=2026-10-01T00:00:00Z or {parameter}=2026-10-01/2026-11-01"
    try:
        if len(t) == 10:
            d = dt.date.fromisoformat(t)
            when, is_date = dt.datetime.combine(d, dt.time(), TOWN_TZ), True
        else:
            when, is_date = dt.datetime.fromisoformat(t.replace("z", "Z")), False
    except ValueError:
        raise _bad(parameter, f"{parameter}: {excerpt(text, chars=30)} is not an RFC 3339 date-time; {example}") from None
    if not EARLIEST <= when.date() <= LATEST:
        raise _bad(parameter, f"{parameter}: {t} is outside {EARLIEST} to {LATEST}; {example}")
    if when.tzinfo is None:
        when = when.replace(tzinfo=TOWN_TZ)
    if is_date and end:
        when = when + dt.timedelta(days=1)
    return when, is_date


def parse_window(value: str | None, *, parameter: str = "datetime") -> Window | None:
    """``datetime``: an instant, or an interval ``start/end`` with ``..`` (or nothing) for an open end.
    A date as an instant is that whole day; a date as an end includes that day."""
    if value is None or value == "":
        return None
    if "/" not in value:
        when, is_date = _time(value, parameter=parameter, end=False)
        if is_date:
            return Window(when, when + dt.timedelta(days=1), end_inclusive=False)
        return Window(when, when)
    first, _, second = value.partition("/")
    if "/" in second:
        raise _bad(parameter, f"{parameter} has more than one '/': give an instant or start/end")
    open_ = ("", "..")
    start = None if first.strip() in open_ else _time(first, parameter=parameter, end=False)[0]
    end, inclusive = None, True
    if second.strip() not in open_:
        end, is_date = _time(second, parameter=parameter, end=True)
        inclusive = not is_date
    if start is None and end is None:
        raise _bad(parameter, f"{parameter}={value} is open at both ends: leave datetime out to get every time")
    if start is not None and end is not None and (end < start or (end == start and not inclusive)):
        raise _bad(parameter, f"{parameter}={value} ends before it starts: give start/end with start <= end")
    return Window(start, end, inclusive)


def parse_plan_instant(value: str | None, *, parameter: str) -> dt.datetime | None:
    """The instant whose plan in force a versioned collection shows (``datetime`` or ``at``)."""
    if value is None or value == "":
        return None
    if "/" in value:
        raise _bad(parameter, f"{parameter} on a plan-versioned collection is an instant (the plan in force then), "
                   f"not an interval: e.g. {parameter}=2026-03-01 or {parameter}=2026-03-01T08:00:00+08:00")
    return _time(value, parameter=parameter, end=False)[0]


def parse_plan_id(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    n = parse_int(value, parameter="plan", default=0, minimum=1, example="plan=3 (GET /v1/plans lists them)")
    if n > 2**31 - 1:
        raise _bad("plan", f"plan={n} is not a plan id (at most 2147483647): GET /v1/plans lists them")
    return n


def _names(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def parse_properties(value: str | None, props: tuple[Property, ...]) -> tuple[str, ...]:
    """``properties``: a comma-separated subset of the visible properties (all when not given; an empty
    value means none)."""
    if value is None:
        return tuple(p.name for p in props)
    wanted = _names(value)
    known = {p.name for p in props}
    unknown = [w for w in wanted if w not in known]
    if unknown:
        raise _bad("properties", f"properties: {', '.join(excerpt(u, chars=30) for u in unknown[:5])} "
                   f"{'is' if len(unknown) == 1 else 'are'} not properties of this collection; choose from "
                   f"{', '.join(sorted(known))}", unknown=[u[:60] for u in unknown[:20]], accepted=sorted(known))
    return tuple(p.name for p in props if p.name in wanted)


def parse_sortby(value: str | None, props: tuple[Property, ...]) -> tuple[tuple[str, bool], ...]:
    """``sortby``: comma-separated queryable properties, each with an optional ``+`` (ascending, the
    default) or ``-`` (descending); ``name:A``/``name:D`` are accepted too."""
    if value is None or value.strip() == "":
        return ()
    known = {p.name for p in props if p.queryable}
    out: list[tuple[str, bool]] = []
    for item in _names(value):
        desc = False
        if item[0] in "+-":
            desc, item = item[0] == "-", item[1:].strip()
        elif item.upper().endswith((":A", ":D")):
            desc, item = item.upper().endswith(":D"), item[:-2]
        if item not in known:
            raise _bad("sortby", f"sortby: {excerpt(item, chars=30)} is not a sortable property; choose from "
                       f"{', '.join(sorted(known))}, e.g. sortby=-{sorted(known)[0]}", accepted=sorted(known))
        if item not in (n for n, _ in out):
            out.append((item, desc))
    return tuple(out)


# ---------------------------------------------------------------------------- CQL2


def parse_filter(value: str | None, lang: str | None, *, props: tuple[Property, ...],
                 crs: OutputCrs | None = None) -> Any:
    """``filter`` in ``filter-lang`` (``cql2-text``, the default, or ``cql2-json``) as checked CQL2-JSON."""
    if value is None or value.strip() == "":
        if lang not in (None, "", "cql2-text", "cql2-json", "cql-text"):
            raise _bad("filter-lang", f"filter-lang={excerpt(lang)} is not offered: use cql2-text or cql2-json")
        return None
    import cql2  # the standard's grammar (a Rust parser); imported here, when a filter is given

    if len(value) > FILTER_MAX_CHARS:
        raise _bad("filter", f"the filter is {len(value):,} characters, over the limit of {FILTER_MAX_CHARS:,}: "
                   "split the request or simplify its geometries")
    lang = lang or "cql2-text"
    if lang == "cql-text":  # the draft's name, which GDAL 3.6 sends: its comparisons are CQL2 text
        lang = "cql2-text"
    try:
        if lang == "cql2-text":
            expr = cql2.parse_text(value)
        elif lang == "cql2-json":
            try:
                json.loads(value)
            except ValueError as e:
                raise _bad("filter", f"the cql2-json filter is not JSON: {e}") from None
            expr = cql2.parse_json(value)
        else:
            raise _bad("filter-lang", f"filter-lang={excerpt(lang)} is not offered: use cql2-text or cql2-json")
        tree = expr.to_json()
    except InvalidParameter:
        raise
    except Exception as e:  # cql2.ParseError / ValidationError: the message says where
        where = str(e).strip()
        raise _bad("filter", f"the {lang} filter does not parse: {where[:600]}", where=where[:600]) from None
    check_filter(tree, props, crs)
    return tree


def _check_geometry(node: dict[str, Any], crs: OutputCrs) -> None:
    """A geometry literal must be a valid GeoJSON geometry inside ``crs``'s area (axis order as sent)."""
    import shapely
    from shapely.geometry import shape

    try:
        g = shape(node)
    except Exception:
        raise _bad("filter", f"the filter holds a geometry that is not well-formed ({excerpt(node.get('type'))}): "
                   "give WKT such as POLYGON((x y, ...)) with closed rings of 4 or more points") from None
    if g.is_empty or not g.is_valid:
        raise _bad("filter", f"the filter's {g.geom_type} is not a valid geometry "
                   f"({shapely.is_valid_reason(g) if not g.is_empty else 'empty'}): fix its rings")
    minx, miny, maxx, maxy = g.bounds
    if crs.north_first:
        minx, miny, maxx, maxy = miny, minx, maxy, maxx
    x0, y0, x1, y1 = crs.bounds
    if not (x0 <= minx and maxx <= x1 and y0 <= miny and maxy <= y1):
        raise _bad("filter", f"the filter's geometry lies outside the area of filter-crs {crs.uri}: give it in "
                   "that CRS's axis order (CRS84, the default, is longitude first)")


def check_filter(tree: Any, props: tuple[Property, ...], crs: OutputCrs | None = None) -> None:
    """The filter names only queryables and uses only translated operators, within the size limits."""
    crs = crs or CRS_BY_URI[CRS84]
    names = {p.name for p in props if p.queryable} | {GEOMETRY}
    counter = {"nodes": 0, "vertices": 0}

    def walk(node: Any, depth: int) -> None:
        counter["nodes"] += 1
        if depth > FILTER_MAX_DEPTH or counter["nodes"] > FILTER_MAX_NODES:
            raise _bad("filter", f"the filter is nested deeper than {FILTER_MAX_DEPTH} levels or has more than "
                       f"{FILTER_MAX_NODES:,} terms: simplify it")
        if isinstance(node, list):
            for item in node:
                walk(item, depth + 1)
            return
        if not isinstance(node, dict):
            return
        if "property" in node:
            name = node["property"]
            if name not in names:
                raise _bad("filter", f"the filter names {excerpt(name, chars=40)}, which is not a queryable of "
                           f"this collection; queryables: {', '.join(sorted(names))} (GET .../queryables)",
                           unknown=str(name)[:60], queryables=sorted(names))
            return
        if "op" in node:
            if node["op"] not in OPERATORS:
                raise _bad("filter", f"the filter uses {excerpt(node['op'], chars=30)}, which this server does "
                           f"not evaluate; operators: {', '.join(OPERATORS)}", operators=list(OPERATORS))
            walk(node.get("args", []), depth + 1)
            return
        if "coordinates" in node or "geometries" in node:
            counter["vertices"] += json.dumps(node.get("coordinates", node.get("geometries"))).count(",") + 1
            if counter["vertices"] > 2 * FILTER_MAX_VERTICES:
                raise _bad("filter", f"the filter's geometries have more than {FILTER_MAX_VERTICES:,} vertices: "
                           "simplify them")
            _check_geometry(node, crs)
            return
        if "bbox" in node:
            box = node["bbox"]
            if not (isinstance(box, list) and len(box) in (4, 6) and all(
                    isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in box)):
                raise _bad("filter", "a BBOX in the filter needs 4 (or 6) finite numbers")
            b = [box[0], box[1], box[2], box[3]] if len(box) == 4 else [box[0], box[1], box[3], box[4]]
            _check_geometry({"type": "Polygon", "coordinates": [[[b[0], b[1]], [b[2], b[1]], [b[2], b[3]],
                                                                 [b[0], b[3]], [b[0], b[1]]]]}, crs)

    walk(tree, 0)


# ---------------------------------------------------------------------------- the whole request


#: Query parameters the items request knows (others are refused, as Part 1 requires).
ITEMS_PARAMETERS = frozenset({"f", "limit", "offset", "bbox", "bbox-crs", "datetime", "at", "plan", "properties",
                              "sortby", "crs", "filter", "filter-lang", "filter-crs"})
ITEM_PARAMETERS = frozenset({"f", "crs", "properties", "datetime", "at", "plan"})


def check_known(params: dict[str, str], known: frozenset[str]) -> None:
    unknown = sorted(k for k in params if k not in known)
    if unknown:
        raise _bad(unknown[0], f"unknown query parameter {excerpt(unknown[0], chars=30)}: this request takes "
                   f"{', '.join(sorted(known))}", accepted=sorted(known))


def items_query(collection: Collection, params: dict[str, str], *, allows: Callable[[str], bool],
                one: bool = False) -> ItemsQuery:
    """Read the query parameters of ``/items`` (or, with ``one``, of ``/items/{fid}``)."""
    check_known(params, ITEM_PARAMETERS if one else ITEMS_PARAMETERS)
    props = visible(collection, allows)
    get = params.get
    if get("datetime") and get("at"):
        raise _bad("at", "give datetime= or at=, not both (they mean the same)")
    plan_id, plan_at, window = None, None, None
    when = get("datetime") or get("at")
    if collection.versioned:
        plan_id = parse_plan_id(get("plan"))
        plan_at = parse_plan_instant(when, parameter="datetime" if get("datetime") else "at")
        if plan_id is not None and plan_at is not None:
            raise _bad("plan", "give either plan= or datetime=/at=, not both")
    else:
        if get("plan"):
            raise _bad("plan", f"{collection.id} does not depend on a plan: plan= applies to grids, buildings and "
                       "coverage-gaps")
        if when:
            if collection.temporal is None:
                raise _bad("datetime", f"{collection.id} has no time: datetime filters incidents (occurred_at) "
                           "and picks the plan of grids, buildings and coverage-gaps")
            window = parse_window(when, parameter="datetime" if get("datetime") else "at")
    crs = parse_crs(get("crs"), parameter="crs")
    if one:
        return ItemsQuery(1, 0, None, None, parse_properties(get("properties"), props), (), crs, None,
                          crs, plan_id, plan_at)
    bbox_crs = parse_crs(get("bbox-crs"), parameter="bbox-crs")
    filter_crs = parse_crs(get("filter-crs"), parameter="filter-crs")
    return ItemsQuery(
        limit=parse_limit(get("limit")),
        offset=parse_int(get("offset"), parameter="offset", default=0, minimum=0, example="offset=100"),
        bbox=parse_bbox(get("bbox"), bbox_crs),
        window=window,
        properties=parse_properties(get("properties"), props),
        sort=parse_sortby(get("sortby"), props),
        crs=crs,
        filter=parse_filter(get("filter"), get("filter-lang"), props=props, crs=filter_crs),
        filter_crs=filter_crs,
        plan_id=plan_id, plan_at=plan_at,
    )
