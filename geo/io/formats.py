"""The vector formats gridmap reads and writes, the bookkeeping columns of a read, and GDAL's messages.

One file extension, one GDAL driver (:data:`FORMATS`, :func:`format_of`); the columns
:func:`geo.io.read.read_features` adds (:data:`FEATURE_INDEX`, :data:`GEOMETRY_ERROR`) and
:mod:`geo.io.csv` writes (:data:`WKT_COLUMN`); :func:`gdal_reason` turns a reader's complaint into a
message that never carries the server's path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from geo.errors import BadInput

#: Column holding the 0-based position of each feature in its source file.
FEATURE_INDEX = "feature_index"
#: Column holding why a geometry could not be parsed (only present when one could not).
GEOMETRY_ERROR = "_geometry_error"
#: CSV column with WKT geometry, written for non-point features.
WKT_COLUMN = "geometry_wkt"

#: File extension -> GDAL driver.
FORMATS = {
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gpkg": "GPKG",
    ".shp": "ESRI Shapefile",
    ".csv": "CSV",
}


#: The GeoPackage version written: what GDAL 3.6 (QGIS 3.22 on Debian 12) reads without a warning.
GPKG_VERSION = "1.2"
#: The longest text a DBF field holds, in bytes of the file's encoding.
DBF_MAX_STRING_BYTES = 254


@dataclass(frozen=True)
class ShapefileEncoding:
    """An encoding of Shapefile attributes: its name in gridmap, Python's codec, the ``.cpg`` text and
    the DBF language driver id (0: none written)."""

    name: str
    python: str
    cpg: str
    ldid: int


#: Shapefile attribute encodings: ``utf-8`` (the default; ``.cpg`` ``UTF-8``) and ``gbk`` (``.cpg``
#: ``CP936``, which GDAL and QGIS read, and language driver 0x4D = code page 936 for readers that
#: look at the DBF header only).
SHAPEFILE_ENCODINGS = {
    "utf-8": ShapefileEncoding("utf-8", "utf-8", "UTF-8", 0),
    "gbk": ShapefileEncoding("gbk", "gbk", "CP936", 0x4D),
}


def shapefile_encoding(name: str) -> ShapefileEncoding:
    """``utf-8`` (or ``utf8``) and ``gbk`` (or ``cp936``), any case.

    Examples
    --------
    >>> shapefile_encoding("GBK").cpg, shapefile_encoding("utf8").cpg
    ('CP936', 'UTF-8')
    """
    key = {"utf8": "utf-8", "cp936": "gbk"}.get(name.strip().lower(), name.strip().lower())
    if key not in SHAPEFILE_ENCODINGS:
        raise BadInput(f"unknown encoding {name[:12]!r}: use utf-8 or gbk (CP936)",
                       details={"encoding": name[:12], "supported": sorted(SHAPEFILE_ENCODINGS)})
    return SHAPEFILE_ENCODINGS[key]


def encoding_for(path: Path | str, encoding: str) -> ShapefileEncoding:
    """The attribute encoding of a file to be written: any of :data:`SHAPEFILE_ENCODINGS` for a Shapefile,
    UTF-8 only for the other formats (GeoJSON and GeoPackage are UTF-8 by definition; CSV is written as UTF-8)."""
    enc = shapefile_encoding(encoding)
    if enc.name != "utf-8" and format_of(path) != "ESRI Shapefile":
        raise BadInput(f"encoding={encoding} is for Shapefiles only: {Path(path).suffix} files are always UTF-8; "
                       "leave encoding out, or export to .shp", details={"encoding": encoding, "file": Path(path).name})
    return enc


def format_of(path: Path | str) -> str:
    """The GDAL driver for a path, from its extension.

    Raises
    ------
    geo.errors.BadInput
        For an unsupported extension.

    Examples
    --------
    >>> format_of("grids.gpkg"), format_of("Grids.GeoJSON")
    ('GPKG', 'GeoJSON')
    """
    ext = Path(path).suffix.lower()
    try:
        return FORMATS[ext]
    except KeyError:
        raise BadInput(
            f"unsupported file type {ext or '(no extension)'!r} for {Path(path).name}; "
            "use .geojson/.json, .gpkg, .shp or .csv",
            details={"file": Path(path).name, "supported": sorted(FORMATS)},
        ) from None


def gdal_reason(e: Exception, path: Path, name: str) -> str:
    """GDAL's complaint, without the server's path, cut to one short line."""
    text = str(e).splitlines()[0] if str(e) else type(e).__name__
    for p in (str(path), str(path.parent)):
        text = text.replace(p, name)
    return text[:160]
