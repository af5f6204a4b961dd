"""OGC API – Features – Part 4 (create, replace, update, delete) on the grids of a draft plan.

``/ogc/collections/grids/items?plan=<draft id>``: POST a Feature (a new grid), PUT one (a new boundary),
PATCH one (a partial Feature or a JSON merge patch), DELETE one (its land goes to its neighbour). Each is
one edit of :mod:`geo.plan_edits` — the engine ``/v1/plans`` uses: validated, snapped, buildings kept
whole, the community still covered without gaps or overlaps, audited, undone by
``POST /v1/plans/{id}/undo``. Writes need the planner role (as ``/v1/plans``'s).

Versions: every write names the plan version it was made against in ``If-Match`` (the plan's ETag, the
same value ``/v1/plans`` uses; ``GET .../items/{code}?plan=`` sends it too). Missing → 428, as
``/v1/plans`` (and Part 4) do; stale → 412 Precondition Failed here (HTTP's and Part 4's answer; /v1/plans
keeps its 409, see api/errors.py). Every answer carries the plan's new ETag.

Bodies: ``application/geo+json`` or ``application/json`` (PATCH also ``application/merge-patch+json``);
coordinates CRS84 unless ``Content-Crs`` names another offered CRS (:mod:`geo.ogc.transactions`).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.responses import JSONResponse

from api.deps import EngineDep, Planner, SettingsDep, actor_name
from api.params import IfMatch, parse_if_match, plan_etag
from api.schemas import OgcEditedFeature, OgcRemoved
from geo import plan_edits
from geo.errors import InvalidParameter, UnsupportedMediaType, VersionRequired
from geo.keys import KeyInfo, role_allows
from geo.ogc import query as ogc_query
from geo.ogc import transactions as tx
from geo.ogc.collections import CRS84
from geo.plans import lock_draft
from geo.store import ogc as store
from geo.store.db import reading

router = APIRouter(prefix="/ogc", tags=["ogc"])

GRIDS = "grids"
ITEMS = f"/collections/{GRIDS}/items"
GEOJSON = "application/geo+json"

Plan = Annotated[str | None, Query(description="the draft to edit (required): its id; GET /v1/plans lists them, "
                                               "POST /v1/plans makes one")]


def _body_doc(media_types: tuple[str, ...], description: str) -> dict[str, Any]:
    schema = {"type": "object", "description": "a GeoJSON Feature: geometry a Polygon or MultiPolygon"}
    return {"requestBody": {"required": True, "description": description,
                            "content": {m: {"schema": schema} for m in media_types}}}


def _plan_id(request: Request) -> int:
    """The draft the write is for: ``plan=``, required; nothing else in the query."""
    params = dict(request.query_params)
    ogc_query.check_known(params, frozenset({"plan"}))
    plan_id = ogc_query.parse_plan_id(params.get("plan"))
    if plan_id is None:
        raise InvalidParameter.say("ogc.plan_required", details={"parameter": "plan"})
    return plan_id


def _media_type(request: Request, accepted: tuple[str, ...]) -> None:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind and kind not in accepted:
        raise UnsupportedMediaType.say("ogc.media_type", kind=kind[:60], accepted=" or ".join(accepted),
                                       details={"accepted": list(accepted)})


def _version(if_match: str | None) -> int:
    version = parse_if_match(if_match)
    if version is None:
        raise VersionRequired.say("ogc.version_required")
    return version


def _feature(engine: Any, key: KeyInfo, plan_id: int, code: str) -> tuple[str, dict[str, Any]]:
    """The grid as ``GET .../items/{code}?plan=`` gives it (CRS84), and its plan row."""
    c = store.collection_for(GRIDS)
    q = ogc_query.items_query(c, {"plan": str(plan_id)}, allows=lambda role: role_allows(key.role, role), one=True)
    with reading(engine) as conn:
        feature, plan = store.one_feature(conn, c, q, code)
    assert plan is not None  # grids follow a plan
    return feature, plan


def _location(request: Request, plan_id: int, code: str) -> str:
    return f"{str(request.base_url).rstrip('/')}/ogc{ITEMS}/{code}?plan={plan_id}"


def _answer(request: Request, engine: Any, key: KeyInfo, plan_id: int, code: str, result: plan_edits.EditResult | None,
            *, status: int = 200) -> Response:
    """The grid after the edit, with the edit's summary (``edit``: what changed, its number for undo) and
    the plan's new ETag."""
    feature, plan = _feature(engine, key, plan_id, code)
    body = json.loads(feature)
    body["links"] = [{"href": _location(request, plan_id, code), "rel": "self", "type": GEOJSON,
                      "title": "this grid"}]
    if result is not None:
        body["edit"] = result.as_dict()
    headers = {"ETag": plan_etag(plan["version"]), "Content-Crs": f"<{CRS84}>",
               "X-Plan": f"{plan['id']}; version={plan['version']}"}
    if status == 201:
        headers["Location"] = _location(request, plan_id, code)
    return Response(json.dumps(body, ensure_ascii=False), status_code=status, media_type=GEOJSON, headers=headers)


