"""OGC API – Features at /ogc: Part 1 (core, GeoJSON, HTML, OpenAPI 3.0), Part 2 (CRS) and Part 3
(queryables, CQL2 text and JSON filters), read side. Part 4's writes (create, replace, update, delete the
grids of a draft) are api/routes/ogc_transactions.py's; their conformance classes are declared here.

The landing page and the conformance declaration answer without a key (they hold no data); the
collections need an API key (``Authorization: Bearer <key>``), each collection the role its registry
entry names (geo/ogc/collections.py). Bad query parameters are 400 (OGC API's rule), with the error
envelope plus OGC's ``code``/``description``.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import Connection
from starlette.datastructures import URL

from api.deps import ConnDep, require, with_conn
from api.params import plan_etag
from api.responses import GEOJSON, JSON, GeoJSONResponse
from api.schemas import (OgcCollection, OgcCollections, OgcConformance, OgcFeature, OgcFeatureCollection, OgcLanding,
                         OgcQueryables)
from geo.errors import Forbidden, InvalidParameter
from geo.keys import KeyInfo, role_allows
from geo.vocabulary import ROLES
from geo.ogc import query as ogc_query
from geo.ogc.collections import (COLLECTIONS, CRS84, CRSS, DEFAULT_LIMIT, GEOMETRY, MAX_LIMIT, STORAGE_CRS,
                                 Collection)
from geo.store import ogc as store
from geo.store import queries

router = APIRouter(prefix="/ogc", tags=["ogc"])

OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
HTML = "text/html"

_F1 = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
_F3 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"
_CQL = "http://www.opengis.net/spec/cql2/1.0/conf/"
_F4 = "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/"
#: What this service implements, and nothing else. Temporal functions are evaluated for the instants
#: this data has (T_AFTER, T_BEFORE, T_DURING, T_EQUALS, T_INTERSECTS, T_DISJOINT), not the whole
#: temporal-functions class (intervals as property values), so it is not declared.
CONFORMANCE = [
    _F1 + "core", _F1 + "geojson", _F1 + "html", _F1 + "oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    _F3 + "queryables", _F3 + "filter", _F3 + "features-filter",
    _CQL + "cql2-text", _CQL + "cql2-json", _CQL + "basic-cql2", _CQL + "advanced-comparison-operators",
    _CQL + "case-insensitive-comparison", _CQL + "basic-spatial-functions", _CQL + "basic-spatial-functions-plus",
    _CQL + "spatial-functions",
    "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/sorting",
    # Part 4, on the grids of a draft plan (POST, PUT, DELETE; PATCH): api/routes/ogc_transactions.py
    _F4 + "create-replace-delete", _F4 + "update",
]

#: The lowest role any collection admits (each collection then checks its own, and its properties'):
#: the routes ask for that role, so a key that can read nothing here is told so at the door.
LOWEST_ROLE = next(r for r in ROLES
                   if any(role_allows(r, c.role) for c in COLLECTIONS))
KeyHolder = Annotated[KeyInfo, Depends(require(LOWEST_ROLE, anonymous=False))]
F = Annotated[str | None, Query(description="json (default) or html; else by the Accept header")]


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/ogc"


def _wants_html(request: Request) -> bool:
    f = request.query_params.get("f")
    if f:
        if f not in ("json", "html", "geojson"):
            raise InvalidParameter(f"f={f[:12]!r} is not offered: use f=json or f=html",
                                             details={"parameter": "f"})
        return f == "html"
    accept = request.headers.get("accept", "")
    h, j = accept.find("text/html"), max(accept.find("json"), -1)
    return h >= 0 and (j < 0 or h < j)


def _json(body: Any, media_type: str = JSON, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), media_type=media_type, headers=headers)


def _page(title: str, body: str) -> Response:
    """A plain page for a person: headings, tables and links, no script (the app's CSP applies)."""
    return Response(f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}"
                    f"</title></head><body><h1>{html.escape(title)}</h1>{body}</body></html>", media_type=HTML)


