"""Batch lookup: many points or addresses against one :class:`~geo.lookup.PlanIndex`.

A bad row gets its own error and never fails the batch; results keep input order.
Points go through the same vectorised index as single lookups; a CSV comes back
as CSV (input columns plus the grid's), produced in chunks so a million rows
stream out while they are written.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from geo.errors import BadInput, TooLarge
from geo.lookup import NO_MATCH, PlanIndex
from geo.points import points_to_wgs84

LON_NAMES = ("lon", "lng", "long", "longitude", "x", "经度")
LAT_NAMES = ("lat", "latitude", "y", "纬度")
ADDRESS_NAMES = ("address", "addr", "q", "地址")
CSV_CHUNK = 50_000
OUTSIDE = {"code": "outside_grids", "message": "the point lies in no grid"}


@dataclass
class Results:
    """Per input row: the index of its grid in ``PlanIndex.grids`` (or −1) and, for misses, why."""

    grid: np.ndarray
    errors: dict[int, dict[str, str]] = field(default_factory=dict)
    matches: list[Any] | None = None

    def error(self, i: int) -> dict[str, str] | None:
        if self.grid[i] != NO_MATCH:
            return None
        return self.errors.get(i) or OUTSIDE


def check_rows(n: int, *, limit: int) -> None:
    if n > limit:
        raise TooLarge(f"{n:,} rows is more than the {limit:,} one request may carry; split the batch",
                       details={"rows": n, "limit": limit})


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _parse_rows(rows: Sequence[Any]) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """[[lon, lat], ...] → two float arrays; rows that are not two numbers get a reason."""
    try:
        arr = np.asarray(rows, dtype=float)
        if arr.ndim == 2 and arr.shape[1] == 2 and not any(isinstance(r[0], bool) or isinstance(r[1], bool)
                                                            for r in rows[:1]):
            return arr[:, 0].copy(), arr[:, 1].copy(), {}
    except (ValueError, TypeError):
        pass
    n = len(rows)
    lon, lat = np.full(n, np.nan), np.full(n, np.nan)
    problems: dict[int, str] = {}
    for i, r in enumerate(rows):
        if isinstance(r, (list, tuple)) and len(r) in (2, 3) and _is_number(r[0]) and _is_number(r[1]):
            lon[i], lat[i] = float(r[0]), float(r[1])
        else:
            problems[i] = f"row {i}: expected [lon, lat] as two numbers, got {json_repr(r)}"
    return lon, lat, problems


def json_repr(v: Any, limit: int = 60) -> str:
    text = repr(v)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def locate_points(rows: Sequence[Any], *, index: PlanIndex, crs: str | None = None) -> Results:
    lon, lat, problems = _parse_rows(rows)
    return _locate_arrays(lon, lat, index=index, crs=crs, problems=problems)


def _locate_arrays(lon: np.ndarray, lat: np.ndarray, *, index: PlanIndex, crs: str | None,
                   problems: dict[int, str]) -> Results:
    n = len(lon)
    x, y, reasons = points_to_wgs84(lon, lat, crs=crs)
    errors: dict[int, dict[str, str]] = {}
    for i, why in problems.items():
        errors[i] = {"code": "bad_row", "message": why}
    for i, why in enumerate(reasons):
        if why is not None and i not in errors:
            errors[i] = {"code": "bad_coordinates", "message": why}
    ok = np.ones(n, dtype=bool)
    if errors:
        ok[list(errors)] = False
    grid = np.full(n, NO_MATCH, dtype=np.int64)
    if ok.any():
        grid[ok] = index.locate_many(x[ok], y[ok])
    return Results(grid, errors)


#: Longest address a lookup reads (a standard address is ~10-30 characters).
MAX_ADDRESS_CHARS = 200


def locate_addresses(rows: Sequence[Any], *, index: PlanIndex) -> Results:
    texts = [r if isinstance(r, str) and len(r) <= MAX_ADDRESS_CHARS else "" for r in rows]
    matches = index.gazetteer.lookup_many(texts)
    grid = np.full(len(rows), NO_MATCH, dtype=np.int64)
    errors: dict[int, dict[str, str]] = {}
    for i, (r, m) in enumerate(zip(rows, matches)):
        if not isinstance(r, str):
            errors[i] = {"code": "bad_row", "message": f"row {i}: expected an address string, got {json_repr(r)}"}
        elif len(r) > MAX_ADDRESS_CHARS:
            errors[i] = {"code": "bad_row", "message": f"row {i}: the address has {len(r):,} characters, more than "
                                                       f"{MAX_ADDRESS_CHARS}; send one address per row"}
        elif m is None:
            errors[i] = {"code": "no_match", "message": f"no building matches {r!r} well enough"}
        else:
            g = index.building_grid.get(m.building_code, NO_MATCH)
            grid[i] = g
            if g == NO_MATCH:
                errors[i] = {"code": "outside_grids", "message": f"{m.address} lies in no grid of this plan"}
    return Results(grid, errors, matches)


# -- CSV ---------------------------------------------------------------------------------


def decode_csv(raw: bytes) -> str:
    """UTF-8 (with or without BOM), else GBK/GB18030 (what Excel on Chinese Windows writes)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise BadInput("the CSV is neither UTF-8 nor GBK/GB18030 text; save it as UTF-8 and send it again")


