"""Rate-limit buckets shared by every worker on every machine: one row per bucket (an API key's, an
address's), leased from in batches (geo.ratelimit).

UNLOGGED: the rows change on every lease and are worth nothing after a crash (PostgreSQL empties an
unlogged table in crash recovery, so every bucket starts full again, as after a quiet spell); writing
them to the WAL would cost every lease a WAL flush for no gain. An unlogged table is not replicated,
so the buckets live on the primary only, where the API writes anyway.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-10
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE UNLOGGED TABLE rate_bucket (
      name text PRIMARY KEY,                     -- 'key:<prefix>' or 'address:<ip>'
      tokens double precision NOT NULL,          -- what is left in the bucket after the last lease
      granted integer NOT NULL DEFAULT 0,        -- what the last lease took
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    """)


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS rate_bucket")
