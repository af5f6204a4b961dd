"""geo.coverage.camera: DORI ranges and levels by hand, and the named-field checks of a camera."""

from __future__ import annotations

import math

import pytest

from geo import coverage as cv
from geo.coverage import CameraSpec
from geo.errors import BadInput


def test_dori_ranges_by_hand():
    # D = 1920 / (ppm * 2 tan 45) = 1920 / (2 ppm)
    for level, d in [("detect", 38.4), ("observe", 15.36), ("recognise", 7.68), ("identify", 3.84)]:
        assert cv.dori_range(resolution_px=1920, hfov_deg=90, level=level) == pytest.approx(d, rel=1e-12)
    # fisheye: the circumference rule, D = px / (ppm * 2 pi)
    assert cv.dori_range(resolution_px=3840, hfov_deg=360, level="detect", fisheye=True) == pytest.approx(
        3840 / (25 * 2 * math.pi))
    with pytest.raises(BadInput, match="level"):
        cv.dori_range(resolution_px=1920, hfov_deg=90, level="see")


def test_effective_range_says_which_level():
    derived = CameraSpec(x=0, y=0, hfov_deg=90, resolution_px=1920)
    assert cv.effective_range(derived) == (pytest.approx(15.36), "observe")
    assert cv.effective_range(derived, default_level="detect") == (pytest.approx(38.4), "detect")
    assert cv.nominal_view(derived).area == pytest.approx(math.pi * 15.36**2 / 4, rel=5e-3)
    # a stored range: what it means at this resolution (32 px/m at 30 m: detect)
    stored = CameraSpec(x=0, y=0, hfov_deg=90, resolution_px=1920, range_m=30.0)
    assert cv.effective_range(stored) == (30.0, "detect")
    assert cv.effective_range(CameraSpec(x=0, y=0, hfov_deg=90, resolution_px=1920, range_m=7.0)) == (7.0, "recognise")
    assert cv.effective_range(CameraSpec(x=0, y=0, hfov_deg=90, range_m=30.0)) == (30.0, None)  # no resolution
    assert cv.effective_range(CameraSpec(x=0, y=0, hfov_deg=90, resolution_px=1920, range_m=100.0)) == (100.0, None)


def test_best_dori_by_distance():
    spec = CameraSpec(x=0, y=0, hfov_deg=90, resolution_px=1920, range_m=40.0)
    assert [cv.best_dori(spec, d) for d in (1.0, 3.84, 3.85, 7.68, 15.36, 38.4, 39.0, 41.0)] == [
        "identify", "identify", "recognise", "recognise", "observe", "detect", None, None]
    assert cv.best_dori(CameraSpec(x=0, y=0, range_m=40.0), 5.0) is None


@pytest.mark.parametrize("field,kw", [
    ("azimuth_deg", {"azimuth_deg": 360.0}), ("azimuth_deg", {"azimuth_deg": -1.0}),
    ("hfov_deg", {"hfov_deg": 0.0}), ("hfov_deg", {"hfov_deg": 361.0}),
    ("range_m", {"range_m": 0.0}), ("range_m", {"range_m": 2500.0}),
    ("kind", {"kind": "webcam"}), ("status", {"status": "broken"}), ("x", {"x": math.nan}),
])
def test_bad_camera_values_name_the_field(field, kw):
    args = {"x": 0.0, "y": 0.0, "range_m": 10.0} | kw
    with pytest.raises(BadInput) as err:
        CameraSpec(**args)
    assert err.value.details["field"] == field and field in err.value.message
