"""geo.io: round trips through every format, validation of every feature, CRS handling."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import prcoords
import pyogrio
import pytest
import shapely
from pyproj import Geod
from shapely import MultiPolygon, Point, Polygon
from shapely.testing import assert_geometries_equal

from geo.crs import from_wgs84_geometry, to_metric
from geo.errors import BadCRS, BadInput
from geo.io import (
    FEATURE_INDEX,
    GEOMETRY_ERROR,
    FeatureProblem,
    format_of,
    read_features,
    validate_features,
    write_features,
)

GEOD = Geod(ellps="WGS84")
FORMATS = ["geojson", "gpkg", "shp", "csv"]


def metres(a: Point, b: Point) -> float:
    return abs(GEOD.inv(a.x, a.y, b.x, b.y)[2])


@pytest.fixture
def grids() -> gpd.GeoDataFrame:
    """Three grid polygons in Chun'an New District (one with a hole, one multi).

    Slightly skewed quadrilaterals: no two vertices share an x, so normalisation picks
    the same start vertex after the 1e-7 degree rounding of RFC 7946 output.
    """
    x0, y0 = 113.100, 40.050

    def quad(x, y, w, h):
        return [(x, y), (x + w + 0.0001, y + 0.00007), (x + w, y + h), (x + 0.00013, y + h - 0.00005)]

    g1 = Polygon(quad(x0, y0, 0.003, 0.002), [quad(x0 + 0.001, y0 + 0.0005, 0.0005, 0.0005)])
    g2 = Polygon(quad(x0 + 0.0032, y0, 0.0028, 0.002))
    g3 = MultiPolygon([Polygon(quad(x0, y0 + 0.0022, 0.002, 0.0018)), Polygon(quad(x0 + 0.0025, y0 + 0.0023, 0.0035, 0.0017))])
    return gpd.GeoDataFrame(
        {
            "code": ["140214001001001", "140214001001002", "140214001001003"],
            "name": ["春安新区第一网格", "春安新区第二网格", "宁丰社区第一网格"],
            "households": [250, 280, 300],
            "population": [420, 480, 500],
        },
        geometry=[g1, g2, g3],
        crs="EPSG:4326",
    )


@pytest.fixture
def cameras() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "code": ["34020000001320000001", "34020000001320000002", "34020000001320000003"],
            "name": ["春安新区3号楼1单元", "北门", "广场"],
            "hfov_deg": [100.0, 90.0, 360.0],
        },
        geometry=[Point(113.1012, 40.0503), Point(113.1021, 40.0519), Point(113.1040, 40.0511)],
        crs="EPSG:4326",
    )


def unwrap(a, like):
    """Shapefile and GeoPackage writers promote mixed Polygon/MultiPolygon layers to Multi*."""
    if isinstance(a, MultiPolygon) and len(a.geoms) == 1 and not isinstance(like, MultiPolygon):
        return a.geoms[0]
    return a


def assert_same(actual: gpd.GeoDataFrame, expected: gpd.GeoDataFrame, *, tolerance: float = 1e-7):
    assert len(actual) == len(expected)
    assert actual.crs.to_epsg() == 4326
    assert actual[FEATURE_INDEX].tolist() == list(range(len(expected)))
    for a, e in zip(actual.geometry, expected.geometry):
        assert_geometries_equal(unwrap(a, e), e, tolerance=tolerance, normalize=True)
    for column in expected.columns.drop("geometry"):
        assert actual[column].tolist() == expected[column].tolist(), column


# --- round trips ----------------------------------------------------------------


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


# --- validation of a whole file ------------------------------------------------------


def _feature(geometry, i):
    return {"type": "Feature", "properties": {"name": f"grid {i}"}, "geometry": geometry}


def _square(x, y, d=0.001):
    return {"type": "Polygon", "coordinates": [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]]}


def test_geojson_with_bowtie_and_null(tmp_path):
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[113.100, 40.050], [113.102, 40.052], [113.102, 40.050], [113.100, 40.052], [113.100, 40.050]]],
    }
    geometries = [_square(113.10, 40.05), _square(113.11, 40.05), bowtie, _square(113.12, 40.05), None, _square(113.13, 40.05)]
    path = tmp_path / "grids.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [_feature(g, i) for i, g in enumerate(geometries)]}))

    gdf = read_features(path)
    assert len(gdf) == 6  # nothing dropped
    problems = validate_features(gdf, geometry_types={"Polygon", "MultiPolygon"})
    assert [p.index for p in problems] == [2, 4]
    assert all(isinstance(p, FeatureProblem) for p in problems)
    assert problems[0].reason.startswith("ring 0 (exterior) self-intersects at (113.101, 40.051)")
    assert "bowtie" in problems[0].reason
    assert problems[1].reason.startswith("null geometry")
    with pytest.raises(Exception):
        problems[0].index = 3  # frozen


def test_unparseable_rings_are_reported_not_fatal(tmp_path):
    unclosed = {"type": "Polygon", "coordinates": [[[113.1, 40.05], [113.2, 40.05], [113.2, 40.06], [113.1, 40.06]]]}
    too_few = {"type": "Polygon", "coordinates": [[[113.1, 40.05], [113.2, 40.05], [113.1, 40.05]]]}
    line = {"type": "LineString", "coordinates": [[113.1, 40.05], [113.2, 40.05]]}
    geometries = [unclosed, _square(113.1, 40.05), too_few, line]
    path = tmp_path / "bad.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [_feature(g, i) for i, g in enumerate(geometries)]}))
    gdf = read_features(path)
    assert GEOMETRY_ERROR in gdf.columns
    problems = {p.index: p.reason for p in validate_features(gdf, geometry_types={"Polygon"})}
    assert sorted(problems) == [0, 2, 3]
    assert problems[0].startswith("ring 0 (exterior) is not closed")
    assert problems[2].startswith("polygon has fewer than 4 points in ring 0")
    assert problems[3] == "geometry type LineString is not accepted here; expected Polygon"
    # writing drops the bookkeeping column
    out = write_features(gdf.iloc[[1]], tmp_path / "good.gpkg")
    assert GEOMETRY_ERROR not in pyogrio.read_info(out)["fields"]


def test_validate_reports_positions_after_filtering(grids):
    gdf = grids.copy()
    gdf[FEATURE_INDEX] = [10, 11, 12]
    gdf.loc[1, "geometry"] = Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    assert [p.index for p in validate_features(gdf, geometry_types=None)] == [11]


def test_swapped_and_out_of_range_coordinates(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("name,lon,lat\na,113.1,40.05\nb,40.05,113.1\nc,,\nd,abc,40\ne,113.1,\nf,455000,4433000\n", encoding="utf-8")
    gdf = read_features(path)
    problems = {p.index: p.reason for p in validate_features(gdf, geometry_types={"Point"})}
    assert sorted(problems) == [1, 2, 3, 4, 5]
    assert problems[1] == "lat=113.1 is out of range [-90, 90]; did you swap lon and lat?"
    assert problems[2].startswith("null geometry")
    assert problems[3].startswith("lon='abc' is not a number")
    assert problems[4].startswith("lat is empty")
    assert "projected metres" in problems[5]


def test_swapped_hint_survives_crs_conversion(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("name,lon,lat\na,40.05,113.1\n", encoding="utf-8")
    for crs in ("gcj02", "bd09", "cgcs2000"):
        problems = validate_features(read_features(path, crs=crs), geometry_types={"Point"})
        assert [p.index for p in problems] == [0]
        assert "did you swap lon and lat?" in problems[0].reason


def test_out_of_range_vertex_in_polygon(tmp_path, grids):
    gdf = grids.copy()
    gdf.loc[2, "geometry"] = Polygon([(113.1, 40.05), (113.2, 40.05), (113.2, 95.0), (113.1, 40.05)])
    problems = validate_features(gdf, geometry_types={"Polygon", "MultiPolygon"})
    assert [p.index for p in problems] == [2]
    assert problems[0].reason.startswith("lat=95 is out of range [-90, 90]")
    assert "position 2 of the Polygon" in problems[0].reason


def test_three_d_input_is_flattened_on_read(tmp_path):
    path = tmp_path / "z.geojson"
    geom = {"type": "Polygon", "coordinates": [[[113.1, 40.05, 5], [113.2, 40.05, 5], [113.2, 40.06, 5], [113.1, 40.05, 5]]]}
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [_feature(geom, 0)]}))
    gdf = read_features(path)
    assert not gdf.geometry.iloc[0].has_z
    assert validate_features(gdf, geometry_types={"Polygon"}) == []
    # a 3-D geometry handed over directly is reported
    gdf.loc[0, "geometry"] = Polygon([(0, 0, 1), (1, 0, 1), (1, 1, 1)])
    assert validate_features(gdf, geometry_types={"Polygon"})[0].reason.startswith("3-D coordinates")


# --- CRS on import ---------------------------------------------------------------


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
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [_feature({"type": "Point", "coordinates": [b.lon, b.lat]}, 0)]}))
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


# --- CSV details ----------------------------------------------------------------------


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


# --- errors ---------------------------------------------------------------------------


def test_unsupported_and_missing(tmp_path):
    with pytest.raises(BadInput, match="unsupported file type '.kml'"):
        read_features(tmp_path / "x.kml")
    with pytest.raises(BadInput, match="file not found"):
        read_features(tmp_path / "nope.geojson")
    assert format_of("a.JSON") == "GeoJSON"
    with pytest.raises(BadInput):
        write_features(gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=4326), tmp_path / "x.xlsx")


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
