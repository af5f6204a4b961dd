"""The database itself refuses bad geometry and a second published plan."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError

BOWTIE = "SRID=4326;MULTIPOLYGON(((113.10 40.05, 113.11 40.06, 113.11 40.05, 113.10 40.06, 113.10 40.05)))"
SQUARE = "MULTIPOLYGON(((113.10 40.05, 113.11 40.05, 113.11 40.06, 113.10 40.06, 113.10 40.05)))"


def _insert_grid(conn, geom: str) -> None:  # type: ignore[no-untyped-def]
    conn.execute(text(
        "INSERT INTO grid (plan_id, community_id, code, name, geom) "
        "SELECT (SELECT id FROM grid_plan WHERE status = 'published'), (SELECT min(id) FROM community), "
        "'140214101999001', 'test', ST_GeomFromEWKT(:g)"
    ), {"g": geom})


@pytest.mark.parametrize("geom, constraint", [
    (BOWTIE, "grid_geom_valid"),
    ("SRID=4326;MULTIPOLYGON EMPTY", "grid_geom_valid"),
])
def test_invalid_grid_geometry_is_refused(engine: Engine, geom: str, constraint: str) -> None:
    with engine.connect() as conn:
        with pytest.raises(IntegrityError, match=constraint):
            _insert_grid(conn, geom)
        conn.rollback()
        assert conn.execute(text("SELECT count(*) FROM grid WHERE code = '140214101999001'")).scalar_one() == 0


def test_wrong_srid_and_type_are_refused(engine: Engine) -> None:
    with engine.connect() as conn:
        with pytest.raises(DBAPIError, match="SRID"):
            _insert_grid(conn, "SRID=4547;" + SQUARE)
        conn.rollback()
        with pytest.raises(DBAPIError, match="(?i)geometry type"):
            _insert_grid(conn, "SRID=4326;POINT(113.1 40.05)")
        conn.rollback()


def test_valid_grid_geometry_is_accepted(engine: Engine) -> None:
    with engine.connect() as conn:
        _insert_grid(conn, "SRID=4326;" + SQUARE)
        assert conn.execute(text("SELECT count(*) FROM grid WHERE code = '140214101999001'")).scalar_one() == 1
        conn.rollback()


def test_at_most_one_published_plan(engine: Engine) -> None:
    with engine.connect() as conn:
        with pytest.raises(IntegrityError, match="grid_plan_one_published"):
            conn.execute(text(
                "INSERT INTO grid_plan (town_id, name, status, published_at) "
                "SELECT town_id, 'second', 'published', now() FROM grid_plan LIMIT 1"
            ))
        conn.rollback()


def test_cannot_leave_no_published_plan(engine: Engine) -> None:
    conn = engine.connect()
    try:
        conn.execute(text("UPDATE grid_plan SET status = 'retired', retired_at = now() WHERE status = 'published'"))
        with pytest.raises(IntegrityError, match="exactly one published plan"):
            conn.commit()  # the deferred trigger fires at commit
    finally:
        conn.close()
    with engine.connect() as check:
        assert check.execute(text("SELECT count(*) FROM grid_plan WHERE status = 'published'")).scalar_one() == 1


def test_retire_and_publish_in_one_transaction_is_allowed(engine: Engine) -> None:
    with engine.connect() as conn:
        old = conn.execute(text("SELECT id FROM grid_plan WHERE status = 'published'")).scalar_one()
        conn.execute(text("UPDATE grid_plan SET status = 'retired', retired_at = now() WHERE id = :id"), {"id": old})
        conn.execute(text(
            "INSERT INTO grid_plan (town_id, name, status, published_at, parent_id) "
            "SELECT town_id, 'next', 'published', now(), id FROM grid_plan WHERE id = :id"
        ), {"id": old})
        conn.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))  # the check passes now; then undo it all
        conn.rollback()
