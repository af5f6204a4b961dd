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

import re
import warnings
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely
from pyogrio import raw as pyogrio_raw

from geo.crs import (
    BD09,
    GCJ02,
    WGS84,
    from_wgs84_geometry,
    is_geographic,
    lonlat_problem,
    parse_crs,
    to_wgs84_geometry,
)
from geo.errors import BadCRS, BadInput, excerpt
from geo.file_safety import check_format, check_geojson, check_geopackage, check_shapefile, restrict_gdal_drivers
from geo.validation import diagnose

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

# shapely.get_type_id -> name
_TYPE_NAMES = (
    "Point",
    "LineString",
    "LinearRing",
    "Polygon",
    "MultiPoint",
    "MultiLineString",
    "MultiPolygon",
    "GeometryCollection",
)

_LON_ALIASES = ("lon", "lng", "long", "longitude", "x", "经度")
_LAT_ALIASES = ("lat", "latitude", "y", "纬度")


@dataclass(frozen=True)
class FeatureProblem:
    """A feature that cannot be imported.

    Attributes
    ----------
    index : int
        The feature's 0-based position in the source file (``feature_index``).
    reason : str
        What is wrong and how to fix it.
    """

    index: int
    reason: str

    def as_dict(self) -> dict:
        return {"index": self.index, "reason": self.reason}


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


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------


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
        gdf, errors = _read_csv(path, lon_column=lon_column, lat_column=lat_column, name=name)
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


def _gdal_reason(e: Exception, path: Path, name: str) -> str:
    """GDAL's complaint, without the server's path, cut to one short line."""
    text = str(e).splitlines()[0] if str(e) else type(e).__name__
    for p in (str(path), str(path.parent)):
        text = text.replace(p, name)
    return text[:160]


def _read_vector(path: Path, *, layer: str | None, name: str) -> tuple[gpd.GeoDataFrame, list[str | None]]:
    try:
        layers = [str(n) for n, _ in pyogrio.list_layers(path)]
    except Exception as e:  # pyogrio.errors.DataSourceError and friends
        raise BadInput(f"cannot open {name}: {_gdal_reason(e, path, name)}", details={"file": name}) from None
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
        raise BadInput(f"cannot read {name}: {_gdal_reason(e, path, name)}", details={"file": name}) from None
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


def _find_column(columns: list[str], wanted: str, aliases: tuple[str, ...]) -> str | None:
    if wanted in columns:
        return wanted
    lower = {c.strip().lower(): c for c in columns}
    if wanted.lower() in lower:
        return lower[wanted.lower()]
    if wanted.lower() == aliases[0]:
        for a in aliases:
            if a in lower:
                return lower[a]
    return None


_INT_RE = re.compile(r"^-?(?:0|[1-9]\d{0,14})$")


def _infer_column(s: pd.Series, name: str) -> pd.Series:
    """CSV cells are text: make a column numeric only when that loses nothing.

    Codes and ids (``code``, ``*_code``, ``id``, ``*_id``), numbers with leading
    zeros and digit strings longer than 15 stay text. Integers become int64, or
    float64 with NaN where cells are empty (as pyogrio reads other formats).
    """
    key = name.strip().lower()
    if key in ("id", "code") or key.endswith(("_id", "_code", "code")):
        return s
    filled = s[s.notna() & (s != "")]
    if len(filled) == 0:
        return s
    if filled.str.match(_INT_RE).all():
        values = pd.to_numeric(s.replace("", None), errors="coerce")
        # like pyogrio for other formats: int64, or float64 with NaN when some are empty
        return values.astype("int64") if len(filled) == len(s) else values.astype(float)
    num = pd.to_numeric(filled, errors="coerce")
    if num.notna().all() and not filled.str.match(r"^-?0\d").any():
        return pd.to_numeric(s.replace("", None), errors="coerce").astype(float)
    return s


def _read_csv_text(path: Path, name: str) -> pd.DataFrame:
    """CSV through pandas, as text: GDAL's CSV driver is not used for reading (it would obey
    ``CSV:`` paths and .csvt/.prj side files)."""
    last: Exception | None = None
    for enc in ("utf-8-sig", "gb18030"):  # UTF-8 (with or without BOM), or Excel's Chinese
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=enc)
        except UnicodeDecodeError as e:
            last = e
        except pd.errors.EmptyDataError:
            raise BadInput(f"{name} is empty", details={"file": name}) from None
        except pd.errors.ParserError as e:
            raise BadInput(f"{name} is not a readable CSV: {_gdal_reason(e, path, name)}",
                           details={"file": name}) from None
    raise BadInput(f"{name} is neither UTF-8 nor GB18030 text ({type(last).__name__} at byte "
                   f"{getattr(last, 'start', '?')})", details={"file": name})


