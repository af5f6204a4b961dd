"""Cameras in metres, and DORI: the range at which a camera still detects, observes,
recognises or identifies.

:class:`CameraSpec` is one camera in the metric CRS (checked on construction: a
value out of range raises :class:`~geo.errors.BadInput` naming the field).
:func:`dori_range`, :func:`effective_range`, :func:`best_dori` and
:func:`pixel_density` turn a resolution and a field of view into distances and
levels (IEC 62676-4). :func:`camera_arrays` lays many cameras out as numpy arrays
for the vectorised modules of the package (:mod:`geo.coverage.fov`,
:mod:`geo.coverage.visibility`, :mod:`geo.coverage.siting`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from geo.camera_rules import MAX_RANGE_M
from geo.errors import BadInput
from geo.vocabulary import CAMERA_KINDS, CAMERA_MOUNTS, CAMERA_STATUSES

__all__ = [
    "CAMERA_KINDS",
    "CAMERA_MOUNTS",
    "CAMERA_STATUSES",
    "DORI_LEVELS",
    "DORI_PPM",
    "MAX_RANGE_M",
    "CameraSpec",
    "DoriLevel",
    "best_dori",
    "camera_arrays",
    "dori_range",
    "effective_range",
    "pixel_density",
]

DoriLevel = Literal["detect", "observe", "recognise", "identify"]

#: Horizontal pixels per metre of each DORI level (IEC 62676-4).
DORI_PPM: dict[str, float] = {"detect": 25.0, "observe": 62.5, "recognise": 125.0, "identify": 250.0}
#: DORI levels, best first.
DORI_LEVELS: tuple[str, ...] = ("identify", "recognise", "observe", "detect")
# The longest range (MAX_RANGE_M) is geo.camera_rules'; kinds, mounts and statuses are geo.vocabulary's.


@dataclass(frozen=True)
class CameraSpec:
    """One camera, in metres of the metric CRS.

    Parameters
    ----------
    x, y : float
        Position (easting, northing) in metres.
    azimuth_deg : float
        Centre of the view, degrees clockwise from north, in [0, 360).
    hfov_deg : float
        Horizontal field of view in (0, 360]; a fisheye always sees 360.
    range_m : float or None
        Stored range; ``None`` derives one from the resolution (DORI).
    resolution_px : int or None
        Horizontal pixels.
    kind : {"bullet", "dome", "ptz", "fisheye"}
    mount : {"pole", "wall", "ceiling"}
    height_m : float
        Mount height (kept for callers; the 2-D view does not use it).
    building_index : int or None
        Index, in the obstacles array, of the building the camera is mounted on.
    status : {"online", "offline", "fault"}
        Only online cameras count towards coverage.

    Raises
    ------
    geo.errors.BadInput
        A value out of range; the message names the field.
    """

    x: float
    y: float
    azimuth_deg: float = 0.0
    hfov_deg: float = 90.0
    range_m: float | None = None
    resolution_px: int | None = None
    kind: str = "bullet"
    mount: str = "pole"
    height_m: float = 4.0
    building_index: int | None = None
    status: str = "online"

    def __post_init__(self) -> None:
        def bad(name: str, msg: str) -> BadInput:
            return BadInput(f"{name}={getattr(self, name)!r}: {msg}", details={"field": name})

        for name in ("x", "y", "azimuth_deg", "hfov_deg", "height_m", "range_m"):
            v = getattr(self, name)
            if v is None and name == "range_m":
                continue
            try:
                f = float(v)  # numpy floats, Decimal from a NUMERIC column, ...
            except (TypeError, ValueError):
                raise bad(name, "must be a finite number") from None
            if isinstance(v, bool) or not math.isfinite(f):
                raise bad(name, "must be a finite number")
            object.__setattr__(self, name, f)
        if not 0.0 <= self.azimuth_deg < 360.0:
            raise bad("azimuth_deg", "must be in [0, 360) degrees clockwise from north")
        if not 0.0 < self.hfov_deg <= 360.0:
            raise bad("hfov_deg", "must be in (0, 360]")
        if self.range_m is not None and not (0.0 < self.range_m <= MAX_RANGE_M):
            raise bad("range_m", f"must be in (0, {MAX_RANGE_M:g}] metres, or null to derive it")
        if self.resolution_px is not None and not self.resolution_px > 0:
            raise bad("resolution_px", "must be a positive pixel count")
        if self.kind not in CAMERA_KINDS:
            raise bad("kind", f"must be one of {', '.join(CAMERA_KINDS)}")
        if self.mount not in CAMERA_MOUNTS:
            raise bad("mount", f"must be one of {', '.join(CAMERA_MOUNTS)}")
        if self.status not in CAMERA_STATUSES:
            raise bad("status", f"must be one of {', '.join(CAMERA_STATUSES)}")
        if self.range_m is None and self.resolution_px is None:
            raise bad("range_m", "give a range, or a resolution to derive one from")

    @property
    def online(self) -> bool:
        """True if the camera counts towards coverage."""
        return self.status == "online"

    @property
    def full_circle(self) -> bool:
        """True for a fisheye or a 360-degree field of view."""
        return self.kind == "fisheye" or self.hfov_deg >= 360.0

    @classmethod
    def from_record(cls, record: Mapping[str, Any], *, x: float, y: float,
                    building_index: int | None = None) -> CameraSpec:
        """Build from a camera record (the API / GeoJSON properties) and metric x, y.

        Examples
        --------
        >>> CameraSpec.from_record({"kind": "dome", "hfov_deg": 100, "range_m": 12,
        ...                         "azimuth_deg": 0, "mount": "wall"}, x=1.0, y=2.0).mount
        'wall'
        """
        def num(name: str, default: float | None) -> float | None:
            v = record.get(name, default)
            return None if v is None else float(v)

        res = record.get("resolution_px")
        return cls(
            x=float(x), y=float(y),
            azimuth_deg=num("azimuth_deg", 0.0) % 360.0,
            hfov_deg=num("hfov_deg", 90.0),
            range_m=num("range_m", None),
            resolution_px=None if res is None else int(res),
            kind=record.get("kind") or "bullet",
            mount=record.get("mount") or "pole",
            height_m=num("height_m", 4.0),
            building_index=building_index,
            status=record.get("status") or "online",
        )


def _width_factor(hfov_deg: float, fisheye: bool) -> float:
    """Metres of scene width per metre of distance that the sensor's pixels span.

    A rectilinear lens spreads its pixels over the chord ``2 d tan(hfov / 2)``.
    A fisheye (or any field of view of 180 degrees or more, which no rectilinear
    lens has) spreads them over the arc ``d * hfov`` (radians): for a 360-degree
    fisheye that is the circumference rule ``2 pi d``.
    """
    if fisheye or hfov_deg >= 180.0:
        return math.radians(min(hfov_deg if not fisheye else 360.0, 360.0))
    return 2.0 * math.tan(math.radians(hfov_deg) / 2.0)


def pixel_density(*, resolution_px: float, hfov_deg: float, distance_m: float,
                  fisheye: bool = False) -> float:
    """Horizontal pixels per metre at a distance (see :func:`dori_range`).

    Examples
    --------
    >>> round(pixel_density(resolution_px=1920, hfov_deg=90.0, distance_m=15.36), 9)
    62.5
    """
    if distance_m <= 0:
        return math.inf
    return resolution_px / (distance_m * _width_factor(hfov_deg, fisheye))


def dori_range(*, resolution_px: float, hfov_deg: float, level: DoriLevel = "observe",
               fisheye: bool = False) -> float:
    """Distance at which the horizontal pixel density equals a DORI level.

    ``D = resolution_px / (ppm * 2 tan(hfov / 2))`` for a rectilinear lens, with
    ppm = 25 (detect), 62.5 (observe), 125 (recognise), 250 (identify). A fisheye
    (or a field of view of 180 degrees or more) uses the arc rule
    ``D = resolution_px / (ppm * hfov_rad)``; for 360 degrees the circumference
    rule ``resolution_px / (ppm * 2 pi)``: the horizontal pixels go once round
    the circle of radius D.

    Examples
    --------
    >>> round(dori_range(resolution_px=1920, hfov_deg=90, level="observe"), 9)   # tan 45 is 1 - 1e-16
    15.36
    >>> round(dori_range(resolution_px=3840, hfov_deg=360, level="detect", fisheye=True), 2)
    24.45
    """
    if level not in DORI_PPM:
        raise BadInput(f"level={level!r}: must be one of {', '.join(DORI_PPM)}", details={"field": "level"})
    if not resolution_px > 0 or not 0 < hfov_deg <= 360:
        raise BadInput("resolution_px must be > 0 and hfov_deg in (0, 360]",
                       details={"resolution_px": resolution_px, "hfov_deg": hfov_deg})
    return float(resolution_px / (DORI_PPM[level] * _width_factor(hfov_deg, fisheye)))


def effective_range(spec: CameraSpec, *, default_level: DoriLevel = "observe") -> tuple[float, str | None]:
    """The range a view is drawn with, and the DORI level it means.

    Returns
    -------
    (range_m, level)
        With a stored range: that range, and the best DORI level still reached
        at it (``None`` if the resolution is unknown or even "detect" is not
        reached there). Without: the ``default_level`` range from the
        resolution, and ``default_level``.

    Examples
    --------
    >>> rng, level = effective_range(CameraSpec(x=0, y=0, hfov_deg=90, resolution_px=1920))
    >>> round(rng, 9), level
    (15.36, 'observe')
    >>> effective_range(CameraSpec(x=0, y=0, hfov_deg=90, resolution_px=1920, range_m=30.0))
    (30.0, 'detect')
    """
    fisheye = spec.kind == "fisheye"
    if spec.range_m is not None:
        level = None
        if spec.resolution_px is not None:
            level = _level_at(pixel_density(resolution_px=spec.resolution_px, hfov_deg=spec.hfov_deg,
                                            distance_m=spec.range_m, fisheye=fisheye))
        return float(spec.range_m), level
    assert spec.resolution_px is not None  # CameraSpec guarantees one of the two
    return dori_range(resolution_px=spec.resolution_px, hfov_deg=spec.hfov_deg,
                      level=default_level, fisheye=fisheye), default_level


def _level_at(ppm: float) -> str | None:
    for level in DORI_LEVELS:
        if ppm >= DORI_PPM[level] * (1.0 - 1e-9):
            return level
    return None


def best_dori(spec: CameraSpec, distance_m: float) -> str | None:
    """The best DORI level the camera reaches at a distance.

    ``None`` when the resolution is unknown, the distance is beyond the camera's
    effective range, or the pixel density there is below "detect".

    Examples
    --------
    >>> cam = CameraSpec(x=0, y=0, hfov_deg=90, resolution_px=1920, range_m=40)
    >>> [best_dori(cam, d) for d in (3.0, 7.0, 15.0, 30.0, 50.0)]
    ['identify', 'recognise', 'observe', 'detect', None]
    """
    if spec.resolution_px is None or distance_m > effective_range(spec)[0] * (1 + 1e-9):
        return None
    return _level_at(pixel_density(resolution_px=spec.resolution_px, hfov_deg=spec.hfov_deg,
                                   distance_m=distance_m, fisheye=spec.kind == "fisheye"))



def camera_arrays(specs: Sequence[CameraSpec], range_m: float | np.ndarray | None) -> dict[str, np.ndarray]:
    """Cameras as arrays: position ``cx, cy``, azimuth ``az``, field of view ``fov`` (360 for a full circle),
    range ``rng`` (``range_m``, or each camera's :func:`effective_range` when None) and ``own`` (the
    footprint index of a wall camera's building, else -1)."""
    n = len(specs)
    cx = np.fromiter((s.x for s in specs), float, n)
    cy = np.fromiter((s.y for s in specs), float, n)
    az = np.fromiter((s.azimuth_deg for s in specs), float, n)
    fov = np.fromiter((360.0 if s.full_circle else s.hfov_deg for s in specs), float, n)
    if range_m is None:
        rng = np.fromiter((effective_range(s)[0] for s in specs), float, n)
    else:
        rng = np.broadcast_to(np.asarray(range_m, dtype=float), (n,)).astype(float)
    own = np.fromiter((-1 if s.building_index is None or s.mount != "wall" else s.building_index
                       for s in specs), np.int64, n)
    return {"cx": cx, "cy": cy, "az": az, "fov": fov, "rng": rng, "own": own}
