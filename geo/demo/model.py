"""The generated town's model: building styles, community specs, and the laid-out
community (buildings, roads, key places, grids, cameras) in metres."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely import LineString, Polygon

from geo.crs import METRIC_CRS_DEFAULT

#: The CRS every generated geometry is authored in (metres), converted to EPSG:4326 only when written.
#: It is the default metric CRS (EPSG:4547) on purpose and must stay so: camera azimuths are grid bearings
#: there, and the committed data set is defined by it; a deployment's other metric CRS changes how the data
#: are measured, not how they were made.
AUTHORING_CRS = METRIC_CRS_DEFAULT

#: ``progress(stage, done, total)``, called per community and per 100,000 incidents.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Style:
    """Building and layout parameters of one kind of compound."""

    name: str
    floor_weights: tuple[tuple[int, float], ...]  # a row's base number of floors
    floor_range: tuple[int, int]  # after the per-building jitter of -1/0/+1
    depth: tuple[float, float]  # main body, north–south
    unit_width: tuple[float, float]
    gap: tuple[float, float]  # clear east–west gap between slabs of a row
    spacing: tuple[float, float]  # clear row gap / height of the southern row
    min_row_gap: float
    bump: tuple[float, float]  # depth of the stair/lift core on the north side
    sample_m: float  # Voronoi sampling step along building outlines
    door_camera_share: float
    fisheye_share: float
    pole_spacing: tuple[float, float]
    lot_length: tuple[float, float]
    square_width: tuple[float, float]
    frontage: float  # depth of the street-edge frontage zone along the south wall


HIGHRISE = Style(
    name="highrise",
    floor_weights=((11, 0.03), (12, 0.02), (13, 0.03), (14, 0.05), (15, 0.07), (16, 0.10), (17, 0.25), (18, 0.45)),
    floor_range=(11, 18),
    depth=(12.0, 12.8),
    unit_width=(14.6, 15.4),
    gap=(13.0, 22.0),
    spacing=(1.2, 1.45),
    min_row_gap=30.0,
    bump=(1.2, 1.6),
    sample_m=1.0,
    door_camera_share=1.0,
    fisheye_share=1.0,
    pole_spacing=(55.0, 75.0),
    lot_length=(45.0, 80.0),
    square_width=(40.0, 60.0),
    frontage=46.0,
)

WALKUP = Style(
    name="walkup",
    floor_weights=((5, 0.3), (6, 0.7)),
    floor_range=(5, 7),
    depth=(10.8, 12.0),
    unit_width=(12.5, 14.0),
    gap=(8.0, 12.0),
    spacing=(1.2, 1.45),
    min_row_gap=22.5,
    bump=(1.0, 1.4),
    sample_m=2.5,
    door_camera_share=0.4,
    fisheye_share=0.25,
    pole_spacing=(110.0, 140.0),
    lot_length=(60.0, 120.0),
    square_width=(30.0, 45.0),
    frontage=40.0,
)

STYLES = {"highrise": HIGHRISE, "walkup": WALKUP}


@dataclass(frozen=True)
class CommunitySpec:
    """What a community must contain; :func:`layout_community` decides where.

    ``units`` lists the number of units of every building (its length is the number of
    buildings). ``facilities`` are placed along the south (street) edge in this order
    when they fit: ``market``, ``kindergarten``, ``clinic``, ``school``. ``gates`` is
    the number of gates (1–3) or ``None`` to draw it.
    """

    code: str
    name: str
    name_en: str
    pinyin: str
    aliases: tuple[str, ...]
    width: float
    units: tuple[int, ...]
    style: str = "highrise"
    facilities: tuple[str, ...] = ("market", "kindergarten", "clinic")
    gates: int | None = None


# --------------------------------------------------------------------------------------
# Community model
# --------------------------------------------------------------------------------------


@dataclass
class Building:
    number: int
    row: int
    footprint: Polygon
    units: int
    floors: int
    height_m: float
    doors: np.ndarray  # (units, 2): the middle of each unit's door, on the north wall
    households: np.ndarray | None = None  # per unit
    population: np.ndarray | None = None
    grid: int = -1  # index into Community.grids

    @property
    def name(self) -> str:
        return f"{self.number}号楼"


@dataclass
class Road:
    name: str
    kind: str  # street | internal
    width_m: float
    geom: LineString


@dataclass
class Place:
    kind: str  # gate | square | parking | kindergarten | market | clinic | school
    name: str
    geom: Any  # Point or Polygon


@dataclass
class Grid:
    number: int
    polygon: Polygon
    buildings: list[int]
    households: int = 0
    population: int = 0


@dataclass
class Camera:
    name: str
    kind: str
    mount: str
    x: float
    y: float
    height_m: float
    azimuth_deg: float
    hfov_deg: float
    range_m: float
    resolution_px: int
    building: int | None = None  # index into Community.buildings
    status: str = "online"


@dataclass
class Community:
    """A laid-out community, in local metres until :meth:`translate` moves it."""

    spec: CommunitySpec
    style: Style
    width: float
    height: float
    polygon: Polygon
    buildings: list[Building]
    roads: list[Road]
    places: list[Place]
    grids: list[Grid] = field(default_factory=list)
    cameras: list[Camera] = field(default_factory=list)
    sample_m: float = 1.0

    @property
    def capacity(self) -> int:
        """Households at full occupancy: 2 per floor per unit."""
        return int(sum(2 * b.floors * b.units for b in self.buildings))

    @property
    def households(self) -> int:
        return int(sum(int(b.households.sum()) for b in self.buildings if b.households is not None))

    @property
    def population(self) -> int:
        return int(sum(int(b.population.sum()) for b in self.buildings if b.population is not None))

    def translate(self, dx: float, dy: float) -> None:
        """Move every geometry by (dx, dy) metres."""
        off = np.array([dx, dy])

        def mv(g: Any) -> Any:
            return shapely.transform(g, lambda c: c + off)

        self.polygon = mv(self.polygon)
        for b in self.buildings:
            b.footprint = mv(b.footprint)
            b.doors = b.doors + off
        for r in self.roads:
            r.geom = mv(r.geom)
        for p in self.places:
            p.geom = mv(p.geom)
        for g in self.grids:
            g.polygon = mv(g.polygon)
        for c in self.cameras:
            c.x += dx
            c.y += dy

def seeded_rng(seed: int | Sequence[int]) -> np.random.Generator:
    return np.random.default_rng(list(seed) if isinstance(seed, Sequence) else seed)


def round_to(v: float, step: float = 0.01) -> float:
    """Round to a multiple of ``step`` (and to a clean float)."""
    return round(round(v / step) * step, 6)

