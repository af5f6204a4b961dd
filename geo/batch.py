"""Batch lookup: many points or addresses against one :class:`~geo.grid_index.PlanIndex`.

A bad row gets its own error and never fails the batch; results keep input order.
Points go through the same vectorised index as single lookups; a CSV comes back
as CSV (input columns plus the grid's), produced in chunks so a million rows
stream out while they are written.

Nothing here holds the interpreter for long at a time (the API runs it in a worker thread while
the event loop keeps answering other requests, and a thread holding the GIL in one C call stalls
them all): a JSON body is split into rows by a vectorised structural scan
(:func:`read_json_batch`) and parsed :data:`PARSE_CHUNK_ROWS` rows per ``orjson`` call — one
``orjson.loads`` of a million points holds the GIL ~1 s, most of it in the garbage collector
walking the million row lists; a CSV is decoded, read and converted in chunks of the same size.
"""

from __future__ import annotations

import codecs
import csv
import io
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
import pandas as pd

from geo.budgets import Pacer, collector_held
from geo.errors import BadInput, TooLarge, excerpt
from geo.grid_index import NO_MATCH, PlanIndex
from geo.points import points_to_wgs84

LON_NAMES = ("lon", "lng", "long", "longitude", "x", "经度")
LAT_NAMES = ("lat", "latitude", "y", "纬度")
ADDRESS_NAMES = ("address", "addr", "q", "地址")
#: Rows per piece of a streamed CSV answer (each piece is one writerows call, ~2 ms).
CSV_CHUNK = 2_000
#: Rows parsed or converted per call into C (orjson, numpy, pandas): a few milliseconds each.
PARSE_CHUNK_ROWS = 10_000
#: Most bytes of a JSON batch body besides its rows: "crs", "plan", "at".
MAX_OPTIONS_BYTES = 64 * 1024
_SCAN_BLOCK = 1 << 20  # bytes per step of the structural scan
_DECODE_BLOCK = 1 << 20  # bytes per step of decoding a CSV
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


def check_rows(n: int, *, limit: int) -> None:
    if n > limit:
        raise TooLarge(f"{n:,} rows is more than the {limit:,} one request may carry; split the batch",
                       details={"rows": n, "limit": limit})


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def parse_rows(rows: Sequence[Any]) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """[[lon, lat], ...] → two float arrays; rows that are not two numbers get a reason."""
    try:
        arr = np.asarray(rows, dtype=float)
        if arr.ndim == 2 and arr.shape[1] == 2 and not any(isinstance(r[0], bool) or isinstance(r[1], bool)
                                                            for r in rows[:1]):
            return arr[:, 0].copy(), arr[:, 1].copy(), {}
    except (ValueError, TypeError):
        pass
    return _parse_rows_one_by_one(rows)


def _parse_rows_one_by_one(rows: Sequence[Any]) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
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
    lon, lat, problems = _parse_rows_chunked(rows)
    return locate_arrays(lon, lat, index=index, crs=crs, problems=problems)


def _parse_rows_chunked(rows: Sequence[Any]) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    return _join_parsed(parse_rows(rows[i:i + PARSE_CHUNK_ROWS]) for i in range(0, len(rows), PARSE_CHUNK_ROWS))


def _join_parsed(parts: Iterator[tuple[np.ndarray, np.ndarray, dict[int, str]]]
                 ) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    lons, lats, problems, offset = [], [], {}, 0
    for lon, lat, probs in parts:
        for i, why in probs.items():
            problems[offset + i] = why.replace(f"row {i}:", f"row {offset + i}:", 1)
        lons.append(lon)
        lats.append(lat)
        offset += len(lon)
    if not lons:
        return np.empty(0), np.empty(0), {}
    return np.concatenate(lons), np.concatenate(lats), problems


# -- JSON bodies -------------------------------------------------------------------------------


