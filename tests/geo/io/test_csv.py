"""geo.io.csv: x/y and WKT columns written, column aliases, GB18030, column types, broken WKT read."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from shapely import Point
from shapely.testing import assert_geometries_equal

from geo.errors import BadInput
from geo.io import read_features, validate_features, write_features
from tests.geo.io.features import assert_same


def test_csv_projected_has_xy_columns(tmp_path, cameras):
    path = write_features(cameras, tmp_path / "cams.csv", crs="EPSG:4547")
    header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[-2:] == ["x", "y"]
    back = read_features(path, crs="EPSG:4547")
    assert_same(back, cameras, tolerance=1e-9)


def test_csv_polygons_have_wkt_and_centroid(tmp_path, grids):
    path = write_features(grids, tmp_path / "grids.csv")
    df = pd.read_csv(path, dtype=str)
    assert list(df.columns[-3:]) == ["geometry_wkt", "lon", "lat"]
    c = grids.geometry.iloc[1].centroid
    assert float(df["lon"][1]) == pytest.approx(c.x, abs=1e-12)
    assert float(df["lat"][1]) == pytest.approx(c.y, abs=1e-12)


def test_csv_column_aliases_and_gb18030(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("名称,经度,纬度,户数\n春安新区3号楼,113.1,40.05,72\n".encode("gb18030"))
    gdf = read_features(path)
    assert gdf.loc[0, "名称"] == "春安新区3号楼"
    assert gdf.loc[0, "户数"] == 72 and gdf["户数"].dtype == "int64"
    assert_geometries_equal(gdf.geometry.iloc[0], Point(113.1, 40.05))

    path2 = tmp_path / "bom.csv"
    path2.write_text("Name,Longitude,Latitude\nx,113.1,40.05\n", encoding="utf-8-sig")
    assert_geometries_equal(read_features(path2).geometry.iloc[0], Point(113.1, 40.05))

    path3 = tmp_path / "custom.csv"
    path3.write_text("name,E,N\nx,113.1,40.05\n", encoding="utf-8")
    with pytest.raises(BadInput, match="no 'lon' column"):
        read_features(path3)
    gdf3 = read_features(path3, lon_column="E", lat_column="N")
    assert_geometries_equal(gdf3.geometry.iloc[0], Point(113.1, 40.05))


def test_csv_types(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(
        "community_code,unit,households,height_m,note,lon,lat\n"
        "001,0102,72,45.5,a,113.1,40.05\n"
        "002,0201,,48,,113.2,40.06\n",
        encoding="utf-8",
    )
    gdf = read_features(path)
    assert gdf["community_code"].tolist() == ["001", "002"]
    assert gdf["unit"].tolist() == ["0102", "0201"]  # leading zeros: stays text
    assert gdf["households"].dtype == "float64" and gdf["households"].iloc[0] == 72  # NaN below
    assert np.isnan(gdf["households"].iloc[1])
    assert gdf.loc[0, "unit"] == "0102"
    assert gdf["height_m"].tolist() == [45.5, 48.0]


def test_csv_with_broken_wkt(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text(
        'name,geometry_wkt\n'
        'ok,"POLYGON ((0 0, 1 0, 1 1, 0 0))"\n'
        'open,"POLYGON ((0 0, 1 0, 1 1, 0 1))"\n'
        'none,\n',
        encoding="utf-8",
    )
    gdf = read_features(path)
    problems = {p.index: p.reason for p in validate_features(gdf, geometry_types={"Polygon"})}
    assert sorted(problems) == [1, 2]
    assert "not closed" in problems[1]
    assert problems[2].startswith("null geometry")
