"""The edit log of grid plans: every edit of a draft, with the grids before and after.

- plan_edit: one row per edit (who, when, which operation, the plan version it
  produced); ``undone`` marks edits taken back by undo (a new edit discards them,
  so they form the redo stack).
- plan_edit_grid: the grids an edit touched, each with its geometry before and
  after (NULL before = the edit created the grid; NULL after = it removed it).
  Undo writes the ``before`` geometries back; redo writes ``after``.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE plan_edit (
      id bigserial PRIMARY KEY,
      plan_id integer NOT NULL REFERENCES grid_plan(id) ON DELETE CASCADE,
      seq integer NOT NULL CHECK (seq > 0),
      version integer NOT NULL,
      at timestamptz NOT NULL DEFAULT now(),
      actor text NOT NULL,
      op text NOT NULL,
      summary jsonb NOT NULL DEFAULT '{}'::jsonb,
      undone boolean NOT NULL DEFAULT false,
      UNIQUE (plan_id, seq)
    );

    CREATE TABLE plan_edit_grid (
      edit_id bigint NOT NULL REFERENCES plan_edit(id) ON DELETE CASCADE,
      code varchar(15) NOT NULL CHECK (code ~ '^[0-9]{15}$'),
      community_id integer NOT NULL REFERENCES community(id),
      name text NOT NULL,
      before geometry(MultiPolygon, 4326),
      after geometry(MultiPolygon, 4326),
      PRIMARY KEY (edit_id, code),
      CHECK (before IS NOT NULL OR after IS NOT NULL)
    );
    """)


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS plan_edit_grid, plan_edit CASCADE")