@dataclass
class JsonBatch:
    """A JSON batch body, split but not yet parsed: its options and where its rows are.

    ``options`` are the body's members other than ``points``/``addresses`` (parsed); ``kind`` says
    which of the two carries the rows, ``n`` how many rows there are. :meth:`points` and
    :meth:`addresses` parse the rows chunk by chunk.
    """

    options: dict[str, Any]
    kind: str
    n: int
    _raw: bytes
    _bounds: np.ndarray  # byte offsets: rows of chunk i are raw[bounds[i] + 1 : bounds[i + 1]]
    _chunk: int = PARSE_CHUNK_ROWS  # rows per chunk (all but the last)

    def chunks(self) -> Iterator[list[Any]]:
        """The rows, :data:`PARSE_CHUNK_ROWS` at a time."""
        for first, piece in self._pieces():
            yield self._parse(first, piece)

    def _pieces(self) -> Iterator[tuple[int, bytes]]:
        b = self._bounds
        for i in range(len(b) - 1):
            yield i * self._chunk, b"[" + self._raw[b[i] + 1:b[i + 1]] + b"]"

    def _parse(self, first: int, piece: bytes) -> list[Any]:
        try:
            rows = orjson.loads(piece)
        except orjson.JSONDecodeError as exc:
            raise BadInput(f"the body is not valid JSON ({exc.msg}) in rows {first:,} to "
                           f"{first + self._chunk - 1:,} of {self.kind!r}; send "
                           '{"points": [[lon, lat], ...]} or {"addresses": ["...", ...]}') from None
        if len(rows) != min(self._chunk, self.n - first):  # an empty row: [1,,2], [,1], [1,]
            raise _not_json(f"a missing value among rows {first:,} to {first + self._chunk - 1:,} "
                            f"of {self.kind!r}")
        return rows

    def points(self) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
        """Two float arrays and the reason of each row that is not two numbers."""
        return _join_parsed(self._points())

    def _points(self) -> Iterator[tuple[np.ndarray, np.ndarray, dict[int, str]]]:
        pace = Pacer()
        for first, piece in self._pieces():
            pace()
            with collector_held():  # 10,000 row lists, gone again before the block ends
                rows = self._parse(first, piece)
                try:
                    arr = np.asarray(rows, dtype=float)
                    fast = arr.ndim == 2 and arr.shape[1] == 2 and not any(
                        isinstance(r[0], bool) or isinstance(r[1], bool) for r in rows[:1])
                except (ValueError, TypeError):
                    fast = False
                if fast:
                    del rows
                    yield arr[:, 0].copy(), arr[:, 1].copy(), {}
                    continue
            yield _parse_rows_one_by_one(rows)

    def addresses(self) -> list[Any]:
        out: list[Any] = []
        pace = Pacer()
        for rows in self.chunks():
            out.extend(rows)
            pace()
        return out


_STRUCTURAL = np.zeros(256, dtype=bool)
_STRUCTURAL[[ord("["), ord("]"), ord("{"), ord("}"), ord(",")]] = True
_OPENS = np.zeros(256, dtype=np.int8)
_OPENS[[ord("["), ord("{")]] = 1
_OPENS[[ord("]"), ord("}")]] = -1


def _not_json(why: str) -> BadInput:
    return BadInput(f"the body is not valid JSON ({why}); send {{\"points\": [[lon, lat], ...]}}")