def _links_html(links: list[dict[str, Any]]) -> str:
    return "<ul>" + "".join(f"<li><a href=\"{html.escape(ln['href'])}\">{html.escape(ln.get('title') or ln['rel'])}"
                            f"</a> ({html.escape(ln['rel'])})</li>" for ln in links) + "</ul>"


def _allows(key: KeyInfo):  # type: ignore[no-untyped-def]
    return lambda role: role_allows(key.role, role)


def _readable(collection_id: str, key: KeyInfo) -> Collection:
    collection = store.collection_for(collection_id)
    if not role_allows(key.role, collection.role):
        raise Forbidden.say("ogc.role_too_low", role=key.role, collection=collection.id, needs=collection.role)
    return collection


def _params(request: Request) -> dict[str, str]:
    return dict(request.query_params)


# ---------------------------------------------------------------------------- landing, conformance


@router.get("", summary="OGC API – Features landing page", response_model=None,
            responses={200: {"model": OgcLanding, "description": "the landing page", "content": {HTML: {}}}})
def landing(request: Request, f: F = None) -> Response:
    base = _base(request)
    root = str(request.base_url).rstrip("/")
    links = [
        {"href": base, "rel": "self", "type": JSON, "title": "this document"},
        {"href": f"{base}?f=html", "rel": "alternate", "type": HTML, "title": "this document as HTML"},
        {"href": f"{root}/openapi.json", "rel": "service-desc", "type": OPENAPI, "title": "the API definition"},
        {"href": f"{root}/docs", "rel": "service-doc", "type": HTML, "title": "the API documentation"},
        {"href": f"{base}/conformance", "rel": "conformance", "type": JSON, "title": "conformance classes"},
        {"href": f"{base}/collections", "rel": "data", "type": JSON, "title": "the collections"},
    ]
    body = {"title": "gridmap", "description": "Grids, buildings, cameras, coverage and incidents of the town as "
            "OGC API – Features (Parts 1, 2 and 3; Part 4 on the grids of a draft plan: "
            "POST/PUT/PATCH/DELETE /ogc/collections/grids/items?plan=<draft id> with the planner role). "
            "Collections need an API key: Authorization: Bearer <key>.",
            "links": links}
    if _wants_html(request):
        return _page("gridmap – OGC API – Features", f"<p>{html.escape(body['description'])}</p>"
                     + _links_html(links))
    return _json(body)


@router.get("/conformance", summary="The conformance classes implemented", response_model=None,
            responses={200: {"model": OgcConformance, "description": "conformance", "content": {HTML: {}}}})
def conformance(request: Request, f: F = None) -> Response:
    if _wants_html(request):
        return _page("Conformance", "<ul>" + "".join(f"<li>{html.escape(c)}</li>" for c in CONFORMANCE) + "</ul>")
    return _json({"conformsTo": CONFORMANCE})


# ---------------------------------------------------------------------------- collections


