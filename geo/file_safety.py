"""Opening files that came from a user: the checks made before GDAL sees a byte.

A vector file is data, but several formats GDAL reads are programs: an OGR VRT document names
other files, ``CSV:`` paths and ``/vsicurl/`` URLs to open; a GeoPackage is an SQLite database whose
layer may be a view running any SQL (a recursive CTE held a request 19 s) or have generated columns
computed on read; a zip may inflate a thousandfold. So, for every file the server opens for a user
(plan import over HTTP, ``gridmap import``, the CSV batch):

1. **Drivers**: only GeoJSON, GPKG, ESRI Shapefile and CSV exist in this process
   (:func:`restrict_gdal_drivers`). pyogrio opens with every registered driver and has no way to
   pass GDALOpenEx's allowed-drivers list (geopandas/pyogrio#310), so the others are deregistered
   from GDAL's driver manager, through ctypes into the libgdal pyogrio loaded. Writing uses the
   same four drivers, so nothing the service does needs the others.
2. **Magic bytes** (:func:`check_format`): the bytes must be the declared format: GeoJSON is JSON
   text opening with ``{``; a GeoPackage is an SQLite 3 file whose application id is ``GPKG``; a
   Shapefile's .shp/.shx start with file code 9994 and its .dbf with a dBASE version byte; a CSV is
   text without NUL bytes. A VRT document (XML) therefore never reaches GDAL under any name.
3. **GeoPackage schema** (:func:`check_geopackage`): read with Python's sqlite3 opened read-only and
   immutable, under an authorizer that allows reading only and a progress handler that bounds the
   work; every table GDAL reads must be a plain table (no views anywhere in the file), virtual
   tables only R-trees (the spatial index), and no generated columns. Triggers are allowed: QGIS
   and GDAL write R-tree triggers into every GeoPackage, and a trigger runs only on a write, which
   a read-only open never makes.
4. **Archives** (:func:`extract_shapefile`): members counted, names checked (flat, no ``..``, no
   absolute paths, only the Shapefile's parts), declared sizes summed against the limit before
   anything is written, and the bytes actually inflated counted again while writing (a header can
   lie).

Messages name the client's file name, never the server's path, and quote a value only by its
first characters (:func:`excerpt`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os
import re
import sqlite3
import threading
import zipfile
from collections.abc import Iterable
from pathlib import Path

from geo.errors import TooLarge, UnsafeFile, excerpt

__all__ = [
    "ALLOWED_DRIVERS",
    "SHAPEFILE_PARTS",
    "check_format",
    "check_crs_text",
    "check_geojson",
    "check_geopackage",
    "check_shapefile",
    "extract_shapefile",
    "restrict_gdal_drivers",
]

#: The only GDAL drivers registered in this process.
ALLOWED_DRIVERS = ("GeoJSON", "GPKG", "ESRI Shapefile", "CSV")

#: Files of a Shapefile taken from an archive (anything else in it is ignored, never extracted).
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")

#: SQLite virtual-machine steps allowed for the GeoPackage checks (they read the schema only).
_SQLITE_STEPS = 2_000_000

_restricted = False
_restrict_lock = threading.Lock()


def restrict_gdal_drivers() -> None:
    """Deregister every GDAL driver but :data:`ALLOWED_DRIVERS` (once per process; idempotent)."""
    global _restricted
    if _restricted:
        return
    with _restrict_lock:
        if _restricted:
            return
        import pyogrio  # registers all drivers on import

        libs = sorted(glob.glob(os.path.join(os.path.dirname(pyogrio.__file__) + ".libs", "libgdal*.so*")))
        if not libs:  # a pyogrio built against a system GDAL: the library is found by its soname
            name = ctypes.util.find_library("gdal")
            libs = [name] if name else []
        if not libs:
            raise RuntimeError("cannot find the GDAL library pyogrio uses; refusing to open user files")
        gdal = ctypes.CDLL(libs[0])  # the already-loaded library: dlopen returns the same handle
        gdal.GDALGetDriverCount.restype = ctypes.c_int
        gdal.GDALGetDriver.restype = ctypes.c_void_p
        gdal.GDALGetDriver.argtypes = [ctypes.c_int]
        gdal.GDALGetDriverShortName.restype = ctypes.c_char_p
        gdal.GDALGetDriverShortName.argtypes = [ctypes.c_void_p]
        gdal.GDALDeregisterDriver.argtypes = [ctypes.c_void_p]
        drivers = [gdal.GDALGetDriver(i) for i in range(gdal.GDALGetDriverCount())]
        for driver in drivers:
            if gdal.GDALGetDriverShortName(driver).decode() not in ALLOWED_DRIVERS:
                gdal.GDALDeregisterDriver(driver)
        left = {gdal.GDALGetDriverShortName(gdal.GDALGetDriver(i)).decode()
                for i in range(gdal.GDALGetDriverCount())}
        if not left <= set(ALLOWED_DRIVERS):
            raise RuntimeError(f"GDAL drivers still registered after restricting them: {sorted(left)}")
        _restricted = True


# ---------------------------------------------------------------------------
# Magic bytes
# ---------------------------------------------------------------------------

_DBF_VERSIONS = {0x02, 0x03, 0x04, 0x05, 0x30, 0x31, 0x32, 0x43, 0x63, 0x83, 0x8B, 0xCB, 0xE5, 0xF5, 0xFB}
_GPKG_IDS = {b"GPKG", b"GP10", b"GP11"}


def _head(path: Path, n: int = 512) -> bytes:
    with path.open("rb") as f:
        return f.read(n)


def _refuse(name: str, expected: str, fix: str) -> UnsafeFile:
    return UnsafeFile(f"{name} does not look like {expected}: {fix}", details={"file": name, "expected": expected})


def check_format(path: Path, driver: str, *, name: str | None = None) -> None:
    """Check that a file's bytes are the declared format (the extension's driver).

    Parameters
    ----------
    path : Path
        The file on the server.
    driver : str
        One of :data:`ALLOWED_DRIVERS`.
    name : str, optional
        The file's name as the user knows it (an upload's file name), for messages.

    Raises
    ------
    geo.errors.UnsafeFile
        When the bytes are another format (a VRT or GML document named .geojson, a GeoJSON
        named .gpkg, an SQLite database that is not a GeoPackage...).
    """
    name = name or path.name
    head = _head(path)
    if driver == "GeoJSON":
        text = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
        if not text.lstrip(b" \t\r\n").startswith(b"{"):
            raise _refuse(name, "GeoJSON", "a GeoJSON file is a JSON object ({\"type\": \"FeatureCollection\", "
                                           "...}); save the layer as GeoJSON and upload that file")
    elif driver == "GPKG":
        if not (head.startswith(b"SQLite format 3\x00") and head[68:72] in _GPKG_IDS):
            raise _refuse(name, "a GeoPackage", "a GeoPackage is an SQLite database with the application id "
                                                "'GPKG'; save the layer as GeoPackage (QGIS: Export ▸ Save "
                                                "Features As ▸ GeoPackage) and upload that file")
    elif driver == "ESRI Shapefile":
        suffix = path.suffix.lower()
        ok = (head[:4] == b"\x00\x00\x27\x0a" and int.from_bytes(head[28:32], "little") == 1000) \
            if suffix in (".shp", ".shx") else (len(head) > 0 and head[0] in _DBF_VERSIONS)
        if not ok:
            raise _refuse(name, "a Shapefile", "upload the .shp, .shx, .dbf (and .prj) that QGIS or ArcGIS wrote, "
                                               "zipped together")
    elif driver == "CSV":
        if b"\x00" in head:
            raise _refuse(name, "CSV text", "save it as CSV (UTF-8 or GB18030 text, comma-separated)")
    else:
        raise UnsafeFile(f"{name}: the {driver} format is not accepted; use GeoJSON, GeoPackage, a zipped "
                         "Shapefile or CSV", details={"file": name, "accepted": list(ALLOWED_DRIVERS)})


# ---------------------------------------------------------------------------
# GeoJSON
# ---------------------------------------------------------------------------

#: Most distinct property names a layer may have: a reader makes one field per name for every
#: feature, so names unique to each feature grow the work with the square of the upload.
MAX_FIELDS = 500

#: The only ``crs`` member a GeoJSON file may carry (the 2008 spec's named CRS, as QGIS writes it):
#: an EPSG code or CRS84. A ``link``/``URL`` CRS makes GDAL fetch it; a PROJ string may name files.
_NAMED_CRS = re.compile(r"^(urn:ogc:def:crs:(EPSG:[0-9.]*:\d{1,6}|OGC:1\.3:CRS84)|EPSG:\d{1,6})$", re.I)


def check_geojson(path: Path, *, name: str | None = None) -> None:
    """Check a GeoJSON file before GDAL reads it: a JSON object whose ``crs`` member, if any, names
    an EPSG code or CRS84, with at most :data:`MAX_FIELDS` distinct property names.

    Raises
    ------
    geo.errors.UnsafeFile
        Not JSON; a ``crs`` of another kind (``link``, ``URL``, a PROJ string or WKT); too many
        property names.
    """
    import orjson

    name = name or path.name
    try:
        doc = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as e:
        raise _refuse(name, "GeoJSON", f"it is not valid JSON ({str(e)[:80]}); save the layer as GeoJSON again") \
            from None
    if not isinstance(doc, dict):
        raise _refuse(name, "GeoJSON", "a GeoJSON file is a JSON object; save the layer as GeoJSON")
    crs = doc.get("crs")
    if crs is not None:
        named = crs.get("properties", {}).get("name") if isinstance(crs, dict) and crs.get("type") == "name" \
            and isinstance(crs.get("properties"), dict) else None
        if not (isinstance(named, str) and _NAMED_CRS.match(named.strip())):
            raise UnsafeFile(f"{name}: its 'crs' member is not an EPSG code (GeoJSON is WGS84, RFC 7946; a linked or "
                             "custom CRS is not followed); save the layer as GeoJSON in EPSG:4326, or pass crs= with "
                             "the upload", details={"file": name})
    features = doc.get("features") if doc.get("type") == "FeatureCollection" else [doc]
    fields: set[str] = set()
    for f in features if isinstance(features, list) else ():
        props = f.get("properties") if isinstance(f, dict) else None
        if isinstance(props, dict):
            fields.update(props)
            if len(fields) > MAX_FIELDS:
                raise TooLarge(f"{name}: its features have more than {MAX_FIELDS} distinct property names; keep "
                               "the fields the import reads (code, name, community_code ...) and save again",
                               details={"file": name, "limit": MAX_FIELDS})


# ---------------------------------------------------------------------------
# GeoPackage
# ---------------------------------------------------------------------------

_SQLITE_READ_ACTIONS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION,
                        sqlite3.SQLITE_PRAGMA}
_READ_FUNCTIONS = {"count", "lower", "coalesce"}  # count(*) is SQLITE_FUNCTION "count"
_READ_PRAGMAS = {"table_xinfo"}


def _authorizer(action: int, arg1: str | None, arg2: str | None, db: str | None, trigger: str | None) -> int:
    if action not in _SQLITE_READ_ACTIONS:
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() not in _READ_FUNCTIONS:
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_PRAGMA and (arg1 or "").lower() not in _READ_PRAGMAS:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


#: Words of a CRS definition that make PROJ open a file (datum and geoid grids, init files, PROJ
#: strings smuggled into WKT). A file's CRS is then used only by its EPSG code (geo.io), but GDAL
#: and PROJ parse the definition on open, before that: such a definition is refused first.
_CRS_FILE_WORDS = re.compile(r"parameterfile|extension\s*\[|nadgrids|geoidgrids|\+init|init\s*=|gridshift|"
                             r"tinshift|deformation|proj4_grids|@", re.I)


def check_crs_text(text: str, *, name: str) -> None:
    """Refuse a CRS definition from a file (a .prj, a GeoPackage's gpkg_spatial_ref_sys) that names files."""
    if _CRS_FILE_WORDS.search(text):
        raise UnsafeFile(f"{name}: its CRS definition refers to grid or init files, which are never opened for "
                         "an upload; reproject the layer to EPSG:4326, 4490 or 4547 (no datum grid) and save again",
                         details={"file": name})


_RTREE = re.compile(r'^create virtual table\s+("[^"]*"|\S+)\s+using\s+rtree\s*\(')


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def check_geopackage(path: Path, *, name: str | None = None) -> list[str]:
    """Check a GeoPackage holds plain tables only; returns its feature and attribute layers.

    Raises
    ------
    geo.errors.UnsafeFile
        A view anywhere in the file; a virtual table other than an R-tree index; a generated
        column in any table; a write-ahead log beside the file (SQLite would replay it, this
        check would not see it); a layer whose recorded feature count is not its row count
        (readers size their arrays from it); text that is not UTF-8; a file SQLite cannot read.
    """
    name = name or path.name
    for side in ("-wal", "-journal"):
        if Path(str(path) + side).exists():
            raise UnsafeFile(f"{name} has a {side[1:]} file beside it with changes not written into the file; "
                             "open and save it in QGIS (or run 'PRAGMA wal_checkpoint') and import it again",
                             details={"file": name})
    uri = path.resolve().as_uri() + "?mode=ro&immutable=1"  # as_uri escapes '#', '?' and '%' in the name
    try:
        db = sqlite3.connect(uri, uri=True, isolation_level=None)
    except sqlite3.Error:
        raise _refuse(name, "a GeoPackage", "SQLite cannot open it; save the layer again as GeoPackage") from None
    steps = 0

    def progress() -> int:
        nonlocal steps
        steps += 1
        return 1 if steps * 1000 > _SQLITE_STEPS else 0  # non-zero interrupts the statement

    db.set_progress_handler(progress, 1000)
    db.set_authorizer(_authorizer)
    try:
        schema = db.execute("SELECT type, name, lower(coalesce(sql, '')) FROM sqlite_master").fetchall()
        views = sorted(n for t, n, _ in schema if t == "view")
        if views:
            raise UnsafeFile(
                f"{name} holds views ({excerpt(', '.join(views), chars=60)}): a view runs SQL when read, so "
                "layers must be plain tables; save the layer as a table (QGIS: Export ▸ Save Features As) and "
                "upload that file", details={"file": name, "views": [excerpt(v, chars=60) for v in views[:20]]})
        tables = set()
        for kind, table, sql in schema:
            if kind != "table":
                continue
            if sql.startswith("create virtual table"):
                if not _RTREE.match(sql):
                    raise UnsafeFile(f"{name} holds the virtual table {excerpt(table, chars=60)}: only plain tables "
                                     "and R-tree spatial indexes are read", details={"file": name})
                continue
            tables.add(table)
            generated = [str(c[1]) for c in db.execute(f"PRAGMA table_xinfo({_quoted(table)})") if c[6] in (2, 3)]
            if generated:
                raise UnsafeFile(
                    f"{name}: the table {excerpt(table, chars=60)} has generated columns "
                    f"({excerpt(', '.join(generated), chars=60)}), computed by SQL when read; save the layer "
                    "again with plain columns", details={"file": name})
        if "gpkg_contents" not in tables:
            raise _refuse(name, "a GeoPackage", "it has no gpkg_contents table; save the layer as GeoPackage")
        layers = [str(r[0]) for r in db.execute(
            "SELECT table_name FROM gpkg_contents WHERE lower(data_type) IN ('features', 'attributes')")]
        if "gpkg_spatial_ref_sys" in tables:
            for row in db.execute("SELECT * FROM gpkg_spatial_ref_sys"):  # every text column GDAL may parse
                for value in row:
                    if isinstance(value, str):
                        check_crs_text(value, name=name)
        counts = dict(db.execute("SELECT table_name, feature_count FROM gpkg_ogr_contents").fetchall()) \
            if "gpkg_ogr_contents" in tables else {}
        for layer in layers:
            if layer not in tables:
                raise UnsafeFile(f"{name}: the layer {excerpt(layer, chars=60)} is not a table", details={"file": name})
            if counts.get(layer) is not None:
                rows = db.execute(f"SELECT count(*) FROM {_quoted(layer)}").fetchone()[0]
                if counts[layer] != rows:
                    raise UnsafeFile(f"{name}: gpkg_ogr_contents says the layer has {counts[layer]} features, but it "
                                     f"holds {rows}; save the layer again", details={"file": name})
        return layers
    except UnicodeDecodeError:
        raise UnsafeFile(f"{name}: its schema holds text that is not UTF-8; save the layer again as GeoPackage",
                         details={"file": name}) from None
    except sqlite3.DatabaseError as e:
        if "interrupted" in str(e) or "not authorized" in str(e):
            raise UnsafeFile(f"{name}: its schema could not be checked within the work allowed", details={
                "file": name}) from None
        raise _refuse(name, "a GeoPackage", "SQLite cannot read it; save the layer again as GeoPackage") from None
    finally:
        db.close()


def check_shapefile(shp: Path, *, name: str) -> None:
    """Check a Shapefile's record counts are backed by its bytes: the .shx's count (from its length)
    equals the .dbf's, and the .shp and .dbf are long enough for that many records (readers size
    their arrays from the counts: a 3 KB zip once declared 200,000 records of 100 text fields)."""
    shx, dbf = shp.with_suffix(".shx"), shp.with_suffix(".dbf")
    if not (shx.is_file() and dbf.is_file()):
        raise UnsafeFile(f"{name}: a Shapefile needs its .shp, .shx and .dbf together", details={"file": name})
    prj = shp.with_suffix(".prj")
    if prj.is_file():
        if prj.stat().st_size > 64 * 1024:
            raise UnsafeFile(f"{name}: its .prj is larger than any CRS definition", details={"file": name})
        check_crs_text(prj.read_bytes().decode("utf-8", "replace"), name=name)
    records = (shx.stat().st_size - 100) // 8
    head = _head(dbf, 12)
    dbf_records = int.from_bytes(head[4:8], "little")
    header_len, record_len = int.from_bytes(head[8:10], "little"), int.from_bytes(head[10:12], "little")
    if dbf_records != records or dbf.stat().st_size < header_len + dbf_records * record_len \
            or shp.stat().st_size < 100 + records * 12:
        raise UnsafeFile(f"{name}: its .shx, .dbf and .shp do not agree on how many records it holds; save the "
                         "layer again (QGIS: Export ▸ Save Features As ▸ ESRI Shapefile)", details={"file": name})


# ---------------------------------------------------------------------------
# Archives
# ---------------------------------------------------------------------------

def _member_name(raw: str) -> str | None:
    """The flat file name of a safe member, or None for one that points elsewhere."""
    if "\\" in raw or raw.startswith("/") or (len(raw) > 1 and raw[1] == ":"):
        return None
    parts = [p for p in raw.split("/") if p not in ("", ".")]
    if len(parts) != 1 or parts[0] == "..":
        return None
    return parts[0]


def extract_shapefile(archive: Path, folder: Path, *, name: str, max_total_bytes: int, max_members: int,
                      parts: Iterable[str] = SHAPEFILE_PARTS) -> Path:
    """Extract the one Shapefile at the top of a zip into *folder*, within bounds; returns its .shp.

    Raises
    ------
    geo.errors.TooLarge
        More members than ``max_members``, or more than ``max_total_bytes`` uncompressed (counted
        from the headers first, then from the bytes actually inflated).
    geo.errors.UnsafeFile
        Not a zip; a Shapefile part whose name leaves the folder (``..``, absolute paths); not
        exactly one .shp at the top level; a part in another format than it says.
    """
    if _head(archive, 4) != b"PK\x03\x04":
        raise _refuse(name, "a zip archive", "zip the Shapefile's .shp, .shx, .dbf and .prj together and upload the "
                                             ".zip")
    try:
        z = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError):
        raise _refuse(name, "a zip archive", "the archive is damaged; zip the Shapefile again") from None
    wanted = tuple(parts)
    with z:
        infos = z.infolist()
        if len(infos) > max_members:
            raise TooLarge(f"{name} holds {len(infos):,} files; the limit is {max_members:,} "
                           "(GRIDMAP_UPLOAD_MAX_ARCHIVE_MEMBERS): zip only the Shapefile's parts",
                           details={"members": len(infos), "limit": max_members})
        chosen: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            if info.is_dir() or not info.filename.lower().endswith(wanted):
                continue  # not a Shapefile part: never extracted
            flat = _member_name(info.filename)
            if flat is None:
                raise UnsafeFile(f"{name} has a member whose path leaves the archive's folder "
                                 f"({excerpt(info.filename, chars=40)}): zip the Shapefile's parts at the top level",
                                 details={"file": name})
            if flat.lower() in chosen:
                raise UnsafeFile(f"{name} holds {excerpt(flat, chars=40)} twice", details={"file": name})
            chosen[flat.lower()] = info
        shps = [k for k in chosen if k.endswith(".shp")]
        if len(shps) != 1:
            raise UnsafeFile(f"a zipped Shapefile must hold exactly one .shp at its top level, found {len(shps)}",
                             details={"file": name})
        stem = shps[0][: -len(".shp")]
        chosen = {k: v for k, v in chosen.items() if k[: -len(Path(k).suffix)] == stem}
        declared = sum(i.file_size for i in chosen.values())
        if declared > max_total_bytes:
            raise _too_big(name, declared, max_total_bytes)
        folder.mkdir(parents=True, exist_ok=True)
        written = 0
        for key, info in chosen.items():
            target = folder / ("upload" + Path(key).suffix)  # our name, never the archive's
            try:
                with z.open(info) as src, target.open("wb") as out:
                    while chunk := src.read(1 << 20):
                        written += len(chunk)
                        if written > max_total_bytes:
                            raise _too_big(name, written, max_total_bytes)
                        out.write(chunk)
            except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError, RuntimeError):
                raise UnsafeFile(f"{name}: the member {excerpt(info.filename, chars=40)} cannot be unpacked "
                                 "(damaged, encrypted or its sizes do not match); zip the Shapefile again",
                                 details={"file": name}) from None
    for part in folder.iterdir():
        if part.suffix in (".shp", ".shx", ".dbf"):
            check_format(part, "ESRI Shapefile", name=f"{name} ({part.suffix})")
    return folder / "upload.shp"


def _too_big(name: str, size: int, limit: int) -> TooLarge:
    return TooLarge(f"{name} would unpack to more than {limit:,} bytes (GRIDMAP_UPLOAD_MAX_UNZIPPED_BYTES); "
                    "a Shapefile of a town's grids is a few MB: zip only its .shp, .shx, .dbf and .prj",
                    details={"limit": limit, "at_least": size})
