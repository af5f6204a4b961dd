"""Helpers of the geo.io tests: geodesic metres, comparing a read-back layer with what was written, GeoJSON
features and squares to write test files with."""

from __future__ import annotations

import geopandas as gpd
from pyproj import Geod
from shapely import MultiPolygon, Point
from shapely.testing import assert_geometries_equal

from geo.io import FEATURE_INDEX

GEOD = Geod(ellps="WGS84")
#: The four formats, by extension.
FORMATS = ["geojson", "gpkg", "shp", "csv"]


def metres(a: Point, b: Point) -> float:
    return abs(GEOD.inv(a.x, a.y, b.x, b.y)[2])


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


def feature(geometry, i):
    return {"type": "Feature", "properties": {"name": f"grid {i}"}, "geometry": geometry}


def square(x, y, d=0.001):
    return {"type": "Polygon", "coordinates": [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]]}


#: Debian's GDAL command line tools (gdal-bin, GDAL 3.6 on Debian 12: what QGIS 3.22 there reads with),
#: not the newer GDAL bundled in pyogrio's wheel.
OGRINFO = "/usr/bin/ogrinfo"


def ogrinfo(*args: str):
    """Run Debian's ``ogrinfo`` read-only; the CompletedProcess (text, stdout and stderr apart)."""
    import os
    import subprocess

    assert os.access(OGRINFO, os.X_OK), "Debian's gdal-bin is needed: scripts/bootstrap.sh test installs it"
    return subprocess.run([OGRINFO, "-ro", *args], capture_output=True, text=True, errors="replace", check=True,
                          env={**os.environ, "LC_ALL": "C.UTF-8"})


def gdal_complaints(stderr: str) -> list[str]:
    """The lines of GDAL's stderr that are a warning or an error."""
    return [line for line in stderr.splitlines() if "warning" in line.lower() or "error" in line.lower()]


def dbf_field_names(dbf) -> list[str]:
    """The field names in a .dbf header, read byte by byte (32-byte descriptors after the 32-byte header)."""
    from pathlib import Path

    data = Path(dbf).read_bytes()
    header_len = int.from_bytes(data[8:10], "little")
    names = []
    for at in range(32, header_len - 1, 32):
        if data[at] == 0x0D:
            break
        names.append(data[at:at + 11].split(b"\0")[0].decode("ascii"))
    return names
