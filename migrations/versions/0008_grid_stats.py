"""Per-grid households, population and grid member, kept for the grid tiles, keyed on what they are made of.

``grid_stats(grid_id, households, population, grid_member, stamp)``: a row is right for a reader whose
``stamp`` — the data_version counters of grid, building, unit and staff, and the epoch — equals the
row's; any other row is ignored and the tile computes that grid live (so the table can never make a
tile wrong, only faster). The tile that met a missing or stale row fills the whole plan's rows in one
statement afterwards (geo.store.tiles). Rows go with their grid (ON DELETE CASCADE). Not a watched
table: writing it bumps no counter.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE grid_stats (
      grid_id integer PRIMARY KEY REFERENCES grid(id) ON DELETE CASCADE,
      households bigint NOT NULL CHECK (households >= 0),
      population bigint NOT NULL CHECK (population >= 0),
      grid_member text,
      stamp text NOT NULL
    );
    """)


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS grid_stats")
