"""geo.io Shapefile and GeoPackage output as GDAL 3.6 (Debian's gdal-bin, what QGIS 3.22 on Debian 12 reads
with) sees it: the 10-character field names of geo.io.shapefile_names instead of GDAL's laundering, UTF-8 and
GBK (.cpg, language driver) attributes, what a Shapefile cannot hold, GeoPackages without warnings."""

from __future__ import annotations

import sqlite3
import warnings

import geopandas as gpd
import pytest
from shapely import Point

from geo.errors import BadInput
from geo.io import read_features, write_features
from geo.io.shapefile_names import LEGACY_FIELDS, MAX_FIELD_NAME, SHAPEFILE_FIELDS, full_names, short_names
from tests.geo.io.features import assert_same, dbf_field_names, gdal_complaints, ogrinfo

NAME = "春安新区第一网格"


@pytest.fixture
def long_named(grids) -> gpd.GeoDataFrame:
    """The grids with the long column names of an exported grids layer."""
    out = grids.copy()
    out["community_code"] = "140214001001"
    out["community_name"] = ["春安新区", "春安新区", "宁丰社区"]
    out["grid_member"] = ["李凤", "王强", "赵敏"]
    out["grid_member_phone"] = ["0352-0953219", "0352-0953220", None]
    return out


