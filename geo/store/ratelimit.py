"""Rate-limit buckets (``rate_bucket``, unlogged): one statement leases tokens, one forgets full buckets.

The refill is computed in the database from the row's own timestamp and the database's clock, so
workers on machines whose clocks disagree still share one refill rate.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

#: The bucket's content now: its tokens plus what refilled since its last lease, at most the burst.
_AVAILABLE = ("least(CAST(:burst AS double precision), b.tokens + "
              "greatest(0, extract(epoch FROM now() - b.updated_at)) * CAST(:per_s AS double precision))")
#: What a lease takes: at most ``lease`` whole tokens of what is available (0 when less than one is).
_GRANT = f"least(CAST(:lease AS integer), floor({_AVAILABLE})::integer)"

_LEASE = text(f"""
INSERT INTO rate_bucket AS b (name, tokens, granted, updated_at)
VALUES (:name, CAST(:burst AS double precision) - least(CAST(:lease AS integer), CAST(:burst AS integer)),
        least(CAST(:lease AS integer), CAST(:burst AS integer)), now())
ON CONFLICT (name) DO UPDATE SET
  granted = {_GRANT},
  tokens = {_AVAILABLE} - {_GRANT},
  updated_at = greatest(b.updated_at, now())
RETURNING granted, tokens
""")


def lease(conn: Connection, *, name: str, per_s: float, burst: int, lease: int) -> tuple[int, float]:
    """Take up to ``lease`` tokens from bucket ``name`` (created full when new), atomically (the row's
    lock orders concurrent leases); returns (tokens granted, tokens left in the bucket)."""
    row = conn.execute(_LEASE, {"name": name, "per_s": per_s, "burst": burst, "lease": lease}).one()
    return int(row.granted), float(row.tokens)


def forget_full(conn: Connection, *, kind: str, full_after_s: float) -> int:
    """Delete the ``kind`` buckets untouched for ``full_after_s`` (full again: the same as no row)."""
    return conn.execute(text(
        "DELETE FROM rate_bucket WHERE starts_with(name, :kind || ':') "
        "AND updated_at < now() - make_interval(secs => :s)"), {"kind": kind, "s": full_after_s}).rowcount


def bucket(conn: Connection, *, name: str) -> tuple[int, float] | None:
    """(last grant, tokens left) of a bucket, or None when it has no row (tests, diagnostics)."""
    row = conn.execute(text("SELECT granted, tokens FROM rate_bucket WHERE name = :n"), {"n": name}).one_or_none()
    return (int(row.granted), float(row.tokens)) if row else None
