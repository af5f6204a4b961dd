"""Grid plans: drafts, versioned edits (If-Match), undo/redo, validation, publishing, diffs, exchange.

Reads need the viewer role, writes the planner role. Every write of an existing plan (its
edits, publishing, deleting a draft) names the plan version it was made against in
``If-Match`` (the plan's ``ETag``): missing → 428, stale → 409 naming who changed what since. Geometries in and out are
GeoJSON in WGS84 (``crs`` may name another CRS for input).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from functools import partial
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import shapely
from fastapi import APIRouter, Body, File, Query, Response, UploadFile
from fastapi.responses import FileResponse
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.deps import ConnDep, EngineDep, Planner, SettingsDep, Viewer, actor_name
from api.params import IfMatch, parse_if_match, plan_etag
from api.responses import GEOJSON, GeoJSONResponse
from api.schemas import (Deleted, Diff, Edited, EditLog, FeatureCollection, GridProps, MoveCandidates, PlanList,
                         PlanWithEdit, Published, Suggested, SwapCandidates, Validation, answer)
from geo import coverage_service, exchange, plan_edits, plan_hints, plans
from geo.config import Settings
from geo.crs import from_metric
from geo.errors import BadInput, VersionRequired, excerpt
from geo.plan_checks import Bands, Problem, problem_dict
from geo.store import queries
from geo.store.db import reading
from geo.validation import geometry_in

router = APIRouter(prefix="/v1/plans", tags=["plans"])


def geojson_metric(geom: Any, settings: Settings) -> dict[str, Any] | None:
    """A metric-CRS geometry as GeoJSON in WGS84 (8 decimals, about 1 mm, as the stored grids)."""
    if geom is None or geom.is_empty:
        return None
    g = shapely.transform(from_metric(geom, crs=settings.metric_crs), lambda c: np.round(c, queries.PRECISION))
    return json.loads(shapely.to_geojson(g))


def _problem_json(settings: Settings):
    def convert(p: Problem) -> dict[str, Any]:
        return problem_dict(p, geometry=geojson_metric(p.geometry, settings))
    return convert


def _plan_response(conn: Any, plan_id: int, *, status: int = 200, extra: dict[str, Any] | None = None
                   ) -> JSONResponse:
    plan = queries.get_plan(conn, plan_id=plan_id)
    plan["last_edit"] = plans.last_edit(conn, plan_id=plan_id)
    body = {"plan": plan, **extra} if extra is not None else plan
    return JSONResponse(body, status_code=status, headers={"ETag": plan_etag(plan["version"])})


def _edit_response(engine: Any, result: plan_edits.EditResult) -> JSONResponse:
    with reading(engine) as conn:
        return _plan_response(conn, result.plan_id, extra=result.as_dict())


class DraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(examples=["2027 年网格调整"])
    source: int | None = Field(default=None, description="plan to copy (default: the published plan)")


class GridGeometryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    geometry: dict[str, Any] = Field(description="GeoJSON Polygon or MultiPolygon")
    crs: str | None = Field(default=None, description="wgs84 (default) | cgcs2000 | gcj02 | bd09 | EPSG:n")
    neighbours: Literal["adjust", "keep"] = Field(
        default="adjust", description="adjust: clip and snap, neighbours follow, buildings kept whole; "
                                      "keep: store exactly this geometry")


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    building: str | None = Field(default=None, description="building code")
    buildings: list[str] | None = Field(default=None, max_length=500,
                                        description="several building codes (a brush stroke): one edit")
    grid: str = Field(description="grid code of the same community")


class SwapIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    buildings: list[str] = Field(min_length=2, max_length=2, description="building A (grid X) and B (grid Y): "
                                 "A goes to Y, B to X, in one edit")


class SplitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    grid: str
    line: dict[str, Any] = Field(description="GeoJSON LineString crossing the grid from outside to outside")
    crs: str | None = None


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    grids: list[str] = Field(min_length=2, max_length=2)


class PublishIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    acknowledge_warnings: bool = Field(default=False, description="publish despite band warnings")


class SuggestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    community: str = Field(description="community code", examples=["140214101001"])
    name: str | None = Field(default=None, max_length=200)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)


@router.get("", summary="All plans: draft, published, retired", response_model=None,
            responses=answer(PlanList))
def list_plans(conn: ConnDep, _: Viewer) -> dict[str, Any]:
    return {"plans": queries.list_plans(conn)}


@router.post("", status_code=201, summary="A new draft: a copy of the published plan (or of `source`)",
             responses=answer(PlanWithEdit, status=201))
def create_plan(engine: EngineDep, key: Planner, body: Annotated[DraftIn, Body()]) -> JSONResponse:
    plan_id = plans.create_draft(engine, name=body.name, source_id=body.source, actor=actor_name(key))
    with reading(engine) as conn:
        return _plan_response(conn, plan_id, status=201)


@router.get("/{plan_id}", summary="One plan; its ETag is the version edits must name in If-Match",
            responses=answer(PlanWithEdit))
def get_plan(plan_id: int, conn: ConnDep, _: Viewer) -> JSONResponse:
    return _plan_response(conn, plan_id)


@router.delete("/{plan_id}", summary="Delete a draft that nothing refers to (its grids and edit log go with it; "
                                    "If-Match: plan version)", responses=answer(Deleted))
def delete_plan(plan_id: int, engine: EngineDep, key: Planner, if_match: IfMatch = None) -> dict[str, Any]:
    """As every other write of a plan, names the version it deletes in ``If-Match: "<version>"`` (the plan's
    ETag): without it 428 ``version_required``; a version another edit has overtaken is 409 ``stale_version``
    naming who changed what since (nothing is deleted: a draft somebody is still working on is not deleted
    unseen). Only drafts: a published or retired plan is 409 ``not_a_draft``; a draft that another plan was
    copied from, or that incidents were placed in, is 409 ``plan_in_use`` naming them. Audited."""
    return {"deleted": plans.delete_draft(engine, plan_id=plan_id, version=parse_if_match(if_match),
                                          actor=actor_name(key))}


Community = Annotated[str | None, Query(description="only this community (code)")]


@router.get("/{plan_id}/grids", summary="The grids of a plan (GeoJSON) with households, population, buildings",
            response_class=GeoJSONResponse, responses=answer(FeatureCollection[GridProps]))
def plan_grids(plan_id: int, conn: ConnDep, _: Viewer, community: Community = None) -> Response:
    plan = queries.get_plan(conn, plan_id=plan_id)
    return Response(queries.grids_geojson(conn, plan_id=plan_id, community=community), media_type=GEOJSON,
                    headers={"ETag": plan_etag(plan["version"])})


@router.put("/{plan_id}/grids/{code}", summary="A new boundary for a grid (If-Match: plan version)",
            responses=answer(Edited))
def put_grid(plan_id: int, code: str, engine: EngineDep, settings: SettingsDep, key: Planner,
             body: Annotated[GridGeometryIn, Body()], if_match: IfMatch = None) -> JSONResponse:
    version = parse_if_match(if_match)
    geom = geometry_in(body.geometry, what=f"grid {code} boundary", types={"Polygon", "MultiPolygon"}, crs=body.crs)
    result = plan_edits.reshape_grid(engine, plan_id=plan_id, version=version, code=code, geometry=geom,
                                neighbours=body.neighbours, actor=actor_name(key), metric_crs=settings.metric_crs,
                                max_vertices=settings.edit_max_vertices)
    return _edit_response(engine, result)


@router.post("/{plan_id}/assign", summary="Move a building, or several, (and the land nearest them) to another grid",
             responses=answer(Edited))
def assign(plan_id: int, engine: EngineDep, settings: SettingsDep, key: Planner,
           body: Annotated[AssignIn, Body()], if_match: IfMatch = None) -> JSONResponse:
    if (body.building is None) == (body.buildings is None):
        raise BadInput.say("edit.assign_either")
    result = plan_edits.assign_building(engine, plan_id=plan_id, version=parse_if_match(if_match),
                                   building=body.building if body.building is not None else body.buildings or [],
                                   grid=body.grid, actor=actor_name(key), metric_crs=settings.metric_crs)
    return _edit_response(engine, result)


@router.post("/{plan_id}/swap", summary="Swap two buildings of neighbouring grids (and the land nearest them) "
                                        "as one edit; refused (422) when it would split either grid",
             responses=answer(Edited))
def swap(plan_id: int, engine: EngineDep, settings: SettingsDep, key: Planner,
         body: Annotated[SwapIn, Body()], if_match: IfMatch = None) -> JSONResponse:
    result = plan_edits.swap_buildings(engine, plan_id=plan_id, version=parse_if_match(if_match),
                                       buildings=body.buildings, actor=actor_name(key), metric_crs=settings.metric_crs)
    return _edit_response(engine, result)


@router.get("/{plan_id}/move-candidates", summary="Before a move: each grid neighbouring the buildings' grid, and "
                                                  "whether moving them there keeps both grids in band and contiguous",
            response_model=None, responses=answer(MoveCandidates))
def move_candidates(plan_id: int, conn: ConnDep, settings: SettingsDep, _: Viewer,
                    buildings: Annotated[str, Query(description="building codes, comma-separated")]) -> JSONResponse:
    codes = [c.strip() for c in buildings.split(",") if c.strip()]
    body = plan_hints.move_candidates(conn, plan_id=plan_id, buildings=codes, bands=Bands.of(settings),
                                      metric_crs=settings.metric_crs)
    plan = queries.get_plan(conn, plan_id=plan_id)
    return JSONResponse(body, headers={"ETag": plan_etag(plan["version"])})


@router.get("/{plan_id}/swap-candidates", summary="Before a swap: the buildings of the grids neighbouring this "
                                                  "building's grid, best first, and whether swapping keeps both grids "
                                                  "in band and contiguous", response_model=None,
            responses=answer(SwapCandidates))
def swap_candidates(plan_id: int, conn: ConnDep, settings: SettingsDep, _: Viewer,
                    building: Annotated[str, Query(description="building code (A)")]) -> JSONResponse:
    body = plan_hints.swap_candidates(conn, plan_id=plan_id, building=building.strip(), bands=Bands.of(settings),
                                      metric_crs=settings.metric_crs)
    plan = queries.get_plan(conn, plan_id=plan_id)
    return JSONResponse(body, headers={"ETag": plan_etag(plan["version"])})


@router.post("/{plan_id}/split", summary="Cut a grid in two along a line; the new half gets the next free code",
             responses=answer(Edited))
def split(plan_id: int, engine: EngineDep, settings: SettingsDep, key: Planner,
          body: Annotated[SplitIn, Body()], if_match: IfMatch = None) -> JSONResponse:
    version = parse_if_match(if_match)
    line = geometry_in(body.line, what="split line", types={"LineString"}, crs=body.crs)
    result = plan_edits.split_grid(engine, plan_id=plan_id, version=version, code=body.grid, line=line,
                              actor=actor_name(key), metric_crs=settings.metric_crs,
                              max_vertices=settings.edit_max_vertices)
    return _edit_response(engine, result)


@router.post("/{plan_id}/merge", summary="Merge two neighbouring grids; the lower code is kept",
             responses=answer(Edited))
def merge(plan_id: int, engine: EngineDep, settings: SettingsDep, key: Planner,
          body: Annotated[MergeIn, Body()], if_match: IfMatch = None) -> JSONResponse:
    result = plan_edits.merge_grids(engine, plan_id=plan_id, version=parse_if_match(if_match), codes=body.grids,
                               actor=actor_name(key), metric_crs=settings.metric_crs)
    return _edit_response(engine, result)


@router.post("/{plan_id}/undo", summary="Take back the latest edit", responses=answer(Edited))
def undo(plan_id: int, engine: EngineDep, key: Planner, if_match: IfMatch = None) -> JSONResponse:
    return _edit_response(engine, plan_edits.undo(engine, plan_id=plan_id, version=parse_if_match(if_match),
                                             actor=actor_name(key)))


@router.post("/{plan_id}/redo", summary="Re-apply the edit undo took back last", responses=answer(Edited))
def redo(plan_id: int, engine: EngineDep, key: Planner, if_match: IfMatch = None) -> JSONResponse:
    return _edit_response(engine, plan_edits.redo(engine, plan_id=plan_id, version=parse_if_match(if_match),
                                             actor=actor_name(key)))


@router.get("/{plan_id}/edits", summary="The plan's edit log (who, when, what; undone edits are the redo stack)",
            response_model=None, responses=answer(EditLog))
def edit_log(plan_id: int, conn: ConnDep, _: Viewer) -> dict[str, Any]:
    return {"edits": plans.edits(conn, plan_id=plan_id)}


@router.get("/{plan_id}/validation", summary="Problems (errors block publishing, band warnings need acknowledging) "
                                             "and per-grid metrics", responses=answer(Validation))
def validation(plan_id: int, conn: ConnDep, settings: SettingsDep, _: Viewer, community: Community = None
               ) -> JSONResponse:
    bands = Bands.of(settings)
    report = plans.validate_plan(conn, plan_id=plan_id, bands=bands, metric_crs=settings.metric_crs,
                                 community=community)
    plan = queries.get_plan(conn, plan_id=plan_id)
    convert = _problem_json(settings)
    body = {"plan": plan, "valid": report.valid, "publishable": report.valid and plan["status"] == "draft",
            "community": community,
            "bands": {"households": list(bands.households), "population": list(bands.population)},
            "problems": [convert(p) for p in report.problems], "metrics": report.metrics}
    return JSONResponse(body, headers={"ETag": plan_etag(plan["version"])})


@router.post("/{plan_id}/publish", summary="Validate and publish the draft atomically (If-Match); 409 with problems",
             responses=answer(Published))
def publish(plan_id: int, engine: EngineDep, settings: SettingsDep, key: Planner,
            body: Annotated[PublishIn | None, Body()] = None, if_match: IfMatch = None) -> JSONResponse:
    version = parse_if_match(if_match)
    if version is None:
        raise VersionRequired.say("plan.version_required_publish")
    plans.publish(engine, plan_id=plan_id, actor=actor_name(key), version=version,
                  acknowledge_warnings=bool(body and body.acknowledge_warnings), bands=Bands.of(settings),
                  metric_crs=settings.metric_crs, problem_json=_problem_json(settings),
                  on_published=partial(coverage_service.on_plan_published, metric_crs=settings.metric_crs))
    with reading(engine) as conn:
        return _plan_response(conn, plan_id, extra={})


@router.post("/{plan_id}/suggest", status_code=201,
             summary="A new draft whose grids in one community are a suggested partition: whole buildings, "
                     "contiguous, compact, inside the bands (two regionalisation methods, the better kept)",
             responses=answer(Suggested, status=201))
def suggest(plan_id: int, engine: EngineDep, settings: SettingsDep, key: Planner,
            body: Annotated[SuggestIn, Body()]) -> JSONResponse:
    new_id, suggestion, result = plan_edits.suggest_draft(
        engine, plan_id=plan_id, community=body.community, actor=actor_name(key), bands=Bands.of(settings),
        seed=body.seed, name=body.name, metric_crs=settings.metric_crs)
    with reading(engine) as conn:
        response = _plan_response(conn, new_id, status=201, extra={
            "method": suggestion.method, "scores": suggestion.scores, **result.as_dict()})
    return response


@router.get("/{plan_id}/diff", summary="Grids changed and buildings (households) moved against another plan",
            responses=answer(Diff))
def diff(plan_id: int, conn: ConnDep, settings: SettingsDep, _: Viewer,
         against: Annotated[int | None, Query(description="plan to compare with (default: the published plan)")]
         = None) -> JSONResponse:
    if against is None:
        against = queries.resolve_plan(conn, plan_id=None)["id"]
    result = plans.diff(conn, plan_id=plan_id, against=against, metric_crs=settings.metric_crs)
    for g in result["grids"]:
        g["geometry"] = geojson_metric(g["geometry"], settings)
    for b in result["buildings_moved"]:
        b["geometry"] = geojson_metric(b["geometry"], settings)
    return JSONResponse({"plan": queries.get_plan(conn, plan_id=plan_id),
                         "against": queries.get_plan(conn, plan_id=against), **result})



@router.get("/{plan_id}/export", summary="The plan's grids as GeoJSON, GeoPackage or a zipped Shapefile")
def export(plan_id: int, engine: EngineDep, _: Viewer,
           format: Annotated[Literal["geojson", "gpkg", "shp"], Query()] = "gpkg",
           crs: Annotated[str, Query(description="wgs84 | cgcs2000 | gcj02 | bd09 | EPSG:n")] = "wgs84",
           encoding: Annotated[Literal["utf-8", "gbk"], Query(
               description="Shapefile attributes: utf-8 (.cpg UTF-8) or gbk (.cpg CP936, for older Chinese GIS "
                           "tools); a value GBK cannot encode is a 422 naming the grid and the field. GeoJSON and "
                           "GeoPackage are always UTF-8")] = "utf-8") -> Response:
    from starlette.background import BackgroundTask

    folder = Path(tempfile.mkdtemp(prefix="gridmap-export-"))
    try:
        out = exchange.export_plan(engine, folder, plan_id=plan_id, fmt=format, crs=crs, encoding=encoding)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(out, media_type=exchange.PLAN_FORMATS[format][1], filename=out.name,
                        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))


def _client_name(filename: str | None, suffix: str) -> str:
    """The upload's own file name (no directories, at most 60 characters) for messages."""
    name = Path((filename or "").replace("\\", "/")).name or f"upload{suffix}"
    return name if len(name) <= 60 else name[:50] + "…" + suffix


