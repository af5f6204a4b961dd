"""Hostile files, second round: what still got through after the hardening of issue 14 ("Critical").

Each test sends a file an outside attacker with a planner key (or a client key, for the CSV batch;
or an operator handed a file, for ``gridmap import``) can send, and asserts what the hardened
code promises (geo/file_safety.py): nothing inside a file makes the server fetch a URL or open
another path, no SQL of the file's own runs on read, the work is bounded by the bytes sent, and
answers quote a value only by its first characters. Every test here failed when it was written.
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
import tracemalloc
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyproj
import pytest
import shapely
from fastapi.testclient import TestClient

from geo.errors import UnsafeFile
from geo.io import read_features
from tests.conftest import auth
from tests.security.test_hostile_files import (
    _assert_leaks_nothing,
    _draft,
    _geopackage,
    _grid_rows,
    _import,
    _layer,
    _shapefile_zip,
)

SQUARE = shapely.geometry.mapping(shapely.box(113.1, 40.05, 113.101, 40.051))


def _fc(features: list[dict[str, Any]], **extra: Any) -> bytes:
    return json.dumps({"type": "FeatureCollection", **extra, "features": features}).encode()


def _feature(code: str = "1", community_code: str = "1", **props: Any) -> dict[str, Any]:
    """A feature that is refused (code not 15 digits) unless told otherwise: nothing gets stored."""
    return {"type": "Feature", "properties": {"code": code, "community_code": community_code, **props},
            "geometry": SQUARE}


@pytest.fixture
def quiet_client(env: dict[str, Any]) -> TestClient:
    """The same app, answering an unhandled exception with a 500 as the server would."""
    return TestClient(env["client"].app, raise_server_exceptions=False)


def _send(env: dict[str, Any], name: str, body: bytes, *, client: TestClient | None = None,
          **params: str) -> tuple[Any, bool]:
    """Import into a fresh draft; returns the answer and whether the draft's grids changed (so a
    test can say what was wrong before it says the draft moved)."""
    plan, version = _draft(env, f"hostile more {name}")
    before = _grid_rows(env, plan)
    r = (client or env["client"]).post(f"/v1/plans/{plan}/import", params=params, files={"file": (name, body)},
                                       headers={**auth(env["keys"]["planner"]), "If-Match": f'"{version}"'})
    return r, _grid_rows(env, plan) != before


# --- the file's CRS: URLs and grid files ----------------------------------------------------------------------

@pytest.mark.parametrize("kind,member", [("link", "href"), ("URL", "url")])
def test_geojson_crs_link_sends_no_request(env, recorder, kind: str, member: str) -> None:  # type: ignore[no-untyped-def]
    """GDAL's GeoJSON reader fetches a ``"crs": {"type": "link"}`` href (OGRSpatialReference::importFromUrl):
    a blind request to any host the server reaches, once per open (3 per import), each waiting up to
    GDAL's HTTP timeout."""
    body = _fc([_feature()], crs={"type": kind, "properties": {member: f"{recorder}/crs-{kind}.prj"}})
    r = _import(env, "grids.geojson", body)
    assert r.status_code == 422, r.text
    assert recorder.hits == [], f"the server fetched {recorder.hits}"


_FIFO_WRITER = r"""
import os, sys, time
fifo, mark, deadline = sys.argv[1], sys.argv[2], time.time() + float(sys.argv[3])
n = 0
while time.time() < deadline and not os.path.exists(mark + ".stop"):
    try:
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)  # succeeds only while someone opens it to read
    except OSError:
        time.sleep(0.002)
        continue
    n += 1
    os.close(fd)  # the reader sees an empty file and goes on
    with open(mark, "w") as f:
        f.write(str(n))
"""


