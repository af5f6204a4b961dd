"""CSV files of features, read and written without GDAL's CSV driver.

Reading (:func:`read_csv`) goes through pandas as text (GDAL would obey ``CSV:`` paths and
.csvt/.prj side files), UTF-8 or GB18030, with the coordinates in lon/lat columns (aliases found
case-insensitively) or WKT in a ``geometry_wkt`` column; other columns become numeric only when that
loses nothing. Writing (:func:`write_csv`) gives lon/lat (or x/y) for points, WKT and the centroid for
other geometries, UTF-8.
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import BadInput, excerpt
from geo.io.formats import WKT_COLUMN, gdal_reason
from geo.validation import diagnose

_LON_ALIASES = ("lon", "lng", "long", "longitude", "x", "经度")
_LAT_ALIASES = ("lat", "latitude", "y", "纬度")


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
            raise BadInput(f"{name} is not a readable CSV: {gdal_reason(e, path, name)}",
                           details={"file": name}) from None
    raise BadInput(f"{name} is neither UTF-8 nor GB18030 text ({type(last).__name__} at byte "
                   f"{getattr(last, 'start', '?')})", details={"file": name})


def read_csv(path: Path, *, lon_column: str, lat_column: str, name: str
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


def write_csv(gdf: gpd.GeoDataFrame, path: Path, *, projected: bool) -> None:
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
