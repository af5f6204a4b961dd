"""The rule that keeps every light request answering while heavy requests run.

CPU-heavy work (batch lookups, heatmaps, hot spots, camera suggestions, report pages) never runs on
the event loop. Its route awaits :func:`run_heavy`, which runs the work in a worker thread, at most
``GRIDMAP_HEAVY_WORKERS`` at once per worker process on a capacity limiter of their own: more heavy
requests wait for their turn without holding a thread, and the threads light requests run on
(Starlette's pool) are never all taken by heavy ones. The heavy work itself is written to give the
interpreter back often — no single call into C that holds the GIL for more than a few milliseconds
(see geo/batch/), few long-lived objects for the garbage collector to walk — and its answer is
encoded by :func:`api.responses.json_bytes`, a few thousand items per call.
"""

from __future__ import annotations

import asyncio
import functools
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from fastapi import Request

from geo.budgets import collector_held

T = TypeVar("T")


# Limiters per event loop (a TestClient runs the app on a loop of its own) and per use.
_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, anyio.CapacityLimiter]] = (
    weakref.WeakKeyDictionary())


def limiter(request: Request, name: str = "heavy", size: int | None = None) -> anyio.CapacityLimiter:
    """The capacity limiter ``name`` of this event loop (``size`` threads; default: the heavy workers)."""
    mine = _limiters.setdefault(asyncio.get_running_loop(), {})
    found = mine.get(name)
    if found is None:
        found = mine[name] = anyio.CapacityLimiter(size or request.app.state.settings.heavy_workers)
    return found


async def run_heavy(request: Request, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` in a worker thread, at most ``GRIDMAP_HEAVY_WORKERS`` at once, with the
    garbage collector held off while it runs (:func:`geo.budgets.collector_held`)."""
    return await anyio.to_thread.run_sync(functools.partial(_held, fn, *args, **kwargs), limiter=limiter(request))


def _held(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    with collector_held():
        return fn(*args, **kwargs)


