"""What the routes answer, declared for the OpenAPI document (``/openapi.json``, ``/docs``).

Most routes build their answer once and send it as bytes (GeoJSON straight from PostGIS, or JSON
encoded in slices off the event loop: api/responses.py), so these models are *declared* on the routes
(``responses={200: {"model": ...}}``), not used to re-validate every answer at run time. They are kept
honest by tests/api/test_schemas.py, which checks real answers against the published document.

Models allow extra fields: a field added to an answer is not a breaking change, and the README's
"Changes clients may notice" lists additions; a field listed here is always present (possibly null).
"""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field


class Open(BaseModel):
    """Base of every answer model: extra fields allowed."""

    model_config = ConfigDict(extra="allow")


# --------------------------------------------------------------------------- GeoJSON (RFC 7946)

class Geometry(Open):
    type: Literal["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon",
                  "GeometryCollection"]
    coordinates: Any = Field(default=None, description="WGS84 lon/lat, 8 decimals (about 1 mm)")


P = TypeVar("P")


class Feature(Open, Generic[P]):
    type: Literal["Feature"]
    id: int | str | None = None
    geometry: Geometry | None
    properties: P


class FeatureCollection(Open, Generic[P]):
    type: Literal["FeatureCollection"]
    features: list[Feature[P]]


class CommunityProps(Open):
    id: int
    code: str
    name: str
    name_en: str | None
    pinyin: str | None
    aliases: list[str]


class GridProps(Open):
    id: int
    code: str
    name: str
    community_code: str
    community_name: str
    households: int
    population: int
    buildings: int
    units: int
    plan_id: int
    grid_member: str | None
    grid_member_phone: str | None = Field(default=None, description="viewer role and above only")


class BuildingProps(Open):
    id: int
    code: str
    name: str | None = None
    address: str | None = None


class CameraProps(Open):
    id: int
    code: str
    name: str
    kind: str
    status: str
    mount: str
    lon: float
    lat: float
    height_m: float
    azimuth_deg: float | None
    hfov_deg: float
    range_m: float | None
    resolution_px: int | None
    building_code: str | None


class KeyPlaceProps(Open):
    id: int
    kind: str
    name: str


class ViewProps(Open):
    id: int
    camera_id: int
    code: str
    status: str
    area_m2: float
    range_m: float
    range_level: str | None
    counted: bool = Field(description="online cameras' views count toward coverage")


class SiteProps(Open):
    """A suggested camera site: where, facing where, and what it adds."""


class GapProps(Open):
    id: int
    grid_code: str
    area_m2: float


# --------------------------------------------------------------------------- plans

class Plan(Open):
    id: int
    name: str
    status: Literal["draft", "published", "retired"]
    version: int
    parent_id: int | None
    published_at: str | None
    retired_at: str | None


class PlanWithEdit(Plan):
    last_edit: dict[str, Any] | None = Field(description="who made the latest edit, what and when; null if none")


class PlanList(Open):
    plans: list[Plan]


class Edited(Open):
    """An edit's answer: the plan (its new version is the ETag) and what the edit touched."""

    plan: PlanWithEdit
    changed: list[str]
    created: list[str]
    removed: list[str]
    seq: int = Field(description="the edit's place in the plan's edit log")
    also_changed: list[dict[str, str]] = Field(
        default_factory=list, description="grids a move or swap changed beyond the grids it moved buildings "
                                          "between, each with why: [{grid, why}] (usually empty)")


class DeletedPlan(Open):
    id: int
    name: str
    version: int


class Deleted(Open):
    """The draft DELETE /v1/plans/{id} removed (its grids and edit log went with it)."""

    deleted: DeletedPlan


class Published(Open):
    plan: PlanWithEdit


class ProblemOut(Open):
    kind: str
    severity: Literal["error", "warning"]
    grids: list[str]
    buildings: list[str]
    detail: str
    detail_zh: str | None = Field(description="the detail in Chinese (the message catalogue's)")
    geometry: dict[str, Any] | None = Field(description="where the problem is (GeoJSON, WGS84)")


class GridMetrics(Open):
    code: str
    community_code: str
    households: int
    population: int
    buildings: int
    units: int
    area_m2: float
    perimeter_m: float
    polsby_popper: float
    parts: int
    contiguous: bool
    households_deviation: int
    population_deviation: int
    band: str


class Validation(Open):
    plan: Plan
    valid: bool
    publishable: bool
    community: str | None
    bands: dict[str, list[int]]
    problems: list[ProblemOut]
    metrics: list[GridMetrics]


class Diff(Open):
    plan: Plan
    against: Plan
    grids: list[dict[str, Any]]
    buildings_moved: list[dict[str, Any]]
    households_moved: int


# --------------------------------------------------------------------------- analysis

class Heatmap(Open):
    bandwidth_m: float
    cell_m: float
    crs: str = Field(description="the metric CRS the density was computed in")
    n_incidents: int
    bounds: list[list[float]] | None = Field(default=None, description="[[south, west], [north, east]]")
    bbox: list[float] | None = Field(default=None, description="the bbox asked (west, south, east, north), if any")


class HotspotProps(Open):
    id: int
    key: str
    count: int
    z: float
    p: float
    klass: str = Field(alias="class")


class Hotspots(FeatureCollection[HotspotProps]):
    method: str
    weights: dict[str, Any]
    cell_m: float
    shape: str
    n_cells: int
    fdr: bool
    alpha_levels: list[float]
    classes: dict[str, int]
    bbox: list[float] | None = Field(default=None, description="the bbox asked (west, south, east, north), if any")


class CoverageGrid(Open):
    code: str
    name: str | None
    community_code: str
    watchable_m2: float | None = Field(description="None until the grid's coverage is computed")
    covered_m2: float | None
    ratio: float | None
    largest_gap_m2: float | None
    gap_count: int | None
    computed_at: str | None


