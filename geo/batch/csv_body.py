"""CSV batch bodies: decoded (UTF-8 or GBK/GB18030) and read as text columns in chunks, located by their
lon/lat or address columns, and answered as CSV (the input columns plus the grid's) in pieces that stream
out while they are written."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator

import numpy as np
import pandas as pd

from geo.batch.locate import Results, locate_addresses, locate_arrays
from geo.batch.rows import PARSE_CHUNK_ROWS, check_rows
from geo.budgets import Pacer, collector_held
from geo.errors import BadInput, excerpt
from geo.grid_index import NO_MATCH, PlanIndex

LON_NAMES = ("lon", "lng", "long", "longitude", "x", "经度")
LAT_NAMES = ("lat", "latitude", "y", "纬度")
ADDRESS_NAMES = ("address", "addr", "q", "地址")
#: Rows per piece of a streamed CSV answer (each piece is one writerows call, ~2 ms).
CSV_CHUNK = 2_000
_DECODE_BLOCK = 1 << 20  # bytes per step of decoding a CSV


def decode_csv(raw: bytes) -> str:
    """UTF-8 (with or without BOM), else GBK/GB18030 (what Excel on Chinese Windows writes); decoded
    a megabyte at a time."""
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            parts = [decoder.decode(raw[i:i + _DECODE_BLOCK]) for i in range(0, len(raw), _DECODE_BLOCK)]
            parts.append(decoder.decode(b"", final=True))
        except UnicodeDecodeError:
            continue
        return "".join(parts)
    raise BadInput("the CSV is neither UTF-8 nor GBK/GB18030 text; save it as UTF-8 and send it again")


def _utf8(raw: bytes) -> bytes:
    """The CSV's bytes as UTF-8 without a BOM: checked (or converted from GBK/GB18030) a megabyte at a time."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for i in range(0, len(raw), _DECODE_BLOCK):
            decoder.decode(raw[i:i + _DECODE_BLOCK])
        decoder.decode(b"", final=True)
        return raw[3:] if raw.startswith(codecs.BOM_UTF8) else raw
    except UnicodeDecodeError:
        pass
    decoder = codecs.getincrementaldecoder("gb18030")()
    try:
        out = [decoder.decode(raw[i:i + _DECODE_BLOCK]).encode("utf-8") for i in range(0, len(raw), _DECODE_BLOCK)]
        out.append(decoder.decode(b"", final=True).encode("utf-8"))
    except UnicodeDecodeError:
        raise BadInput("the CSV is neither UTF-8 nor GBK/GB18030 text; save it as UTF-8 and send it again") from None
    return b"".join(out)


def read_csv_table(raw: bytes, *, limit: int) -> pd.DataFrame:
    """The CSV as text columns, read :data:`PARSE_CHUNK_ROWS` rows at a time (from bytes: pandas reads a
    text buffer whole in one call); more than ``limit`` rows are refused as soon as they are seen."""
    data = _utf8(raw)
    parts: list[pd.DataFrame] = []
    rows = 0
    try:
        with pd.read_csv(io.BytesIO(data), encoding="utf-8", dtype=str, keep_default_na=False,
                         skipinitialspace=True, chunksize=PARSE_CHUNK_ROWS) as reader:
            pace = Pacer()
            for part in reader:
                pace()
                rows += len(part)
                check_rows(rows, limit=limit)
                parts.append(part)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise BadInput(f"the CSV cannot be read ({exc}); send a header row with lon,lat or address") from None
    if not parts:
        raise BadInput("the CSV cannot be read (no columns to parse from file); send a header row with lon,lat "
                       "or address")
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def _numbers(column: pd.Series) -> np.ndarray:
    """A text column as floats (NaN where not a number, as Python's ``float`` reads text), in chunks.

    Not ``pandas.to_numeric``: it releases and retakes the GIL for every value, and a thread that
    does that many times a millisecond keeps a waiting thread (the event loop) from ever getting it.
    """
    values = column.to_numpy(dtype=object)
    out = np.empty(len(values))
    pace = Pacer()
    for i in range(0, len(values), PARSE_CHUNK_ROWS):
        pace()
        part = values[i:i + PARSE_CHUNK_ROWS]
        try:
            out[i:i + len(part)] = part.astype(float)
        except (ValueError, TypeError):
            out[i:i + len(part)] = [_float_or_nan(v) for v in part]
    return out


