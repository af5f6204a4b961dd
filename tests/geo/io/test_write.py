"""geo.io.write: RFC 7946 GeoJSON, replacing files and GeoPackage layers, converting from another CRS, empty layers."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.errors import BadInput
from geo.io import FEATURE_INDEX, read_features, validate_features, write_features
from tests.geo.io.features import assert_same


def test_geojson_is_rfc7946(tmp_path, grids):
    path = write_features(grids, tmp_path / "grids.geojson")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert "crs" not in doc
    ring = doc["features"][1]["geometry"]["coordinates"][0]
    assert shapely.is_ccw(shapely.LinearRing(ring))  # RFC 7946: exterior counter-clockwise


def test_overwrite_existing(tmp_path, cameras):
    for fmt in ("geojson", "shp", "csv"):
        path = tmp_path / f"c.{fmt}"
        write_features(cameras, path)
        write_features(cameras.iloc[:2], path)
        assert len(read_features(path)) == 2


def test_gpkg_layers(tmp_path, grids, cameras):
    path = tmp_path / "town.gpkg"
    write_features(grids, path, layer="grids")
    write_features(cameras, path, layer="cameras")
    with pytest.raises(BadInput, match="has 2 layers"):
        read_features(path)
    with pytest.raises(BadInput, match="no layer 'buildings'"):
        read_features(path, layer="buildings")
    assert_same(read_features(path, layer="cameras"), cameras)
    # rewriting a layer replaces it
    write_features(cameras.iloc[:1], path, layer="cameras")
    assert len(read_features(path, layer="cameras")) == 1
    assert len(read_features(path, layer="grids")) == 3


def test_write_converts_from_other_crs(tmp_path, cameras):
    path = write_features(cameras.to_crs("EPSG:4547"), tmp_path / "c.geojson")
    assert_same(read_features(path), cameras, tolerance=1e-7)


def test_empty_layer(tmp_path):
    gdf = gpd.GeoDataFrame({"name": pd.Series([], dtype=str)}, geometry=gpd.GeoSeries([], crs=4326))
    path = write_features(gdf, tmp_path / "empty.gpkg")
    back = read_features(path)
    assert len(back) == 0
    assert validate_features(back, geometry_types={"Polygon"}) == []
    assert np.asarray(back[FEATURE_INDEX]).dtype.kind == "i"
