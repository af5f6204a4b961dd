"""geo.coverage_service.on_plan_published: stored coverage is keyed by a grid's geometry (migration 0010), so a
publish computes the grids it changed and copies nothing for the ones it kept.

Checked on the demo town in a database of its own: a draft moves one building to a neighbouring grid and is
published with the API's hook; the 48 unchanged grids keep the very rows they had (same gap ids, same
computed_at), the two changed shapes are computed and the old shapes' rows are gone; a full recompute agrees
with what the publish left; publishing the old shapes again computes them afresh.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, text

from geo import coverage_service, plan_edits, plans
from geo.store.db import make_engine
from tests.api.test_plans import _neighbour_move


@pytest.fixture
def engine(private_db: str) -> Any:
    e = make_engine(private_db)
    yield e
    e.dispose()


def _published(conn: Any) -> int:
    return conn.execute(text("SELECT id FROM grid_plan WHERE status = 'published'")).scalar_one()


def _stored(engine: Engine) -> dict[str, dict[str, Any]]:
    """The published plan's grids: code -> key, figures, computed_at and the ids of their gap rows."""
    with engine.connect() as conn:
        rows = conn.execute(text("""
            SELECT g.code, g.geom_key, gc.watchable_m2, gc.covered_m2, gc.gap_count, gc.computed_at,
                   (SELECT array_agg(cg.id ORDER BY cg.id) FROM coverage_gap cg WHERE cg.geom_key = g.geom_key) AS gaps
            FROM grid g JOIN grid_plan p ON p.id = g.plan_id AND p.status = 'published'
            LEFT JOIN grid_coverage gc ON gc.geom_key = g.geom_key""")).all()
    return {r.code: {"key": bytes(r.geom_key), "watchable": r.watchable_m2, "covered": r.covered_m2,
                     "gap_count": r.gap_count, "at": r.computed_at, "gaps": r.gaps or []} for r in rows}


def _counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return (conn.execute(text("SELECT count(*) FROM grid_coverage")).scalar_one(),
                conn.execute(text("SELECT count(*) FROM coverage_gap")).scalar_one())


def _move(engine: Engine, plan: int) -> dict[str, Any]:
    """A building and a neighbouring grid of its community (the API tests' pick, on this engine)."""
    return _neighbour_move({"engine": engine}, plan)


def _publish(engine: Engine, plan: int) -> None:
    plans.publish(engine, plan_id=plan, actor="test", check=False, on_published=coverage_service.on_plan_published)


def test_a_publish_keeps_the_unchanged_grids_rows_and_computes_the_changed_ones(engine: Engine) -> None:
    coverage_service.recompute_all(engine)  # the template has the town without stored coverage
    before = _stored(engine)
    assert len(before) == 50 and all(g["watchable"] is not None for g in before.values())
    assert _counts(engine)[0] == 50  # only the published plan's shapes have rows
    with engine.connect() as conn:
        old_plan = _published(conn)
    draft = plans.create_draft(engine, name="one move", actor="test")
    move = _move(engine, draft)
    plan_edits.assign_building(engine, plan_id=draft, version=1, building=move["building"], grid=move["target"],
                               actor="test")
    _publish(engine, draft)

    after = _stored(engine)
    changed = {code for code in after if after[code]["key"] != before[code]["key"]}
    assert changed == {move["source"], move["target"]}
    for code in set(after) - changed:  # the same rows, not copies: same gap ids, same time of computation
        assert after[code] == before[code], code
    for code in changed:  # computed at the publish, and the shapes' areas moved between the two
        assert after[code]["at"] > before[code]["at"] and after[code]["watchable"] is not None
    moved_m2 = before[move["source"]]["watchable"] - after[move["source"]]["watchable"]
    assert moved_m2 > 0
    assert after[move["target"]]["watchable"] - before[move["target"]]["watchable"] == pytest.approx(moved_m2, abs=0.1)  # m², through WGS84 storage
    stored_rows, stored_gaps = _counts(engine)
    assert stored_rows == 50  # the old shapes' rows went with the publish
    assert stored_gaps == sum(len(g["gaps"]) for g in after.values())

    # what the publish left is what a full recompute makes
    coverage_service.recompute_all(engine)
    full = _stored(engine)
    for code, g in full.items():
        assert g["watchable"] == pytest.approx(after[code]["watchable"], rel=1e-9)
        assert g["covered"] == pytest.approx(after[code]["covered"], rel=1e-9)
        assert g["gap_count"] == after[code]["gap_count"]

    # the old shapes published again (a copy of the old plan): computed afresh, as before the move
    back = plans.copy_plan(engine, source_id=old_plan, name="back", actor="test")
    _publish(engine, back)
    again = _stored(engine)
    assert {code: g["key"] for code, g in again.items()} == {code: g["key"] for code, g in before.items()}
    for code in changed:
        assert again[code]["covered"] == pytest.approx(before[code]["covered"], rel=1e-9)
        assert again[code]["at"] > after[code]["at"]
    assert _counts(engine)[0] == 50


def test_a_grid_keeps_its_key_through_a_draft_and_an_undo(engine: Engine) -> None:
    """The key is the database's digest of the geometry: a draft's copy has it, an edit changes it and
    its undo (the stored geometry written back) gives it back."""
    draft = plans.create_draft(engine, name="keys", actor="test")
    move = _move(engine, draft)

    def keys() -> dict[str, bytes]:
        with engine.connect() as conn:
            return {r[0]: bytes(r[1]) for r in conn.execute(text(
                "SELECT code, geom_key FROM grid WHERE plan_id = :p"), {"p": draft})}

    with engine.connect() as conn:
        published = {r[0]: bytes(r[1]) for r in conn.execute(text(
            "SELECT code, geom_key FROM grid WHERE plan_id = :p"), {"p": _published(conn)})}
    assert keys() == published
    plan_edits.assign_building(engine, plan_id=draft, version=1, building=move["building"], grid=move["target"],
                               actor="test")
    edited = keys()
    assert {c for c in edited if edited[c] != published[c]} == {move["source"], move["target"]}
    plan_edits.undo(engine, plan_id=draft, version=2, actor="test")
    assert keys() == published