def _write_quietly(gdf, path, **kwargs):
    """write_features, failing on any warning (GDAL's "Normalized/laundered field name" is one)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return write_features(gdf, path, **kwargs)


@pytest.mark.parametrize("layer", sorted(SHAPEFILE_FIELDS))
def test_every_table_is_short_ascii_and_unique(layer):
    table = SHAPEFILE_FIELDS[layer]
    for full, short in table.items():
        assert len(full) > MAX_FIELD_NAME, f"{full} fits as it is: leave it out of the table"
        assert len(short) <= MAX_FIELD_NAME and short.isascii() and short.isidentifier()
    assert len({s.lower() for s in table.values()}) == len(table)
    assert not set(table.values()) & set(LEGACY_FIELDS.get(layer, {})), "a short name read as a legacy one"
    assert full_names(table.values(), layer=layer) == {s: f for f, s in table.items()}


def test_names_are_chosen_not_laundered(tmp_path, long_named):
    path = _write_quietly(long_named, tmp_path / "grids.shp", layer="grids")
    expected = ["code", "name", "households", "population", "comm_code", "comm_name", "gm_name", "gm_phone"]
    assert dbf_field_names(path.with_suffix(".dbf")) == expected
    info = ogrinfo("-al", "-so", str(path))
    fields = [line.split(":")[0] for line in info.stdout.splitlines() if ": String (" in line or ": Integer" in line]
    assert fields == expected and gdal_complaints(info.stderr) == []
    back = read_features(path)
    assert "communit_1" not in back.columns and "comm_name" in back.columns
    back = back.rename(columns=full_names(back.columns, layer="grids"))
    assert_same(back, long_named)


def test_without_a_table_long_names_are_refused(tmp_path, long_named):
    with pytest.raises(ValueError, match="'community_code' of the layer.*SHAPEFILE_FIELDS"):
        write_features(long_named, tmp_path / "grids.shp")
    with pytest.raises(ValueError, match="would both be the Shapefile field 'comm_code'"):
        short_names(["community_code", "comm_code"], layer="grids")
    assert not (tmp_path / "grids.shp").exists()


def test_full_names_keep_a_column_the_file_has_under_its_full_name():
    assert full_names(["comm_code", "community_code"], layer="grids") == {}
    assert full_names(["azimuth", "res_px", "bldg_code", "hfov_deg"], layer="cameras") == {
        "azimuth": "azimuth_deg", "res_px": "resolution_px", "bldg_code": "building_code"}


@pytest.mark.parametrize("encoding, cpg, ldid, codec", [("utf-8", "UTF-8", 0, "utf-8"), ("gbk", "CP936", 0x4D, "gbk")])
def test_encodings_are_what_gdal_reads(tmp_path, long_named, encoding, cpg, ldid, codec):
    path = _write_quietly(long_named, tmp_path / "grids.shp", layer="grids", encoding=encoding)
    assert path.with_suffix(".cpg").read_text() == cpg
    dbf = path.with_suffix(".dbf").read_bytes()
    assert dbf[29] == ldid
    assert NAME.encode(codec) in dbf
    other = "gbk" if codec == "utf-8" else "utf-8"
    assert NAME.encode(other) not in dbf
    # GDAL 3.6 reads the Chinese back, from the .cpg ...
    assert f"name (String) = {NAME}" in ogrinfo("-al", str(path)).stdout
    back = read_features(path)
    assert back["name"].tolist() == long_named["name"].tolist()
    assert back["comm_name"].tolist() == long_named["community_name"].tolist()
    if encoding == "gbk":
        # ... and from the language driver id alone (a reader that ignores .cpg files)
        path.with_suffix(".cpg").unlink()
        assert f"name (String) = {NAME}" in ogrinfo("-al", str(path)).stdout
        # with neither, GDAL takes the bytes as they are: GBK bytes are not the name (mojibake)
        with path.with_suffix(".dbf").open("r+b") as f:
            f.seek(29)
            f.write(b"\0")
        assert NAME not in ogrinfo("-al", str(path)).stdout


@pytest.mark.parametrize("value, char", [("春安😀网格", "U+1F600"), ("𠀀网格", "U+20000"), ("Ａ\u20a9", "U+20A9")])
def test_gbk_refuses_what_it_cannot_encode(tmp_path, long_named, value, char):
    long_named.loc[1, "grid_member"] = value
    with pytest.raises(BadInput) as e:
        write_features(long_named, tmp_path / "grids.shp", layer="grids", encoding="gbk")
    assert "feature 1 (code 140214001001002)" in e.value.message and "grid_member" in e.value.message
    assert char in e.value.message and "encoding=utf-8" in e.value.message
    assert e.value.details["field"] == "grid_member" and e.value.details["code"] == "140214001001002"
    assert not (tmp_path / "grids.shp").exists() and not (tmp_path / "grids.dbf").exists()
    # UTF-8 holds it
    path = write_features(long_named, tmp_path / "grids.shp", layer="grids")
    assert read_features(path)["gm_name"][1] == value


def test_text_over_a_dbf_field_is_refused(tmp_path, long_named):
    long_named.loc[2, "name"] = "网" * 100  # 200 bytes in GBK, 300 in UTF-8
    write_features(long_named, tmp_path / "gbk.shp", layer="grids", encoding="gbk")
    assert read_features(tmp_path / "gbk.shp")["name"][2] == "网" * 100
    with pytest.raises(BadInput, match="feature 2 .*its name is 300 bytes in UTF-8, more than the 254"):
        write_features(long_named, tmp_path / "utf8.shp", layer="grids")


def test_one_kind_of_geometry_per_shapefile(tmp_path, grids, cameras):
    mixed = gpd.GeoDataFrame(dict(name=["a", "b"]), geometry=[grids.geometry[0], Point(113.1, 40.05)], crs=4326)
    with pytest.raises(BadInput, match="one kind of geometry, and key_places has Point and Polygon; export it to .gpkg"):
        write_features(mixed, tmp_path / "k.shp", layer="key_places")
    write_features(mixed, tmp_path / "k.gpkg", layer="key_places")  # a GeoPackage holds both
    assert len(read_features(tmp_path / "k.gpkg")) == 2


@pytest.mark.parametrize("suffix", ["gpkg", "geojson", "csv"])
def test_gbk_is_for_shapefiles_only(tmp_path, grids, suffix):
    with pytest.raises(BadInput, match=f"encoding=gbk is for Shapefiles only: .{suffix} files are always UTF-8"):
        write_features(grids, tmp_path / f"g.{suffix}", encoding="gbk")
    with pytest.raises(BadInput, match="unknown encoding 'latin-1': use utf-8 or gbk"):
        write_features(grids, tmp_path / "g.shp", encoding="latin-1")


def test_geopackage_reads_without_warnings_in_gdal_3_6(tmp_path, grids, cameras):
    path = tmp_path / "town.gpkg"
    _write_quietly(grids, path, layer="grids")
    _write_quietly(cameras, path, layer="cameras")
    for args in (["-al", "-so"], ["-al"]):
        info = ogrinfo(*args, str(path))
        assert gdal_complaints(info.stderr) == [], info.stderr
        assert "Layer name: grids" in info.stdout and "Layer name: cameras" in info.stdout
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47  # "GPKG"
        assert db.execute("PRAGMA user_version").fetchone()[0] == 10200
        extensions = db.execute("SELECT table_name, extension_name FROM gpkg_extensions").fetchall()
    assert ("grids", "gpkg_rtree_index") in extensions and ("cameras", "gpkg_rtree_index") in extensions
    assert_same(read_features(path, layer="grids"), grids)


def test_doctests():
    import doctest

    import geo.io.formats
    import geo.io.shapefile_names

    for module in (geo.io.shapefile_names, geo.io.formats):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0, module.__name__
