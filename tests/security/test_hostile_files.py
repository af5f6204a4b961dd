"""Hostile files: every file the server opens for a user (plan import over HTTP, ``gridmap import``,
CSV batch) is read with an allow-list of drivers after its bytes are checked against the declared
format; nothing inside a file makes the server open another path, fetch a URL or run SQL of the
file's own; archives are bounded before anything is extracted; answers never echo a server path,
a secret or a database error text.

Each test sends what the outside security test sent (issue 14) and failed before the fix.
"""

from __future__ import annotations

import io
import json
import sqlite3
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely

from geo import file_safety
from geo.errors import UnsafeFile
from geo.io import read_features
from tests.conftest import auth

SECRET = "gm_SECRET_admin_key_0123456789abcdef"


@pytest.fixture(scope="module")
def secret_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file only the server can read, standing for var/admin.key."""
    path = tmp_path_factory.mktemp("server") / "admin.key"
    path.write_text(f"key,role\n{SECRET},admin\n")
    return path


def _draft(env: dict[str, Any], name: str) -> tuple[int, int]:
    r = env["client"].post("/v1/plans", json={"name": name}, headers=auth(env["keys"]["planner"]))
    assert r.status_code == 201, r.text
    return r.json()["id"], r.json()["version"]


def _grid_rows(env: dict[str, Any], plan: int) -> list[tuple[str, str]]:
    with env["engine"].connect() as conn:
        from sqlalchemy import text

        return [tuple(r) for r in conn.execute(text(
            "SELECT code, md5(ST_AsBinary(geom)) FROM grid WHERE plan_id = :p ORDER BY code"), {"p": plan})]


def _import(env: dict[str, Any], name: str, body: bytes, **params: str) -> Any:
    plan, version = _draft(env, f"hostile {name}")
    before = _grid_rows(env, plan)
    r = env["client"].post(f"/v1/plans/{plan}/import", params=params, files={"file": (name, body)},
                           headers={**auth(env["keys"]["planner"]), "If-Match": f'"{version}"'})
    assert _grid_rows(env, plan) == before, "a refused import changed the draft"
    return r


def _assert_leaks_nothing(r: Any, *extra: str) -> None:
    text = r.text
    for needle in (SECRET, "root:x:0:0", "/tmp/", "/var/", "gridmap-import-", "invalid input syntax", *extra):
        assert needle not in text, f"the answer echoes {needle!r}: {text[:300]}"


def _vrt(source: str) -> bytes:
    return (f'<OGRVRTDataSource><OGRVRTLayer name="grids"><SrcDataSource>{source}</SrcDataSource>'
            '</OGRVRTLayer></OGRVRTDataSource>').encode()


# --- VRT and /vsi* ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["grids.geojson", "grids.json", "grids.gpkg"])
def test_vrt_document_reading_a_server_file_is_refused(env, secret_file: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    r = _import(env, name, _vrt(f"CSV:{secret_file}"))
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "unsafe_file"
    _assert_leaks_nothing(r, str(secret_file))


def test_vrt_document_reading_etc_passwd_is_refused(env) -> None:  # type: ignore[no-untyped-def]
    r = _import(env, "grids.geojson", _vrt("CSV:/etc/passwd"))
    assert r.status_code == 422 and r.json()["error"]["code"] == "unsafe_file", r.text
    _assert_leaks_nothing(r)


def test_vsicurl_inside_a_file_sends_no_request(env, recorder) -> None:  # type: ignore[no-untyped-def]
    for name, body in [
        ("grids.geojson", _vrt(f"/vsicurl/{recorder}/grids.geojson")),
        ("grids.gpkg", _vrt(f"/vsicurl/{recorder}/grids.gpkg")),
        ("grids.geojson", json.dumps({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"code": f"/vsicurl/{recorder}/x"}, "geometry": None}]}).encode()),
    ]:
        r = _import(env, name, body)
        assert r.status_code == 422, r.text
    assert recorder.hits == [], f"the server fetched {recorder.hits}"


def test_gridmap_import_refuses_a_vrt_posing_as_geojson(tmp_path: Path, secret_file: Path) -> None:
    """The command line opens files with the same checks (an operator may be handed a file)."""
    path = tmp_path / "cameras.geojson"
    path.write_bytes(_vrt(f"CSV:{secret_file}"))
    with pytest.raises(UnsafeFile) as e:
        read_features(path)
    assert SECRET not in str(e.value) and SECRET not in json.dumps(e.value.details, default=str)


def test_only_the_four_drivers_are_registered() -> None:
    import pyogrio

    file_safety.restrict_gdal_drivers()
    assert set(pyogrio.list_drivers()) <= set(file_safety.ALLOWED_DRIVERS)
    assert {"GeoJSON", "GPKG", "ESRI Shapefile"} <= set(pyogrio.list_drivers())


# --- declared format vs bytes ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name,body", [
    ("grids.gpkg", b'{"type": "FeatureCollection", "features": []}'),  # GeoJSON named .gpkg
    ("grids.geojson", b"SQLite format 3\x00" + b"\x00" * 200),  # SQLite named .geojson
    ("grids.geojson", b"\x00\x00\x27\x0a" + b"\x00" * 96),  # a .shp header named .geojson
    ("grids.zip", b'{"type": "FeatureCollection"}'),  # not a zip
    ("grids.geojson", b"<?xml version='1.0'?><gml:FeatureCollection/>"),  # GML
    ("grids.json", b"\xef\xbb\xbf<OGRVRTDataSource/>"),  # BOM then XML
])
def test_bytes_must_match_the_declared_format(env, name: str, body: bytes) -> None:  # type: ignore[no-untyped-def]
    r = _import(env, name, body)
    assert r.status_code == 422 and r.json()["error"]["code"] == "unsafe_file", r.text
    assert "does not look like" in r.json()["error"]["message"]
    _assert_leaks_nothing(r)


def test_sqlite_database_that_is_not_a_geopackage_is_refused(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "plain.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (a)")
    r = _import(env, "grids.gpkg", path.read_bytes())
    assert r.status_code == 422 and r.json()["error"]["code"] == "unsafe_file", r.text


# --- GeoPackage: tables only ----------------------------------------------------------------------------------

def _geopackage(env: dict[str, Any], tmp_path: Path) -> Path:
    """A real export of the published plan, as QGIS would send it back."""
    r = env["client"].get("/v1/plans/1/export", params={"format": "gpkg"}, headers=auth(env["keys"]["viewer"]))
    assert r.status_code == 200, r.text
    path = tmp_path / "grids.gpkg"
    path.write_bytes(r.content)
    return path


def _layer(path: Path) -> str:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT table_name FROM gpkg_contents").fetchone()[0]


def test_geopackage_whose_layer_is_a_recursive_view_is_refused(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = _geopackage(env, tmp_path)
    layer = _layer(path)
    with sqlite3.connect(path) as db:
        db.execute(f'ALTER TABLE "{layer}" RENAME TO base')
        db.execute(f'CREATE VIEW "{layer}" AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n '
                   "WHERE i < 20000000) SELECT base.* FROM base, n WHERE n.i = 20000000")
        db.execute("UPDATE gpkg_geometry_columns SET table_name = ? WHERE table_name = 'base'", (layer,))
    r = _import(env, "grids.gpkg", path.read_bytes())
    assert r.status_code == 422 and r.json()["error"]["code"] == "unsafe_file", r.text
    assert "view" in r.json()["error"]["message"]


def test_geopackage_with_a_view_posing_as_a_gpkg_table_is_refused(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = _geopackage(env, tmp_path)
    with sqlite3.connect(path) as db:
        db.execute("ALTER TABLE gpkg_spatial_ref_sys RENAME TO srs_base")
        db.execute("CREATE VIEW gpkg_spatial_ref_sys AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
                   "FROM n WHERE i < 20000000) SELECT srs_base.* FROM srs_base, n WHERE n.i = 20000000")
    r = _import(env, "grids.gpkg", path.read_bytes())
    assert r.status_code == 422 and r.json()["error"]["code"] == "unsafe_file", r.text


def test_geopackage_with_a_generated_column_is_refused(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = _geopackage(env, tmp_path)
    layer = _layer(path)
    with sqlite3.connect(path) as db:
        db.execute(f'ALTER TABLE "{layer}" ADD COLUMN big TEXT GENERATED ALWAYS AS (zeroblob(900000000)) VIRTUAL')
    r = _import(env, "grids.gpkg", path.read_bytes())
    assert r.status_code == 422 and r.json()["error"]["code"] == "unsafe_file", r.text
    assert "generated" in r.json()["error"]["message"]


def test_a_plain_geopackage_from_qgis_still_imports(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The near miss: a real GeoPackage (tables, an R-tree index and its triggers) imports as before."""
    path = _geopackage(env, tmp_path)
    with sqlite3.connect(path) as db:
        kinds = {r[0] for r in db.execute("SELECT type FROM sqlite_master")}
    assert "trigger" in kinds  # GDAL's R-tree triggers: they run on writes only, never on our read
    plan, version = _draft(env, "plain gpkg")
    r = env["client"].post(f"/v1/plans/{plan}/import", files={"file": ("grids.gpkg", path.read_bytes())},
                           headers={**auth(env["keys"]["planner"]), "If-Match": f'"{version}"'})
    assert r.status_code == 200, r.text


