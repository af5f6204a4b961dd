"""Writing features: GeoJSON (RFC 7946 in lon/lat), GeoPackage and Shapefile through pyogrio, CSV through
:mod:`geo.io.csv`, in any accepted CRS (GCJ-02/BD-09 through :mod:`geo.crs`)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio

from geo.crs import BD09, GCJ02, WGS84, from_wgs84_geometry, is_geographic, parse_crs
from geo.errors import BadInput
from geo.io.csv import write_csv
from geo.io.formats import FEATURE_INDEX, GEOMETRY_ERROR, format_of


def write_features(
    gdf: gpd.GeoDataFrame,
    path: Path,
    *,
    crs: str = "wgs84",
    layer: str | None = None,
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
        GeoPackage layer name (default: the file's stem).

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
    """
    path = Path(path)
    driver = format_of(path)
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
    if driver == "ESRI Shapefile":
        kwargs["encoding"] = "UTF-8"
    try:
        pyogrio.write_dataframe(out, path, driver=driver, **kwargs)
    except Exception as e:
        raise BadInput(f"cannot write {path.name}: {e}", details={"path": str(path)}) from None
    return path


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
