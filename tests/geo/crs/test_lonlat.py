"""geo.crs.lonlat: checks of lon/lat pairs and their messages."""

from __future__ import annotations

import pytest

from geo import crs as gc
from geo.errors import BadCoordinates


def test_swapped_lonlat_message():
    with pytest.raises(BadCoordinates) as exc:
        gc.check_lonlat(40.05, 113.1)
    assert exc.value.message == "lat=113.1 is out of range [-90, 90]; did you swap lon and lat?"
    assert exc.value.code == "bad_coordinates"
    assert exc.value.details == {"lon": 40.05, "lat": 113.1}


def test_out_of_range_without_swap_hint():
    msg = gc.lonlat_problem(200.0, 10.0)
    assert "lon=200 is out of range [-180, 180]" in msg and "swap" not in msg
    msg = gc.lonlat_problem(170.0, 95.0)  # swapped would be lat=170: no hint
    assert "lat=95 is out of range [-90, 90]" in msg and "swap" not in msg
    assert "did you swap" in gc.lonlat_problem(10.0, 95.0)


def test_metres_hint():
    msg = gc.lonlat_problem(455000.0, 4433000.0)
    assert "projected metres" in msg and "EPSG:4547" in msg


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf"), "abc", None, True])
def test_non_numbers_rejected(bad):
    with pytest.raises(BadCoordinates) as exc:
        gc.check_lonlat(bad, 40.0)
    assert exc.value.message.startswith("lon")
    with pytest.raises(BadCoordinates) as exc:
        gc.check_lonlat(113.1, bad)
    assert exc.value.message.startswith("lat")


def test_nan_message_and_json_safe_details():
    with pytest.raises(BadCoordinates) as exc:
        gc.check_lonlat(float("nan"), 40.05)
    assert "NaN" in exc.value.message
    assert exc.value.details == {"lon": "nan", "lat": 40.05}


def test_valid_coordinates_pass():
    assert gc.check_lonlat(113.1, 40.05) == (113.1, 40.05)
    assert gc.check_lonlat("113.1", "40.05") == (113.1, 40.05)
    assert gc.check_lonlat(-180, 90) == (-180.0, 90.0)
    assert gc.lonlat_problem(180, -90) is None