@pytest.fixture
def watched_path(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A named pipe standing for a file on the server, and the file that tells whether it was opened.

    A separate process releases every reader at once, so the test never hangs; the pipe shows that
    *something in the server* opened the path named inside the upload.
    """
    fifo = tmp_path / "server-side.gsb"
    os.mkfifo(fifo)
    mark = tmp_path / "opened"
    writer = subprocess.Popen([sys.executable, "-c", _FIFO_WRITER, str(fifo), str(mark), "120"])
    try:
        yield fifo, mark
    finally:
        (tmp_path / "opened.stop").touch()
        try:
            writer.wait(10)
        except subprocess.TimeoutExpired:
            writer.kill()


def _grid_crs(path: Path) -> pyproj.CRS:
    return pyproj.CRS(f"+proj=longlat +ellps=WGS84 +nadgrids={path} +type=crs")


def _geojson_with_grid(env: dict[str, Any], tmp_path: Path, grid: Path) -> tuple[str, bytes]:
    crs = {"type": "name", "properties": {"name": _grid_crs(grid).to_proj4()}}
    return "grids.geojson", _fc([_feature()], crs=crs)


def _geopackage_with_grid(env: dict[str, Any], tmp_path: Path, grid: Path) -> tuple[str, bytes]:
    path = _geopackage(env, tmp_path)
    with sqlite3.connect(path) as db:
        srs = db.execute("SELECT srs_id FROM gpkg_geometry_columns").fetchone()[0]
        db.execute("UPDATE gpkg_spatial_ref_sys SET organization = 'x', organization_coordsys_id = 1, definition = ? "
                   "WHERE srs_id = ?", (_grid_crs(grid).to_wkt(version="WKT2_2019"), srs))
    return "grids.gpkg", path.read_bytes()


def _shapefile_with_grid(env: dict[str, Any], tmp_path: Path, grid: Path) -> tuple[str, bytes]:
    inner = zipfile.ZipFile(io.BytesIO(_shapefile_zip(env)))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for info in inner.infolist():
            data = inner.read(info)
            if info.filename.lower().endswith(".prj"):
                data = _grid_crs(grid).to_wkt(version="WKT1_ESRI").encode()
            z.writestr(info.filename, data)
    return "grids.zip", buf.getvalue()


@pytest.mark.parametrize("make", [_geojson_with_grid, _geopackage_with_grid, _shapefile_with_grid],
                         ids=["geojson-crs", "gpkg-srs", "shapefile-prj"])
def test_grid_file_named_in_a_files_crs_is_not_opened(env, quiet_client: TestClient, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                      watched_path: tuple[Path, Path], make: Any) -> None:
    """A CRS with a datum grid (+nadgrids=, WKT2 PARAMETERFILE, WKT1 EXTENSION["PROJ4_GRIDS"]) makes PROJ
    open that path on the server (tens of times per import: /etc/passwd, a device, a pipe); a path that
    blocks on open or read (a FIFO, /dev/stdin of a server run in a terminal) holds the request's worker
    for as long as it blocks. And the import then fails with an unhandled ProjError (500)."""
    fifo, mark = watched_path
    name, body = make(env, tmp_path, fifo)
    r, changed = _send(env, name, body, client=quiet_client)
    opened = mark.read_text() if mark.exists() else "0"
    assert opened == "0", f"the server opened {fifo} (named in the upload's CRS) {opened} times"
    assert r.status_code == 422 and not changed, r.text
    _assert_leaks_nothing(r, str(fifo))


@pytest.mark.parametrize("crs", [
    'LOCAL_CS["site grid",UNIT["metre",1]]',
    'ENGCRS["site",EDATUM["d"],CS[Cartesian,2],AXIS["x",east],AXIS["y",north],LENGTHUNIT["metre",1]]',
    "IAU_2015:30100",  # the Moon
])
def test_file_crs_that_cannot_reach_wgs84_is_a_4xx(env, quiet_client: TestClient, crs: str) -> None:  # type: ignore[no-untyped-def]
    """The file's own CRS is never checked like the crs= parameter is (parse_crs): one PROJ cannot
    transform to WGS84 raises pyproj's ProjError in read_features, an unhandled 500."""
    r, changed = _send(env, "grids.geojson", _fc([_feature()], crs={"type": "name", "properties": {"name": crs}}),
                       client=quiet_client)
    assert r.status_code == 422 and not changed, r.text
    _assert_leaks_nothing(r)


# --- GeoPackage: SQL that still runs on read -------------------------------------------------------------------

def test_generated_column_behind_a_quoted_layer_name_is_refused(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """check_geopackage looks for generated columns with PRAGMA table_xinfo("<layer minus its quotes>"):
    a layer named grid"s is looked up as grids, which does not exist, so no generated column is found,
    and GDAL then computes it on every row (zeroblob(900000000) → ~1 GB a row from a 100 KB file)."""
    path = _geopackage(env, tmp_path)
    layer = _layer(path)
    evil = layer[:2] + '"' + layer[2:]
    quoted = evil.replace('"', '""')
    with sqlite3.connect(path) as db:
        db.execute(f'ALTER TABLE "{layer}" RENAME TO "{quoted}"')
        for table in ("gpkg_contents", "gpkg_geometry_columns", "gpkg_ogr_contents"):
            db.execute(f"UPDATE {table} SET table_name = ? WHERE table_name = ?", (evil, layer))
        db.execute(f'ALTER TABLE "{quoted}" ADD COLUMN big TEXT GENERATED ALWAYS AS (hex(zeroblob(1000000))) VIRTUAL')
    r, changed = _send(env, "grids.gpkg", path.read_bytes())
    assert r.status_code == 422 and r.json()["error"]["code"] == "unsafe_file", r.text
    assert not changed
    assert "generated" in r.json()["error"]["message"]


def test_generated_column_in_a_gpkg_table_is_refused(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Only the layers are checked for generated columns; GDAL also reads gpkg_spatial_ref_sys,
    gpkg_contents, gpkg_geometry_columns... A definition computed by SQL runs on read: with
    printf('%.*c', 200000000, 'x') under replace() one import of a 100 KB file took 9 s of CPU and 1 GB."""
    path = _geopackage(env, tmp_path)
    heavy = "length(replace(printf('%.*c', 2000000, 'x'), 'x', 'yy')) > 0"
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT srs_name, srs_id, organization, organization_coordsys_id, definition, description "
                          "FROM gpkg_spatial_ref_sys").fetchall()
        db.execute("ALTER TABLE gpkg_spatial_ref_sys RENAME TO srs_base")
        db.execute("CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, "
                   "organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL, d0 TEXT, "
                   f"definition TEXT GENERATED ALWAYS AS (CASE WHEN {heavy} THEN d0 ELSE d0 END) VIRTUAL, "
                   "description TEXT)")
        db.executemany("INSERT INTO gpkg_spatial_ref_sys (srs_name, srs_id, organization, organization_coordsys_id, "
                       "d0, description) VALUES (?, ?, ?, ?, ?, ?)", rows)
        db.execute("DROP TABLE srs_base")
    r, changed = _send(env, "grids.gpkg", path.read_bytes())
    assert r.status_code == 422 and r.json()["error"]["code"] == "unsafe_file", r.text
    assert not changed


def test_virtual_table_that_only_mentions_rtree_is_refused(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """"Virtual tables only R-trees" is tested as `" using rtree" in sql`: any module passes when its
    arguments contain those words. (Theoretical so far: the modules GDAL's SQLite has (fts, rtree,
    geopoly) do no I/O, and VirtualOGR is not available on a GPKG connection; tried on gpkg_extensions
    and gpkg_spatial_ref_sys, no request was sent.)"""
    path = _geopackage(env, tmp_path)
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE IF EXISTS gpkg_extensions")
        db.execute("CREATE VIRTUAL TABLE gpkg_extensions USING fts4(table_name, column_name, extension_name, "
                   "definition, scope, \"not using rtree\")")
    r, changed = _send(env, "grids.gpkg", path.read_bytes())
    assert r.status_code == 422 and r.json()["error"]["code"] == "unsafe_file", r.text
    assert not changed


def test_geopackage_with_non_utf8_schema_text_is_a_4xx(env, quiet_client: TestClient, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """check_geopackage reads sqlite_master with Python's sqlite3; when SQLite's own error message quotes
    bytes that are not UTF-8 (a malformed schema entry whose name has a 0xFF byte), Python raises
    UnicodeDecodeError, not sqlite3.Error, and the import answers 500. (Found by flipping random bytes
    of a GeoPackage: 15 of 150 mutants answered 500 this way.)"""
    path = _geopackage(env, tmp_path)
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE junk (a)")
        db.execute("PRAGMA writable_schema=ON")
        db.execute("UPDATE sqlite_master SET name = CAST(X'6a75ff6b' AS TEXT), sql = 'CREATE TABLE junk (' "
                   "WHERE name = 'junk'")
    r, changed = _send(env, "grids.gpkg", path.read_bytes(), client=quiet_client)
    assert r.status_code == 422 and not changed, r.text


# --- declared counts: memory reserved for features that are not there --------------------------------------------

def _peak_traced_mb(call: Any) -> tuple[Any, float]:
    tracemalloc.start()
    try:
        result = call()
        return result, tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def test_geopackage_feature_count_is_not_trusted(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """pyogrio sizes its arrays by the layer's feature count, which GDAL takes from gpkg_ogr_contents:
    a 100 KB GeoPackage saying 5,000,000 made one import reserve 160 MB (40,000,000: 1.3 GB of RSS; with
    more text columns, tens of GB: the server is killed)."""
    path = _geopackage(env, tmp_path)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE gpkg_ogr_contents SET feature_count = 5000000")
    body = path.read_bytes()
    (r, _), peak = _peak_traced_mb(lambda: _send(env, "grids.gpkg", body))
    assert r.status_code < 500, r.text
    assert peak < 40, f"a {len(body) // 1000} KB GeoPackage made the import allocate {peak:.0f} MB"


def test_shapefile_record_count_is_not_trusted(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The same with a zipped Shapefile: a .shx of 200,000 index records (1.6 MB of repeated bytes, a
    few KB zipped, well inside GRIDMAP_UPLOAD_MAX_UNZIPPED_BYTES) and a .dbf of one record with 100 text
    fields reserved 165 MB; at the 256 MB unzip limit (32M records) that is tens of GB."""
    import geopandas as gpd

    props: dict[str, list[str]] = {"code": ["140214000000001"], "community_": ["1"]}
    props.update({f"f{j}": ["x"] for j in range(100)})
    gpd.GeoDataFrame(props, geometry=[shapely.box(113.1, 40.05, 113.101, 40.051)], crs=4326).to_file(
        tmp_path / "g.shp", engine="pyogrio")
    shx = (tmp_path / "g.shx").read_bytes()
    n = 200_000
    header = bytearray(shx[:100])
    header[24:28] = ((100 + 8 * n) // 2).to_bytes(4, "big")  # file length in 16-bit words
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for ext in ("shp", "dbf", "prj"):
            z.writestr(f"g.{ext}", (tmp_path / f"g.{ext}").read_bytes())
        z.writestr("g.shx", bytes(header) + shx[100:108] * n)
    body = buf.getvalue()
    (r, _), peak = _peak_traced_mb(lambda: _send(env, "grids.zip", body))
    assert r.status_code < 500, r.text
    assert peak < 40, f"a {len(body) // 1000} KB zip made the import allocate {peak:.0f} MB"


def test_geojson_with_thousands_of_property_names_is_bounded(env) -> None:  # type: ignore[no-untyped-def]
    """GDAL makes one field per distinct property name across the file and every feature gets every
    field: 150 features x 40 names of their own (110 KB) → 6,000 columns x 150 rows, 93 MB traced and
    5 s; 400 x 50 (360 KB) took 11 s and 780 MB RSS; it grows with the square of the upload.
    The import needs code, name and community_code only."""
    features = [_feature(str(140214000000000 + i), **{f"k{i}_{j}": 1 for j in range(40)}) for i in range(150)]
    body = _fc(features)
    (r, _), peak = _peak_traced_mb(lambda: _send(env, "grids.geojson", body))
    assert r.status_code < 500, r.text
    assert peak < 40, f"a {len(body) // 1000} KB GeoJSON made the import allocate {peak:.0f} MB"


# --- echoes ---------------------------------------------------------------------------------------------------

def test_unknown_community_code_is_echoed_only_in_part(env) -> None:  # type: ignore[no-untyped-def]
    """read_plan_file checks that community_code is present, not its form; plan_edits.replace_grids then
    answers "unknown community_code '<the whole value>'"."""
    long_value = "1402" + "Z" * 5000 + "TAIL"
    r = _import(env, "grids.geojson", _fc([_feature("140214000000001", long_value)]))
    assert r.status_code == 422, r.text
    assert "Z" * 40 not in r.text and "TAIL" not in r.text, f"the whole value came back ({len(r.text):,} bytes)"


def test_crs_parameter_is_echoed_only_in_part(env) -> None:  # type: ignore[no-untyped-def]
    """?crs= on the import: parse_crs answers "unknown CRS '<the whole value>'" in message and details."""
    long_value = "x" * 4000 + "TAIL"
    r = _import(env, "grids.geojson", _fc([_feature()]), crs=long_value)
    assert r.status_code == 422, r.text
    assert "x" * 40 not in r.text and "TAIL" not in r.text, f"the whole value came back ({len(r.text):,} bytes)"


def test_csv_batch_error_column_quotes_cells_only_in_part(env) -> None:  # type: ignore[no-untyped-def]
    """The CSV batch's error column says "row 0: lon='<the whole cell>', ..." (geo/batch.csv_results uses
    the cell's repr, not excerpt)."""
    cell = "113." + "9" * 5000 + "TAIL"
    r = env["client"].post("/v1/lookup/batch", files={"file": ("batch.csv", f"lon,lat\n{cell}x,40.05\n".encode())},
                           headers=auth(env["keys"]["client"]))
    assert r.status_code == 200, r.text
    # the row's own columns come back as sent (once); the error column must not quote the cell again
    assert r.text.count("TAIL") == 1, f"the error column repeats the whole cell: {r.text[-300:]}"


def test_csv_batch_without_coordinates_does_not_list_every_column(env) -> None:  # type: ignore[no-untyped-def]
    """A CSV without lon/lat or address columns is answered with the list of every column it has: a
    header of 20,000 names (170 KB) comes back whole; 100,000 names (0.9 MB) also cost 4 s of pandas in
    one of the GRIDMAP_HEAVY_WORKERS before that answer."""
    header = ",".join(f"c{i}" for i in range(20_000))
    body = (header + "\n" + "1," * 19_999 + "1\n").encode()
    r = env["client"].post("/v1/lookup/batch", files={"file": ("batch.csv", body)},
                           headers=auth(env["keys"]["client"]))
    assert r.status_code == 422, r.text
    assert len(r.text) < 2000 and "c19999" not in r.text, f"the answer lists every column ({len(r.text):,} bytes)"


# --- gridmap import: what the check reads is not what GDAL reads --------------------------------------------------

def _view_geopackage(path: Path) -> None:
    """Make *path*'s layer a view (over its old table, hidden under a gpkg_ name GDAL does not list)."""
    with sqlite3.connect(path) as db:
        layer = db.execute("SELECT table_name FROM gpkg_contents").fetchone()[0]
        db.execute(f'ALTER TABLE "{layer}" RENAME TO gpkg_hidden_base')
        db.execute(f'CREATE VIEW "{layer}" AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n '
                   "WHERE i < 1000) SELECT gpkg_hidden_base.* FROM gpkg_hidden_base, n WHERE n.i = 1000")
        db.execute("UPDATE gpkg_geometry_columns SET table_name = ? WHERE table_name = 'gpkg_hidden_base'", (layer,))


def _plain_geopackage(path: Path) -> Path:
    import geopandas as gpd

    gpd.GeoDataFrame({"code": ["1"]}, geometry=[shapely.Point(113.1, 40.05)], crs=4326).to_file(
        path, layer="cameras", driver="GPKG", engine="pyogrio")
    return path


def test_gridmap_import_reads_the_wal_that_the_check_ignores(tmp_path: Path) -> None:
    """check_geopackage opens the file `immutable=1`, which ignores a -wal beside it; GDAL opens it
    normally and replays the WAL. A cameras.gpkg handed over with its cameras.gpkg-wal (what a copy of an
    open GeoPackage is) passes the check as plain tables and is read as a recursive view: with
    20,000,000 steps `read_features` took 31 s, the 19 s view of issue 14 again."""
    src = _plain_geopackage(tmp_path / "src.gpkg")
    db = sqlite3.connect(src, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")  # what follows stays in the -wal until the connection closes
    db.execute("ALTER TABLE cameras RENAME TO gpkg_hidden_base")
    db.execute("CREATE VIEW cameras AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) "
               "SELECT gpkg_hidden_base.* FROM gpkg_hidden_base, n WHERE n.i = 1000")
    db.execute("UPDATE gpkg_geometry_columns SET table_name = 'cameras' WHERE table_name = 'gpkg_hidden_base'")
    handed = tmp_path / "handed"
    handed.mkdir()
    (handed / "cameras.gpkg").write_bytes(src.read_bytes())
    (handed / "cameras.gpkg-wal").write_bytes(Path(f"{src}-wal").read_bytes())
    db.close()
    with pytest.raises(UnsafeFile):
        read_features(handed / "cameras.gpkg")


@pytest.mark.parametrize("name,decoy", [("cams#1.gpkg", "cams"), ("cams?1.gpkg", "cams"),
                                        ("cams%5F1.gpkg", "cams_1.gpkg")])
def test_gridmap_import_checks_the_file_it_reads(tmp_path: Path, name: str, decoy: str) -> None:
    """check_geopackage builds an SQLite URI from the path without quoting it: '#' and '?' end the path
    and %XX is decoded, so the check reads another file (here a plain decoy beside it; with '#' and no
    decoy it even creates one, since the mode=ro that followed is cut off) and GDAL reads the view."""
    _plain_geopackage(tmp_path / decoy)
    evil = _plain_geopackage(tmp_path / name)
    _view_geopackage(evil)
    with pytest.raises(UnsafeFile):
        read_features(evil)
