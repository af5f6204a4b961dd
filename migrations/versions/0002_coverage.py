"""Stored camera views and coverage: views are recomputed when a camera or a building
changes, not on every request.

- camera_view: each camera's visible polygon (after occlusion by buildings), its area,
  the range used and which DORI level it means, and a digest of the inputs it was
  computed from (so stale views are found without recomputing them).
- grid_coverage: per grid and plan, watchable area (grid minus footprints), covered
  area, ratio, largest gap; coverage_gap: the gap polygons.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _checks(table: str, types: tuple[str, ...]) -> str:
    kinds = ", ".join(f"'{t}'" for t in types)
    return f"""
    ALTER TABLE {table}
      ADD CONSTRAINT {table}_geom_srid CHECK (ST_SRID(geom) = 4326),
      ADD CONSTRAINT {table}_geom_type CHECK (GeometryType(geom) IN ({kinds})),
      ADD CONSTRAINT {table}_geom_valid CHECK (ST_IsValid(geom));
    CREATE INDEX {table}_geom_gist ON {table} USING gist (geom);
    """


def upgrade() -> None:
    op.execute(f"""
    CREATE TABLE camera_view (
      camera_id integer PRIMARY KEY REFERENCES camera(id) ON DELETE CASCADE,
      geom geometry(Geometry, 4326) NOT NULL,
      area_m2 double precision NOT NULL CHECK (area_m2 >= 0),
      range_m double precision NOT NULL CHECK (range_m > 0),
      range_level text,
      rays_per_degree double precision NOT NULL,
      inputs text NOT NULL,
      computed_at timestamptz NOT NULL DEFAULT now()
    );
    {_checks("camera_view", ("POLYGON", "MULTIPOLYGON", "GEOMETRYCOLLECTION"))}

    CREATE TABLE grid_coverage (
      grid_id integer PRIMARY KEY REFERENCES grid(id) ON DELETE CASCADE,
      watchable_m2 double precision NOT NULL,
      covered_m2 double precision NOT NULL,
      ratio double precision NOT NULL CHECK (ratio >= 0 AND ratio <= 1.000001),
      largest_gap_m2 double precision NOT NULL,
      gap_count integer NOT NULL,
      computed_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE coverage_gap (
      id serial PRIMARY KEY,
      grid_id integer NOT NULL REFERENCES grid(id) ON DELETE CASCADE,
      area_m2 double precision NOT NULL,
      geom geometry(Polygon, 4326) NOT NULL
    );
    {_checks("coverage_gap", ("POLYGON",))}
    CREATE INDEX coverage_gap_grid ON coverage_gap (grid_id);
    """)


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS coverage_gap, grid_coverage, camera_view CASCADE")
