"""Which grid is this? Point, address and batch lookup (client role and above)."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from typing import Annotated, Any

import anyio.to_thread
import numpy as np
import orjson
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from api.deps import Client, lookup_service
from api.heavy import run_heavy
from api.params import parse_at, parse_crs_option, parse_plan
from api.responses import JSON
from api.schemas import Batch, LookupAnswer, answer
from geo import batch
from geo.budgets import Pacer
from geo.address import THRESHOLD
from geo.errors import BadInput, NoMatch, OutsideGrids
from geo.keys import role_allows
from geo.grid_index import BuildingRecord, GridRecord, PlanIndex
from geo.lookup import LookupService
from geo.points import point_to_wgs84

router = APIRouter(prefix="/v1/lookup", tags=["lookup"])

def choose_index(service: LookupService, *, plan: object, at: object) -> PlanIndex:
    plan_id = parse_plan(plan)
    when = parse_at(at, field="at")
    if plan_id is not None and when is not None:
        raise BadInput("give either plan= or at=, not both")
    if plan_id is not None:
        return service.for_plan(plan_id)
    return service.at(when) if when else service.current()


def plan_json(index: PlanIndex) -> dict[str, Any]:
    return {"id": index.plan["id"], "name": index.plan["name"], "published_at": index.plan["published_at"],
            "status": index.plan["status"]}


def grid_json(g: GridRecord, *, with_phone: bool) -> dict[str, Any]:
    member: dict[str, Any] | None = None
    if g.grid_member:
        member = {"name": g.grid_member}
        if with_phone:
            member["phone"] = g.grid_member_phone
    return {"code": g.code, "name": g.name, "community": {"code": g.community_code, "name": g.community_name},
            "grid_member": member}


def building_json(b: BuildingRecord) -> dict[str, Any]:
    return {"code": b.code, "name": b.name, "address": b.address, "floors": b.floors, "height_m": b.height_m}


@router.get("", summary="The grid (and building) at a point", response_model=None,
            responses=answer(LookupAnswer))
async def lookup_point(
    request: Request,
    key: Client,
    lon: Annotated[float, Query(description="longitude (or easting for a projected EPSG)")],
    lat: Annotated[float, Query(description="latitude (or northing for a projected EPSG)")],
    crs: Annotated[str | None, Query(description="wgs84 (default) | cgcs2000 | gcj02 | bd09 | EPSG:n")] = None,
    at: Annotated[str | None, Query(description="ISO date/time: answer from the plan published then")] = None,
    plan: Annotated[int | None, Query(description="answer from this plan (draft or retired too)")] = None,
) -> Response:
    """The hot path, on the event loop: the published plan's index is in memory and the point test takes
    microseconds, so a thread hop would cost more than the work. Only what reads the database (another
    plan's or date's index, a worker's first index) runs in a worker thread. Encoded once, by orjson."""
    service = lookup_service(request)
    if plan is None and at is None and service.loaded():
        index = service.current()
    else:
        index = await anyio.to_thread.run_sync(functools.partial(choose_index, service, plan=plan, at=at))
    x, y = point_to_wgs84(lon, lat, crs=crs)
    grid, building = index.locate(x, y)
    if grid is None:
        raise OutsideGrids.say(
            "lookup.outside_grids", x=x, y=y, plan=index.plan["id"], name=index.plan["name"],
            details={"point": {"lon": x, "lat": y}, "plan": plan_json(index)},
        )
    return Response(orjson.dumps({
        "grid": grid_json(grid, with_phone=role_allows(key.role, "viewer")),
        "building": building_json(building) if building else None,
        "plan": plan_json(index),
        "point": {"lon": round(x, 8), "lat": round(y, 8)},
    }), media_type=JSON)


def match_json(m: Any) -> dict[str, Any]:
    return {"kind": "building", "address": m.address, "community_code": m.community_code, "building": m.building_code,
            "building_number": m.building, "unit": m.unit, "room": m.room, "score": round(m.score, 1)}


@router.get("/address", summary="The grid of a standard address (community + building + unit + room)")
def lookup_address(
    request: Request,
    key: Client,
    q: Annotated[str, Query(min_length=1, max_length=200, description="e.g. 春安新区3号楼2单元, 宁丰12栋, "
                                                                     "Chun'an New District Building 3")],
    at: Annotated[str | None, Query(description="ISO date/time: answer from the plan published then")] = None,
    plan: Annotated[int | None, Query(description="answer from this plan")] = None,
    limit: Annotated[int, Query(ge=1, le=20, description="how many candidates")] = 5,
) -> dict[str, Any]:
    index = choose_index(lookup_service(request), plan=plan, at=at)
    named = index.grid_named(q)
    if named is not None:  # a grid's name or code: that grid, not a building the words also fit
        return {"match": {"kind": "grid", "address": named.name, "community_code": named.community_code,
                          "building": None, "building_number": None, "unit": None, "room": None, "score": 100.0},
                "grid": grid_json(named, with_phone=role_allows(key.role, "viewer")), "candidates": [],
                "plan": plan_json(index)}
    if "网格" in q:
        raise NoMatch.say("lookup.no_grid_named", plan=index.plan["id"], q=q, details={"threshold": THRESHOLD})
    ranked = index.gazetteer.lookup(q, limit=limit)
    if not ranked or ranked[0].score < THRESHOLD:
        raise NoMatch.say(
            "lookup.no_match_score" if ranked else "lookup.no_match", q=q,
            **({"best": ranked[0].score, "threshold": THRESHOLD} if ranked else {}),
            details={"candidates": [match_json(m) for m in ranked], "threshold": THRESHOLD},
        )
    grids = [index.grid_of_building(m.building_code) for m in ranked]
    return {
        "match": match_json(ranked[0]),
        "grid": grid_json(grids[0], with_phone=role_allows(key.role, "viewer")) if grids[0] else None,
        "candidates": [dict(match_json(m), grid_code=g.code if g else None) for m, g in zip(ranked, grids)],
        "plan": plan_json(index),
    }


@router.post(
    "/batch",
    summary="Many points or addresses at once (JSON, or a CSV upload answered with CSV)",
    openapi_extra={"requestBody": {"content": {
        "application/json": {"schema": {"type": "object", "properties": {
            "points": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
            "addresses": {"type": "array", "items": {"type": "string"}},
            "crs": {"type": "string"}, "plan": {"type": "integer"}, "at": {"type": "string"}}},
            "example": {"points": [[113.1, 40.05]], "crs": "wgs84"}},
        "text/csv": {"schema": {"type": "string"}},
        "multipart/form-data": {"schema": {"type": "object", "properties": {
            "file": {"type": "string", "format": "binary"}, "crs": {"type": "string"}}}},
    }, "required": True}},
    responses={200: {"model": Batch, "description": "JSON for a JSON body; CSV (the input's rows with grid "
                     "columns added) for a CSV upload", "content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def lookup_batch(request: Request, key: Client) -> StreamingResponse:
    """Reads the body here, then parses and looks it up in a worker thread (:func:`run_heavy`): a million
    rows take seconds of CPU, during which the event loop keeps answering every other request."""
    service = lookup_service(request)
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    limit = request.app.state.settings.batch_max_rows
    with_phone = role_allows(key.role, "viewer")
    if ctype in ("text/csv", "application/csv", "multipart/form-data"):
        if ctype == "multipart/form-data":
            form = await request.form()
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise BadInput("send the CSV as a form field named 'file'")
            raw = await upload.read()
            options = {k: v for k, v in form.items() if k != "file" and isinstance(v, str)}
        else:
            raw = await request.body()
            options = dict(request.query_params)
        chunks = await run_heavy(request, _csv_batch, service, raw, options=options, limit=limit)
        return StreamingResponse(chunks, media_type="text/csv; charset=utf-8",
                                 headers={"Content-Disposition": 'attachment; filename="lookup.csv"'})
    if ctype not in ("application/json", ""):
        raise BadInput(f"unsupported Content-Type {ctype!r}: send application/json, text/csv "
                       "or multipart/form-data with a 'file'")
    raw = await request.body()
    index, results = await run_heavy(request, _json_batch, service, raw, limit=limit)
    return StreamingResponse(json_results(results, index=index, with_phone=with_phone),
                             media_type="application/json")


def choose_index_options(service: LookupService, options: dict[str, Any]) -> PlanIndex:
    """The plan a batch answers from (``plan``, ``at``), its ``crs`` checked too."""
    parse_crs_option(options.get("crs"))
    return choose_index(service, plan=options.get("plan"), at=options.get("at"))


def _csv_batch(service: LookupService, raw: bytes, *, options: dict[str, Any], limit: int) -> Iterator[bytes]:
    index = choose_index_options(service, options)  # a bad option is refused before the rows are read
    table = batch.read_csv_table(raw, limit=limit)
    return batch.csv_results(table, index=index, crs=parse_crs_option(options.get("crs")))


def _json_batch(service: LookupService, raw: bytes, *, limit: int) -> tuple[PlanIndex, batch.Results]:
    body = batch.read_json_batch(raw, limit=limit)  # rows counted (and refused over the limit) before parsed
    index = choose_index_options(service, body.options)
    crs = parse_crs_option(body.options.get("crs"))
    if body.kind == "points":
        lon, lat, problems = body.points()
        return index, batch.locate_parsed(lon, lat, problems, index=index, crs=crs)
    return index, batch.locate_addresses(body.addresses(), index=index)


def json_results(results: batch.Results, *, index: PlanIndex, with_phone: bool) -> Iterator[bytes]:
    """Stream ``{"plan": ..., "results": [...]}``; each grid's JSON is encoded once, not once per row, and a
    piece of 5,000 rows is gathered by index (numpy) and joined in one call, not row by row."""
    fragments = np.array([json.dumps({"grid": grid_json(g, with_phone=with_phone), "error": None},
                                     ensure_ascii=False) for g in index.grids]
                         + [json.dumps({"grid": None, "error": batch.OUTSIDE}, ensure_ascii=False)],
                         dtype=object)  # a miss (-1) takes the last: outside every grid
    errors = np.array(sorted(results.errors), dtype=np.int64)
    yield ('{"plan": ' + json.dumps(plan_json(index), ensure_ascii=False) + ', "results": [').encode()
    n = len(results.grid)
    step = 5_000
    pace = Pacer()
    for start in range(0, n, step):
        pace()
        parts = fragments[results.grid[start:start + step]]
        for i in errors[np.searchsorted(errors, start):np.searchsorted(errors, start + step)].tolist():
            parts[i - start] = json.dumps({"grid": None, "error": results.errors[i]}, ensure_ascii=False)
        yield ((", " if start else "") + ", ".join(parts.tolist())).encode()
    yield b"]}"
