"""JSON batch bodies, split into their options and their rows without parsing the whole body in one call.

A vectorised structural scan (:func:`read_json_batch`) finds the top-level member values and the commas
between rows; :class:`JsonBatch` then parses the rows :data:`~geo.batch.rows.PARSE_CHUNK_ROWS` at a time
with ``orjson``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from geo.batch.rows import PARSE_CHUNK_ROWS, check_rows, join_parsed, parse_rows_one_by_one
from geo.budgets import Pacer, collector_held
from geo.errors import BadInput, TooLarge

#: Most bytes of a JSON batch body besides its rows: "crs", "plan", "at".
MAX_OPTIONS_BYTES = 64 * 1024
_SCAN_BLOCK = 1 << 20  # bytes per step of the structural scan


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
        return join_parsed(self._points())

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
            yield parse_rows_one_by_one(rows)

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
