"""How answers are encoded: media types and JSON in slices that never hold the GIL for long."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse

from geo.budgets import Pacer

#: RFC 7946 GeoJSON.
GEOJSON = "application/geo+json"
JSON = "application/json"

#: Values (numbers, strings, ...) encoded per orjson call by :func:`json_bytes` (~1 ms).
JSON_CHUNK_VALUES = 20_000
_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def json_bytes(value: Any) -> bytes:
    """``value`` as compact UTF-8 JSON, encoded about :data:`JSON_CHUNK_VALUES` values per call.

    The same document as ``orjson.dumps(value)`` (numpy arrays and numbers included), but a big list
    or array, at any depth, is encoded a slice at a time, so no single call holds the GIL for long.
    A list is sliced by the size of its first item (the lists of an answer are uniform).

    >>> value = {"a": list(range(50_000)), "b": [{"c": [1.5, None]}], "d": [[i, "x"] for i in range(9_000)]}
    >>> json_bytes(value) == orjson.dumps(value)
    True
    >>> import numpy as np; json_bytes({"p": np.arange(6.0).reshape(3, 2)})
    b'{"p":[[0.0,1.0],[2.0,3.0],[4.0,5.0]]}'
    """
    parts: list[bytes] = []
    _encode(value, parts, Pacer())
    return b"".join(parts)


def _weight(value: Any, limit: int) -> int:
    """Values in ``value`` (containers count one each), counting no further than just past ``limit``."""
    if isinstance(value, dict):
        value = value.values()
    elif getattr(value, "ndim", 0) >= 1:
        return int(value.size) + 1
    elif not isinstance(value, (list, tuple)):
        return 1
    w = 1
    for item in value:
        w += _weight(item, limit - w)
        if w > limit:
            break
    return w


def _encode(value: Any, parts: list[bytes], pace: Pacer) -> None:
    pace()
    if _weight(value, JSON_CHUNK_VALUES) <= JSON_CHUNK_VALUES:
        parts.append(orjson.dumps(list(value) if isinstance(value, tuple) else value, option=_OPTIONS))
    elif isinstance(value, dict):
        parts.append(b"{")
        for i, (key, item) in enumerate(value.items()):
            parts.append((b"," if i else b"") + orjson.dumps(str(key)) + b":")
            _encode(item, parts, pace)
        parts.append(b"}")
    else:
        first = _weight(value[0], JSON_CHUNK_VALUES)
        parts.append(b"[")
        if first > JSON_CHUNK_VALUES // 4:  # big items: one by one
            for i, item in enumerate(value):
                if i:
                    parts.append(b",")
                _encode(item, parts, pace)
        else:
            step = max(1, JSON_CHUNK_VALUES // first)
            for start in range(0, len(value), step):
                pace()
                piece = value[start:start + step]
                encoded = orjson.dumps(list(piece) if isinstance(piece, tuple) else piece, option=_OPTIONS)
                parts.append((b"," if start else b"") + encoded[1:-1])
        parts.append(b"]")


class GeoJSONResponse(JSONResponse):
    """A GeoJSON answer (RFC 7946's media type). As a route's ``response_class`` it makes the OpenAPI
    document name application/geo+json with the declared schema (FastAPI documents a model only for JSON
    response classes); the routes themselves send PostGIS's GeoJSON text as it is."""

    media_type = GEOJSON
