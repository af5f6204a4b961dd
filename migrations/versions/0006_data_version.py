"""An exact change counter per table, for caches keyed on what a response shows (the tiles' ETags).

``data_version(table_name, version)``: one row per watched table, bumped by a statement-level trigger
after any INSERT, UPDATE, DELETE or TRUNCATE of that table — once per table per transaction (a
transaction-local setting remembers the bump), so a 100,000-row load costs one row update, not
100,000. The bump is an ordinary row update in the writing transaction: it becomes visible exactly
when the data it counts does (a sequence would be visible before the commit, and a reader could key
the old rows under the new counter). A reader that reads the counter first and the rows after can
only be newer than its key, never older. The row ``epoch`` holds a random number made with the
table, so a schema made again (``gridmap db reset``, counters back at 1) never repeats a key.

The cost: writers of one table queue on its counter row until they commit (transactions here are
milliseconds long; incident reports, the busiest writers, then run one at a time per table).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Migrations are snapshots: the watched tables are listed here, not imported.
WATCHED = ("community", "grid_plan", "grid", "building", "unit", "staff", "camera", "camera_view",
           "coverage_gap", "incident")


def upgrade() -> None:
    rows = ", ".join(f"('{t}', 1)" for t in WATCHED)
    op.execute(f"""
    CREATE TABLE data_version (
      table_name text PRIMARY KEY,
      version bigint NOT NULL CHECK (version >= 1)
    );
    INSERT INTO data_version (table_name, version) VALUES {rows};
    -- this schema's random epoch: counters restart at 1 after `gridmap db reset`, the epoch does not repeat
    INSERT INTO data_version (table_name, version) VALUES ('epoch', 1 + floor(random() * 4e18)::bigint);

    CREATE FUNCTION bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      flag text := 'gridmap.bumped_' || TG_TABLE_NAME;
    BEGIN
      IF coalesce(current_setting(flag, true), '') <> 'on' THEN
        UPDATE data_version SET version = version + 1 WHERE table_name = TG_TABLE_NAME;
        PERFORM set_config(flag, 'on', true);  -- transaction-local: reset at commit or rollback
      END IF;
      RETURN NULL;
    END $$;
    """)
    for t in WATCHED:
        op.execute(f"""
        CREATE TRIGGER {t}_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {t}
          FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
        """)


def downgrade() -> None:
    for t in WATCHED:
        op.execute(f"DROP TRIGGER IF EXISTS {t}_data_version ON {t}")
    op.execute("DROP FUNCTION IF EXISTS bump_data_version(); DROP TABLE IF EXISTS data_version")