def _float_or_nan(v: object) -> float:
    try:
        return float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")


def _column(table: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    lower = {c.strip().lower(): c for c in table.columns}
    return next((lower[n] for n in names if n in lower), None)


def csv_results(table: pd.DataFrame, *, index: PlanIndex, crs: str | None = None) -> Iterator[bytes]:
    """Answer a CSV with CSV: the input columns, then grid_code, grid_name, community_code,
    community_name, grid_member, error_code, error."""
    lon_col, lat_col = _column(table, LON_NAMES), _column(table, LAT_NAMES)
    addr_col = _column(table, ADDRESS_NAMES)
    if lon_col and lat_col:
        lon = _numbers(table[lon_col])
        lat = _numbers(table[lat_col])
        problems = {int(i): f"row {i}: lon={excerpt(table[lon_col].iat[i], chars=24)}, lat={excerpt(table[lat_col].iat[i], chars=24)} "
                            "are not numbers"
                    for i in np.flatnonzero(np.isnan(lon) | np.isnan(lat))
                    if not (_is_nan_text(table[lon_col].iat[i]) and _is_nan_text(table[lat_col].iat[i]))}
        results = locate_arrays(lon, lat, index=index, crs=crs, problems=problems)
    elif addr_col:
        results = locate_addresses(table[addr_col].tolist(), index=index)
    else:
        cols = list(table.columns)
        listed = ", ".join(excerpt(c, chars=24) for c in cols[:20]) + (f" and {len(cols) - 20:,} more" if len(cols) > 20 else "")
        raise BadInput(f"the CSV needs lon and lat columns or an address column; it has {listed}")
    return _csv_chunks(table, results, index=index)


def _is_nan_text(v: str) -> bool:
    return v.strip().lower() == "nan"


def _csv_chunks(table: pd.DataFrame, results: Results, *, index: PlanIndex) -> Iterator[bytes]:
    """The answer CSV, :data:`CSV_CHUNK` rows per piece: the grids' columns taken by index (numpy), the
    rows written by one ``csv.writer.writerows`` call, the collector held off while the piece's row lists
    exist (never while a piece waits to be sent)."""
    cells = np.array([(g.code, g.name, g.community_code, g.community_name, g.grid_member or "")
                      for g in index.grids] + [("",) * 5], dtype=object).reshape(-1, 5)  # NO_MATCH (-1): the last
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(list(table.columns) + ["grid_code", "grid_name", "community_code", "community_name",
                                           "grid_member", "error_code", "error"])
    n = len(table)
    if n == 0:
        yield buf.getvalue().encode("utf-8")
        return
    pace = Pacer()
    for start in range(0, n, CSV_CHUNK):
        pace()
        stop = min(start + CSV_CHUNK, n)
        grid = results.grid[start:stop]
        codes = np.full(stop - start, "", dtype=object)
        messages = np.full(stop - start, "", dtype=object)
        for k in np.flatnonzero(grid == NO_MATCH).tolist():
            err = results.error(start + k) or {}
            codes[k], messages[k] = err.get("code", ""), err.get("message", "")
        with collector_held():
            rows = np.column_stack([table.iloc[start:stop].to_numpy(dtype=object), cells[grid], codes,
                                    messages]).tolist()
            writer.writerows(rows)
            del rows
        piece = buf.getvalue().encode("utf-8")
        buf.seek(0)
        buf.truncate()
        yield piece
