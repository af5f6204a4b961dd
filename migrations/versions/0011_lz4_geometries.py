"""Large geometries compressed with lz4 instead of PostgreSQL's default pglz.

A camera view is ~200 vertices (~3.2 KB of WKB), past the 2 KB at which PostgreSQL compresses a value; so are
gap polygons, grids and communities. pglz made storing a city's 101,126 views cost ~7 s of the server's time
(the CHECKs and the GiST index are the rest) and reading them back cost again; with lz4 the same INSERT took
2.3 s and the table is 15 % smaller (measured on the city set, 2026-12-03: 381 MB -> 321 MB). Rows written
before this migration stay as they are until rewritten (a recompute rewrites views and gaps).
Debian's PostgreSQL 15 is built with lz4 (``--with-lz4``).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

COLUMNS = (("camera_view", "geom"), ("coverage_gap", "geom"), ("grid", "geom"), ("community", "geom"),
           ("plan_edit_grid", "before"), ("plan_edit_grid", "after"))


def _set(method: str) -> None:
    for table, column in COLUMNS:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION {method}")


def upgrade() -> None:
    _set("lz4")


def downgrade() -> None:
    _set("pglz")