@router.post("/{plan_id}/import", summary="Replace the draft's grids with a file drawn elsewhere (GeoPackage, "
                                         "GeoJSON, zipped Shapefile); checked like any edit (If-Match)",
             responses=answer(Edited))
def import_grids(plan_id: int, engine: EngineDep, settings: SettingsDep, key: Planner,
                 file: Annotated[UploadFile, File(description=".gpkg, .geojson/.json or .zip (Shapefile)")],
                 if_match: IfMatch = None,
                 crs: Annotated[str | None, Query(description="override the file's CRS")] = None,
                 layer: Annotated[str | None, Query(description="GeoPackage layer")] = None) -> JSONResponse:
    version = parse_if_match(if_match)
    suffix = Path(file.filename or "").suffix.lower()
    if suffix not in (".gpkg", ".geojson", ".json", ".zip"):
        raise BadInput.say("import.bad_suffix", name=excerpt(Path(file.filename or "").name, chars=40))
    folder = Path(tempfile.mkdtemp(prefix="gridmap-import-"))
    try:
        path = folder / f"upload{suffix}"
        with path.open("wb") as out:
            shutil.copyfileobj(file.file, out)
        grids = exchange.read_plan_file(path, crs=crs, layer=layer, name=_client_name(file.filename, suffix),
                                        max_unzipped_bytes=settings.upload_max_unzipped_bytes,
                                        max_archive_members=settings.upload_max_archive_members)
        result = plan_edits.replace_grids(engine, plan_id=plan_id, version=version, grids=grids, actor=actor_name(key),
                                     source=_client_name(file.filename, suffix), metric_crs=settings.metric_crs,
                                     max_vertices=settings.edit_max_vertices)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return _edit_response(engine, result)
