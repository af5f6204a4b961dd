"""The collections OGC API – Features publishes, as data: what each is, what it exposes, who may see it.

The SQL behind each collection is :mod:`geo.store.ogc`'s (one source per collection id, one column per
property name here; a test checks that the two agree). Identifiers in SQL come only from here, never
from a request.

Roles mirror the /v1 API: every collection needs the ``viewer`` role, as the /v1 GeoJSON does, except
``grids`` and ``buildings``, which a ``client`` key may read with only what ``GET /v1/lookup`` already
tells a client about a grid or a building (code, name, address, community, the grid member's name; no
phone number, no household or population counts): the lookup page of hotline staff loads them by view
at city scale. ``grid_member_phone`` and the counts are shown from ``viewer`` up, like ``/v1/grids`` and
the lookup's ``with_phone``; a client naming them in ``properties``, ``filter`` or ``sortby`` gets a 400.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# ---------------------------------------------------------------------------- CRSs (Part 2)

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


def epsg_uri(code: int) -> str:
    return f"http://www.opengis.net/def/crs/EPSG/0/{code}"


@dataclass(frozen=True)
class OutputCrs:
    """A CRS items can be given in: its URI, the PostGIS SRID, whether its first axis is northing or
    latitude (coordinates are then swapped from PostGIS's x/y order, as Part 2 requires), and the
    decimals of a coordinate (8 for degrees: ~1 mm, as /v1; 3 for metres: 1 mm)."""

    uri: str
    srid: int
    north_first: bool
    decimals: int
    title: str
    #: Where coordinates in this CRS may lie, in PostGIS x/y order (a box or a filter geometry outside
    #: is refused before PROJ is asked to transform it).
    bounds: tuple[float, float, float, float] = (-180.0, -90.0, 180.0, 90.0)


#: The CRSs of every collection, the default (CRS84, lon/lat) first. Axis orders are EPSG's:
#: EPSG:4326 and EPSG:4490 are latitude, longitude; EPSG:4547 northing, easting; EPSG:3857 easting,
#: northing. GCJ-02 is not offered here: PostGIS cannot compute it (see geo/crs/offsets.py).
CRSS: tuple[OutputCrs, ...] = (
    OutputCrs(CRS84, 4326, False, 8, "WGS 84 longitude/latitude (OGC CRS84), the default"),
    OutputCrs(epsg_uri(4326), 4326, True, 8, "WGS 84 (EPSG:4326), latitude/longitude"),
    OutputCrs(epsg_uri(4490), 4490, True, 8, "CGCS2000 (EPSG:4490), latitude/longitude"),
    OutputCrs(epsg_uri(4547), 4547, True, 3, "CGCS2000 / 3-degree Gauss-Kruger CM 114E (EPSG:4547), northing/easting, metres",
              (-500_000.0, 0.0, 1_500_000.0, 10_000_000.0)),
    OutputCrs(epsg_uri(3857), 3857, False, 3, "WGS 84 / Pseudo-Mercator (EPSG:3857), easting/northing, metres",
              (-20_037_508.35, -20_048_966.11, 20_037_508.35, 20_048_966.11)),
)
CRS_BY_URI = {c.uri: c for c in CRSS}
#: Geometries are stored in EPSG:4326 with longitude first, which is what CRS84 names.
STORAGE_CRS = CRS84


def find_crs(value: str) -> OutputCrs | None:
    """The offered CRS named by ``value``: its URI, ``EPSG:n``, ``urn:ogc:def:crs:EPSG::n``, ``CRS84``
    or ``OGC:CRS84``; None when it is not offered.

    >>> find_crs("EPSG:4547").uri
    'http://www.opengis.net/def/crs/EPSG/0/4547'
    >>> find_crs("[OGC:CRS84]").srid, find_crs("http://www.opengis.net/def/crs/EPSG/0/4326").north_first
    (4326, True)
    >>> find_crs("EPSG:2000") is None
    True
    """
    v = value.strip()
    if v.startswith("[") and v.endswith("]"):  # a safe CURIE
        v = v[1:-1]
    if v in CRS_BY_URI:
        return CRS_BY_URI[v]
    upper = v.upper()
    if upper in ("CRS84", "OGC:CRS84", "URN:OGC:DEF:CRS:OGC:1.3:CRS84", "URN:OGC:DEF:CRS:OGC::CRS84"):
        return CRS_BY_URI[CRS84]
    for prefix in ("EPSG:", "URN:OGC:DEF:CRS:EPSG::", "HTTPS://WWW.OPENGIS.NET/DEF/CRS/EPSG/0/"):
        if upper.startswith(prefix) and v[len(prefix):].isdigit():
            return CRS_BY_URI.get(epsg_uri(int(v[len(prefix):])))
    return None


# ---------------------------------------------------------------------------- collections

#: JSON Schema types of properties (queryables); ``date-time`` is a string with that format.
TYPES = ("string", "integer", "number", "boolean", "date-time", "array")


@dataclass(frozen=True)
class Property:
    name: str
    type: str
    description: str
    #: The lowest role that sees this property (in answers and as a queryable).
    role: str = "client"
    #: Whether it may appear in ``filter`` and ``sortby`` (arrays may not).
    queryable: bool = True


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    #: The GeoJSON geometry type of every feature ("Geometry" when they differ).
    geometry_type: str
    properties: tuple[Property, ...]
    #: The lowest role that may read the collection at all.
    role: str = "viewer"
    #: The property ``datetime=`` filters on; None when the collection has none.
    temporal: str | None = None
    #: Whether features depend on a plan: ``plan=<id>`` any plan, ``datetime=``/``at=`` the plan in
    #: force then, else the published plan.
    versioned: bool = False
    #: The type of the feature id (``/items/{fid}``).
    id_type: str = "integer"
    #: What the feature id is, for the documentation.
    id_description: str = "the row id"
    keywords: tuple[str, ...] = field(default=())

    def prop(self, name: str) -> Property | None:
        return next((p for p in self.properties if p.name == name), None)


def _p(name: str, type_: str, description: str, **kw: object) -> Property:
    return Property(name, type_, description, **kw)  # type: ignore[arg-type]


COLLECTIONS: tuple[Collection, ...] = (
    Collection(
        "communities", "Communities", "The resettlement communities of the town (社区): boundaries and names.",
        "MultiPolygon", (
            _p("id", "integer", "row id"),
            _p("code", "string", "12-digit community code"),
            _p("name", "string", "name (Chinese)"),
            _p("name_en", "string", "English name"),
            _p("pinyin", "string", "name in pinyin"),
            _p("aliases", "array", "other names residents use", queryable=False),
        )),
    Collection(
        "grids", "Grids", "The grids (网格) of a plan: by default the published plan; `plan=<id>` any plan, "
        "`datetime=<instant>` (or `at=`) the plan that was in force then. Features are identified by grid code, "
        "which outlives plans: the same id at another `datetime` is the same grid as it was then.",
        "MultiPolygon", (
            _p("id", "integer", "row id of the grid in its plan"),
            _p("code", "string", "15-digit grid code (the community code and a 3-digit number)"),
            _p("name", "string", "grid name"),
            _p("community_code", "string", "code of the grid's community"),
            _p("community_name", "string", "name of the grid's community"),
            _p("plan_id", "integer", "the plan this grid belongs to"),
            _p("grid_member", "string", "name of the grid member (网格员) who answers for the grid"),
            _p("grid_member_phone", "string", "the grid member's work phone", role="viewer"),
            _p("households", "integer", "households of the buildings in the grid", role="viewer"),
            _p("population", "integer", "registered population of the buildings in the grid", role="viewer"),
            _p("buildings", "integer", "buildings in the grid", role="viewer"),
            _p("units", "integer", "units (entrances) of the buildings in the grid", role="viewer"),
            _p("label_lon", "number", "longitude of a point inside the grid (PostGIS ST_PointOnSurface), where a map "
               "puts its label"),
            _p("label_lat", "number", "latitude of that point"),
        ), role="client", versioned=True, id_type="string", id_description="the grid code"),
    Collection(
        "buildings", "Buildings", "Residential buildings with their address, their grid in the plan "
        "(published by default; `plan=`, `datetime=` as for grids) and unit, household and population counts.",
        "Polygon", (
            _p("id", "integer", "row id"),
            _p("code", "string", "building code"),
            _p("name", "string", "building name"),
            _p("address", "string", "standard address"),
            _p("community_code", "string", "code of the building's community"),
            _p("grid_code", "string", "code of the grid of the plan holding the building"),
            _p("floors", "integer", "floors above ground"),
            _p("height_m", "number", "height in metres"),
            _p("units", "integer", "units (entrances)"),
            _p("households", "integer", "households", role="viewer"),
            _p("population", "integer", "registered population", role="viewer"),
        ), role="client", versioned=True),
    Collection(
        "units", "Units", "The units (单元, entrances) of the buildings with their households and population; "
        "each located at a point on its building's footprint.",
        "Point", (
            _p("id", "integer", "row id"),
            _p("building_code", "string", "code of the unit's building"),
            _p("number", "integer", "unit number within the building"),
            _p("community_code", "string", "code of the building's community"),
            _p("households", "integer", "households"),
            _p("population", "integer", "registered population"),
        )),
    Collection(
        "cameras", "Cameras", "Surveillance cameras: kind, status, mount, height, azimuth, field of view, range.",
        "Point", (
            _p("id", "integer", "row id"),
            _p("code", "string", "20-digit camera code"),
            _p("name", "string", "camera name"),
            _p("kind", "string", "bullet, dome, ptz, ..."),
            _p("status", "string", "online, offline or faulty"),
            _p("mount", "string", "wall, pole, ..."),
            _p("lon", "number", "longitude (WGS84)"),
            _p("lat", "number", "latitude (WGS84)"),
            _p("height_m", "number", "mounting height in metres"),
            _p("azimuth_deg", "number", "viewing direction, degrees from grid north"),
            _p("hfov_deg", "number", "horizontal field of view in degrees"),
            _p("range_m", "number", "range in metres"),
            _p("resolution_px", "integer", "horizontal resolution in pixels"),
            _p("building_code", "string", "building the camera is mounted on"),
        )),
    Collection(
        "camera-views", "Camera views", "Each camera's visible area after occlusion by buildings (stored, "
        "recomputed when a camera or building changes); offline and faulty cameras' views are not counted.",
        "Geometry", (
            _p("id", "integer", "the camera's id"),
            _p("camera_id", "integer", "the camera's id"),
            _p("code", "string", "camera code"),
            _p("name", "string", "camera name"),
            _p("kind", "string", "camera kind"),
            _p("status", "string", "camera status"),
            _p("mount", "string", "camera mount"),
            _p("area_m2", "number", "visible area in square metres"),
            _p("range_m", "number", "range used, metres"),
            _p("range_level", "string", "DORI level the range gives"),
            _p("counted", "boolean", "whether the view counts toward coverage (online cameras)"),
        ), id_description="the camera id"),
    Collection(
        "coverage-gaps", "Coverage gaps", "Watchable space no online camera sees, per grid of the plan "
        "(published by default; `plan=`, `datetime=` as for grids; only plans whose coverage was computed "
        "have gaps).",
        "Polygon", (
            _p("id", "integer", "row id"),
            _p("grid_code", "string", "code of the grid the gap is in"),
            _p("area_m2", "number", "area in square metres"),
        ), versioned=True),
    Collection(
        "key-places", "Key places", "Gates, squares, parking, schools and markets.",
        "Geometry", (
            _p("id", "integer", "row id"),
            _p("kind", "string", "gate, square, parking, school, market, ..."),
            _p("name", "string", "name"),
        )),
    Collection(
        "incidents", "Incidents", "Reported incidents (not voided), with their workflow state; `datetime` "
        "filters on occurred_at.",
        "Point", (
            _p("id", "integer", "row id"),
            _p("ref", "string", "reference"),
            _p("category", "string", "category"),
            _p("subcategory", "string", "subcategory"),
            _p("source", "string", "how it was reported"),
            _p("severity", "integer", "1 (minor) to 4 (urgent)"),
            _p("description", "string", "description"),
            _p("occurred_at", "date-time", "when it happened"),
            _p("reported_at", "date-time", "when it was reported"),
            _p("status", "string", "workflow state"),
            _p("grid_code", "string", "grid at the time of report"),
            _p("plan_id", "integer", "plan in force at the time of report"),
        ), temporal="occurred_at"),
)
BY_ID = {c.id: c for c in COLLECTIONS}

#: Items per page when ``limit`` is not given, and the most a page holds (a larger ``limit`` is
#: taken as this, as Part 1 requires: no error).
DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000

#: The name of the geometry in filters (CQL2) and queryables.
GEOMETRY = "geometry"