class KeyPlaceCoverage(Open):
    id: int
    kind: str
    name: str | None
    covered: bool
    cameras: list[str] = Field(description="codes of the online cameras that see it")
    best_dori: str | None
    seen_fraction: float


class Candidate(Open):
    grid: str = Field(description="the grid the buildings would go to (a swap: the other building's grid)")
    ok: bool = Field(description="every grid it changes stays in band and in one piece")
    reasons: list[dict[str, Any]] = Field(description="why not: [{kind, grid, detail, detail_zh}] (households_band, "
                                                      "population_band, non_contiguous, empty)")
    grids: dict[str, dict[str, Any]] = Field(description="code -> households/population before and after, parts after")
    building: str | None = Field(default=None, description="a swap: the building it trades with")


class MoveCandidates(Open):
    buildings: list[str]
    from_: list[str] = Field(alias="from", description="the grids the buildings are in now")
    bands: dict[str, list[int]]
    candidates: list[Candidate]


class SwapCandidates(Open):
    building: str
    from_: str = Field(alias="from", description="the building's grid")
    bands: dict[str, list[int]]
    candidates: list[Candidate] = Field(description="best first")


class CommunityCoverage(Open):
    code: str
    name: str
    grids: int
    grids_computed: int
    watchable_m2: float | None
    covered_m2: float | None
    ratio: float | None = Field(description="covered / watchable of its computed grids; None before any")


class Coverage(Open):
    plan_id: int
    bbox: list[float] | None = Field(description="the bbox asked (west, south, east, north), if any")
    town: dict[str, Any] = Field(description="the whole town's totals, bbox or not: watchable_m2, covered_m2, "
                                             "ratio, grids_computed, grids, cameras by status")
    grids: list[CoverageGrid] | None = Field(description="the grids (touching bbox); None with grids=false")
    key_places: list[KeyPlaceCoverage] | None = Field(description="the key places (touching bbox); None with "
                                                                  "key_places=false")
    communities: list[CommunityCoverage] | None = Field(default=None, description="with communities=true: each "
                                                        "community (touching bbox), its grids' sums")


class MonthlyReport(Open):
    month: str
    previous_month: str
    plan: dict[str, Any] | None
    generated_at: str
    town: dict[str, Any]
    grids: list[dict[str, Any]]


# --------------------------------------------------------------------------- service

class Health(Open):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unavailable"]
    plan: Plan | None


def answer(model: type[BaseModel], *, status: int = 200, description: str = "Successful Response") -> dict[int | str, Any]:
    """``responses=`` for a route: its success answer is ``model`` (declared, not re-validated)."""
    return {status: {"model": model, "description": description}}


class Suggested(Edited):
    """The new draft a suggestion made, the method that won and both methods' scores."""

    method: str
    scores: dict[str, Any]


class EditLog(Open):
    edits: list[dict[str, Any]]


class LookupGrid(Open):
    code: str
    name: str
    community: dict[str, str]
    grid_member: dict[str, str] | None = Field(description="name; phone for the viewer role and above")


class LookupAnswer(Open):
    """GET /v1/lookup: the grid and building at a point, from the plan that answered."""

    grid: LookupGrid
    building: dict[str, Any] | None
    plan: dict[str, Any]
    point: dict[str, float] = Field(description="the point in WGS84, 8 decimals")


class BatchRow(Open):
    grid: dict[str, Any] | None = Field(description="the grid, as /v1/lookup answers it; null when not found")
    error: str | dict[str, Any] | None = Field(description="why this row has no grid; null when it has one")


class Batch(Open):
    """The JSON answer of POST /v1/lookup/batch: one result per input row, in order."""

    plan: dict[str, Any]
    results: list[BatchRow]


# --------------------------------------------------------------------------- OGC API – Features (/ogc)

class OgcLink(Open):
    href: str
    rel: str
    type: str | None = None
    title: str | None = None


class OgcLanding(Open):
    title: str
    description: str
    links: list[OgcLink]


class OgcConformance(Open):
    conformsTo: list[str]


class OgcCollection(Open):
    id: str
    title: str
    description: str
    links: list[OgcLink]
    extent: dict[str, Any]
    itemType: Literal["feature"]
    crs: list[str] = Field(description="the CRSs items can be given in (crs=, bbox-crs=, filter-crs=)")
    storageCrs: str


class OgcCollections(Open):
    links: list[OgcLink]
    collections: list[OgcCollection]


class OgcQueryables(Open):
    """A JSON Schema of the properties a filter and sortby may name."""

    type: Literal["object"]
    properties: dict[str, dict[str, Any]]


class OgcFeature(Open):
    type: Literal["Feature"]
    id: int | str
    geometry: dict[str, Any] | None = Field(description="GeoJSON geometry in the crs asked for (Content-Crs)")
    properties: dict[str, Any]


class EditSummary(Open):
    """What an edit touched (its number ``seq`` in the plan's edit log; 0 when it changed nothing)."""

    changed: list[str]
    created: list[str]
    removed: list[str]
    seq: int


class OgcEditedFeature(OgcFeature):
    """A grid after a Part 4 write (POST, PUT, PATCH), with what the edit did (absent when nothing changed)."""

    edit: EditSummary | None = None


class OgcRemoved(EditSummary):
    """A Part 4 DELETE: the grid removed, the neighbour that took its land (``changed``), the plan's new version."""

    plan: dict[str, int] = Field(description="{id, version}: the version is the new ETag")


class OgcFeatureCollection(Open):
    type: Literal["FeatureCollection"]
    numberMatched: int
    numberReturned: int
    timeStamp: str
    links: list[OgcLink]
    features: list[OgcFeature]
