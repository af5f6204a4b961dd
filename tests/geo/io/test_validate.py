"""geo.io.validate: every bad feature of a file reported, with its reason and its position in the source."""

from __future__ import annotations

import json

import pyogrio
import pytest
from shapely import Polygon

from geo.io import (
    FEATURE_INDEX,
    GEOMETRY_ERROR,
    FeatureProblem,
    read_features,
    validate_features,
    write_features,
)
from tests.geo.io.features import feature, square


def test_geojson_with_bowtie_and_null(tmp_path):
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[113.100, 40.050], [113.102, 40.052], [113.102, 40.050], [113.100, 40.052], [113.100, 40.050]]],
    }
    geometries = [square(113.10, 40.05), square(113.11, 40.05), bowtie, square(113.12, 40.05), None, square(113.13, 40.05)]
    path = tmp_path / "grids.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature(g, i) for i, g in enumerate(geometries)]}))

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
    geometries = [unclosed, square(113.1, 40.05), too_few, line]
    path = tmp_path / "bad.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature(g, i) for i, g in enumerate(geometries)]}))
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
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature(geom, 0)]}))
    gdf = read_features(path)
    assert not gdf.geometry.iloc[0].has_z
    assert validate_features(gdf, geometry_types={"Polygon"}) == []
    # a 3-D geometry handed over directly is reported
    gdf.loc[0, "geometry"] = Polygon([(0, 0, 1), (1, 0, 1), (1, 1, 1)])
    assert validate_features(gdf, geometry_types={"Polygon"})[0].reason.startswith("3-D coordinates")
