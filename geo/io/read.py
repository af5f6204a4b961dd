"""Reading vector files into WGS84: GeoJSON, GeoPackage and Shapefile through pyogrio, CSV through
:mod:`geo.io.csv`, every file first through the checks of :mod:`geo.file_safety`.

A read keeps every feature: one whose geometry cannot be parsed, or whose source coordinates are out
of lon/lat range, keeps its row with the reason in ``_geometry_error``. A file's CRS reaches PROJ only
as the EPSG code it is.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely
from pyogrio import raw as pyogrio_raw

from geo.crs import BD09, GCJ02, WGS84, is_geographic, parse_crs, to_wgs84_geometry
from geo.errors import BadCRS, BadInput, excerpt
from geo.file_safety import check_format, check_geojson, check_geopackage, check_shapefile, restrict_gdal_drivers
from geo.io.csv import read_csv
from geo.io.formats import FEATURE_INDEX, GEOMETRY_ERROR, format_of, gdal_reason
from geo.io.validate import range_errors
from geo.validation import diagnose


def read_features(
    path: Path,
    *,
    crs: str | None = None,
    layer: str | None = None,
    lon_column: str = "lon",
    lat_column: str = "lat",
    name: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a vector file into a WGS84 GeoDataFrame, keeping every feature.

    The file is treated as hostile (:mod:`geo.file_safety`): only the GeoJSON, GPKG, ESRI
    Shapefile and CSV drivers exist, its bytes must be the format its extension says, and a
    GeoPackage must hold plain tables only.

    Parameters
    ----------
    path : Path
        ``.geojson``/``.json``, ``.gpkg``, ``.shp`` or ``.csv``.
    crs : str, optional
        The source CRS (``wgs84``, ``cgcs2000``, ``gcj02``, ``bd09``,
        ``EPSG:n``), overriding what the file says. None: the file's CRS
        (GeoJSON and CSV: WGS84).
    layer : str, optional
        Layer of a multi-layer file (GeoPackage). Required when there are several.
    lon_column, lat_column : str
        CSV columns with the coordinates (case-insensitive; with the defaults,
        ``lng``/``longitude``/``x``/``经度`` and ``latitude``/``y``/``纬度`` are
        found too). A CSV with a ``geometry_wkt`` column is read from the WKT.
    name : str, optional
        The file's name as the user knows it (an upload's file name) for messages; default the
        path's name. Messages never carry the server's path.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, 2-D geometries (z dropped), a ``feature_index`` column and a
        default RangeIndex. Features whose geometry could not be parsed or whose
        source coordinates are out of lon/lat range keep a row, with the reason
        in ``_geometry_error`` (that column exists only when needed). CSV
        coordinate columns are consumed into the geometry and dropped.
        ``attrs["source_geometry_type"]`` is the layer's declared geometry type
        (e.g. ``"Polygon Z"``; None for CSV).

    Raises
    ------
    geo.errors.UnsafeFile
        Bytes that are not the declared format, a GeoPackage with views or generated columns.
    geo.errors.BadInput
        Missing file, unsupported type, unknown layer, CSV without coordinate columns.
    geo.errors.BadCRS
        Bad ``crs``, or a file with no CRS whose coordinates are not lon/lat.
    """
    path = Path(path)
    driver = format_of(path)
    if not path.exists():
        raise BadInput(f"file not found: {path}", details={"path": str(path)})
    name = name or path.name
    check_file(path, driver=driver, name=name)
    src_crs = parse_crs(crs) if crs is not None else None
    if driver == "CSV":
        gdf, errors = read_csv(path, lon_column=lon_column, lat_column=lat_column, name=name)
        file_crs = WGS84
    else:
        gdf, errors = _read_vector(path, layer=layer, name=name)
        file_crs = gdf.crs
        if file_crs is None and driver == "GeoJSON":
            file_crs = WGS84
    source = src_crs if src_crs is not None else _registered(file_crs, name)
    if source is None:
        source = _guess_lonlat(gdf, name)
    try:
        gdf = _to_wgs84(gdf, source, errors)
    except (pyproj.exceptions.ProjError, pyproj.exceptions.CRSError):
        raise BadCRS(f"{name}: its coordinates cannot be converted to WGS84 from {source}; reproject the layer "
                     "to EPSG:4326, 4490 or 4547, or pass the CRS they are in with crs=", details={"file": name}) \
            from None
    gdf[FEATURE_INDEX] = np.arange(len(gdf), dtype=np.int64)
    if any(e is not None for e in errors):
        gdf[GEOMETRY_ERROR] = pd.Series(errors, index=gdf.index, dtype=object)
    return gdf


def check_file(path: Path, *, driver: str, name: str) -> None:
    """The checks of :mod:`geo.file_safety` for one file about to be opened with *driver*."""
    restrict_gdal_drivers()
    if not path.is_file():
        raise BadInput(f"{name} is not a file", details={"file": name})
    if driver == "ESRI Shapefile":
        for part in (path, path.with_suffix(".shx"), path.with_suffix(".dbf")):
            if part.exists():
                check_format(part, driver, name=f"{name} ({part.suffix})")
        check_shapefile(path, name=name)
    else:
        check_format(path, driver, name=name)
    if driver == "GPKG":
        check_geopackage(path, name=name)
    elif driver == "GeoJSON":
        check_geojson(path, name=name)


