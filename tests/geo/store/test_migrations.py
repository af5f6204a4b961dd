"""Migrations go up to head and back down to base, in a database of their own."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from geo.store import migrate
from geo.store.db import make_engine

TABLES = {
    "town", "community", "grid_plan", "grid", "building", "unit", "road", "camera", "key_place",
    "staff", "incident", "incident_event", "audit_log", "api_key", "camera_view", "grid_coverage", "coverage_gap",
    "plan_edit", "plan_edit_grid", "web_session", "data_version", "rate_bucket", "grid_stats",
}


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"spatial_ref_sys", "alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(empty_database: str) -> None:
    migrate.upgrade(empty_database)
    assert _tables(empty_database) == TABLES
    engine = make_engine(empty_database)
    assert migrate.current_revision(engine) == migrate.head_revision()
    with engine.connect() as conn:
        gist = conn.execute(text(
            "SELECT tablename FROM pg_indexes WHERE indexdef ILIKE '%USING gist%' AND schemaname = 'public'"
        )).scalars().all()
    engine.dispose()
    assert {"community", "grid", "building", "road", "camera", "key_place", "incident", "camera_view",
            "coverage_gap"} <= set(gist)

    migrate.downgrade(empty_database, "base")
    assert _tables(empty_database) == set()

    migrate.upgrade(empty_database)
    assert _tables(empty_database) == TABLES


@pytest.mark.slow
def test_alembic_command_line(empty_database: str, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """`alembic upgrade head` / `alembic downgrade base` from the repo root, as a person would type them."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    env = {**__import__("os").environ, "GRIDMAP_DATABASE_URL": empty_database}
    alembic = [sys.executable, "-m", "alembic", "-c", str(root / "alembic.ini")]
    up = subprocess.run([*alembic, "upgrade", "head"], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert up.returncode == 0, up.stderr
    assert _tables(empty_database) == TABLES
    down = subprocess.run([*alembic, "downgrade", "base"], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert down.returncode == 0, down.stderr
    assert _tables(empty_database) == set()