def _collection_json(request: Request, conn: Any, c: Collection, bounds: Any) -> dict[str, Any]:
    base = f"{_base(request)}/collections/{c.id}"
    extent: dict[str, Any] = {"spatial": {"bbox": [list(bounds)] if bounds else [[-180, -90, 180, 90]], "crs": CRS84}}
    if c.temporal:
        first, last = store.temporal_extent(conn, c)
        extent["temporal"] = {"interval": [[first, last]], "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}
    return {
        "id": c.id, "title": c.title, "description": c.description, "itemType": "feature",
        "links": [
            {"href": base, "rel": "self", "type": JSON, "title": "this collection"},
            {"href": f"{base}?f=html", "rel": "alternate", "type": HTML, "title": "this collection as HTML"},
            {"href": f"{base}/items", "rel": "items", "type": GEOJSON, "title": "its features"},
            {"href": f"{base}/items?f=html", "rel": "items", "type": HTML, "title": "its features as HTML"},
            {"href": f"{base}/queryables", "rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables",
             "type": "application/schema+json", "title": "what filter and sortby may name"},
            # the draft's rel, which GDAL 3.6's OAPIF driver looks for
            {"href": f"{base}/queryables", "rel": "queryables", "type": JSON, "title": "queryables"},
        ],
        "extent": extent,
        "crs": [x.uri for x in CRSS], "storageCrs": STORAGE_CRS,
        "geometryType": c.geometry_type, "temporalProperty": c.temporal,
        "versioned": c.versioned, "defaultLimit": DEFAULT_LIMIT, "maxLimit": MAX_LIMIT,
        **({"editable": _editable(request, conn)} if c.id == "grids" else {}),
    }


def _editable(request: Request, conn: Any) -> dict[str, Any]:
    """Which plans Part 4's writes take (the drafts) and how: for a client deciding whether to offer editing."""
    return {"plans": [p["id"] for p in queries.list_plans(conn) if p["status"] == "draft"],
            "how": "POST, PUT, PATCH, DELETE {items}?plan=<draft id> with the planner role and If-Match: \"<plan "
                   "version>\" (the ETag of a read with plan=); published and retired plans are read only: make a "
                   "draft with POST /v1/plans".replace("{items}", f"{_base(request)}/collections/grids/items")}


@router.get("/collections", summary="The collections this key may read", response_model=None,
            responses={200: {"model": OgcCollections, "description": "collections", "content": {HTML: {}}}})
def collections(request: Request, conn: ConnDep, key: KeyHolder, f: F = None) -> Response:
    wants_html = _wants_html(request)
    bounds = queries.bounds(conn)
    readable = [c for c in COLLECTIONS if role_allows(key.role, c.role)]
    body = {"links": [{"href": f"{_base(request)}/collections", "rel": "self", "type": JSON, "title": "this document"},
                      {"href": f"{_base(request)}/collections?f=html", "rel": "alternate", "type": HTML,
                       "title": "this document as HTML"}],
            "collections": [_collection_json(request, conn, c, bounds) for c in readable],
            "crs": [x.uri for x in CRSS]}
    if wants_html:
        rows = "".join(f"<tr><td><a href=\"{html.escape(_base(request))}/collections/{c.id}?f=html\">{c.id}</a></td>"
                       f"<td>{html.escape(c.title)}</td><td>{html.escape(c.description)}</td></tr>" for c in readable)
        return _page("Collections", f"<table><tr><th>id</th><th>title</th><th>description</th></tr>{rows}</table>")
    return _json(body)


@router.get("/collections/{collection_id}", summary="One collection", response_model=None,
            responses={200: {"model": OgcCollection, "description": "the collection", "content": {HTML: {}}}})
def collection(collection_id: str, request: Request, conn: ConnDep, key: KeyHolder, f: F = None) -> Response:
    wants_html = _wants_html(request)
    c = _readable(collection_id, key)
    body = _collection_json(request, conn, c, queries.bounds(conn))
    if wants_html:
        return _page(c.title, f"<p>{html.escape(c.description)}</p>" + _links_html(body["links"]))
    return _json(body)


def queryables_schema(request: Request, c: Collection, key: KeyInfo) -> dict[str, Any]:
    props: dict[str, Any] = {GEOMETRY: {"title": "geometry", "description": f"the feature's {c.geometry_type}",
                                        "format": f"geometry-{c.geometry_type.lower()}",
                                        "x-ogc-role": "primary-geometry"}}
    for p in ogc_query.queryables(c, _allows(key)):
        entry: dict[str, Any] = {"title": p.name, "description": p.description}
        if p.type == "date-time":
            entry.update(type="string", format="date-time")
            if p.name == c.temporal:
                entry["x-ogc-role"] = "primary-instant"
        else:
            entry["type"] = p.type
        props[p.name] = entry
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"{_base(request)}/collections/{c.id}/queryables", "type": "object", "title": c.title,
            "properties": props, "additionalProperties": False,
            # the draft's list (GDAL 3.6's OAPIF driver reads it to know what it may send in a filter)
            "queryables": [{"id": n, "type": p.get("type", "geometry")} for n, p in props.items()]}