def _read_csv(path: Path, *, lon_column: str, lat_column: str, name: str
              ) -> tuple[gpd.GeoDataFrame, list[str | None]]:
    df = _read_csv_text(path, name)
    df.columns = [str(c).strip() for c in df.columns]
    cols = list(df.columns)
    wkt_col = _find_column(cols, WKT_COLUMN, (WKT_COLUMN, "wkt"))
    lon_c = _find_column(cols, lon_column, _LON_ALIASES)
    lat_c = _find_column(cols, lat_column, _LAT_ALIASES)
    n = len(df)
    errors: list[str | None] = [None] * n
    if wkt_col is not None and (df[wkt_col] != "").any():
        texts = df[wkt_col].to_numpy(dtype=object)
        geoms = np.empty(n, dtype=object)
        for i, t in enumerate(texts):
            t = t.strip()
            if not t:
                geoms[i] = None
                continue
            try:
                geoms[i] = shapely.from_wkt(t)
            except Exception:
                geoms[i] = None
                problem = diagnose(t)
                errors[i] = problem.message if problem else f"cannot read WKT {excerpt(t, chars=24)}"
        drop = [c for c in (wkt_col, lon_c, lat_c) if c is not None]
    else:
        if lon_c is None or lat_c is None:
            missing = lon_column if lon_c is None else lat_column
            raise BadInput(
                f"{name} has no {missing!r} column (columns: {', '.join(cols)[:200]}); name the "
                f"coordinate columns with lon_column= and lat_column=, or add a {WKT_COLUMN!r} column",
                details={"columns": cols[:100]},
            )
        lon_txt = df[lon_c].str.strip()
        lat_txt = df[lat_c].str.strip()
        lon = pd.to_numeric(lon_txt, errors="coerce").to_numpy(dtype=float)
        lat = pd.to_numeric(lat_txt, errors="coerce").to_numpy(dtype=float)
        both_empty = ((lon_txt == "") & (lat_txt == "")).to_numpy()
        ok = ~np.isnan(lon) & ~np.isnan(lat)
        geoms = np.empty(n, dtype=object)
        geoms[:] = None
        geoms[ok] = shapely.points(lon[ok], lat[ok])
        for i in np.flatnonzero(~ok & ~both_empty):
            for col, txt, val in ((lon_c, lon_txt.iat[i], lon[i]), (lat_c, lat_txt.iat[i], lat[i])):
                if np.isnan(val):
                    errors[i] = (
                        f"{col} is empty" if txt == "" else f"{col}={excerpt(txt)} is not a number"
                    ) + "; give both coordinates in decimal degrees"
                    break
        drop = [lon_c, lat_c] + ([wkt_col] if wkt_col is not None else [])
    props = df.drop(columns=drop)
    for c in props.columns:
        props[c] = _infer_column(props[c], c)
    return gpd.GeoDataFrame(props, geometry=gpd.GeoSeries(geoms), crs=None), errors


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


def _range_errors(geoms: np.ndarray, errors: list[str | None]) -> None:
    """Record the first out-of-range lon/lat of each feature (source coordinates)."""
    coords, which = shapely.get_coordinates(geoms, return_index=True)
    if len(coords) == 0:
        return
    x, y = coords[:, 0], coords[:, 1]
    with np.errstate(invalid="ignore"):
        bad = ~(np.isfinite(x) & np.isfinite(y) & (np.abs(x) <= 180) & (np.abs(y) <= 90))
    seen: set[int] = set()
    for k in np.flatnonzero(bad):
        i = int(which[k])
        if i in seen or errors[i] is not None:
            continue
        seen.add(i)
        problem = lonlat_problem(x[k], y[k]) or "coordinates are not finite"
        if geoms[i].geom_type != "Point":
            position = k - int(np.searchsorted(which, i))
            problem += f" (position {position} of the {geoms[i].geom_type})"
        errors[i] = problem


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
        _range_errors(geoms, errors)
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


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------


