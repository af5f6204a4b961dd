"""The committed Gaoshan data, once loaded, keeps the town's invariants — checked in PostGIS, in metres."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from geo.config import get_settings
from geo.errors import Conflict
from geo.store.load import load_dataset
from tests.conftest import DEMO_DIR

METRIC = "4547"


def test_counts_match_the_source(engine: Engine) -> None:
    with engine.connect() as conn:
        n = conn.execute(text(
            "SELECT (SELECT count(*) FROM grid g JOIN grid_plan p ON p.id = g.plan_id AND p.status = 'published'),"
            " (SELECT count(*) FROM building), (SELECT count(*) FROM unit), (SELECT count(*) FROM camera),"
            " (SELECT count(*) FROM staff WHERE role = 'grid_member'), (SELECT count(*) FROM staff WHERE role = 'cadre')"
        )).one()
    assert tuple(n[:3]) == (50, 125, 390)
    assert n[3] >= 700
    assert n[4] == 50 and n[5] == 32


def test_every_grid_within_household_and_population_bands(engine: Engine) -> None:
    s = get_settings()
    with engine.connect() as conn:
        rows = conn.execute(text("""
            SELECT g.code, sum(u.households) AS hh, sum(u.population) AS pop
            FROM grid g JOIN grid_plan p ON p.id = g.plan_id AND p.status = 'published'
            JOIN building b ON ST_Covers(g.geom, ST_PointOnSurface(b.geom))
            JOIN unit u ON u.building_id = b.id
            GROUP BY g.code""")).all()
    assert len(rows) == 50
    for code, hh, pop in rows:
        assert s.grid_households_min <= hh <= s.grid_households_max, (code, hh)
        assert s.grid_population_min <= pop <= s.grid_population_max, (code, pop)


def test_every_building_lies_whole_in_exactly_one_grid(engine: Engine) -> None:
    with engine.connect() as conn:
        rows = conn.execute(text(f"""
            SELECT b.code,
                   count(g.id) FILTER (WHERE ST_Area(ST_Transform(ST_Intersection(g.geom, b.geom), {METRIC}))
                                       > 0.001 * ST_Area(ST_Transform(b.geom, {METRIC}))) AS touching,
                   max(ST_Area(ST_Transform(ST_Intersection(g.geom, b.geom), {METRIC}))
                       / ST_Area(ST_Transform(b.geom, {METRIC}))) AS share
            FROM building b JOIN grid g ON ST_Intersects(g.geom, b.geom)
            JOIN grid_plan p ON p.id = g.plan_id AND p.status = 'published'
            GROUP BY b.code""")).all()
    assert len(rows) == 125
    for code, touching, share in rows:
        assert touching == 1, code
        assert share == pytest.approx(1.0, abs=1e-6), code


def test_grids_partition_their_community(engine: Engine) -> None:
    """Within each community the grids neither overlap nor leave gaps (areas in EPSG:4547)."""
    with engine.connect() as conn:
        overlaps = conn.execute(text(f"""
            SELECT coalesce(sum(ST_Area(ST_Transform(ST_Intersection(a.geom, b.geom), {METRIC}))), 0)
            FROM grid a JOIN grid b ON a.plan_id = b.plan_id AND a.id < b.id AND ST_Intersects(a.geom, b.geom)
            JOIN grid_plan p ON p.id = a.plan_id AND p.status = 'published'""")).scalar_one()
        gaps = conn.execute(text(f"""
            SELECT c.code, ST_Area(ST_Transform(c.geom, {METRIC})) AS community_m2,
                   ST_Area(ST_Transform(ST_Union(g.geom), {METRIC})) AS grids_m2,
                   ST_Area(ST_Transform(ST_Difference(c.geom, ST_Union(g.geom)), {METRIC})) AS gap_m2,
                   ST_Area(ST_Transform(ST_Difference(ST_Union(g.geom), c.geom), {METRIC})) AS outside_m2
            FROM community c JOIN grid g ON g.community_id = c.id
            JOIN grid_plan p ON p.id = g.plan_id AND p.status = 'published'
            GROUP BY c.code, c.geom""")).all()
    assert overlaps < 0.01
    assert len(gaps) >= 3
    for code, community_m2, grids_m2, gap_m2, outside_m2 in gaps:
        assert grids_m2 == pytest.approx(community_m2, abs=0.1), code
        assert gap_m2 < 0.1 and outside_m2 < 0.1, code


def test_incidents_keep_their_report_time_grid(engine: Engine) -> None:
    with engine.connect() as conn:
        total, with_grid, states = conn.execute(text(
            "SELECT count(*), count(grid_code), count(DISTINCT status) FROM incident")).one()
    assert total >= 2000
    assert with_grid == total  # every demo incident lies in a grid
    assert states == 7


def test_loading_twice_is_refused_and_changes_nothing(engine: Engine) -> None:
    with engine.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM building")).scalar_one()
    with pytest.raises(Conflict, match="db reset"):
        load_dataset(engine, DEMO_DIR)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM building")).scalar_one() == before


def test_gap_polygons_are_made_storable() -> None:
    """A gap polygon that reprojection left invalid is repaired before it is snapped for storage."""
    from shapely import Polygon

    from geo.store.coverage import storable

    # a hole touching its shell along an edge (invalid), in degrees
    shell = [(113.2, 40.05), (113.201, 40.05), (113.201, 40.051), (113.2, 40.051)]
    hole = [(113.2, 40.0502), (113.2005, 40.0502), (113.2005, 40.0505), (113.2, 40.0505)]
    bad = Polygon(shell, [hole])
    assert not bad.is_valid
    good = storable(bad)
    assert good.is_valid and good.area > 0
