"""geo.crs: CRS parsing, GCJ-02/BD-09 against independent implementations, PROJ round trips."""

from __future__ import annotations

import math
import warnings

import eviltransform
import numpy as np
import prcoords
import pytest
import shapely
from pyproj import Geod
from shapely import Point, Polygon
from shapely.testing import assert_geometries_equal

from geo import crs as gc
from geo.errors import BadCoordinates, BadCRS, BadInput, GridmapError

GEOD = Geod(ellps="WGS84")
DATONG = (113.1, 40.05)

# A grid over China (inside the GCJ box), plus Datong and a few cities.
_LONS = np.arange(74.0, 135.0, 2.5)
_LATS = np.arange(18.0, 53.5, 2.5)
GRID = [(float(x), float(y)) for x in _LONS for y in _LATS] + [
    DATONG,
    (113.2954, 40.0904),  # Datong city centre
    (116.391, 39.907),  # Beijing
    (121.4737, 31.2304),  # Shanghai
    (105.0, 35.0),  # the algorithm's origin (sqrt(|x|) kink)
]
OUTSIDE = [(2.3522, 48.8566), (-74.006, 40.7128), (139.6917, 35.6895), (151.2093, -33.8688), (0.0, 0.0)]


def metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    _, _, d = GEOD.inv(np.asarray(lon1), np.asarray(lat1), np.asarray(lon2), np.asarray(lat2))
    return np.asarray(d)


def grid_arrays():
    a = np.array(GRID)
    return a[:, 0], a[:, 1]


# --- forward transformations against independent implementations -------------


def test_wgs84_to_gcj02_matches_prcoords():
    lon, lat = grid_arrays()
    glon, glat = gc.wgs84_to_gcj02(lon, lat)
    for x, y, gx, gy in zip(lon, lat, glon, glat):
        ref = prcoords.wgs_gcj((y, x))
        assert abs(gx - ref.lon) < 1e-6 and abs(gy - ref.lat) < 1e-6, (x, y)
    # the offset is real (hundreds of metres), not an identity passing by accident
    assert metres(lon, lat, glon, glat).min() > 50


def test_wgs84_to_gcj02_matches_eviltransform():
    # eviltransform uses a = 6378137 instead of Krasovsky's 6378245: ~1e-7 degrees apart.
    lon, lat = grid_arrays()
    glon, glat = gc.wgs84_to_gcj02(lon, lat)
    for x, y, gx, gy in zip(lon, lat, glon, glat):
        ry, rx = eviltransform.wgs2gcj(y, x)
        assert abs(gx - rx) < 1e-6 and abs(gy - ry) < 1e-6, (x, y)


def test_wgs84_to_bd09_matches_prcoords_and_eviltransform():
    lon, lat = grid_arrays()
    blon, blat = gc.wgs84_to_bd09(lon, lat)
    for x, y, bx, by in zip(lon, lat, blon, blat):
        ref = prcoords.wgs_bd((y, x))
        assert abs(bx - ref.lon) < 1e-6 and abs(by - ref.lat) < 1e-6, (x, y)
        ey, ex = eviltransform.wgs2bd(y, x)
        assert abs(bx - ex) < 1e-6 and abs(by - ey) < 1e-6, (x, y)


def test_gcj02_to_bd09_matches_eviltransform():
    lon, lat = grid_arrays()
    blon, blat = gc.gcj02_to_bd09(lon, lat)
    for x, y, bx, by in zip(lon, lat, blon, blat):
        ey, ex = eviltransform.gcj2bd(y, x)
        assert abs(bx - ex) < 1e-9 and abs(by - ey) < 1e-9


def test_datong_known_values():
    # Checked against prcoords: Datong's GCJ-02 offset is about 610 m east-north-east.
    gx, gy = gc.from_wgs84(*DATONG, crs="gcj02")
    ref = prcoords.wgs_gcj((DATONG[1], DATONG[0]))
    assert (gx, gy) == pytest.approx((ref.lon, ref.lat), abs=1e-9)
    assert 500 < metres(*DATONG, gx, gy) < 800


def test_inverse_matches_prcoords_bored():
    lon, lat = grid_arrays()
    glon, glat = gc.wgs84_to_gcj02(lon, lat)
    wlon, wlat = gc.gcj02_to_wgs84(glon, glat)
    for gx, gy, wx, wy in zip(glon, glat, wlon, wlat):
        ref = prcoords.gcj_wgs_bored((gy, gx))  # prcoords' own iterative inverse (~1e-5 deg eps)
        assert abs(wx - ref.lon) < 1e-5 and abs(wy - ref.lat) < 1e-5


# --- round trips -------------------------------------------------------------