# --- archives -------------------------------------------------------------------------------------------------

def _shapefile_zip(env: dict[str, Any]) -> bytes:
    r = env["client"].get("/v1/plans/1/export", params={"format": "shp"}, headers=auth(env["keys"]["viewer"]))
    assert r.status_code == 200, r.text
    return r.content


def test_zip_bomb_is_refused_before_extracting(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    limit = env["settings"].upload_max_unzipped_bytes
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        with z.open("grids.shp", "w", force_zip64=True) as member:
            block = b"\x00" * (1 << 20)
            for _ in range(limit // len(block) + 8):
                member.write(block)
    body = buf.getvalue()
    assert len(body) < limit // 100  # a small upload ...
    r = _import(env, "grids.zip", body)  # ... that would expand past the limit
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large", r.text
    assert "GRIDMAP_UPLOAD_MAX_UNZIPPED_BYTES" in r.json()["error"]["message"]


def test_zip_with_a_lying_size_header_is_refused(env) -> None:  # type: ignore[no-untyped-def]
    """A member that says it is small but inflates to more: the bytes written are counted, not the header."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("grids.shp", b"\x00" * (4 << 20))
    raw = bytearray(buf.getvalue())
    # patch the declared uncompressed size (local header at 22, central directory entry at +24) to 100 bytes
    raw[22:26] = (100).to_bytes(4, "little")
    cd = raw.rfind(b"PK\x01\x02")
    raw[cd + 24:cd + 28] = (100).to_bytes(4, "little")
    r = _import(env, "grids.zip", bytes(raw))
    assert r.status_code in (413, 422), r.text
    _assert_leaks_nothing(r)


def test_zip_with_too_many_members_is_refused(env) -> None:  # type: ignore[no-untyped-def]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for i in range(env["settings"].upload_max_archive_members + 1):
            z.writestr(f"f{i}.txt", b"")
    r = _import(env, "grids.zip", buf.getvalue())
    assert r.status_code == 413 and "GRIDMAP_UPLOAD_MAX_ARCHIVE_MEMBERS" in r.json()["error"]["message"], r.text


@pytest.mark.parametrize("member", ["../grids.shp", "/tmp/grids.shp", "sub/../../grids.shp"])
def test_zip_members_cannot_escape_the_folder(env, member: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    inner = zipfile.ZipFile(io.BytesIO(_shapefile_zip(env)))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for info in inner.infolist():
            z.writestr(member[: -len(".shp")] + Path(info.filename).suffix, inner.read(info))
    r = _import(env, "grids.zip", buf.getvalue())
    assert r.status_code == 422, r.text
    assert not (tmp_path.parent / "grids.shp").exists() and not Path("/tmp/grids.shp").exists()


def test_zipped_shapefile_still_imports(env) -> None:  # type: ignore[no-untyped-def]
    plan, version = _draft(env, "plain shapefile")
    r = env["client"].post(f"/v1/plans/{plan}/import", files={"file": ("grids.zip", _shapefile_zip(env))},
                           headers={**auth(env["keys"]["planner"]), "If-Match": f'"{version}"'})
    assert r.status_code == 200, r.text


# --- echoes ---------------------------------------------------------------------------------------------------

def test_rejected_values_are_echoed_only_in_part(env) -> None:  # type: ignore[no-untyped-def]
    """A field's value appears in a problem only by its first characters: a file cannot be read back."""
    long_value = "1402141" + "Z" * 500 + "TAIL"
    fc = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {
        "code": long_value, "community_code": long_value},
        "geometry": shapely.geometry.mapping(shapely.box(113.1, 40.05, 113.101, 40.051))}]}
    r = _import(env, "grids.geojson", json.dumps(fc).encode())
    assert r.status_code == 422, r.text
    assert "1402141" in r.text  # the start of the value says which one it was ...
    assert "Z" * 20 not in r.text and "TAIL" not in r.text  # ... and no more of it comes back
    _assert_leaks_nothing(r)


