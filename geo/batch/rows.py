"""The rows of a point batch: ``[lon, lat]`` lists into two float arrays, a reason for each row that is not
two numbers, parsed :data:`PARSE_CHUNK_ROWS` rows at a time; and the row limit of one request."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from geo.errors import TooLarge

#: Rows parsed or converted per call into C (orjson, numpy, pandas): a few milliseconds each.
PARSE_CHUNK_ROWS = 10_000


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
    return parse_rows_one_by_one(rows)


def parse_rows_one_by_one(rows: Sequence[Any]) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
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


def parse_rows_chunked(rows: Sequence[Any]) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    return join_parsed(parse_rows(rows[i:i + PARSE_CHUNK_ROWS]) for i in range(0, len(rows), PARSE_CHUNK_ROWS))


def join_parsed(parts: Iterator[tuple[np.ndarray, np.ndarray, dict[int, str]]]
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