@router.get("/collections/{collection_id}/queryables", summary="What filter and sortby may name (JSON Schema)",
            response_model=None, responses={200: {"model": OgcQueryables, "description": "queryables",
                                                  "content": {"application/schema+json": {}, HTML: {}}}})
def queryables(collection_id: str, request: Request, key: KeyHolder, f: F = None) -> Response:
    wants_html = _wants_html(request)
    c = _readable(collection_id, key)
    body = queryables_schema(request, c, key)
    if wants_html:
        rows = "".join(f"<tr><td>{html.escape(n)}</td><td>{html.escape(str(p.get('type', p.get('format'))))}</td>"
                       f"<td>{html.escape(p['description'])}</td></tr>" for n, p in body["properties"].items())
        return _page(f"{c.title}: queryables", f"<table><tr><th>name</th><th>type</th><th>description</th></tr>"
                     f"{rows}</table>")
    schema_json = "application/schema+json" in request.headers.get("accept", "")
    return _json(body, media_type="application/schema+json" if schema_json else JSON)


# ---------------------------------------------------------------------------- items

def _with(url: URL, **params: Any) -> str:
    return str(url.include_query_params(**params))


@router.get("/collections/{collection_id}/items", summary="Features of a collection, a page at a time",
            response_class=GeoJSONResponse,
            responses={200: {"model": OgcFeatureCollection, "description": "a page of features",
                             "content": {HTML: {}}}})
async def items(
    collection_id: str, request: Request, key: KeyHolder,
    limit: Annotated[str | None, Query(description=f"features per page: default {DEFAULT_LIMIT}, at most "
                                                   f"{MAX_LIMIT:,} (a larger limit is taken as {MAX_LIMIT:,})")] = None,
    offset: Annotated[str | None, Query(description="features to skip (the next/prev links carry it)")] = None,
    bbox: Annotated[str | None, Query(description="minx,miny,maxx,maxy in bbox-crs axis order")] = None,
    bbox_crs: Annotated[str | None, Query(alias="bbox-crs", description="CRS of bbox (default CRS84)")] = None,
    datetime: Annotated[str | None, Query(description="incidents: an instant or start/end (.. open); grids, "
                                                      "buildings, coverage-gaps: the plan in force then")] = None,
    at: Annotated[str | None, Query(description="the same as datetime")] = None,
    plan: Annotated[str | None, Query(description="grids, buildings, coverage-gaps: a plan id")] = None,
    properties: Annotated[str | None, Query(description="comma-separated properties to send")] = None,
    sortby: Annotated[str | None, Query(description="comma-separated properties, - for descending")] = None,
    crs: Annotated[str | None, Query(description="CRS of the answer's coordinates (default CRS84)")] = None,
    filter: Annotated[str | None, Query(description="a CQL2 filter")] = None,
    filter_lang: Annotated[str | None, Query(alias="filter-lang", description="cql2-text (default) | cql2-json")] = None,
    filter_crs: Annotated[str | None, Query(alias="filter-crs", description="CRS of the filter's geometries")] = None,
    f: F = None,
) -> Response:
    return await with_conn(request, _items, request, key, collection_id)  # one thread hop: api.deps.with_conn


