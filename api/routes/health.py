"""GET /health: is the service up, can it reach the database, which plan answers — and the rule that
keeps it (and every other light request) answering while heavy requests run.

The rule: CPU-heavy work (batch lookups, heatmaps, hot spots, camera suggestions, report pages) never
runs on the event loop. Its route awaits :func:`run_heavy`, which runs the work in a worker thread,
at most ``GRIDMAP_HEAVY_WORKERS`` at once per worker process on a capacity limiter of their own: more
heavy requests wait for their turn without holding a thread, and the threads light requests run on
(Starlette's pool) are never all taken by heavy ones. The heavy work itself is written to give the
interpreter back often — no single call into C that holds the GIL for more than a few milliseconds
(see geo/batch.py), few long-lived objects for the garbage collector to walk — and its answer is
encoded by :func:`json_bytes`, a few thousand items per call.
"""

from __future__ import annotations

import asyncio
import functools
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread
import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError

from api.errors import RETRY_AFTER_S
from geo.budgets import Pacer, collector_held
from geo.store.queries import published_plan

router = APIRouter(tags=["health"])

T = TypeVar("T")

#: Values (numbers, strings, ...) encoded per orjson call by :func:`json_bytes` (~1 ms).
JSON_CHUNK_VALUES = 20_000
_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


#: Threads of /health's own (its database check never waits for a thread a slow request holds).
HEALTH_THREADS = 4


@router.get("/health", summary="Service and database status (no key needed)")
async def health(request: Request) -> JSONResponse:
    """The database is asked in a thread of /health's own: with every thread of the shared pool taken
    by slow requests, /health still answers."""
    try:
        plan = await anyio.to_thread.run_sync(_published, request.app.state.engine,
                                              limiter=_limiter(request, "health", HEALTH_THREADS))
    except DBAPIError:
        return JSONResponse({"status": "degraded", "database": "unavailable", "plan": None},
                            status_code=503, headers={"Retry-After": str(RETRY_AFTER_S)})
    return JSONResponse({"status": "ok", "database": "ok", "plan": plan})


def _published(engine: Any) -> dict[str, Any] | None:
    with engine.connect() as conn:
        return published_plan(conn)


# Limiters per event loop (a TestClient runs the app on a loop of its own) and per use.
_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, anyio.CapacityLimiter]] = (
    weakref.WeakKeyDictionary())


def _limiter(request: Request, name: str = "heavy", size: int | None = None) -> anyio.CapacityLimiter:
    mine = _limiters.setdefault(asyncio.get_running_loop(), {})
    limiter = mine.get(name)
    if limiter is None:
        limiter = mine[name] = anyio.CapacityLimiter(size or request.app.state.settings.heavy_workers)
    return limiter


async def run_heavy(request: Request, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` in a worker thread, at most ``GRIDMAP_HEAVY_WORKERS`` at once, with the
    garbage collector held off while it runs (:func:`geo.budgets.collector_held`)."""
    return await anyio.to_thread.run_sync(functools.partial(_held, fn, *args, **kwargs), limiter=_limiter(request))


def _held(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    with collector_held():
        return fn(*args, **kwargs)


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
