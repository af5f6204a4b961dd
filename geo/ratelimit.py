"""Rate limits shared by every worker on every machine: token buckets in PostgreSQL, leased in batches.

Why PostgreSQL
--------------
With N workers (and M machines) an in-memory bucket per worker lets a client reach N × M times its
limit, and a client cannot choose its worker. The buckets must live in one store every worker
reaches; PostgreSQL is the one the deployment already has (no Redis to run, secure and back up),
its row lock orders concurrent takers, and its clock is the one clock all machines share.

How, without a round trip per request
-------------------------------------
A bucket is a row of the unlogged table ``rate_bucket`` (tokens left, last lease time). A worker
takes tokens in *leases*: one statement (:func:`geo.store.ratelimit.lease`) refills the row from its
timestamp at ``per_s``, caps it at ``burst``, takes up to ``lease`` whole tokens and returns them;
the worker spends them from memory, one per request, and leases again when it has none. So a busy
key costs one round trip per ``lease`` requests per worker, and an idle key nothing.

When the bucket is empty the lease grants nothing and says how long until a token refills; the
worker answers 429 from memory until then (a flood of refused requests costs no round trips
either), then asks again.

The bound
---------
Every token a worker spends was taken from the shared row, so over any window the requests admitted
for one key are at most ``burst + per_s × window`` plus what the workers held before the window
began: at most ``lease - 1`` each. **Over-admission ≤ workers × lease** (all machines' workers).
The other side: tokens leased by a worker the client no longer reaches are unavailable to the others
until spent, so the client may be refused while up to ``workers × (lease - 1)`` tokens sit in other
workers. ``rate_limit_lease`` (default 20) trades round trips against both bounds; 1 is exact.

When the database does not answer, a worker falls back to a bucket of its own in memory
(:class:`TokenBuckets`, the limit per worker, N × the limit in all) and tries the database again
after ``retry_s``: the lookups keep answering from memory while the database is away, and stay
limited.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import zlib

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from geo.errors import RateLimited
from geo.store import ratelimit as store

log = logging.getLogger(__name__)

#: Leases between two sweeps of full buckets out of the table (per worker and bucket kind).
SWEEP_EVERY = 1000


def limited(what: str, *, per_s: float, burst: int, wait_s: float) -> RateLimited:
    """The error a refused request answers (429, Retry-After: whole seconds, at least 1)."""
    retry = max(1, math.ceil(wait_s))
    return RateLimited(
        f"too many requests for this {what}: the limit is {per_s:g} a second (bursts of {burst}); "
        f"retry after {retry} s", details={"retry_after_s": retry, "per_s": per_s, "burst": burst})


class TokenBuckets:
    """Token buckets by key in this process's memory; ``per_s <= 0`` disables the limit.

    Each bucket holds up to ``burst`` tokens and refills at ``per_s`` a second. The fallback of
    :class:`SharedBuckets` while the database does not answer.
    """

    def __init__(self, *, per_s: float, burst: int, max_keys: int = 100_000, clock=time.monotonic) -> None:
        self.per_s = float(per_s)
        self.burst = max(1, int(burst))
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last refill time)
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.per_s > 0

    def take(self, key: str) -> float:
        """Take one token for ``key``: 0.0 when allowed, else the seconds until one is available."""
        if not self.enabled:
            return 0.0
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.per_s)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                if len(self._buckets) > self.max_keys:
                    self._prune(now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.per_s

    def _prune(self, now: float) -> None:
        """Forget buckets that have refilled completely (they are the same as new ones)."""
        full_after = self.burst / self.per_s
        for k in [k for k, (_, last) in self._buckets.items() if now - last >= full_after]:
            del self._buckets[k]

    def check(self, key: str, *, what: str) -> None:
        """Raise :class:`geo.errors.RateLimited` when ``key`` is over its limit."""
        wait = self.take(key)
        if wait > 0:
            raise limited(what, per_s=self.per_s, burst=self.burst, wait_s=wait)


class SharedBuckets:
    """Token buckets of one ``kind`` ('key', 'address') shared through PostgreSQL, leased ``lease`` at a time.

    ``per_s <= 0`` disables the limit (no rows, no round trips). Until :meth:`attach` gives it an
    engine (the app's lifespan does), and while the database does not answer, it limits from this
    process's memory (:class:`TokenBuckets`).
    """

    def __init__(self, *, kind: str, per_s: float, burst: int, lease: int = 20, retry_s: float = 5.0,
                 max_keys: int = 100_000, clock=time.monotonic) -> None:
        self.kind = kind
        self.per_s = float(per_s)
        self.burst = max(1, int(burst))
        self.lease = max(1, int(lease))
        self.retry_s = retry_s
        self.max_keys = max_keys
        self.clock = clock
        self.engine: Engine | None = None
        self.fallback = TokenBuckets(per_s=per_s, burst=burst, max_keys=max_keys, clock=clock)
        self._held: dict[str, int] = {}  # key -> leased tokens not yet spent
        self._refused_until: dict[str, float] = {}  # key -> when the shared bucket has a token again
        self._lock = threading.Lock()
        self._leasing = [threading.Lock() for _ in range(64)]  # one lease per key at a time
        self._down_until = 0.0
        #: Round trips made (leases): what the lookup path pays for the shared limit.
        self.leases = 0

    @property
    def enabled(self) -> bool:
        return self.per_s > 0

    def attach(self, engine: Engine | None) -> None:
        self.engine = engine

    def take_local(self, key: str) -> float | None:
        """Decide from memory: 0.0 (a held token, now spent), the seconds to wait (refused, the shared
        bucket is known empty), or None when only a lease can tell (:meth:`take`)."""
        if not self.enabled:
            return 0.0
        now = self.clock()
        if self.engine is None or now < self._down_until:
            return self.fallback.take(key)
        with self._lock:
            held = self._held.get(key, 0)
            if held > 0:
                if held == 1:
                    del self._held[key]
                else:
                    self._held[key] = held - 1
                return 0.0
            until = self._refused_until.get(key)
            if until is not None:
                if now < until:
                    return until - now
                del self._refused_until[key]
        return None

    def take(self, key: str) -> float:
        """Take one token for ``key``: 0.0 when allowed, else the seconds until one is available.
        May lease from the database (a round trip): call it off the event loop."""
        decided = self.take_local(key)
        if decided is not None:
            return decided
        with self._leasing[zlib.crc32(key.encode()) % len(self._leasing)]:
            decided = self.take_local(key)  # another thread may have leased meanwhile
            if decided is not None:
                return decided
            try:
                granted, left = self._lease(key)
            except SQLAlchemyError as exc:
                log.warning("rate limits: the database does not answer (%s); limiting per worker for %g s",
                            type(exc).__name__, self.retry_s)
                self._down_until = self.clock() + self.retry_s
                return self.fallback.take(key)
            now = self.clock()
            with self._lock:
                if len(self._held) + len(self._refused_until) > self.max_keys:
                    self._refused_until = {k: t for k, t in self._refused_until.items() if t > now}
                if granted >= 1:
                    if granted > 1:
                        self._held[key] = granted - 1
                    return 0.0
                wait = max(0.0, 1.0 - left) / self.per_s
                self._refused_until[key] = now + wait
                return wait

    def _lease(self, key: str) -> tuple[int, float]:
        assert self.engine is not None
        with self.engine.begin() as conn:
            result = store.lease(conn, name=f"{self.kind}:{key}", per_s=self.per_s, burst=self.burst,
                                 lease=self.lease)
            self.leases += 1
            if self.leases % SWEEP_EVERY == 0:
                store.forget_full(conn, kind=self.kind, full_after_s=self.burst / self.per_s)
        return result

    def check(self, key: str, *, what: str) -> None:
        """Raise :class:`geo.errors.RateLimited` when ``key`` is over its limit (may lease: see :meth:`take`)."""
        wait = self.take(key)
        if wait > 0:
            raise limited(what, per_s=self.per_s, burst=self.burst, wait_s=wait)
