"""Locating a batch: points (any accepted CRS) and addresses to grids of one :class:`~geo.grid_index.PlanIndex`,
in slices so that no call holds the interpreter long; a bad row gets its own error in :class:`Results`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from geo.batch.rows import PARSE_CHUNK_ROWS, json_repr, parse_rows_chunked
from geo.budgets import Pacer
from geo.errors import excerpt
from geo.grid_index import NO_MATCH, PlanIndex
from geo.points import points_to_wgs84

_MATCH_SLICE = 64  # distinct addresses matched per gazetteer call
_LOCATE_SLICE = 50_000  # points located per call of the index
OUTSIDE = {"code": "outside_grids", "message": "the point lies in no grid"}


@dataclass
class Results:
    """Per input row: the index of its grid in ``PlanIndex.grids`` (or −1) and, for misses, why."""

    grid: np.ndarray
    errors: dict[int, dict[str, str]] = field(default_factory=dict)

    def error(self, i: int) -> dict[str, str] | None:
        if self.grid[i] != NO_MATCH:
            return None
        return self.errors.get(i) or OUTSIDE


def locate_points(rows: Sequence[Any], *, index: PlanIndex, crs: str | None = None) -> Results:
    lon, lat, problems = parse_rows_chunked(rows)
    return locate_arrays(lon, lat, index=index, crs=crs, problems=problems)


def locate_parsed(lon: np.ndarray, lat: np.ndarray, problems: dict[int, str], *, index: PlanIndex,
                  crs: str | None = None) -> Results:
    """Look up points already parsed (:meth:`JsonBatch.points`); ``problems`` are the rows that were not."""
    return locate_arrays(lon, lat, index=index, crs=crs, problems=problems)


def locate_arrays(lon: np.ndarray, lat: np.ndarray, *, index: PlanIndex, crs: str | None,
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
        rows = np.flatnonzero(ok)
        pace = Pacer()
        for i in range(0, rows.size, _LOCATE_SLICE):  # each point is located on its own: slices change nothing
            some = rows[i:i + _LOCATE_SLICE]
            grid[some] = index.locate_many(x[some], y[some])
            pace()
    return Results(grid, errors)


#: Longest address a lookup reads (a standard address is ~10-30 characters).
MAX_ADDRESS_CHARS = 200


def locate_addresses(rows: Sequence[Any], *, index: PlanIndex) -> Results:
    """The grid of each address, :data:`PARSE_CHUNK_ROWS` at a time.

    The gazetteer's matches of one chunk are reduced to (building code, address) and dropped, so a
    million rows never hold a million match objects for the garbage collector to walk; an address
    seen in an earlier chunk is not matched again.
    """
    n = len(rows)
    grid = np.full(n, NO_MATCH, dtype=np.int64)
    errors: dict[int, dict[str, str]] = {}
    # text -> building code (None: no match), and the building's address: str values only, so neither
    # dict is tracked by the garbage collector
    seen: dict[str, str | None] = {}
    address_of: dict[str, str] = {}
    pace = Pacer()
    for start in range(0, n, PARSE_CHUNK_ROWS):
        part = rows[start:start + PARSE_CHUNK_ROWS]
        texts = [r if isinstance(r, str) and len(r) <= MAX_ADDRESS_CHARS else "" for r in part]
        new = [t for t in dict.fromkeys(texts) if t not in seen]
        for j in range(0, len(new), _MATCH_SLICE):  # ~2 ms of matching each, then others may run
            some = new[j:j + _MATCH_SLICE]
            for t, m in zip(some, index.gazetteer.lookup_many(some)):
                seen[t] = m.building_code if m is not None else None
                if m is not None:
                    address_of[m.building_code] = m.address
            pace()
        for i, (r, t) in enumerate(zip(part, texts), start=start):
            if not i & 255:
                pace()
            hit = seen[t]
            if not isinstance(r, str):
                errors[i] = {"code": "bad_row", "message": f"row {i}: expected an address string, got {json_repr(r)}"}
            elif len(r) > MAX_ADDRESS_CHARS:
                errors[i] = {"code": "bad_row", "message": f"row {i}: the address has {len(r):,} characters, "
                                                           f"more than {MAX_ADDRESS_CHARS}; send one address per row"}
            elif hit is None:
                errors[i] = {"code": "no_match", "message": f"no building matches {excerpt(r, chars=40)} well enough"}
            else:
                g = index.building_grid.get(hit, NO_MATCH)
                grid[i] = g
                if g == NO_MATCH:
                    errors[i] = {"code": "outside_grids",
                                 "message": f"{address_of[hit]} lies in no grid of this plan"}
    return Results(grid, errors)