def _items(conn: Connection, request: Request, key: KeyInfo, collection_id: str) -> Response:
    wants_html = _wants_html(request)
    c = _readable(collection_id, key)
    q = ogc_query.items_query(c, _params(request), allows=_allows(key))
    matched, returned, features, plan_row = store.items_page(conn, c, q, counts=request.app.state.ogc_counts)
    url = request.url
    links: list[dict[str, Any]] = [
        {"href": str(url), "rel": "self", "type": GEOJSON, "title": "this page"},
        {"href": _with(url, f="html"), "rel": "alternate", "type": HTML, "title": "this page as HTML"},
        {"href": f"{_base(request)}/collections/{c.id}", "rel": "collection", "type": JSON, "title": c.title},
    ]
    if q.offset + returned < matched:
        links.append({"href": _with(url, offset=q.offset + returned, limit=q.limit), "rel": "next",
                      "type": GEOJSON, "title": "the next page"})
    if q.offset > 0:
        links.append({"href": _with(url, offset=max(0, q.offset - q.limit), limit=q.limit), "rel": "prev",
                      "type": GEOJSON, "title": "the previous page"})
    stamp = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    headers = {"Content-Crs": f"<{q.crs.uri}>"}
    if plan_row is not None:
        headers["X-Plan"] = f"{plan_row['id']}; version={plan_row['version']}"
        headers["ETag"] = plan_etag(plan_row["version"])  # what a Part 4 write names in If-Match
    if wants_html:
        return _items_html(c, json.loads(features), matched, q, links)
    head = json.dumps({"type": "FeatureCollection", "numberMatched": matched, "numberReturned": returned,
                       "timeStamp": stamp, "links": links,
                       **({"plan": {"id": plan_row["id"], "name": plan_row["name"], "status": plan_row["status"],
                                    "version": plan_row["version"]}} if plan_row else {})}, ensure_ascii=False)
    return Response(head[:-1] + ',"features":' + features + "}", media_type=GEOJSON, headers=headers)


def _items_html(c: Collection, features: list[dict[str, Any]], matched: int, q: Any,
                links: list[dict[str, Any]]) -> Response:
    names = list(q.properties)
    head = "".join(f"<th>{html.escape(n)}</th>" for n in ["id", *names])
    rows = "".join("<tr>" + "".join(f"<td>{html.escape('' if v is None else str(v))}</td>"
                                    for v in [ft["id"], *(ft["properties"].get(n) for n in names)]) + "</tr>"
                   for ft in features)
    nav = _links_html([ln for ln in links if ln["rel"] in ("next", "prev", "collection")])
    return _page(f"{c.title}: features {q.offset + 1}–{q.offset + len(features)} of {matched}",
                 nav + f"<table><tr>{head}</tr>{rows}</table>")


@router.get("/collections/{collection_id}/items/{fid}", summary="One feature", response_class=GeoJSONResponse,
            responses={200: {"model": OgcFeature, "description": "the feature", "content": {HTML: {}}}})
def item(
    collection_id: str, fid: str, request: Request, conn: ConnDep, key: KeyHolder,
    crs: Annotated[str | None, Query(description="CRS of the coordinates (default CRS84)")] = None,
    properties: Annotated[str | None, Query(description="comma-separated properties to send")] = None,
    datetime: Annotated[str | None, Query(description="grids, buildings, coverage-gaps: the plan in force then")] = None,
    at: Annotated[str | None, Query(description="the same as datetime")] = None,
    plan: Annotated[str | None, Query(description="grids, buildings, coverage-gaps: a plan id")] = None,
    f: F = None,
) -> Response:
    wants_html = _wants_html(request)
    c = _readable(collection_id, key)
    q = ogc_query.items_query(c, _params(request), allows=_allows(key), one=True)
    feature, plan_row = store.one_feature(conn, c, q, fid)
    base = f"{_base(request)}/collections/{c.id}"
    links = [{"href": str(request.url), "rel": "self", "type": GEOJSON, "title": "this feature"},
             {"href": _with(request.url, f="html"), "rel": "alternate", "type": HTML, "title": "as HTML"},
             {"href": base, "rel": "collection", "type": JSON, "title": c.title}]
    if wants_html:
        ft = json.loads(feature)
        rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape('' if v is None else str(v))}</td></tr>"
                       for k, v in ft["properties"].items())
        return _page(f"{c.title} {ft['id']}", _links_html(links[2:]) + f"<table>{rows}</table>")
    body = feature[:-1] + ',"links":' + json.dumps(links, ensure_ascii=False) + "}"
    headers = {"Content-Crs": f"<{q.crs.uri}>"}
    if plan_row is not None:
        headers["X-Plan"] = f"{plan_row['id']}; version={plan_row['version']}"
        headers["ETag"] = plan_etag(plan_row["version"])  # what a Part 4 write names in If-Match
    return Response(body, media_type=GEOJSON, headers=headers)
