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


def test_coverage_keyed_by_geometry_goes_down_and_up_with_its_rows(private_db: str) -> None:
    """0010 moves stored coverage from grid ids to geometry keys and back, keeping the published plan's rows
    (and dropping a retired plan's copies on the way up)."""
    from geo import coverage_service, plans

    engine = make_engine(private_db)
    try:
        coverage_service.recompute_all(engine)
        figures = "SELECT g.code, gc.covered_m2 FROM grid g JOIN grid_plan p ON p.id = g.plan_id AND p.status = 'published' "
        with engine.connect() as conn:
            keyed = dict(conn.execute(text(figures + "JOIN grid_coverage gc ON gc.geom_key = g.geom_key")).all())
            gaps = conn.execute(text("SELECT count(*) FROM coverage_gap")).scalar_one()
        assert len(keyed) == 50
        engine.dispose()
        migrate.downgrade(private_db, "0009")
        with engine.connect() as conn:
            by_id = dict(conn.execute(text(figures + "JOIN grid_coverage gc ON gc.grid_id = g.id")).all())
            assert conn.execute(text("SELECT count(*) FROM coverage_gap")).scalar_one() == gaps
            # a retired plan's copied rows, as 0009's publish made them: they go on the way up
            old = conn.execute(text("SELECT id FROM grid_plan WHERE status = 'published'")).scalar_one()
        assert by_id == keyed
        copy = plans.copy_plan(engine, source_id=old, name="retired copy", actor="test")
        with engine.begin() as conn:
            conn.execute(text("UPDATE grid_plan SET status = 'retired', published_at = now() - interval '1 day', "
                              "retired_at = now() WHERE id = :p"), {"p": copy})
            conn.execute(text(
                "INSERT INTO grid_coverage (grid_id, watchable_m2, covered_m2, ratio, largest_gap_m2, gap_count) "
                "SELECT n.id, 1, 1, 1, 0, 0 FROM grid n WHERE n.plan_id = :p"), {"p": copy})
        engine.dispose()
        migrate.upgrade(private_db)
        with engine.connect() as conn:
            assert dict(conn.execute(text(figures + "JOIN grid_coverage gc ON gc.geom_key = g.geom_key")).all()) == keyed
            assert conn.execute(text("SELECT count(*) FROM grid_coverage")).scalar_one() == 50
            assert conn.execute(text("SELECT count(*) FROM coverage_gap")).scalar_one() == gaps
    finally:
        engine.dispose()
