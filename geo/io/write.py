"""Writing features: GeoJSON (RFC 7946 in lon/lat), GeoPackage and Shapefile through pyogrio, CSV through
:mod:`geo.io.csv`, in any accepted CRS (GCJ-02/BD-09 through :mod:`geo.crs`).

GeoPackages are written as version 1.2 (``VERSION=1.2``), the version GDAL 3.6 writes and reads
without a warning: the bundled newer GDAL would write 1.4, which GDAL 3.6 (QGIS 3.22 on Debian 12)
opens with "user_version ... may only be partially supported". Shapefiles get the field names of
:mod:`geo.io.shapefile_names`, never GDAL's laundered ones, and their attributes in UTF-8 or GBK
(:data:`geo.io.formats.SHAPEFILE_ENCODINGS`) with the matching ``.cpg``.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from geo.crs import BD09, GCJ02, WGS84, from_wgs84_geometry, is_geographic, parse_crs
from geo.errors import BadInput
from geo.messages import Msg
from geo.io.csv import write_csv
from geo.io.formats import (DBF_MAX_STRING_BYTES, FEATURE_INDEX, GEOMETRY_ERROR, GPKG_VERSION, ShapefileEncoding,
                             encoding_for, format_of)
from geo.io.shapefile_names import short_names


def write_features(
    gdf: gpd.GeoDataFrame,
    path: Path,
    *,
    crs: str = "wgs84",
    layer: str | None = None,
    encoding: str = "utf-8",
) -> Path:
    """Write features to GeoJSON, GeoPackage, Shapefile or CSV.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Features in WGS84 (a GeoDataFrame without a CRS is taken as WGS84; any
        other CRS is converted first).
    path : Path
        Output file; the extension chooses the format. An existing file is
        replaced (in a GeoPackage: the layer).
    crs : str, default ``"wgs84"``
        Output coordinates: ``wgs84``, ``cgcs2000``, ``gcj02``, ``bd09`` or
        ``EPSG:n``. GCJ-02/BD-09 files are labelled EPSG:4326, since no CRS
        code exists for them (that is what Amap/Baidu tools expect).
    layer : str, optional
        GeoPackage layer name (default: the file's stem). For a Shapefile, the gridmap layer whose
        short field names (:data:`geo.io.shapefile_names.SHAPEFILE_FIELDS`) are written.
    encoding : str, default ``"utf-8"``
        Shapefile attributes: ``utf-8`` (``.cpg`` ``UTF-8``) or ``gbk`` (``.cpg`` ``CP936`` and
        the DBF language driver id 0x4D, code page 936). Other formats are UTF-8 only.

    Returns
    -------
    Path
        *path*.

    Notes
    -----
    GeoJSON in WGS84/GCJ-02/BD-09 is written as RFC 7946 (coordinates rounded
    to 8 decimals, about 1 mm; counter-clockwise exterior rings). CSV has the
    properties, then ``lon``, ``lat`` (``x``, ``y`` for a projected CRS) for
    points; for other geometries a ``geometry_wkt`` column and the centroid's
    ``lon``/``lat``. CSV is UTF-8. ``feature_index`` and ``_geometry_error`` are
    import bookkeeping and are not written.

    Raises
    ------
    geo.errors.BadInput
        ``encoding`` other than utf-8 for a format other than Shapefile; a Shapefile of mixed
        geometry kinds (points and polygons); a text value GBK cannot encode (naming the feature,
        the field and the character) or longer than a DBF field holds (254 bytes). Nothing is
        written then.
    """
    path = Path(path)
    driver = format_of(path)
    enc = encoding_for(path, encoding)
    out = _prepare(gdf, crs)
    target = parse_crs(crs)
    if driver == "CSV":
        write_csv(out, path, projected=not is_geographic(target))
        return path
    if path.exists() and driver != "GPKG":
        _remove_dataset(path, driver)
    kwargs: dict = {}
    if driver == "GeoJSON" and target in (WGS84, GCJ02, BD09):
        # 8 decimals (~1 mm), the precision grids are stored at: a file read back gives the same grids
        kwargs["layer_options"] = {"RFC7946": "YES", "COORDINATE_PRECISION": "8"}
    if driver == "GPKG":
        kwargs["layer"] = layer or path.stem
        kwargs["dataset_options"] = {"VERSION": GPKG_VERSION}
    if driver == "ESRI Shapefile":
        _check_shapefile(out, path, layer=layer, encoding=enc)
        out = out.rename(columns=short_names([c for c in out.columns if c != out.geometry.name], layer=layer))
        kwargs["encoding"] = enc.cpg
    try:
        pyogrio.write_dataframe(out, path, driver=driver, **kwargs)
    except Exception as e:
        raise BadInput(f"cannot write {path.name}: {e}", details={"path": str(path)}) from None
    if driver == "ESRI Shapefile" and enc.ldid:
        _set_language_driver(path.with_suffix(".dbf"), enc.ldid)
    return path


def _check_shapefile(gdf: gpd.GeoDataFrame, path: Path, *, layer: str | None, encoding: ShapefileEncoding) -> None:
    """What a Shapefile cannot hold, refused before anything is written: more than one kind of geometry,
    text the encoding has no bytes for (GDAL would drop the character with a warning), text over the
    254 bytes of a DBF field (GDAL would cut it)."""
    kinds = {_KIND.get(t, t) for t in gdf.geometry.geom_type.dropna().unique()}
    if len(kinds) > 1:
        raise BadInput.say("export.mixed_geometries", file=path.name, layer=layer or "this layer",
                           kinds=" and ".join(sorted(kinds)), details={"file": path.name, "geometries": sorted(kinds)})
    label = "code" if "code" in gdf.columns else None
    for column in gdf.columns:
        if column == gdf.geometry.name or not (pd.api.types.is_object_dtype(gdf[column])
                                                or pd.api.types.is_string_dtype(gdf[column])):
            continue
        for i, value in enumerate(gdf[column]):
            if not isinstance(value, str):
                continue
            try:
                size = len(value.encode(encoding.python))
            except UnicodeEncodeError as e:
                char = value[e.start]
                raise BadInput.say(
                    "export.cannot_encode", feature=_feature(gdf, i, label), column=column, value=value[:12],
                    char=char, point=f"U+{ord(char):04X}", encoding=encoding.name.upper(),
                    details={"feature": i, "code": _code(gdf, i, label), "field": column,
                             "character": f"U+{ord(char):04X}", "encoding": encoding.name}) from None
            if size > DBF_MAX_STRING_BYTES:
                raise BadInput.say(
                    "export.field_too_long", feature=_feature(gdf, i, label), column=column, size=size,
                    encoding=encoding.name.upper(), limit=DBF_MAX_STRING_BYTES,
                    details={"feature": i, "code": _code(gdf, i, label), "field": column, "bytes": size})


_KIND = {"MultiPolygon": "Polygon", "MultiLineString": "LineString", "MultiPoint": "Point"}


def _code(gdf: gpd.GeoDataFrame, i: int, label: str | None) -> str | None:
    return None if label is None or gdf[label].iloc[i] is None else str(gdf[label].iloc[i])


def _feature(gdf: gpd.GeoDataFrame, i: int, label: str | None) -> Msg:
    code = _code(gdf, i, label)
    return Msg("export.feature_code", i=i, label=label, code=code) if code else Msg("export.feature", i=i)


def _set_language_driver(dbf: Path, ldid: int) -> None:
    """The DBF header's language driver id (byte 29), for readers that look at it and not at the .cpg."""
    with dbf.open("r+b") as f:
        f.seek(29)
        f.write(bytes([ldid]))


def _prepare(gdf: gpd.GeoDataFrame, crs: str) -> gpd.GeoDataFrame:
    target = parse_crs(crs)
    out = gdf.drop(columns=[c for c in (FEATURE_INDEX, GEOMETRY_ERROR) if c in gdf.columns])
    if out.crs is None:
        out = out.set_crs(WGS84)
    elif out.crs.to_epsg() != 4326:
        out = out.to_crs(WGS84)
    if target in (GCJ02, BD09):
        geoms = from_wgs84_geometry(np.asarray(out.geometry.values), crs=target)
        out = out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=WGS84))
    elif target != WGS84:
        out = out.to_crs(target)
    return out


def _remove_dataset(path: Path, driver: str) -> None:
    if driver == "ESRI Shapefile":
        for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx"):
            p = path.with_suffix(ext)
            if p.exists():
                p.unlink()
    else:
        path.unlink()
