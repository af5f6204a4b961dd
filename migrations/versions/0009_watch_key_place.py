"""Watch key_place too: a change counter (data_version, 0006) for the last table the OGC collections read
without one, so every collection's cached numberMatched (geo.store.ogc) is keyed on all it counts.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    INSERT INTO data_version (table_name, version) VALUES ('key_place', 1) ON CONFLICT DO NOTHING;
    CREATE TRIGGER key_place_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON key_place
      FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS key_place_data_version ON key_place; "
               "DELETE FROM data_version WHERE table_name = 'key_place'")
