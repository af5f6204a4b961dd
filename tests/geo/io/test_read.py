"""geo.io.read: the CRS on import (GCJ-02, BD-09, a Shapefile without .prj, a bad crs argument)."""

from __future__ import annotations

import json

import prcoords
import pyogrio
import pytest
from shapely import Point

from geo.errors import BadCRS
from geo.io import read_features, write_features
from tests.geo.io.features import assert_same, feature, metres


def test_gcj02_csv_import_lands_in_wgs84(tmp_path):
    truth = [(113.1, 40.05), (113.2954, 40.0904), (113.0876, 40.0432), (116.391, 39.907)]
    rows = ["id,name,lon,lat"]
    for i, (x, y) in enumerate(truth):
        g = prcoords.wgs_gcj((y, x))  # independent implementation makes the Mars coordinates
        rows.append(f"{i},p{i},{g.lon!r},{g.lat!r}")
    path = tmp_path / "amap.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    gdf = read_features(path, crs="gcj02")
    assert gdf.crs.to_epsg() == 4326
    assert "lon" not in gdf.columns and "lat" not in gdf.columns
    for (x, y), got in zip(truth, gdf.geometry):
        assert metres(Point(x, y), got) < 0.5
    # without crs the same file would be ~600 m off: the declaration matters
    raw = read_features(path)
    assert metres(Point(truth[0]), raw.geometry.iloc[0]) > 300


def test_bd09_geojson_import(tmp_path):
    x, y = 113.1, 40.05
    b = prcoords.wgs_bd((y, x))
    path = tmp_path / "baidu.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature({"type": "Point", "coordinates": [b.lon, b.lat]}, 0)]}))
    got = read_features(path, crs="bd09").geometry.iloc[0]
    assert metres(Point(x, y), got) < 0.5


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_shapefile_without_prj(tmp_path, grids):
    metric = grids.to_crs("EPSG:4547")
    path = tmp_path / "noprj.shp"
    pyogrio.write_dataframe(metric.set_crs(None, allow_override=True), path)
    assert not path.with_suffix(".prj").exists()
    with pytest.raises(BadCRS, match="has no CRS"):
        read_features(path)
    assert_same(read_features(path, crs="EPSG:4547"), grids, tolerance=1e-9)
    # lon/lat without .prj: taken as WGS84
    path2 = tmp_path / "noprj_ll.shp"
    pyogrio.write_dataframe(grids.set_crs(None, allow_override=True), path2)
    assert_same(read_features(path2), grids)


def test_bad_crs_argument(tmp_path, cameras):
    path = write_features(cameras, tmp_path / "c.geojson")
    with pytest.raises(BadCRS):
        read_features(path, crs="mars2")
