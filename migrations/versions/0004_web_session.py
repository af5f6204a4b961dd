"""Map sign-in sessions kept on the server: the browser's cookie holds a random token, never the API key.

The table stores only the token's SHA-256. A session ends when it expires, when its
user signs out, or when its API key is revoked.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE web_session (
      token_hash varchar(64) PRIMARY KEY,
      key_id integer NOT NULL REFERENCES api_key(id) ON DELETE CASCADE,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      ended_at timestamptz,
      CHECK (expires_at > created_at)
    );
    CREATE INDEX web_session_key ON web_session (key_id);
    """)


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS web_session")
