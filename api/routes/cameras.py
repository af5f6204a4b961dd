"""Cameras: list and read (viewer), create / update / delete (operator), and each camera's visible view."""

from __future__ import annotations

import json
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Body, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import ConnDep, EngineDep, Operator, SettingsDep, Viewer
from api.responses import GEOJSON, GeoJSONResponse
from api.schemas import CameraProps, Feature, ViewProps, answer
from geo import cameras, coverage_service
from geo.config import Settings
from geo.store import coverage as stored_coverage
from geo.store import queries

router = APIRouter(prefix="/v1/cameras", tags=["cameras"])


class CameraIn(BaseModel):
    """A camera. Values are checked by the domain, which names the field in its 422 message."""

    model_config = ConfigDict(extra="allow")
    code: str = Field(description="GB/T 28181 20-digit device id", examples=["14021410011320009999"])
    name: str = Field(examples=["春安新区3号楼北门"])
    kind: str = Field(description="bullet | dome | ptz | fisheye", examples=["bullet"])
    status: str = Field(default="online", description="online | offline | fault")
    mount: str = Field(description="pole | wall | ceiling", examples=["pole"])
    lon: float = Field(examples=[113.1])
    lat: float = Field(examples=[40.05])
    crs: str | None = Field(default=None, description="wgs84 (default) | cgcs2000 | gcj02 | bd09 | EPSG:n")
    height_m: float = 3.0
    azimuth_deg: float = Field(description="0 = north, clockwise, in [0, 360)")
    hfov_deg: float = Field(description="horizontal field of view, (0, 360]")
    range_m: float | None = Field(default=None, description="(0, 2000] m; or give resolution_px for a DORI range")
    resolution_px: int | None = None


class CameraPatch(BaseModel):
    model_config = ConfigDict(extra="allow")


def _actor(key: Any) -> str:
    return f"key:{key.prefix}"


def _coverage_follows(settings: Settings) -> Any:
    """The camera change's callback: its view and the grids it touches recomputed in the deployment's metric CRS."""
    return partial(coverage_service.on_cameras_changed, metric_crs=settings.metric_crs)


@router.post("", status_code=201, summary="Add a camera; its view is computed now", response_class=GeoJSONResponse,
             responses=answer(Feature[CameraProps], status=201))
def create_camera(engine: EngineDep, conn: ConnDep, settings: SettingsDep, key: Operator,
                  body: Annotated[CameraIn, Body()]) -> Response:
    camera_id = cameras.create(engine, body.model_dump(exclude_unset=False), actor=_actor(key),
                               on_change=_coverage_follows(settings))
    return Response(queries.camera_feature(conn, camera_id=camera_id), status_code=201, media_type=GEOJSON)


@router.get("/{camera_id}", summary="One camera (GeoJSON Feature)", response_class=GeoJSONResponse, responses=answer(Feature[CameraProps]))
def get_camera(camera_id: int, conn: ConnDep, _: Viewer) -> Response:
    return Response(queries.camera_feature(conn, camera_id=camera_id), media_type=GEOJSON)


@router.patch("/{camera_id}", summary="Change a camera; its view is recomputed", response_class=GeoJSONResponse,
              responses=answer(Feature[CameraProps]))
def patch_camera(camera_id: int, engine: EngineDep, conn: ConnDep, settings: SettingsDep, key: Operator,
                 body: Annotated[dict[str, Any], Body(examples=[{"azimuth_deg": 135, "status": "fault"}])]
                 ) -> Response:
    cameras.update(engine, camera_id, body, actor=_actor(key), on_change=_coverage_follows(settings))
    return Response(queries.camera_feature(conn, camera_id=camera_id), media_type=GEOJSON)


@router.delete("/{camera_id}", status_code=204, summary="Remove a camera")
def delete_camera(camera_id: int, engine: EngineDep, settings: SettingsDep, key: Operator) -> Response:
    cameras.delete(engine, camera_id, actor=_actor(key), on_change=_coverage_follows(settings))
    return Response(status_code=204)


@router.get("/{camera_id}/view", summary="The camera's visible polygon after occlusion by buildings, and its area",
            response_class=GeoJSONResponse, responses=answer(Feature[ViewProps]))
def camera_view(camera_id: int, conn: ConnDep, _: Viewer) -> Response:
    return Response(json.dumps(stored_coverage.view_feature(conn, camera_id=camera_id), ensure_ascii=False),
                    media_type=GEOJSON)
