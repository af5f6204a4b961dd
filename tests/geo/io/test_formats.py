"""geo.io: round trips through every format (GeoJSON, GeoPackage, Shapefile, CSV) and CRS, unsupported and
missing files."""

from __future__ import annotations

import geopandas as gpd
import pyogrio
import pytest
from shapely import Point
from shapely.testing import assert_geometries_equal

from geo.crs import from_wgs84_geometry, to_metric
from geo.errors import BadInput
from geo.io import format_of, read_features, validate_features, write_features
from tests.geo.io.features import FORMATS, assert_same, unwrap


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_polygons(tmp_path, grids, fmt):
    path = write_features(grids, tmp_path / f"grids.{fmt}")
    back = read_features(path)
    assert_same(back, grids)
    assert validate_features(back, geometry_types={"Polygon", "MultiPolygon"}) == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_points(tmp_path, cameras, fmt):
    path = write_features(cameras, tmp_path / f"cameras.{fmt}")
    back = read_features(path)
    assert_same(back, cameras)
    assert back["code"].tolist()[0] == "34020000001320000001"  # 20-digit ids stay text


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("crs", ["gcj02", "bd09", "cgcs2000"])
def test_round_trip_through_other_crs(tmp_path, grids, fmt, crs):
    path = write_features(grids, tmp_path / f"grids.{fmt}", crs=crs)
    raw = gpd.read_file(path) if fmt != "csv" else None
    if raw is not None and crs != "cgcs2000":
        # the file really holds offset coordinates
        shifted = from_wgs84_geometry(grids.geometry.iloc[1], crs=crs)
        assert_geometries_equal(unwrap(raw.geometry.iloc[1], shifted), shifted, tolerance=1e-7, normalize=True)
    back = read_features(path, crs=crs)
    assert_same(back, grids, tolerance=1e-7)


def test_round_trip_projected_gpkg_uses_file_crs(tmp_path, grids):
    path = write_features(grids, tmp_path / "grids_4547.gpkg", crs="EPSG:4547")
    assert pyogrio.read_info(path)["crs"] == "EPSG:4547"
    back = read_features(path)  # no crs given: the file's
    assert_same(back, grids, tolerance=1e-9)
    metric = to_metric(grids.geometry.iloc[1])
    assert metric.area == pytest.approx(to_metric(back.geometry.iloc[1]).area, rel=1e-9)


def test_unsupported_and_missing(tmp_path):
    with pytest.raises(BadInput, match="unsupported file type '.kml'"):
        read_features(tmp_path / "x.kml")
    with pytest.raises(BadInput, match="file not found"):
        read_features(tmp_path / "nope.geojson")
    assert format_of("a.JSON") == "GeoJSON"
    with pytest.raises(BadInput):
        write_features(gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=4326), tmp_path / "x.xlsx")