def validate_features(
    gdf: gpd.GeoDataFrame, *, geometry_types: Collection[str] | None
) -> list[FeatureProblem]:
    """Find every feature that cannot be imported; all of them, in index order.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Usually from :func:`read_features` (WGS84, with ``feature_index``).
    geometry_types : collection of str or None
        Accepted geometry types, e.g. ``{"Polygon", "MultiPolygon"}``
        (case-insensitive); None accepts any.

    Returns
    -------
    list of FeatureProblem
        One per bad feature (its first problem): unreadable geometry, null or
        empty geometry, wrong type, coordinates out of lon/lat range (with the
        "did you swap lon and lat?" hint), 3-D, or not OGC-valid (as
        :func:`geo.validation.explain_invalid` says). Required properties are
        the caller's to check.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point, Polygon
    >>> gdf = gpd.GeoDataFrame(geometry=[Polygon([(0, 0), (1, 1), (1, 0), (0, 1)]), None, Point(1, 2)])
    >>> for p in validate_features(gdf, geometry_types={"Polygon"}):
    ...     print(p.index, p.reason)
    0 ring 0 (exterior) self-intersects at (0.5, 0.5): its edges cross (a bowtie); redraw the ring so its edges do not cross
    1 null geometry: the feature has no geometry
    2 geometry type Point is not accepted here; expected Polygon
    """
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    n = len(geoms)
    if FEATURE_INDEX in gdf.columns:
        index = gdf[FEATURE_INDEX].to_numpy()
    else:
        index = np.arange(n)
    reasons: list[str | None] = [None] * n
    if GEOMETRY_ERROR in gdf.columns:
        for i, e in enumerate(gdf[GEOMETRY_ERROR].to_numpy(dtype=object)):
            if isinstance(e, str) and e:
                reasons[i] = e

    missing = shapely.is_missing(geoms)
    empty = shapely.is_empty(geoms)
    for i in np.flatnonzero(missing | empty):
        if reasons[i] is None:
            reasons[i] = (
                "null geometry: the feature has no geometry"
                if missing[i]
                else "empty geometry: it has no coordinates"
            )

    if geometry_types:
        wanted = {t.lower() for t in geometry_types}
        type_ids = shapely.get_type_id(geoms)
        ok_ids = [k for k, name in enumerate(_TYPE_NAMES) if name.lower() in wanted]
        expected = " or ".join(sorted(geometry_types))
        for i in np.flatnonzero(~np.isin(type_ids, ok_ids) & (type_ids >= 0)):
            if reasons[i] is None:
                reasons[i] = (
                    f"geometry type {geoms[i].geom_type} is not accepted here; expected {expected}"
                )

    crs = gdf.crs
    if crs is None or crs.is_geographic:
        pending = np.array([r is None for r in reasons], dtype=bool)
        if pending.any():
            errs: list[str | None] = [None] * n
            sub = np.where(pending, geoms, None)
            _range_errors(sub, errs)
            for i, e in enumerate(errs):
                if e is not None and reasons[i] is None:
                    reasons[i] = e

    pending = np.array([r is None for r in reasons], dtype=bool)
    if pending.any():
        sub = np.where(pending, geoms, None)
        with np.errstate(invalid="ignore"):
            suspect = pending & (~shapely.is_valid(sub) | shapely.has_z(sub))
        for i in np.flatnonzero(suspect):
            problem = diagnose(geoms[i])
            if problem is not None:
                reasons[i] = problem.message

    return [FeatureProblem(int(index[i]), r) for i, r in enumerate(reasons) if r is not None]


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------


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
        _write_csv(out, path, projected=not is_geographic(target))
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


def _write_csv(gdf: gpd.GeoDataFrame, path: Path, *, projected: bool) -> None:
    xname, yname = ("x", "y") if projected else ("lon", "lat")
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    props = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    props = props.drop(columns=[c for c in (xname, yname, WKT_COLUMN) if c in props.columns])
    present = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    type_ids = shapely.get_type_id(geoms)
    all_points = bool(np.all(type_ids[present] == 0)) if present.any() else True
    x = np.full(len(geoms), np.nan)
    y = np.full(len(geoms), np.nan)
    if all_points:
        if present.any():
            x[present] = shapely.get_x(geoms[present])
            y[present] = shapely.get_y(geoms[present])
    else:
        wkt = np.full(len(geoms), "", dtype=object)
        if present.any():
            wkt[present] = shapely.to_wkt(geoms[present], rounding_precision=-1, trim=True)
            c = shapely.centroid(geoms[present])
            x[present] = shapely.get_x(c)
            y[present] = shapely.get_y(c)
        props[WKT_COLUMN] = wkt
    props[xname] = x
    props[yname] = y
    props.to_csv(path, index=False, encoding="utf-8", float_format=None)
