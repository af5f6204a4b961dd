"""Incidents and their workflow: report (operator), list and read (viewer), transitions (operator)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from pydantic import BaseModel, Field

from api.deps import ConnDep, EngineDep, Operator, SettingsDep, Viewer, lookup_service
from api.params import csv_list, lonlat_bbox, parse_at
from geo import incidents

router = APIRouter(prefix="/v1/incidents", tags=["incidents"])


class IncidentIn(BaseModel):
    """A new incident. Validation messages come from the domain (they name the field)."""

    category: str = Field(examples=["dispute"])
    subcategory: str | None = Field(default=None, examples=["neighbour"])
    lon: float = Field(examples=[113.1])
    lat: float = Field(examples=[40.05])
    crs: str | None = Field(default=None, description="wgs84 (default) | cgcs2000 | gcj02 | bd09 | EPSG:n")
    occurred_at: str | None = Field(default=None, description="ISO 8601 with offset; default now")
    description: str | None = None
    source: str = "patrol"
    severity: int = Field(default=2, description="1 (minor) to 4 (urgent)")


class VoidIn(BaseModel):
    reason: str = Field(description="why the incident is voided (kept, audited, out of counts)",
                        examples=["test call from the hotline"])


class TransitionIn(BaseModel):
    to: str = Field(examples=["accepted"])
    note: str | None = None
    assignee: str | None = None


@router.post("", status_code=201, summary="Report an incident; its grid is fixed now, from its location")
def create_incident(request: Request, engine: EngineDep, conn: ConnDep, settings: SettingsDep, key: Operator,
                    body: Annotated[IncidentIn, Body()]) -> dict[str, Any]:
    index = lookup_service(request).current()
    incident_id = incidents.create(engine, body.model_dump(), index=index, actor=f"key:{key.prefix}",
                                   earliest=settings.incident_earliest)
    return incidents.get(conn, incident_id=incident_id, settings=settings)


@router.get("", summary="Incidents as GeoJSON, newest first, with filters")
def list_incidents(
    conn: ConnDep, settings: SettingsDep, _: Viewer,
    start: Annotated[str | None, Query(alias="from", description="occurred at or after (ISO date/time)")] = None,
    end: Annotated[str | None, Query(alias="to", description="occurred before (ISO date/time)")] = None,
    category: Annotated[list[str] | None, Query(description="one or more, comma-separated or repeated")] = None,
    grid: Annotated[str | None, Query(description="grid code at the time of report")] = None,
    status: Annotated[list[str] | None, Query(description="one or more states")] = None,
    overdue: Annotated[bool | None, Query(description="only overdue (true) or only on time (false)")] = None,
    voided: Annotated[bool, Query(description="true: only the voided incidents (left out of every count)")] = False,
    bbox: Annotated[str | None, Query(description="west,south,east,north (WGS84 lon/lat): only the incidents in "
                                                  "this box")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    return incidents.query(conn, settings=settings, start=parse_at(start), end=parse_at(end),
                           categories=csv_list(category), grid=grid, statuses=csv_list(status), overdue=overdue,
                           voided=voided, bbox=lonlat_bbox(bbox), limit=limit, offset=offset)


@router.get("/{incident_id}", summary="One incident with its workflow history")
def get_incident(incident_id: int, conn: ConnDep, settings: SettingsDep, _: Viewer) -> dict[str, Any]:
    return incidents.get(conn, incident_id=incident_id, settings=settings)


@router.post("/{incident_id}/transitions", status_code=201,
             summary="Move an incident along the workflow (409 with the allowed states otherwise)")
def transition(incident_id: int, engine: EngineDep, key: Operator, body: Annotated[TransitionIn, Body()]
               ) -> dict[str, Any]:
    return incidents.transition(engine, incident_id=incident_id, to=body.to, note=body.note,
                                assignee=body.assignee, actor=f"key:{key.prefix}")


@router.post("/{incident_id}/void", summary="Void an incident reported by mistake: kept and audited, left out of "
                                           "every count, heatmap, hotspot and report (there is no delete)")
def void_incident(incident_id: int, engine: EngineDep, key: Operator, body: Annotated[VoidIn, Body()]
                  ) -> dict[str, Any]:
    return {"id": incident_id, "voided": incidents.void(engine, incident_id=incident_id, reason=body.reason,
                                                        actor=f"key:{key.prefix}")}