def _registered(crs: pyproj.CRS | str | None, name: str) -> str | None:
    """A file's CRS as the EPSG code it is (``"EPSG:n"``), so no definition from the file reaches PROJ:
    a WKT or PROJ string may carry a datum grid (``+nadgrids=``, ``PARAMETERFILE``) that PROJ would
    open, any path the file names. A CRS with no EPSG code is refused."""
    if crs is None or isinstance(crs, str):
        return crs
    try:
        code = None if crs.is_bound else crs.to_2d().to_epsg(min_confidence=70)  # 3-D GeoJSON reads as EPSG:4979
    except pyproj.exceptions.CRSError:
        code = None
    if code is None:
        raise BadCRS(f"{name}: its CRS ({crs.name[:40]!r}) is not a registered EPSG coordinate reference system; "
                     "reproject the layer to EPSG:4326, 4490 or 4547 and save again, or pass the CRS with crs=",
                     details={"file": name})
    return WGS84 if code == 4326 else f"EPSG:{code}"


def _read_vector(path: Path, *, layer: str | None, name: str) -> tuple[gpd.GeoDataFrame, list[str | None]]:
    try:
        layers = [str(n) for n, _ in pyogrio.list_layers(path)]
    except Exception as e:  # pyogrio.errors.DataSourceError and friends
        raise BadInput(f"cannot open {name}: {gdal_reason(e, path, name)}", details={"file": name}) from None
    if layer is None and len(layers) > 1:
        raise BadInput(
            f"{name} has {len(layers)} layers ({', '.join(layers)[:200]}); say which one with layer=",
            details={"layers": layers[:100]},
        )
    if layer is not None and layer not in layers:
        raise BadInput(
            f"{name} has no layer {excerpt(layer)}; its layers are: {', '.join(layers)[:200]}",
            details={"layers": layers[:100]},
        )
    try:
        info = pyogrio.read_info(path, layer=layer)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            gdf = pyogrio.read_dataframe(path, layer=layer, on_invalid="ignore", force_2d=True)
    except Exception as e:  # a damaged file
        raise BadInput(f"cannot read {name}: {gdal_reason(e, path, name)}", details={"file": name}) from None
    if not isinstance(gdf, gpd.GeoDataFrame):  # a table without geometry
        raise BadInput(f"{name} has no geometry column", details={"file": name})
    gdf.attrs["source_geometry_type"] = info.get("geometry_type")
    gdf = gdf.reset_index(drop=True)
    if gdf.geometry.name != "geometry":
        gdf = gdf.rename_geometry("geometry")
    errors: list[str | None] = [None] * len(gdf)
    missing = np.flatnonzero(shapely.is_missing(np.asarray(gdf.geometry.values)))
    if len(missing):
        # Null in the file, or present but unparseable? Look at the raw WKB.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            _, _, wkb, _ = pyogrio_raw.read(path, layer=layer, columns=[])
        for i in missing:
            if wkb[i] is not None:
                problem = diagnose(bytes(wkb[i]))
                errors[i] = problem.message if problem else "the geometry could not be read"
    return gdf, errors


def _guess_lonlat(gdf: gpd.GeoDataFrame, name: str) -> str:
    """A file without a CRS: fine as WGS84 when its coordinates look like lon/lat."""
    geoms = np.asarray(gdf.geometry.values)
    coords = shapely.get_coordinates(geoms)
    finite = coords[np.isfinite(coords).all(axis=1)]
    if len(finite) == 0 or (
        np.all(np.abs(finite[:, 0]) <= 180) and np.all(np.abs(finite[:, 1]) <= 90)
    ):
        return WGS84
    raise BadCRS(
        f"{name} has no CRS and its coordinates are not longitude/latitude "
        f"(e.g. {finite[0, 0]:.1f}, {finite[0, 1]:.1f}); pass the CRS they are in, "
        "e.g. crs='EPSG:4547'",
        details={"file": name},
    )


def _to_wgs84(gdf: gpd.GeoDataFrame, source, errors: list[str | None]) -> gpd.GeoDataFrame:
    """Convert from *source* (a parse_crs name, or the file's pyproj CRS) to WGS84."""
    geoms = np.asarray(gdf.geometry.values)
    if isinstance(source, str):
        geographic = is_geographic(source)
    else:
        geographic = bool(source.is_geographic)
        if source.to_epsg() == 4326:
            source = WGS84
    if geographic:
        range_errors(geoms, errors)
    if source in (GCJ02, BD09):
        out = to_wgs84_geometry(geoms, crs=source)
        result = gpd.GeoDataFrame(
            gdf.drop(columns=gdf.geometry.name),
            geometry=gpd.GeoSeries(out, index=gdf.index),
            crs=WGS84,
        )
    elif source == WGS84:
        result = gdf.set_crs(WGS84, allow_override=True)
    else:
        with np.errstate(invalid="ignore", over="ignore"):
            result = gdf.set_crs(source, allow_override=True).to_crs(WGS84)
    if result.geometry.name != "geometry":
        result = result.rename_geometry("geometry")
    return result
