"""geo.store.ogc.MatchedCounts: numberMatched kept between pages, exact after any write."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from geo.ogc import query as ogc_query
from geo.store import ogc as store
from geo.store.db import make_engine, reading


@pytest.fixture(scope="module")
def engine(module_db: str) -> Iterator[Engine]:
    eng = make_engine(module_db)
    yield eng
    eng.dispose()


def _page(engine: Engine, collection_id: str, counts: store.MatchedCounts | None,
          **params: str) -> tuple[int, int, list[bool]]:
    """(numberMatched, numberReturned, the ``count`` flag of each page statement sent)."""
    c = store.collection_for(collection_id)
    q = ogc_query.items_query(c, params, allows=lambda role: True)
    flags: list[bool] = []

    def seen(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if isinstance(parameters, dict) and "count" in parameters:
            flags.append(parameters["count"])

    event.listen(engine, "before_cursor_execute", seen)
    try:
        with reading(engine) as conn:
            matched, returned, _, _ = store.items_page(conn, c, q, counts=counts)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    return matched, returned, flags


def _count(engine: Engine, sql: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar_one()


def test_the_next_pages_reuse_the_count_and_a_write_makes_it_count_again(engine: Engine) -> None:
    counts = store.MatchedCounts()
    total = _count(engine, "SELECT count(*) FROM incident WHERE voided_at IS NULL")
    assert _page(engine, "incidents", counts, limit="100") == (total, 100, [True])
    assert _page(engine, "incidents", counts, limit="100", offset="100") == (total, 100, [False])
    assert _page(engine, "incidents", counts, limit="50", offset="3000", sortby="-occurred_at") == (
        total, min(50, total - 3000), [False])  # limit, offset and sort are not part of the count

    with engine.begin() as conn:  # a write elsewhere: one more incident
        conn.execute(text("INSERT INTO incident (ref, category, source, severity, occurred_at, reported_at, status, geom) "
                          "SELECT 'COUNT-TEST', category, source, severity, occurred_at, reported_at, status, geom "
                          "FROM incident ORDER BY id LIMIT 1"))
    # the kept count's counters are not this snapshot's: counted again, in the page's snapshot
    assert _page(engine, "incidents", counts, limit="100") == (total + 1, 100, [False, True])
    assert _page(engine, "incidents", counts, limit="100", offset="200") == (total + 1, 100, [False])

    with engine.begin() as conn:  # voiding one takes it out of the collection: counted again
        conn.execute(text("UPDATE incident SET voided_at = now(), voided_by = 'test', void_reason = 'count test' WHERE ref = 'COUNT-TEST'"))
    assert _page(engine, "incidents", counts, limit="1")[0] == total


def test_each_filter_has_its_own_count(engine: Engine) -> None:
    counts = store.MatchedCounts()
    disputes = _count(engine, "SELECT count(*) FROM incident WHERE voided_at IS NULL AND category = 'dispute'")
    noise = _count(engine, "SELECT count(*) FROM incident WHERE voided_at IS NULL AND category = 'noise'")
    assert disputes != noise
    assert _page(engine, "incidents", counts, filter="category='dispute'")[0::2] == (disputes, [True])
    assert _page(engine, "incidents", counts, filter="category='noise'")[0::2] == (noise, [True])
    assert _page(engine, "incidents", counts, filter="category='dispute'", offset="5")[0::2] == (disputes, [False])
    box = "113.095,40.046,113.100,40.050"
    in_box = _count(engine, "SELECT count(*) FROM incident WHERE voided_at IS NULL AND "
                            "ST_Intersects(geom, ST_MakeEnvelope(113.095, 40.046, 113.100, 40.050, 4326))")
    assert _page(engine, "incidents", counts, bbox=box)[0::2] == (in_box, [True])
    assert _page(engine, "incidents", counts, bbox=box, offset="1")[0::2] == (in_box, [False])


def test_key_places_are_watched_too(engine: Engine) -> None:
    """key_place has a change counter (migration 0009): a new key place is counted at once."""
    counts = store.MatchedCounts()
    before = _page(engine, "key-places", counts)[0]
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO key_place (kind, name, geom) SELECT kind, 'count test', geom "
                          "FROM key_place ORDER BY id LIMIT 1"))
    assert _page(engine, "key-places", counts)[0::2] == (before + 1, [False, True])


def test_grids_of_two_plans_are_two_counts(engine: Engine) -> None:
    with engine.connect() as conn:
        plan = conn.execute(text("SELECT id FROM grid_plan WHERE status = 'published'")).scalar_one()
    counts = store.MatchedCounts()
    grids = _count(engine, f"SELECT count(*) FROM grid WHERE plan_id = {plan}")
    assert _page(engine, "grids", counts, plan=str(plan))[0::2] == (grids, [True])
    assert _page(engine, "grids", counts)[0::2] == (grids, [False])  # the published plan is that plan
    assert _page(engine, "grids", counts, plan=str(plan), offset="3")[0::2] == (grids, [False])


def test_the_kept_counts_are_bounded() -> None:
    counts = store.MatchedCounts(size=2)
    for i in range(3):
        counts.put(("q", i), "v", i)
    assert counts.get(("q", 0)) is None and counts.get(("q", 2)) == ("v", 2)
    counts.get(("q", 1))  # used: the least recently used is now 2
    counts.put(("q", 3), "v", 3)
    assert counts.get(("q", 2)) is None and counts.get(("q", 1)) == ("v", 1)
