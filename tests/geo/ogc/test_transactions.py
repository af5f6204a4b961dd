"""Reading a Part 4 write body (pure): Content-Crs and axis order, what a Feature or a merge patch may hold."""

from __future__ import annotations

import pytest
import shapely
import shapely.testing
from shapely import box
from shapely.geometry import mapping

from geo.crs import from_metric, from_wgs84_geometry, to_metric
from geo.errors import BadInput, BadCoordinates, InvalidGeometry, InvalidParameter
from geo.ogc.transactions import check_fixed, feature_in, parse_content_crs

#: A 40 m square in the town (CGCS2000 / GK CM 114E, metres).
SQUARE_M = box(422_660, 4_435_280, 422_700, 4_435_320)
SQUARE = from_metric(SQUARE_M)


def _swap(g: shapely.Geometry) -> shapely.Geometry:
    return shapely.transform(g, lambda xy: xy[:, ::-1])


def _body(g: shapely.Geometry, **props: object) -> dict:
    return {"type": "Feature", "properties": props, "geometry": mapping(g)}


@pytest.mark.parametrize("header, sent", [
    (None, SQUARE),
    ("<http://www.opengis.net/def/crs/OGC/1.3/CRS84>", SQUARE),
    ("<http://www.opengis.net/def/crs/EPSG/0/4326>", _swap(SQUARE)),      # latitude first
    ("EPSG:4490", _swap(SQUARE)),                                          # CGCS2000, latitude first
    ("<http://www.opengis.net/def/crs/EPSG/0/4547>", _swap(SQUARE_M)),    # northing first
    ("http://www.opengis.net/def/crs/EPSG/0/3857", from_wgs84_geometry(SQUARE, crs="EPSG:3857")),  # easting first
])
def test_every_offered_content_crs_gives_the_same_lonlat_polygon(header: str | None, sent) -> None:  # type: ignore[no-untyped-def]
    f = feature_in(_body(sent), crs=parse_content_crs(header))
    # CGCS2000 and WGS84 are the same at this scale (< 1 m in the town); the others agree to ~1 mm
    tolerance = 1e-5 if header == "EPSG:4490" else 1e-8
    shapely.testing.assert_geometries_equal(f.geometry, SQUARE, tolerance=tolerance, normalize=True)
    assert to_metric(f.geometry).area == pytest.approx(1600, rel=1e-3)


def test_an_unknown_content_crs_is_400_naming_the_offered_ones() -> None:
    with pytest.raises(InvalidParameter, match="EPSG/0/4547"):
        parse_content_crs("<http://www.opengis.net/def/crs/EPSG/0/2000>")


def test_coordinates_outside_a_projected_crs_or_swapped_are_refused() -> None:
    with pytest.raises(BadInput, match="look like degrees"):
        feature_in(_body(SQUARE), crs=parse_content_crs("EPSG:4547"))  # degrees sent as metres
    with pytest.raises(BadInput, match="outside the area"):
        feature_in(_body(SQUARE_M), crs=parse_content_crs("EPSG:4547"))  # easting first: northing out of range
    with pytest.raises(BadCoordinates):
        feature_in(_body(_swap(SQUARE)), crs=parse_content_crs(None))  # lat, lon sent as CRS84


def test_what_a_feature_and_a_merge_patch_may_hold() -> None:
    crs = parse_content_crs(None)
    f = feature_in({"properties": {"households": 7}}, crs=crs, partial=True, fid="140214101001001")
    assert f.geometry is None and f.properties == {}  # computed properties are dropped
    with pytest.raises(InvalidGeometry, match="DELETE"):
        feature_in({"geometry": None}, crs=crs, partial=True, fid="140214101001001")
    with pytest.raises(InvalidGeometry, match="no geometry"):
        feature_in({"type": "Feature", "properties": {}}, crs=crs)
    with pytest.raises(BadInput, match="one request per grid"):
        feature_in({"type": "FeatureCollection", "features": []}, crs=crs)
    with pytest.raises(BadInput, match="unknown property 'colour'"):
        feature_in(_body(SQUARE, colour="red"), crs=crs)
    with pytest.raises(BadInput, match="not the grid the URL names"):
        feature_in({**_body(SQUARE), "id": "140214101001002"}, crs=crs, fid="140214101001001")
    with pytest.raises(InvalidGeometry):
        feature_in(_body(shapely.Point(113.1, 40.0)), crs=crs)


def test_code_community_and_name_may_be_repeated_not_changed() -> None:
    current = {"code": "140214101001001", "community_code": "140214101001", "name": "春安第1网格"}
    check_fixed({"name": "春安第1网格", "code": "140214101001001"}, current, fid="140214101001001")
    with pytest.raises(BadInput, match="rename"):
        check_fixed({"name": "新"}, current, fid="140214101001001")
    with pytest.raises(BadInput, match="for life"):
        check_fixed({"community_code": "140214101002"}, current, fid="140214101001001")
