"""Vector import and export: GeoJSON, GeoPackage, Shapefile and CSV.

Reading always lands in WGS84 (EPSG:4326), 2-D, with a ``feature_index``
column (0-based position in the source), and never fails on a bad feature:
features whose geometry cannot even be parsed come back with a null geometry
and their reason in the ``_geometry_error`` column. :func:`validate_features`
then reports every problem at once, so an importer can do::

    gdf = read_features(path, crs="gcj02")
    problems = validate_features(gdf, geometry_types={"Polygon", "MultiPolygon"})
    if problems and not skip_invalid:
        raise BadInput(...)            # nothing imported
    bad = {p.index for p in problems}
    good = gdf[~gdf["feature_index"].isin(bad)]

CRS: GeoJSON is WGS84 (RFC 7946); CSV is WGS84 unless told; other formats
use the file's CRS. The ``crs`` argument declares (overrides) the source CRS:
``wgs84``, ``cgcs2000``, ``gcj02``, ``bd09`` or ``EPSG:n``
(GCJ-02/BD-09 through :mod:`geo.crs`, since PROJ has no definition).

The package's modules: :mod:`geo.io.formats` (extensions and drivers, the bookkeeping columns),
:mod:`geo.io.read` (:func:`read_features`), :mod:`geo.io.csv` (CSV in and out),
:mod:`geo.io.validate` (:func:`validate_features`) and :mod:`geo.io.write` (:func:`write_features`).
Import from the package (``from geo.io import read_features``): the names below are its API.

Examples
--------
>>> import tempfile, pathlib, geopandas as gpd
>>> from shapely import Point
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> src = gpd.GeoDataFrame({"name": ["宁丰社区"]}, geometry=[Point(113.1, 40.05)], crs=4326)
>>> _ = write_features(src, d / "a.csv", crs="gcj02")
>>> back = read_features(d / "a.csv", crs="gcj02")
>>> back.loc[0, "name"], round(back.geometry[0].x, 6), round(back.geometry[0].y, 6)
('宁丰社区', 113.1, 40.05)
>>> validate_features(back, geometry_types={"Point"})
[]
"""

from __future__ import annotations

from geo.io.formats import FEATURE_INDEX, FORMATS, GEOMETRY_ERROR, WKT_COLUMN, format_of
from geo.io.read import read_features
from geo.io.validate import FeatureProblem, validate_features
from geo.io.write import write_features

__all__ = [
    "FEATURE_INDEX",
    "FORMATS",
    "GEOMETRY_ERROR",
    "WKT_COLUMN",
    "FeatureProblem",
    "format_of",
    "read_features",
    "validate_features",
    "write_features",
]