def read_csv_table(raw: bytes, *, limit: int) -> pd.DataFrame:
    text = decode_csv(raw)
    try:
        table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise BadInput(f"the CSV cannot be read ({exc}); send a header row with lon,lat or address") from None
    check_rows(len(table), limit=limit)
    return table


def _column(table: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    lower = {c.strip().lower(): c for c in table.columns}
    return next((lower[n] for n in names if n in lower), None)


def csv_results(table: pd.DataFrame, *, index: PlanIndex, crs: str | None = None) -> Iterator[bytes]:
    """Answer a CSV with CSV: the input columns, then grid_code, grid_name, community_code,
    community_name, grid_member, error_code, error."""
    lon_col, lat_col = _column(table, LON_NAMES), _column(table, LAT_NAMES)
    addr_col = _column(table, ADDRESS_NAMES)
    if lon_col and lat_col:
        lon = pd.to_numeric(table[lon_col], errors="coerce").to_numpy(float)
        lat = pd.to_numeric(table[lat_col], errors="coerce").to_numpy(float)
        problems = {int(i): f"row {i}: lon={table[lon_col].iat[i]!r}, lat={table[lat_col].iat[i]!r} are not numbers"
                    for i in np.flatnonzero(np.isnan(lon) | np.isnan(lat))
                    if not (_is_nan_text(table[lon_col].iat[i]) and _is_nan_text(table[lat_col].iat[i]))}
        results = _locate_arrays(lon, lat, index=index, crs=crs, problems=problems)
    elif addr_col:
        results = locate_addresses(table[addr_col].tolist(), index=index)
    else:
        raise BadInput(f"the CSV needs lon and lat columns or an address column; it has {list(table.columns)}")
    return _csv_chunks(table, results, index=index)


def _is_nan_text(v: str) -> bool:
    return v.strip().lower() == "nan"


def _csv_chunks(table: pd.DataFrame, results: Results, *, index: PlanIndex) -> Iterator[bytes]:
    grid_cells = [(g.code, g.name, g.community_code, g.community_name, g.grid_member or "") for g in index.grids]
    empty = ("", "", "", "", "")
    columns = list(table.columns)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns + ["grid_code", "grid_name", "community_code", "community_name", "grid_member",
                               "error_code", "error"])
    values = table.to_numpy(dtype=object)
    n = len(table)
    for start in range(0, n, CSV_CHUNK):
        for i in range(start, min(start + CSV_CHUNK, n)):
            g = results.grid[i]
            if g != NO_MATCH:
                writer.writerow([*values[i], *grid_cells[g], "", ""])
            else:
                err = results.error(i) or {}
                writer.writerow([*values[i], *empty, err.get("code", ""), err.get("message", "")])
        yield buf.getvalue().encode("utf-8")
        buf.seek(0)
        buf.truncate()
    if n == 0:
        yield buf.getvalue().encode("utf-8")



