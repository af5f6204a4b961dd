"""The rules a camera record follows, defined once: every way in (the API, a file import) checks a
camera with :func:`validate`, which names the field it refuses. Pure: no database.
"""

from __future__ import annotations

import math
from typing import Any

from geo.errors import BadInput, excerpt
from geo.points import point_to_wgs84
from geo.vocabulary import CAMERA_KINDS, CAMERA_MOUNTS, CAMERA_STATUSES

__all__ = ["FIELDS", "MAX_RANGE_M", "bad_field", "validate"]

FIELDS = ("code", "name", "kind", "status", "mount", "lon", "lat", "height_m", "azimuth_deg", "hfov_deg",
          "range_m", "resolution_px")


#: The longest range a camera may have, metres (the coverage geometry refuses longer ones too).
MAX_RANGE_M = 2000.0


def bad_field(field: str, message: str) -> BadInput:
    return BadInput(f"{field}: {message}", details={"field": field})


def _number(data: dict[str, Any], field: str) -> float | None:
    v = data.get(field)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise bad_field(field, f"must be a finite number, not {excerpt(v)}")
    return float(v)


def validate(data: dict[str, Any]) -> dict[str, Any]:
    """Check a full camera record (after merging a PATCH onto the stored one)."""
    unknown = sorted(set(data) - set(FIELDS) - {"crs", "id"})
    if unknown:
        raise bad_field(unknown[0], f"is not a camera field; fields are {', '.join(FIELDS)}")
    code = str(data.get("code") or "")
    if not (len(code) == 20 and code.isdigit()):
        raise bad_field("code", f"must be the 20-digit GB/T 28181 device id, not {excerpt(code, chars=22)}")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise bad_field("name", "is required (text, at most 200 characters)")
    for field, allowed in (("kind", CAMERA_KINDS), ("status", CAMERA_STATUSES), ("mount", CAMERA_MOUNTS)):
        if data.get(field) not in allowed:
            raise bad_field(field, f"must be one of {', '.join(allowed)}, not {excerpt(data.get(field))}")
    azimuth = _number(data, "azimuth_deg")
    if azimuth is None or not 0 <= azimuth < 360:
        raise bad_field("azimuth_deg", f"must be in [0, 360) degrees clockwise from north, not {excerpt(data.get('azimuth_deg'))}")
    hfov = _number(data, "hfov_deg")
    if hfov is None or not 0 < hfov <= 360:
        raise bad_field("hfov_deg", f"the horizontal field of view must be in (0, 360] degrees, not {excerpt(data.get('hfov_deg'))}")
    rng = _number(data, "range_m")
    if rng is not None and not 0 < rng <= MAX_RANGE_M:
        raise bad_field("range_m", f"must be in (0, {MAX_RANGE_M:g}] metres, not {rng:g}")
    px = data.get("resolution_px")
    if px is not None and (isinstance(px, bool) or not isinstance(px, int) or not 0 < px <= 20000):
        raise bad_field("resolution_px", f"must be a whole number of horizontal pixels (1 to 20000), not {excerpt(px)}")
    if rng is None and px is None:
        raise bad_field("range_m", "give range_m, or resolution_px so a DORI range can be derived")
    height = _number(data, "height_m")
    if height is None:
        height = 3.0
    if not 0 <= height <= 300:
        raise bad_field("height_m", f"must be in [0, 300] metres, not {height:g}")
    for f in ("lon", "lat"):
        if _number(data, f) is None:
            raise bad_field(f, "is required")
    lon, lat = point_to_wgs84(float(data["lon"]), float(data["lat"]), crs=data.get("crs"))
    return {"code": code, "name": name.strip(), "kind": data["kind"], "status": data["status"],
            "mount": data["mount"], "lon": lon, "lat": lat, "height_m": height, "azimuth_deg": azimuth,
            "hfov_deg": hfov, "range_m": rng, "resolution_px": px}