def test_unreadable_file_names_no_server_path(env) -> None:  # type: ignore[no-untyped-def]
    r = _import(env, "grids.geojson", b'{"type": "FeatureCollection", "features": [')
    assert r.status_code == 422, r.text
    _assert_leaks_nothing(r)
    assert "grids.geojson" in r.json()["error"]["message"]  # the client's own name for the file


def test_database_error_text_is_not_echoed(env) -> None:  # type: ignore[no-untyped-def]
    r = env["client"].get("/v1/incidents", params={"grid": "\x00"}, headers=auth(env["keys"]["viewer"]))
    assert 400 <= r.status_code < 500, r.text
    _assert_leaks_nothing(r, "psycopg", "SQL", "\\x00")


def test_csv_batch_is_read_as_text_only(env, secret_file: Path) -> None:  # type: ignore[no-untyped-def]
    """The CSV batch is parsed by pandas as text: a VRT or a GDAL 'CSV:' path in it is just a bad row."""
    body = b"address\n" + _vrt(f"CSV:{secret_file}") + b"\nCSV:" + str(secret_file).encode() + b"\n"
    r = env["client"].post("/v1/lookup/batch", files={"file": ("batch.csv", body)},
                           headers=auth(env["keys"]["client"]))
    assert r.status_code == 200, r.text
    assert SECRET not in r.text  # the rows come back as the client sent them, the file's content never
    assert r.text.count("no_match") == 2


def test_geojson_reader_never_opens_paths(tmp_path: Path) -> None:
    """read_features on a .geojson holding a feature is fine; the same name holding XML is refused."""
    ok = tmp_path / "a.geojson"
    ok.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "x"}, "geometry": {"type": "Point", "coordinates": [113.1, 40.05]}}]}))
    assert len(read_features(ok)) == 1
    bad = tmp_path / "b.geojson"
    bad.write_bytes(_vrt("CSV:/etc/passwd"))
    with pytest.raises(UnsafeFile):
        read_features(bad)


def test_shapefile_in_a_folder_reads(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame({"code": ["1"]}, geometry=[shapely.Point(113.1, 40.05)], crs=4326)
    gdf.to_file(tmp_path / "p.shp")
    assert len(read_features(tmp_path / "p.shp")) == 1