@pytest.mark.parametrize("name", ["gcj02", "bd09"])
def test_round_trip_wgs84_via_offset_crs_under_half_metre(name):
    lon, lat = grid_arrays()
    fx, fy = gc.from_wgs84(lon, lat, crs=name)
    bx, by = gc.to_wgs84(fx, fy, crs=name)
    d = metres(lon, lat, bx, by)
    assert d.max() < 0.5
    assert d.max() < 1e-3  # in fact exact to well below a millimetre


@pytest.mark.parametrize("name", ["gcj02", "bd09"])
def test_round_trip_offset_crs_via_wgs84(name):
    lon, lat = grid_arrays()
    wx, wy = gc.to_wgs84(lon, lat, crs=name)
    fx, fy = gc.from_wgs84(wx, wy, crs=name)
    assert metres(lon, lat, fx, fy).max() < 1e-3


def test_bd09_gcj02_exact_inverse_beats_closed_form():
    lon, lat = grid_arrays()
    bx, by = gc.gcj02_to_bd09(lon, lat)
    gx, gy = gc.bd09_to_gcj02(bx, by)
    assert metres(lon, lat, gx, gy).max() < 1e-4
    # the closed form alone (as in prcoords.bd_gcj) is only decimetre-accurate
    rough = [prcoords.bd_gcj((y, x)) for x, y in zip(bx, by)]
    rough_err = metres(lon, lat, [r.lon for r in rough], [r.lat for r in rough])
    assert metres(lon, lat, gx, gy).max() <= rough_err.max()