def _structure(raw: bytes, *, max_commas: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where the top-level object's container values start and end, and the commas between their elements.

    A vectorised scan, :data:`_SCAN_BLOCK` bytes at a time: quotes not escaped by an odd run of
    backslashes open and close strings; brackets and commas outside strings are structure. Returns
    (starts, ends, commas): byte offsets of each top-level member value that is an array or object
    (its opening and closing bracket) and of every comma directly inside one of them. Nothing is
    checked here that a parser would check; every byte is parsed by orjson later, in some piece.
    """
    b = np.frombuffer(raw, dtype=np.uint8)
    in_str = False
    run_carry = 0  # parity of the backslash run that ends the previous block
    depth = 0
    starts: list[np.ndarray] = []
    ends: list[np.ndarray] = []
    commas: list[np.ndarray] = []
    n_commas = 0
    pace = Pacer()
    for base in range(0, b.size, _SCAN_BLOCK):
        pace()
        v = b[base:base + _SCAN_BLOCK]
        qpos = np.flatnonzero(v == 34)
        bs = v == 92
        bpos = np.flatnonzero(bs)
        if bpos.size:
            # upto[i]: length of the backslash run up to and including bpos[i]
            first = np.ones(bpos.size, dtype=bool)
            first[1:] = bpos[1:] != bpos[:-1] + 1
            run_start = np.flatnonzero(first)
            upto = np.arange(bpos.size) - run_start[np.cumsum(first) - 1] + 1
            if bpos[0] == 0:  # the previous block's run goes on
                upto[:run_start[1] if run_start.size > 1 else bpos.size] += run_carry
            if qpos.size:
                after = (qpos > 0) & bs[np.maximum(qpos - 1, 0)]
                escaped = np.zeros(qpos.size, dtype=bool)
                escaped[after] = upto[np.searchsorted(bpos, qpos[after] - 1)] % 2 == 1
                if qpos[0] == 0 and run_carry:
                    escaped[0] = True
                qpos = qpos[~escaped]
            run_carry = int(upto[-1] % 2) if bs[-1] else 0
        else:
            if qpos.size and qpos[0] == 0 and run_carry:
                qpos = qpos[1:]
            run_carry = 0
        spos = np.flatnonzero(_STRUCTURAL[v])
        if spos.size:
            inside = (np.searchsorted(qpos, spos) % 2 == 1) ^ in_str
            spos = spos[~inside]
            sv = v[spos]
            delta = _OPENS[sv].astype(np.int64)
            after_depth = np.cumsum(delta) + depth
            before_depth = after_depth - delta
            if after_depth.size and int(after_depth.min()) < 0:
                raise _not_json("a closing bracket without its opening one")
            starts.append(spos[(delta == 1) & (before_depth == 1)] + base)
            ends.append(spos[(delta == -1) & (after_depth == 1)] + base)
            c = spos[(delta == 0) & (before_depth == 2)] + base
            n_commas += c.size
            if n_commas > max_commas:
                raise TooLarge(f"the body holds more than {max_commas:,} values; a batch carries at most "
                               f"{max_commas - MAX_OPTIONS_BYTES:,} rows: split it",
                               details={"limit": max_commas - MAX_OPTIONS_BYTES})
            commas.append(c)
            if after_depth.size:
                depth = int(after_depth[-1])
        in_str ^= bool(qpos.size % 2)
    if in_str:
        raise _not_json("a string is not closed")
    if depth != 0:
        raise _not_json("a bracket is not closed")
    cat = (lambda xs: np.concatenate(xs) if xs else np.empty(0, dtype=np.int64))  # noqa: E731
    return cat(starts), cat(ends), cat(commas)


def _too_much_else(size: int, usage: str) -> TooLarge:
    return TooLarge(f"the body's members other than its rows take {size:,} bytes; at most "
                    f"{MAX_OPTIONS_BYTES:,} bytes (crs, plan, at) may come with the rows: {usage}",
                    details={"bytes": size, "limit": MAX_OPTIONS_BYTES})


def read_json_batch(raw: bytes, *, limit: int) -> JsonBatch:
    """Split a JSON batch body into its options and its rows, refusing more than ``limit`` rows
    before any row is parsed.

    The result is what ``orjson.loads(raw)`` would give (duplicate members: the last wins), without
    ever parsing the whole body in one call: each top-level array or object is replaced by a random
    marker, the rest (at most :data:`MAX_OPTIONS_BYTES`) is parsed as one document, and the member
    whose value is the rows' marker is then parsed :data:`PARSE_CHUNK_ROWS` rows at a time.

    Raises
    ------
    geo.errors.BadInput
        Not JSON, not an object, neither or both of "points" and "addresses", rows not a list.
    geo.errors.TooLarge
        More than ``limit`` rows, or more than :data:`MAX_OPTIONS_BYTES` of other members.

    Examples
    --------
    >>> body = read_json_batch(b'{"points": [[113.1, 40.05], [1, 2]], "crs": "gcj02"}', limit=10)
    >>> body.options, body.kind, body.n
    ({'crs': 'gcj02'}, 'points', 2)
    >>> lon, lat, problems = body.points()
    >>> lon.tolist(), lat.tolist(), problems
    ([113.1, 1.0], [40.05, 2.0], {})
    """
    usage = 'send either {"points": [[lon, lat], ...], "crs": "wgs84"} or {"addresses": ["...", ...]}'
    head = raw.lstrip()[:1]
    if head != b"{":
        if not head:
            raise _not_json("the body is empty")
        if len(raw) <= MAX_OPTIONS_BYTES:  # say whether it is JSON at all (a big one is refused unread)
            try:
                orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise _not_json(exc.msg) from None
        raise BadInput(usage)
    starts, ends, commas = _structure(raw, max_commas=limit + MAX_OPTIONS_BYTES)
    if starts.size != ends.size or (starts.size and not (np.all(starts < ends)
                                                         and np.all(ends[:-1] < starts[1:]))):
        raise _not_json("brackets do not match")
    sizes = ends - starts + 1
    kept = int(len(raw) - sizes.sum())
    if kept > MAX_OPTIONS_BYTES or starts.size > 1024:
        raise _too_much_else(kept + (int(sizes.sum() - sizes.max()) if sizes.size else 0), usage)
    token = secrets.token_hex(12)
    pieces, last = [], 0
    for i, (a, z) in enumerate(zip(starts.tolist(), ends.tolist())):
        pieces += [raw[last:a], f'"{token}:{i}"'.encode()]
        last = z + 1
    pieces.append(raw[last:])
    try:
        skeleton = orjson.loads(b"".join(pieces))
    except orjson.JSONDecodeError as exc:
        raise _not_json(exc.msg) from None
    if not isinstance(skeleton, dict):
        raise BadInput(usage)
    spans = {f"{token}:{i}": (int(a), int(z)) for i, (a, z) in enumerate(zip(starts.tolist(), ends.tolist()))}
    options: dict[str, Any] = {}
    rows_span: tuple[int, int] | None = None
    kinds = [k for k in ("points", "addresses") if k in skeleton]
    if len(kinds) != 1:
        raise BadInput(usage)
    kind = kinds[0]
    rows_value = skeleton[kind]
    others = sum(z - a + 1 for v, (a, z) in spans.items() if v in skeleton.values() and v != rows_value)
    if kept + others > MAX_OPTIONS_BYTES:
        raise _too_much_else(kept + others, usage)
    for key, value in skeleton.items():
        span = spans.get(value) if isinstance(value, str) else None
        if key == kind:
            if span is None or raw[span[0]] != ord("["):
                raise BadInput('"points" must be a list of [lon, lat] pairs' if kind == "points"
                               else '"addresses" must be a list of strings')
            rows_span = span
        elif span is not None:
            try:
                options[key] = orjson.loads(raw[span[0]:span[1] + 1])
            except orjson.JSONDecodeError as exc:
                raise _not_json(exc.msg) from None
        else:
            options[key] = value
    assert rows_span is not None
    a, z = rows_span
    inner = commas[np.searchsorted(commas, a):np.searchsorted(commas, z)]
    n = inner.size + 1 if inner.size or raw[a + 1:z].strip() else 0
    check_rows(n, limit=limit)
    bounds = np.concatenate([[a], inner[PARSE_CHUNK_ROWS - 1::PARSE_CHUNK_ROWS], [z]])
    return JsonBatch(options=options, kind=kind, n=n, _raw=raw, _bounds=bounds.astype(np.int64),
                     _chunk=PARSE_CHUNK_ROWS)


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


# -- CSV ---------------------------------------------------------------------------------


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
