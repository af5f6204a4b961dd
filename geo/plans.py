"""Grid plans: copy a plan into a draft, publish a plan atomically.

Publishing retires the published plan and publishes the new one in one
transaction (the database's deferred trigger checks that exactly one plan is
published at commit). Validation before publishing is the planners' editor's
job (its HTTP route refuses to publish an invalid plan); these functions are the
storage side.
"""

from __future__ import annotations

from sqlalchemy import Engine, text

from geo.errors import Conflict, NotFound
from geo.store import audit


def copy_plan(engine: Engine, *, source_id: int, name: str, actor: str) -> int:
    """A new draft holding a copy of ``source_id``'s grids; returns its id."""
    with engine.begin() as conn:
        source = conn.execute(text("SELECT id, town_id FROM grid_plan WHERE id = :id"), {"id": source_id}).first()
        if source is None:
            raise NotFound(f"no plan with id {source_id}: GET /v1/plans lists them")
        plan_id = conn.execute(text(
            "INSERT INTO grid_plan (town_id, name, status, parent_id, created_by) "
            "VALUES (:t, :n, 'draft', :p, :a) RETURNING id"
        ), {"t": source.town_id, "n": name, "p": source_id, "a": actor}).scalar_one()
        conn.execute(text(
            "INSERT INTO grid (plan_id, community_id, code, name, geom) "
            "SELECT :new, community_id, code, name, geom FROM grid WHERE plan_id = :old"
        ), {"new": plan_id, "old": source_id})
        audit.record(conn, actor=actor, action="copy", entity="grid_plan", entity_id=str(plan_id),
                     after={"parent_id": source_id, "name": name})
    return plan_id


def publish(engine: Engine, *, plan_id: int, actor: str) -> None:
    """Retire the published plan and publish ``plan_id`` (a draft), atomically."""
    with engine.begin() as conn:
        rows = conn.execute(text(
            "SELECT id, status, town_id FROM grid_plan WHERE id = :id OR status = 'published' ORDER BY id FOR UPDATE"
        ), {"id": plan_id}).all()
        target = next((r for r in rows if r.id == plan_id), None)
        if target is None:
            raise NotFound(f"no plan with id {plan_id}: GET /v1/plans lists them")
        if target.status != "draft":
            raise Conflict(f"plan {plan_id} is {target.status}; only a draft can be published "
                           "(copy it into a new draft first)")
        old = [r.id for r in rows if r.status == "published" and r.town_id == target.town_id]
        conn.execute(text(
            "UPDATE grid_plan SET status = 'retired', retired_at = now() WHERE id = ANY(:ids)"
        ), {"ids": old})
        conn.execute(text(
            "UPDATE grid_plan SET status = 'published', published_at = now(), version = version + 1 WHERE id = :id"
        ), {"id": plan_id})
        audit.record(conn, actor=actor, action="publish", entity="grid_plan", entity_id=str(plan_id),
                     before={"published": old}, after={"published": plan_id})
