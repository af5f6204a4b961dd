"""Vectorised shapely functions over chunks of their arrays, in threads (GEOS releases the GIL).

Used by :mod:`geo.coverage.areas` (differences and intersections per part) and
:mod:`geo.coverage.siting` (the gains of candidate views).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["chunked", "thread_count"]


def thread_count(workers: int | None, jobs: int) -> int:
    """Threads for ``jobs`` pieces of work: ``workers`` (default one per CPU), at most ``jobs``, at least 1."""
    return max(1, min(jobs, workers if workers is not None else (os.cpu_count() or 1)))


def chunked(fn: Callable[..., np.ndarray], arrays: Sequence[np.ndarray], workers: int | None,
             min_chunk: int = 16) -> np.ndarray:
    """``fn(*arrays)`` (a vectorised shapely function) over chunks in threads."""
    n = len(arrays[0])
    nw = thread_count(workers, max(1, n // min_chunk))
    if nw <= 1:
        return fn(*arrays)
    bounds = np.linspace(0, n, nw + 1).astype(int)
    with ThreadPoolExecutor(max_workers=nw) as pool:
        parts = list(pool.map(lambda i: fn(*(x[bounds[i]:bounds[i + 1]] for x in arrays)), range(nw)))
    return np.concatenate(parts)
