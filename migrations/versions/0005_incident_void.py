"""Incidents reported by mistake are voided, never deleted: kept with who voided them, when and why,
and left out of every count, heatmap, hotspot and report.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    ALTER TABLE incident
      ADD COLUMN voided_at timestamptz,
      ADD COLUMN voided_by text,
      ADD COLUMN void_reason text,
      ADD CONSTRAINT incident_void_complete CHECK (
        (voided_at IS NULL AND voided_by IS NULL AND void_reason IS NULL)
        OR (voided_at IS NOT NULL AND voided_by IS NOT NULL AND length(btrim(void_reason)) > 0));
    CREATE INDEX incident_counted ON incident (occurred_at) WHERE voided_at IS NULL;
    """)


def downgrade() -> None:
    op.execute("""
    DROP INDEX IF EXISTS incident_counted;
    ALTER TABLE incident DROP CONSTRAINT IF EXISTS incident_void_complete,
      DROP COLUMN IF EXISTS void_reason, DROP COLUMN IF EXISTS voided_by, DROP COLUMN IF EXISTS voided_at;
    """)
