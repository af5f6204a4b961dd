"""Writes of a long job done behind its computing: one thread sends the batches, in order, on the job's
connection while the job computes the next ones.

A recompute of a city's coverage spends about a third of its time waiting for PostgreSQL to store what it
computed (101,126 camera views: geometry CHECKs, the GiST index, ~16 s; 42,000 gap polygons, ~8 s). The
server does that work in its own process, on the other core, so the job need not wait: it hands each batch
to :class:`WriteBehind` and goes on. The batches run one at a time in the order given, in the caller's
transaction (the same connection). The caller must not use the connection itself until :meth:`drain`
(the ``with`` block's end drains too): a connection is used by one thread at a time, never two at once.

A write that fails makes the next :meth:`submit` or the drain raise its error, so the caller's transaction
is rolled back with nothing half-stored; an error in the caller's block waits for the batch in flight
before the connection is given back (and the transaction rolled back).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any

__all__ = ["WriteBehind"]


class WriteBehind:
    """Run ``fn(*args)`` calls in one background thread, in order; at most ``pending`` wait at a time (a
    caller faster than its database waits rather than holding every batch in memory).

    Examples
    --------
    >>> done = []
    >>> with WriteBehind() as writes:
    ...     for batch in ([1, 2], [3]):
    ...         writes.submit(done.extend, batch)
    >>> done
    [1, 2, 3]
    """

    def __init__(self, *, pending: int = 2) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gridmap-write-behind")
        self._queue: deque[Future[Any]] = deque()
        self._pending = max(1, pending)

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        """Queue ``fn(*args)`` after the writes already queued; raise the error of one that failed."""
        while self._queue and (self._queue[0].done() or len(self._queue) >= self._pending):
            self._queue.popleft().result()
        self._queue.append(self._pool.submit(fn, *args))

    def drain(self) -> None:
        """Wait for every queued write; raise the first error."""
        while self._queue:
            self._queue.popleft().result()

    def __enter__(self) -> WriteBehind:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if kind is None:
                self.drain()
        finally:
            for f in self._queue:  # the caller failed: cancel what has not started, wait for the one running
                f.cancel()
            self._pool.shutdown(wait=True)
            self._queue.clear()