@pytest.mark.parametrize("name", ["gcj02", "bd09"])
def test_outside_china_is_identity(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for x, y in OUTSIDE:
            assert gc.from_wgs84(x, y, crs=name) == (x, y)
            assert gc.to_wgs84(x, y, crs=name) == (x, y)
    assert not gc.in_china(*OUTSIDE[0])
    assert gc.in_china(*DATONG)


def test_scalars_give_floats_and_arrays_keep_shape():
    x, y = gc.from_wgs84(113.1, 40.05, crs="gcj02")
    assert type(x) is float and type(y) is float
    lon = np.full((2, 3), 113.1)
    lat = np.full((2, 3), 40.05)
    ax, ay = gc.from_wgs84(lon, lat, crs="bd09")
    assert ax.shape == (2, 3) and ay.shape == (2, 3)
    assert np.allclose(ax, gc.from_wgs84(113.1, 40.05, crs="bd09")[0])
    # inputs are not modified in place
    assert np.all(lon == 113.1)
    lx, ly = gc.to_wgs84([113.1, 113.2], [40.05, 40.06], crs="gcj02")
    assert isinstance(lx, np.ndarray) and lx.shape == (2,)


def test_nan_propagates_without_disturbing_other_points():
    lon = np.array([113.1, np.nan, 113.2])
    lat = np.array([40.05, 40.05, np.nan])
    for name in ("gcj02", "bd09", "EPSG:4547"):
        fx, fy = gc.from_wgs84(lon, lat, crs=name)
        assert np.isfinite(fx[0]) and np.isfinite(fy[0])
        assert np.isnan(fx[1]) or np.isnan(fy[1])
        bx, by = gc.to_wgs84(fx, fy, crs=name)
        assert metres(lon[0], lat[0], bx[0], by[0]) < 1e-3
    assert gc.to_wgs84(float("nan"), 40.0, crs="gcj02")[0] != gc.to_wgs84(float("nan"), 40.0, crs="gcj02")[0]


def test_empty_arrays():
    x, y = gc.to_wgs84(np.array([]), np.array([]), crs="gcj02")
    assert x.shape == (0,) and y.shape == (0,)


# --- PROJ CRSs -----------------------------------------------------------------


def test_epsg4547_round_trip_points():
    lon, lat = grid_arrays()
    near = np.abs(lon - 114) < 6  # a Gauss-Kruger zone is only good near its meridian
    x, y = gc.from_wgs84(lon[near], lat[near], crs="EPSG:4547")
    bx, by = gc.to_wgs84(x, y, crs="EPSG:4547")
    assert metres(lon[near], lat[near], bx, by).max() < 1e-3
    ex, ey = gc.from_wgs84(114.0, 40.0, crs="EPSG:4547")
    assert ex == pytest.approx(500000.0, abs=1e-3)  # central meridian 114E, false easting 500 km


def test_to_metric_and_back():
    poly = Polygon([(113.10, 40.05), (113.11, 40.05), (113.11, 40.058), (113.10, 40.058)])
    m = gc.to_metric(poly)
    # ~853 m x ~888 m
    area, _ = GEOD.geometry_area_perimeter(poly)
    assert m.area == pytest.approx(abs(area), rel=1e-3)
    back = gc.from_metric(m)
    assert_geometries_equal(back, poly, tolerance=1e-9)
    assert gc.to_metric(poly, crs="EPSG:32649").area == pytest.approx(abs(area), rel=2e-3)


def test_to_metric_rejects_geographic_crs():
    with pytest.raises(BadCRS, match="not a projected CRS"):
        gc.to_metric(Point(113.1, 40.05), crs="wgs84")
    with pytest.raises(BadCRS):
        gc.to_metric(Point(113.1, 40.05), crs="gcj02")


def test_cgcs2000_is_wgs84_at_metre_level():
    x, y = gc.to_wgs84(*DATONG, crs="cgcs2000")
    assert metres(*DATONG, x, y) < 1.0
    assert gc.parse_crs("cgcs2000") == "EPSG:4490"


def test_transformer_is_cached_and_xy():
    t1 = gc.transformer("EPSG:4326", "EPSG:4547")
    assert t1 is gc.transformer("EPSG:4326", "EPSG:4547")
    x, y = t1.transform(113.1, 40.05)
    assert 400000 < x < 500000 and 4_400_000 < y < 4_450_000


# --- geometries ------------------------------------------------------------------


def test_geometry_conversion_matches_pointwise_and_drops_z():
    poly = Polygon([(113.10, 40.05, 3.0), (113.11, 40.05, 3.0), (113.11, 40.058, 3.0), (113.10, 40.05, 3.0)])
    for name in ("gcj02", "bd09", "EPSG:4547", "cgcs2000"):
        out = gc.from_wgs84_geometry(poly, crs=name)
        assert not out.has_z
        coords = shapely.get_coordinates(poly)
        ex, ey = gc.from_wgs84(coords[:, 0], coords[:, 1], crs=name)
        assert_geometries_equal(out, Polygon(np.column_stack([ex, ey])), tolerance=1e-9)
        back = gc.to_wgs84_geometry(out, crs=name)
        assert_geometries_equal(back, shapely.force_2d(poly), tolerance=1e-8)


def test_geometry_arrays_and_missing():
    arr = np.array([Point(113.1, 40.05), None, Point(116.39, 39.9)], dtype=object)
    out = gc.from_wgs84_geometry(arr, crs="gcj02")
    assert out[1] is None
    assert_geometries_equal(out[0], Point(gc.from_wgs84(113.1, 40.05, crs="gcj02")), tolerance=1e-12)


# --- parsing -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (None, "EPSG:4326"),
        ("", "EPSG:4326"),
        ("wgs84", "EPSG:4326"),
        ("WGS-84", "EPSG:4326"),
        ("EPSG:4326", "EPSG:4326"),
        ("cgcs2000", "EPSG:4490"),
        ("CGCS2000", "EPSG:4490"),
        ("gcj02", "gcj02"),
        ("GCJ-02", "gcj02"),
        ("bd09", "bd09"),
        ("BD-09", "bd09"),
        ("EPSG:4547", "EPSG:4547"),
        ("epsg:32649", "EPSG:32649"),
        ("EPSG:4214", "EPSG:4214"),  # Beijing 1954, geographic
    ],
)
def test_parse_crs_accepts(name, expected):
    assert gc.parse_crs(name) == expected


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("mercator", "unknown CRS"),
        ("EPSG:99999", "not in the EPSG database"),
        ("EPSG:2263", "not metres"),  # NY state plane, US feet
        ("EPSG:4978", "not a 2-D"),  # geocentric
        ("4326", "unknown CRS"),  # bare numbers are ambiguous: ask for EPSG:n
    ],
)
def test_parse_crs_rejects_with_accepted_list(name, fragment):
    with pytest.raises(BadCRS) as exc:
        gc.parse_crs(name)
    msg = exc.value.message
    assert fragment in msg
    for accepted in ("wgs84", "cgcs2000", "gcj02", "bd09", "EPSG:"):
        assert accepted in msg
    assert exc.value.code == "bad_crs"
    assert isinstance(exc.value, BadInput) and isinstance(exc.value, GridmapError)


def test_to_wgs84_rejects_unknown_crs():
    with pytest.raises(BadCRS):
        gc.to_wgs84(113.1, 40.05, crs="baidu-mercator-ish")


# --- coordinate checks -------------------------------------------------------------


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


def test_geo_does_not_import_web_stack():
    import subprocess
    import sys

    code = (
        "import sys, geo.crs, geo.errors, geo.validation, geo.io; "
        "bad = [m for m in ('fastapi', 'folium', 'starlette') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_gcj_offset_is_hundreds_of_metres_everywhere_in_grid():
    lon, lat = grid_arrays()
    gx, gy = gc.wgs84_to_gcj02(lon, lat)
    d = metres(lon, lat, gx, gy)
    assert d.max() < 1000 and not math.isnan(d.max())
