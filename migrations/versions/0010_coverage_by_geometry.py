"""Stored grid coverage keyed by the grid's geometry, not by the grid row: a publish copies nothing.

Coverage depends on a grid's shape (and the cameras and buildings), not on the plan the grid belongs to.
Until now ``grid_coverage`` and ``coverage_gap`` hung off ``grid.id``, so publishing a plan copied every
unchanged grid's figures and gap polygons to the new plan's rows (a city: 6,087 grids, ~42,000 gaps,
~9.6 s). Now:

- ``grid.geom_key``: ``sha256(ST_AsEWKB(geom))``, a stored generated column (the database keeps it right on
  every INSERT and UPDATE of the geometry), indexed; a draft copies its parent's geometries byte for byte,
  so an unchanged grid has its parent's key;
- ``grid_coverage`` is keyed by ``geom_key`` and ``coverage_gap`` rows carry it; readers join the published
  plan's grids on the key;
- the rows kept are those of the published plan's keys (a publish removes the rows of the keys it no longer
  has and computes the missing ones), so every stored figure is current: camera changes recompute the
  published grids they touch, and a row of some older plan's shape, which they would not recompute, is
  never left behind to be taken for current later.

The upgrade keeps the published plan's rows and drops the others (the copies of retired plans). The
downgrade gives the rows back to the published plan's grids.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_PUBLISHED = "grid g JOIN grid_plan p ON p.id = g.plan_id AND p.status = 'published'"


def upgrade() -> None:
    op.execute(f"""
    ALTER TABLE grid ADD COLUMN geom_key bytea GENERATED ALWAYS AS (sha256(ST_AsEWKB(geom))) STORED;
    CREATE INDEX grid_geom_key ON grid (geom_key);

    ALTER TABLE grid_coverage ADD COLUMN geom_key bytea;
    UPDATE grid_coverage gc SET geom_key = g.geom_key FROM {_PUBLISHED} WHERE g.id = gc.grid_id;
    DELETE FROM grid_coverage WHERE geom_key IS NULL;
    ALTER TABLE grid_coverage DROP COLUMN grid_id;
    ALTER TABLE grid_coverage ALTER COLUMN geom_key SET NOT NULL, ADD PRIMARY KEY (geom_key);

    ALTER TABLE coverage_gap ADD COLUMN geom_key bytea;
    UPDATE coverage_gap cg SET geom_key = g.geom_key FROM {_PUBLISHED} WHERE g.id = cg.grid_id;
    DELETE FROM coverage_gap WHERE geom_key IS NULL;
    ALTER TABLE coverage_gap DROP COLUMN grid_id;
    ALTER TABLE coverage_gap ALTER COLUMN geom_key SET NOT NULL;
    CREATE INDEX coverage_gap_key ON coverage_gap (geom_key);
    """)


def downgrade() -> None:
    op.execute(f"""
    ALTER TABLE coverage_gap ADD COLUMN grid_id integer REFERENCES grid(id) ON DELETE CASCADE;
    UPDATE coverage_gap cg SET grid_id = g.id FROM {_PUBLISHED} WHERE g.geom_key = cg.geom_key;
    DELETE FROM coverage_gap WHERE grid_id IS NULL;
    ALTER TABLE coverage_gap DROP COLUMN geom_key;
    ALTER TABLE coverage_gap ALTER COLUMN grid_id SET NOT NULL;
    CREATE INDEX coverage_gap_grid ON coverage_gap (grid_id);

    ALTER TABLE grid_coverage ADD COLUMN grid_id integer REFERENCES grid(id) ON DELETE CASCADE;
    UPDATE grid_coverage gc SET grid_id = g.id FROM {_PUBLISHED} WHERE g.geom_key = gc.geom_key;
    DELETE FROM grid_coverage WHERE grid_id IS NULL;
    ALTER TABLE grid_coverage DROP COLUMN geom_key;
    ALTER TABLE grid_coverage ALTER COLUMN grid_id SET NOT NULL, ADD PRIMARY KEY (grid_id);

    ALTER TABLE grid DROP COLUMN geom_key;
    """)