@router.post(ITEMS, status_code=201, summary="Part 4: add a grid to a draft (it takes its land from the grids it "
             "overlaps); 201 with Location", response_model=None,
             openapi_extra=_body_doc(tx.FEATURE_TYPES, "the new grid: properties.code (optional: the community's "
                                     "next free code), community_code (optional: where the polygon lies), name"),
             responses={201: {"model": OgcEditedFeature, "description": "the grid as stored", "content": {GEOJSON: {}}}})
def create_grid(request: Request, engine: EngineDep, settings: SettingsDep, key: Planner,
                body: Annotated[Any, Body()], if_match: IfMatch = None, plan: Plan = None) -> Response:
    plan_id = _plan_id(request)
    _media_type(request, tx.FEATURE_TYPES)
    f = tx.feature_in(body, crs=tx.parse_content_crs(request.headers.get("content-crs")))
    result = plan_edits.add_grid(engine, plan_id=plan_id, version=_version(if_match), geometry=f.geometry,
                                 code=f.properties.get("code"), community_code=f.properties.get("community_code"),
                                 name=f.properties.get("name"), actor=actor_name(key), metric_crs=settings.metric_crs,
                                 max_vertices=settings.edit_max_vertices)
    return _answer(request, engine, key, plan_id, result.created[0], result, status=201)


def _reshape(request: Request, engine: Any, settings: Any, key: KeyInfo, fid: str, body: Any, if_match: str | None,
             *, partial: bool) -> Response:
    plan_id = _plan_id(request)
    _media_type(request, (*tx.FEATURE_TYPES, tx.MERGE_PATCH) if partial else tx.FEATURE_TYPES)
    f = tx.feature_in(body, crs=tx.parse_content_crs(request.headers.get("content-crs")), partial=partial, fid=fid)
    current, _plan = _feature(engine, key, plan_id, fid)  # 404 for a grid the plan does not have
    tx.check_fixed(f.properties, json.loads(current)["properties"], fid=fid)
    version = _version(if_match)
    if f.geometry is None:  # a PATCH that repeats properties: no edit, but the plan must be a draft at version
        with engine.begin() as conn:
            lock_draft(conn, plan_id=plan_id, version=version)
        return _answer(request, engine, key, plan_id, fid, None)
    result = plan_edits.reshape_grid(engine, plan_id=plan_id, version=version, code=fid, geometry=f.geometry,
                                     neighbours="adjust", actor=actor_name(key), metric_crs=settings.metric_crs,
                                     max_vertices=settings.edit_max_vertices)
    return _answer(request, engine, key, plan_id, fid, result)


#: The answer of PUT and PATCH: the grid as stored.
_EDITED = {200: {"model": OgcEditedFeature, "description": "the grid as stored", "content": {GEOJSON: {}}}}


@router.put(ITEMS + "/{fid}", summary="Part 4: a new boundary for a grid of a draft (its neighbours follow)",
            response_model=None,
            openapi_extra=_body_doc(tx.FEATURE_TYPES, "the grid: its geometry is the new boundary; code, "
                                    "community_code and name may be repeated, not changed; computed properties "
                                    "are ignored"),
            responses=_EDITED)
def replace_grid(fid: str, request: Request, engine: EngineDep, settings: SettingsDep, key: Planner,
                 body: Annotated[Any, Body()], if_match: IfMatch = None, plan: Plan = None) -> Response:
    return _reshape(request, engine, settings, key, fid, body, if_match, partial=False)


@router.patch(ITEMS + "/{fid}", summary="Part 4: update a grid of a draft (a partial Feature or a JSON merge "
              "patch: its geometry)", response_model=None,
              openapi_extra=_body_doc((*tx.FEATURE_TYPES, tx.MERGE_PATCH), "geometry (the new boundary) and/or "
                                      "properties, which may repeat code, community_code and name"),
              responses=_EDITED)
def update_grid(fid: str, request: Request, engine: EngineDep, settings: SettingsDep, key: Planner,
                body: Annotated[Any, Body()], if_match: IfMatch = None, plan: Plan = None) -> Response:
    return _reshape(request, engine, settings, key, fid, body, if_match, partial=True)


@router.delete(ITEMS + "/{fid}", summary="Part 4: remove a grid of a draft; its land goes to the neighbour "
               "sharing the longest border with it", response_model=None,
               responses={200: {"model": OgcRemoved,
                               "description": "what the edit did: removed, changed (the neighbour), its number"}})
def delete_grid(fid: str, request: Request, engine: EngineDep, settings: SettingsDep, key: Planner,
                if_match: IfMatch = None, plan: Plan = None) -> Response:
    plan_id = _plan_id(request)
    result = plan_edits.remove_grid(engine, plan_id=plan_id, version=_version(if_match), code=fid,
                                    actor=actor_name(key), metric_crs=settings.metric_crs)
    return JSONResponse({"plan": {"id": plan_id, "version": result.version}, **result.as_dict()},
                        headers={"ETag": plan_etag(result.version)})
