"""The vector formats gridmap reads and writes, the bookkeeping columns of a read, and GDAL's messages.

One file extension, one GDAL driver (:data:`FORMATS`, :func:`format_of`); the columns
:func:`geo.io.read.read_features` adds (:data:`FEATURE_INDEX`, :data:`GEOMETRY_ERROR`) and
:mod:`geo.io.csv` writes (:data:`WKT_COLUMN`); :func:`gdal_reason` turns a reader's complaint into a
message that never carries the server's path.
"""

from __future__ import annotations

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
