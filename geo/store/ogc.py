"""The SQL of OGC API – Features: one statement per items page, the Features built by PostGIS.

Each collection of :mod:`geo.ogc.collections` has a :class:`Source` here: its FROM clause, the SQL
expression of each property, the feature id and the geometry. A page is

    WITH page AS (SELECT <Feature json> FROM <source> WHERE <filters> ORDER BY <sortby>, <id>
                  LIMIT :limit OFFSET :offset)
    SELECT (SELECT count(*) FROM <source> WHERE <filters>), (SELECT json_agg(...) FROM page)

so ``numberMatched`` is exact (a count with the same filters, kept between pages while no watched
table changes: :class:`MatchedCounts`) and nothing is read into Python but the page's JSON text. Joins that
only some properties need (a grid's households, a camera's building) are added only when the page
shows, filters or sorts on those properties; the count takes only those the filters need.

Identifiers and SQL fragments come only from this module and the registry; every value a request
carries (numbers, strings, times, geometries, bbox corners) is a bound parameter. Unknown properties
and operators were refused by :mod:`geo.ogc.query` before any SQL is built, and are refused here again.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import InternalError

from geo.errors import InvalidParameter, NotFound, excerpt
from geo.ogc.collections import BY_ID, GEOMETRY, Collection
from geo.ogc.query import SPATIAL, ItemsQuery
from geo.store.queries import get_plan, published_plan

#: Optional joins, by name: added to the FROM clause when a used column needs them.
_GRID_MEMBER = ("LEFT JOIN LATERAL (SELECT name, phone FROM staff s WHERE s.role = 'grid_member' "
                "AND s.grid_code = g.code ORDER BY s.id LIMIT 1) m ON true")
# A building belongs to the grid of the plan covering its point-on-surface, the lowest code winning
# (as /v1's building_grid: DISTINCT ON (b.id) ... ORDER BY b.id, g.code).
_GRID_TOTALS = """LEFT JOIN LATERAL (
      SELECT count(*) AS buildings, coalesce(sum(ut.units), 0) AS units,
             coalesce(sum(ut.households), 0) AS households, coalesce(sum(ut.population), 0) AS population
      FROM building b
      LEFT JOIN LATERAL (SELECT count(*) AS units, sum(households) AS households, sum(population) AS population
                         FROM unit u WHERE u.building_id = b.id) ut ON true
      WHERE b.geom && g.geom AND ST_Covers(g.geom, ST_PointOnSurface(b.geom))
        AND NOT EXISTS (SELECT 1 FROM grid g2 WHERE g2.plan_id = g.plan_id AND g2.code < g.code
                        AND g2.geom && b.geom AND ST_Covers(g2.geom, ST_PointOnSurface(b.geom)))
    ) tot ON true"""
_UNIT_TOTALS = ("LEFT JOIN LATERAL (SELECT count(*) AS units, coalesce(sum(households), 0) AS households, "
                "coalesce(sum(population), 0) AS population FROM unit u WHERE u.building_id = b.id) ut ON true")
_BUILDING_GRID = ("LEFT JOIN LATERAL (SELECT g.code FROM grid g WHERE g.plan_id = :plan AND g.geom && b.geom "
                  "AND ST_Covers(g.geom, ST_PointOnSurface(b.geom)) ORDER BY g.code LIMIT 1) bg ON true")


@dataclass(frozen=True)
class Column:
    sql: str
    joins: tuple[str, ...] = ()


@dataclass(frozen=True)
class Source:
    base: str                      # FROM ... [JOIN ...] WHERE <always>
    fid: str                       # the feature id
    geom: str                      # the geometry (EPSG:4326)
    columns: dict[str, Column]
    #: Geometry to test a bbox against with the GiST index (``&&``) before the exact test.
    indexed: str | None = None
    joins: dict[str, str] = field(default_factory=dict)
    #: Whether the statement needs ``:plan``.
    plan: bool = False


def _cols(**kw: str | Column) -> dict[str, Column]:
    return {k: v if isinstance(v, Column) else Column(v) for k, v in kw.items()}


SOURCES: dict[str, Source] = {
    "communities": Source(
        "FROM community c WHERE true", "c.id", "c.geom",
        _cols(id="c.id", code="c.code", name="c.name", name_en="c.name_en", pinyin="c.pinyin", aliases="c.aliases")),
    "grids": Source(
        "FROM grid g JOIN community c ON c.id = g.community_id WHERE g.plan_id = :plan", "g.code", "g.geom",
        _cols(id="g.id", code="g.code", name="g.name", community_code="c.code", community_name="c.name",
              plan_id="g.plan_id", grid_member=Column("m.name", ("m",)),
              grid_member_phone=Column("m.phone", ("m",)),
              households=Column("tot.households", ("tot",)), population=Column("tot.population", ("tot",)),
              buildings=Column("tot.buildings", ("tot",)), units=Column("tot.units", ("tot",)),
              label_lon="round(ST_X(ST_PointOnSurface(g.geom))::numeric, 6)",
              label_lat="round(ST_Y(ST_PointOnSurface(g.geom))::numeric, 6)"),
        joins={"m": _GRID_MEMBER, "tot": _GRID_TOTALS}, plan=True),
    "buildings": Source(
        "FROM building b JOIN community c ON c.id = b.community_id WHERE true", "b.id", "b.geom",
        _cols(id="b.id", code="b.code", name="b.name", address="b.address", community_code="c.code",
              grid_code=Column("bg.code", ("bg",)), floors="b.floors", height_m="b.height_m",
              units=Column("ut.units", ("ut",)), households=Column("ut.households", ("ut",)),
              population=Column("ut.population", ("ut",))),
        joins={"bg": _BUILDING_GRID, "ut": _UNIT_TOTALS}, plan=True),
    "units": Source(
        "FROM unit u JOIN building b ON b.id = u.building_id JOIN community c ON c.id = b.community_id WHERE true",
        "u.id", "ST_PointOnSurface(b.geom)",
        _cols(id="u.id", building_code="b.code", number="u.number", community_code="c.code",
              households="u.households", population="u.population"), indexed="b.geom"),
    "cameras": Source(
        "FROM camera cam WHERE true", "cam.id", "cam.geom",
        _cols(id="cam.id", code="cam.code", name="cam.name", kind="cam.kind", status="cam.status", mount="cam.mount",
              lon="round(ST_X(cam.geom)::numeric, 7)", lat="round(ST_Y(cam.geom)::numeric, 7)",
              height_m="cam.height_m", azimuth_deg="cam.azimuth_deg", hfov_deg="cam.hfov_deg", range_m="cam.range_m",
              resolution_px="cam.resolution_px",
              building_code="(SELECT code FROM building b WHERE b.id = cam.building_id)")),
    "camera-views": Source(
        "FROM camera_view v JOIN camera cam ON cam.id = v.camera_id WHERE true", "cam.id", "v.geom",
        _cols(id="cam.id", camera_id="cam.id", code="cam.code", name="cam.name", kind="cam.kind", status="cam.status",
              mount="cam.mount", area_m2="round(v.area_m2::numeric, 2)", range_m="v.range_m",
              range_level="v.range_level", counted="(cam.status = 'online')")),
    "coverage-gaps": Source(
        "FROM coverage_gap cg JOIN grid g ON g.geom_key = cg.geom_key WHERE g.plan_id = :plan", "cg.id", "cg.geom",
        _cols(id="cg.id", grid_code="g.code", area_m2="round(cg.area_m2::numeric, 2)"), plan=True),
    "key-places": Source(
        "FROM key_place k WHERE true", "k.id", "k.geom", _cols(id="k.id", kind="k.kind", name="k.name")),
    "incidents": Source(
        "FROM incident i WHERE i.voided_at IS NULL", "i.id", "i.geom",
        _cols(id="i.id", ref="i.ref", category="i.category", subcategory="i.subcategory", source="i.source",
              severity="i.severity", description="i.description", occurred_at="i.occurred_at",
              reported_at="i.reported_at", status="i.status", grid_code="i.grid_code", plan_id="i.plan_id")),
}

#: SQL types the bound values of each property type are cast to.
_CAST = {"string": "text", "integer": "bigint", "number": "double precision", "boolean": "boolean",
         "date-time": "timestamptz"}


def source(collection: Collection) -> Source:
    return SOURCES[collection.id]


# ---------------------------------------------------------------------------- plans


def plan_for(conn: Connection, collection: Collection, q: ItemsQuery) -> dict[str, Any] | None:
    """The plan a versioned collection shows: ``plan=``, the one in force at ``datetime``/``at``, or the
    published one; None for other collections. Raises NotFound."""
    if not collection.versioned:
        return None
    if q.plan_id is not None:
        return get_plan(conn, plan_id=q.plan_id)
    plan = published_plan(conn, at=q.plan_at)
    if plan is None:
        if q.plan_at is not None:
            raise NotFound(f"no plan was in force at {q.plan_at.isoformat()}: the first plan was published later "
                           "(GET /v1/plans lists the plans and when they were published)")
        raise NotFound("no plan is published yet: load data (`gridmap demo load`) or publish a plan")
    return plan


# ---------------------------------------------------------------------------- building a statement


class _Builder:
    """Collects the bound parameters and the optional joins a statement needs."""

    def __init__(self, collection: Collection, src: Source, q: ItemsQuery):
        self.collection, self.src, self.q = collection, src, q
        self.params: dict[str, Any] = {}
        self.joins: list[str] = []

    def bind(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def column(self, name: str, joins: list[str]) -> str:
        col = self.src.columns.get(name)
        if col is None or self.collection.prop(name) is None:  # never reached after geo.ogc.query's checks
            raise InvalidParameter(f"{excerpt(name)} is not a property of {self.collection.id}")
        for j in col.joins:
            if j not in joins:
                joins.append(j)
        return col.sql

    def from_clause(self, joins: list[str], *, keys: bool = False) -> str:
        """FROM ... WHERE <the source's condition>, with the optional joins; ``keys``: only the rows of
        the ``keys`` CTE (a page's ids)."""
        head, _, where = self.src.base.partition(" WHERE ")
        extra = " ".join(self.src.joins[j] for j in joins)
        page = f" JOIN keys ON keys.k = {self.src.fid}" if keys else ""
        return f"{head}{page} {extra} WHERE {where}"

    # -- the filters
    def where(self, joins: list[str]) -> str:
        q, parts = self.q, []
        if q.bbox is not None:
            b = q.bbox
            env = (f"ST_MakeEnvelope({self.bind(b.minx)}, {self.bind(b.miny)}, {self.bind(b.maxx)}, "
                   f"{self.bind(b.maxy)}, {int(b.srid)})")
            if b.srid != 4326:  # a box in another CRS: its edges densified, then transformed
                env = f"ST_Transform(ST_Segmentize({env}, {self.bind(max(b.maxx - b.minx, b.maxy - b.miny) / 32 or 1)}), 4326)"
            if self.src.indexed:
                parts.append(f"{self.src.indexed} && {env}")
            parts.append(f"ST_Intersects({self.src.geom}, {env})")
        if q.window is not None and self.collection.temporal:
            col = self.column(self.collection.temporal, joins)
            parts.append(self._window(col, q.window.start, q.window.end, q.window.end_inclusive))
        if q.filter is not None:
            parts.append(self.cql(q.filter, joins))
        return " AND ".join(f"({p})" for p in parts) if parts else "true"

    def _window(self, col: str, start: dt.datetime | None, end: dt.datetime | None, inclusive: bool) -> str:
        if start is not None and end is not None and start == end and inclusive:
            return f"{col} = {self.bind(start)}"
        parts = []
        if start is not None:
            parts.append(f"{col} >= {self.bind(start)}")
        if end is not None:
            parts.append(f"{col} {'<=' if inclusive else '<'} {self.bind(end)}")
        return " AND ".join(parts) or "true"

    # -- CQL2-JSON → SQL
    def cql(self, node: Any, joins: list[str]) -> str:
        if isinstance(node, bool):
            return "true" if node else "false"
        if not isinstance(node, dict) or "op" not in node:
            raise InvalidParameter("the filter must be a condition (a comparison, a spatial or temporal test, or "
                                   f"and/or/not of them), not {excerpt(json.dumps(node), chars=40)}",
                                   details={"parameter": "filter"})
        op, args = node["op"], node.get("args", [])
        if op in ("and", "or"):
            return f" {op.upper()} ".join(f"({self.cql(a, joins)})" for a in args)
        if op == "not":
            return f"NOT ({self.cql(args[0], joins)})"
        if op in ("=", "<>", "<", "<=", ">", ">="):
            (left, lt), (right, rt) = self.pair(args[0], args[1], joins)
            return f"{left} {op} {right}"
        if op == "like":
            (left, lt), (right, _) = self.pair(args[0], args[1], joins, want="string")
            return f"{left} LIKE {right}"
        if op == "between":
            value, vt = self.operand(args[0], joins)
            low, _ = self.literal(args[1], vt)
            high, _ = self.literal(args[2], vt)
            return f"{value} BETWEEN {low} AND {high}"
        if op == "in":
            value, vt = self.operand(args[0], joins)
            items = args[1] if isinstance(args[1], list) else [args[1]]
            if vt in (None, "geometry"):
                raise self._type_error("IN", "a property")
            values = [self.literal_value(v, vt) for v in items]
            return f"{value} = ANY(CAST({self.bind(values)} AS {_CAST[vt]}[]))"
        if op == "isNull":
            value, _ = self.operand(args[0], joins)
            return f"{value} IS NULL"
        if op in SPATIAL:
            a, b = (self.geometry(x, joins) for x in args[:2])
            fn = {"s_intersects": "ST_Intersects", "s_within": "ST_Within", "s_contains": "ST_Contains",
                  "s_disjoint": "ST_Disjoint", "s_equals": "ST_Equals", "s_touches": "ST_Touches",
                  "s_crosses": "ST_Crosses", "s_overlaps": "ST_Overlaps"}[op]
            return f"{fn}({a}, {b})"
        if op.startswith("t_"):
            return self.temporal(op, args, joins)
        raise InvalidParameter(f"the filter uses {excerpt(op)}, which this server does not evaluate",
                               details={"parameter": "filter"})

    def _type_error(self, what: str, expected: str) -> InvalidParameter:
        return InvalidParameter(f"the filter's {what} needs {expected}", details={"parameter": "filter"})

    def is_property(self, node: Any) -> bool:
        return isinstance(node, dict) and "property" in node

    def operand(self, node: Any, joins: list[str]) -> tuple[str, str | None]:
        """A property (its SQL and type) or, with type None, a literal still to be typed."""
        if self.is_property(node):
            name = node["property"]
            if name == GEOMETRY:
                return self.src.geom, "geometry"
            prop = self.collection.prop(name)
            assert prop is not None
            return self.column(name, joins), prop.type
        if isinstance(node, dict) and node.get("op") == "casei":
            inner, t = self.operand(node["args"][0], joins)
            if t not in (None, "string"):
                raise self._type_error("CASEI", "a text property or value")
            if t is None:
                return f"lower({self.literal(node['args'][0], 'string')[0]})", "string"
            return f"lower({inner})", "string"
        return "", None

    def pair(self, a: Any, b: Any, joins: list[str], want: str | None = None) -> tuple[tuple[str, str], tuple[str, str]]:
        (sa, ta), (sb, tb) = self.operand(a, joins), self.operand(b, joins)
        if ta is None and tb is None:
            raise self._type_error("comparison", "a property on one side (e.g. severity >= 3)")
        if ta is None:
            sa, ta = self.literal(a, tb, casei=sb.startswith("lower("))  # type: ignore[arg-type]
        if tb is None:
            sb, tb = self.literal(b, ta, casei=sa.startswith("lower("))
        if ta != tb or ta == "geometry" or (want and ta != want):
            raise InvalidParameter(f"the filter compares a {ta} with a {tb}" + (" (LIKE needs text)" if want else "")
                                   + ": compare a property with a value of its type (GET .../queryables)",
                                   details={"parameter": "filter"})
        return (sa, ta), (sb, tb)

    def literal_value(self, node: Any, type_: str) -> Any:
        bad = InvalidParameter(f"the filter compares a {type_} property with {excerpt(json.dumps(node), chars=40)}: "
                               "give a value of the property's type (GET .../queryables)",
                               details={"parameter": "filter"})
        if type_ == "string":
            if not isinstance(node, str):
                raise bad
            return node
        if type_ in ("integer", "number"):
            if isinstance(node, bool) or not isinstance(node, (int, float)):
                raise bad
            if type_ == "integer" and float(node) != int(node):
                return float(node)  # compared as a number below
            return int(node) if type_ == "integer" else float(node)
        if type_ == "boolean":
            if not isinstance(node, bool):
                raise bad
            return node
        if type_ == "date-time":
            return self.instant(node)
        raise bad

    def literal(self, node: Any, type_: str, casei: bool = False) -> tuple[str, str]:
        value = self.literal_value(node, type_)
        cast = _CAST[type_]
        if type_ == "integer" and isinstance(value, float):
            cast = "double precision"
        sql = f"CAST({self.bind(value)} AS {cast})"
        return (f"lower({sql})" if casei else sql), type_

    def instant(self, node: Any) -> dt.datetime:
        from geo.ogc.query import parse_window

        # a plain string is taken as a time too (GDAL 3.6 sends occurred_at > '2026-10-01T00:00:00Z')
        text_ = (node.get("timestamp") or node.get("date")) if isinstance(node, dict) else node
        if not isinstance(text_, str):
            raise InvalidParameter(f"the filter compares a time with {excerpt(json.dumps(node), chars=40)}: give "
                                   "TIMESTAMP('2026-10-01T00:00:00Z') or DATE('2026-10-01')",
                                   details={"parameter": "filter"})
        w = parse_window(text_, parameter="filter")
        assert w is not None and w.start is not None
        return w.start

    def interval(self, node: Any) -> tuple[dt.datetime | None, dt.datetime | None]:
        if isinstance(node, dict) and "interval" in node:
            ends = node["interval"]
            out: list[dt.datetime | None] = []
            for e in ends[:2]:
                if e == ".." or e is None:
                    out.append(None)
                elif isinstance(e, str):
                    out.append(self.instant({"timestamp": e}))
                else:
                    out.append(self.instant(e))
            return out[0], out[1]
        t = self.instant(node)
        return t, t

    def temporal(self, op: str, args: list[Any], joins: list[str]) -> str:
        col, t = self.operand(args[0], joins)
        if t != "date-time":
            raise self._type_error(op.upper(), f"a time property first ({self.collection.temporal or 'none here'})")
        start, end = self.interval(args[1])
        b = self.bind
        if op == "t_after":
            return f"{col} > {b(end)}" if end is not None else "false"
        if op == "t_before":
            return f"{col} < {b(start)}" if start is not None else "false"
        if op == "t_during":
            parts = ([f"{col} > {b(start)}"] if start is not None else []) + \
                    ([f"{col} < {b(end)}"] if end is not None else [])
            return " AND ".join(parts) or f"{col} IS NOT NULL"
        if op == "t_equals":
            return f"{col} = {b(start)}" if start == end and start is not None else "false"
        within = self._window(col, start, end, True)
        if op == "t_intersects":
            return within
        return f"NOT ({within})"  # t_disjoint

    def geometry(self, node: Any, joins: list[str]) -> str:
        if self.is_property(node):
            if node["property"] != GEOMETRY:
                raise self._type_error("spatial test", f"the geometry ('{GEOMETRY}') or a geometry value")
            return self.src.geom
        crs = self.q.filter_crs
        if isinstance(node, dict) and "bbox" in node:
            box = [float(x) for x in node["bbox"]]
            if len(box) == 6:
                box = [box[0], box[1], box[3], box[4]]
            if len(box) != 4:
                raise self._type_error("BBOX", "4 numbers")
            if crs.north_first:
                box = [box[1], box[0], box[3], box[2]]
            g = f"ST_MakeEnvelope({', '.join(self.bind(x) for x in box)}, {int(crs.srid)})"
        elif isinstance(node, dict) and "type" in node:
            g = f"ST_SetSRID(ST_GeomFromGeoJSON({self.bind(json.dumps(node))}), {int(crs.srid)})"
            if crs.north_first:
                g = f"ST_FlipCoordinates({g})"
        else:
            raise self._type_error("spatial test", "a geometry (WKT in cql2-text, GeoJSON in cql2-json)")
        return g if crs.srid == 4326 else f"ST_Transform({g}, 4326)"

    # -- the answer
    def order(self, joins: list[str]) -> str:
        keys = [f"{self.column(n, joins)} {'DESC' if d else 'ASC'} NULLS LAST" for n, d in self.q.sort]
        keys.append(f"{self.src.fid} ASC")
        return ", ".join(keys)

    def feature(self, joins: list[str]) -> str:
        crs = self.q.crs
        geom = self.src.geom if crs.srid == 4326 else f"ST_Transform({self.src.geom}, {int(crs.srid)})"
        if crs.north_first:
            geom = f"ST_FlipCoordinates({geom})"
        props = ", ".join(f"'{n}', {self.column(n, joins)}" for n in self.q.properties)
        return (f"json_build_object('type', 'Feature', 'id', {self.src.fid}, "
                f"'geometry', ST_AsGeoJSON({geom}, {int(crs.decimals)})::json, "
                f"'properties', json_build_object({props}))")


def _names_are_safe() -> None:
    """Property names are put in SQL as JSON keys (``'name'``): they must be plain identifiers."""
    for cid, src in SOURCES.items():
        for name in src.columns:
            assert name.replace("_", "").isalnum() and name.isascii(), (cid, name)


_names_are_safe()


class MatchedCounts:
    """``numberMatched`` of recent queries, each with the change counters it was counted under.

    A page's count is a second scan of everything the filters match: on a million incidents it was
    most of the page's time (bench/README.md, "Items: counts kept"), and a client paging through a
    collection (GDAL reads 1,000 pages of the city's incidents) asked for the same count on every page.
    A count is kept under the query (collection, filters and their values; not limit, offset, sort or
    properties) together with every data_version counter of the snapshot it was counted in. A page's
    statement reads the counters in its own snapshot: the kept count is used only when they are the
    same, so it is the count that snapshot would give (exact, not an estimate); after any write to a
    watched table the next page counts again. Per process (each worker keeps its own), bounded, least
    recently used dropped first. The app keeps one (``app.state.ogc_counts``): one database's counts."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._kept: OrderedDict[tuple[Any, ...], tuple[str, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> tuple[str, int] | None:
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
            return found

    def put(self, key: tuple[Any, ...], versions: str, count: int) -> None:
        with self._lock:
            self._kept[key] = (versions, count)
            self._kept.move_to_end(key)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()


#: Every change counter of the snapshot, as one text (the epoch included: a schema made again never
#: matches a count kept before).
_VERSIONS = "(SELECT string_agg(table_name || ':' || version, ',' ORDER BY table_name) FROM data_version)"


def _hashable(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    return value


def items_page(conn: Connection, collection: Collection, q: ItemsQuery, *,
               counts: MatchedCounts | None = None) -> tuple[int, int, str, dict[str, Any] | None]:
    """One page: (numberMatched, numberReturned, the features as a JSON array text, the plan or None).

    The page's ids are chosen first (with only the joins the filters and sort keys need), then their
    Features are built (with the joins the shown properties need), so a grid's totals are computed
    for the page's grids only. numberMatched comes from *counts* when it holds this query's count
    under the counters this statement reads, else it is counted in the same statement (and kept in
    *counts*); without *counts* it counts every time."""
    src = source(collection)
    plan = plan_for(conn, collection, q)
    build = _Builder(collection, src, q)
    filter_joins: list[str] = []
    where = build.where(filter_joins)
    key_joins = list(filter_joins)
    order = build.order(key_joins)
    page_joins: list[str] = []
    feature = build.feature(page_joins)
    if plan is not None:
        build.params["plan"] = plan["id"]
    count_sql = f"SELECT count(*) {build.from_clause(filter_joins)} AND {where}"
    count_key = (collection.id, count_sql, _hashable(build.params))  # before limit/offset: not part of it
    kept = counts.get(count_key) if counts is not None else None
    build.params["limit"], build.params["offset"] = q.limit, q.offset
    sql = f"""
        WITH keys AS (
          SELECT {src.fid} AS k, row_number() OVER (ORDER BY {order}) AS n
          {build.from_clause(key_joins)} AND {where}
          ORDER BY {order} LIMIT :limit OFFSET :offset
        ),
        page AS (SELECT keys.n, {feature} AS f {build.from_clause(page_joins, keys=True)})
        SELECT CASE WHEN :count THEN ({count_sql}) END AS matched,
               {_VERSIONS} AS versions,
               (SELECT count(*) FROM page) AS returned,
               (SELECT coalesce(json_agg(f ORDER BY n), '[]'::json)::text FROM page) AS features"""
    try:
        row = conn.execute(text(sql), {**build.params, "count": kept is None}).one()
        if kept is not None and row.versions != kept[0]:  # written since: count in this snapshot
            kept = None
            row = conn.execute(text(sql), {**build.params, "count": True}).one()
    except InternalError:  # PostGIS refusing a geometry or a transform the checks let through
        conn.rollback()
        raise InvalidParameter("PostGIS could not evaluate the bbox or the filter's geometry (a geometry it cannot "
                               "use, or coordinates it cannot transform): check the geometry and its CRS",
                               details={"parameter": "filter"}) from None
    if kept is not None:
        return kept[1], row.returned, row.features, plan
    if counts is not None:
        counts.put(count_key, row.versions, row.matched)
    return row.matched, row.returned, row.features, plan


def one_feature(conn: Connection, collection: Collection, q: ItemsQuery, fid: str) -> tuple[str, dict[str, Any] | None]:
    """One Feature as JSON text; raises NotFound."""
    src = source(collection)
    plan = plan_for(conn, collection, q)
    build = _Builder(collection, src, q)
    joins: list[str] = []
    feature = build.feature(joins)
    if collection.id_type == "integer":
        if not (fid.isascii() and fid.isdigit()) or len(fid) > 18:
            raise NotFound(f"no feature {excerpt(fid)} in {collection.id}: its ids are whole numbers "
                           f"(/ogc/collections/{collection.id}/items lists them)")
        value: Any = int(fid)
    else:
        value = fid
    build.params["fid"] = value
    if plan is not None:
        build.params["plan"] = plan["id"]
    sql = f"SELECT {feature}::text {build.from_clause(joins)} AND {src.fid} = :fid"
    row = conn.execute(text(sql), build.params).first()
    if row is None:
        where = f" in plan {plan['id']}" if plan is not None else ""
        raise NotFound(f"no feature {excerpt(fid)} in {collection.id}{where}: "
                       f"/ogc/collections/{collection.id}/items lists them")
    return row[0], plan


def temporal_extent(conn: Connection, collection: Collection) -> tuple[str | None, str | None]:
    """(first, last) of the collection's temporal property as ISO text (both None when it has none)."""
    if collection.temporal is None:
        return None, None
    src = source(collection)
    col = src.columns[collection.temporal].sql
    row = conn.execute(text(f"SELECT min({col}), max({col}) {src.base}")).one()
    return (row[0].isoformat() if row[0] else None), (row[1].isoformat() if row[1] else None)


def collection_for(collection_id: str) -> Collection:
    found = BY_ID.get(collection_id)
    if found is None:
        raise NotFound(f"no collection {excerpt(collection_id, chars=30)}: /ogc/collections lists them "
                       f"({', '.join(BY_ID)})")
    return found
