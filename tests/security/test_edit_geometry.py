"""Expensive or pathological edit geometry: refused before the plan is locked, or computed; never a 500.

The outside test sent a valid 99,991-vertex polygon to ``PUT /v1/plans/{id}/grids/{code}``: it ran
16.6 s holding the plan's row lock and answered 500 ("Overlay input is mixed-dimension").
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping, shape
from sqlalchemy import text

from tests.conftest import auth


def _draft(env: dict[str, Any], name: str) -> tuple[int, int, dict[str, Any]]:
    c, h = env["client"], auth(env["keys"]["planner"])
    r = c.post("/v1/plans", json={"name": name}, headers=h)
    assert r.status_code == 201, r.text
    plan = r.json()
    grids = c.get(f"/v1/plans/{plan['id']}/grids", headers=h).json()
    return plan["id"], plan["version"], grids["features"][5]


def _wiggly_circle(centre: Any, n: int) -> shapely.Polygon:
    """A valid polygon of n vertices around a grid's centre, ±5 % wiggles (about 90 m across)."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = 0.0004 * (1 + 0.05 * np.sin(t * 50))
    poly = shapely.Polygon(np.c_[centre.x + r * np.cos(t), centre.y + 0.77 * r * np.sin(t)])
    assert poly.is_valid
    return poly


def _state(env: dict[str, Any], plan: int) -> tuple[Any, ...]:
    with env["engine"].connect() as conn:
        version = conn.execute(text("SELECT version FROM grid_plan WHERE id = :p"), {"p": plan}).scalar_one()
        grids = conn.execute(text("SELECT string_agg(code || md5(ST_AsBinary(geom)), ',' ORDER BY code) "
                                  "FROM grid WHERE plan_id = :p"), {"p": plan}).scalar_one()
        edits = conn.execute(text("SELECT count(*) FROM plan_edit WHERE plan_id = :p"), {"p": plan}).scalar_one()
    return version, grids, edits


def test_a_huge_valid_boundary_is_refused_before_any_work(env) -> None:  # type: ignore[no-untyped-def]
    plan, version, grid = _draft(env, "huge boundary")
    before = _state(env, plan)
    poly = _wiggly_circle(shape(grid["geometry"]).centroid, 99_991)
    r = env["client"].put(f"/v1/plans/{plan}/grids/{grid['properties']['code']}", json={"geometry": mapping(poly)},
                          headers={**auth(env["keys"]["planner"]), "If-Match": f'"{version}"'})
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "over_budget"
    assert "GRIDMAP_EDIT_MAX_VERTICES" in error["message"] and "99,992" in error["message"]  # the closing vertex counts
    assert error["details"]["limit"] == env["settings"].edit_max_vertices
    assert _state(env, plan) == before


def test_a_huge_split_line_is_refused(env) -> None:  # type: ignore[no-untyped-def]
    plan, version, grid = _draft(env, "huge split")
    before = _state(env, plan)
    b = shape(grid["geometry"]).bounds
    x = np.linspace(b[0] - 0.001, b[2] + 0.001, env["settings"].edit_max_vertices + 1)
    line = shapely.LineString(np.c_[x, np.full_like(x, (b[1] + b[3]) / 2)])
    r = env["client"].post(f"/v1/plans/{plan}/split", json={"grid": grid["properties"]["code"], "line": mapping(line)},
                           headers={**auth(env["keys"]["planner"]), "If-Match": f'"{version}"'})
    assert r.status_code == 422 and r.json()["error"]["code"] == "over_budget", r.text
    assert _state(env, plan) == before


def test_a_boundary_whose_snapping_collapses_rings_is_computed_not_a_500(env) -> None:  # type: ignore[no-untyped-def]
    """2,000 wiggles 2-4 m apart: snapping to the community and roads collapsed parts of the ring into
    lines, and the overlay of that mixed collection raised a GEOS error (a 500). Now the area is kept."""
    plan, version, grid = _draft(env, "collapsing boundary")
    code = grid["properties"]["code"]
    poly = _wiggly_circle(shape(grid["geometry"]).centroid, 2_000)
    r = env["client"].put(f"/v1/plans/{plan}/grids/{code}", json={"geometry": mapping(poly)},
                          headers={**auth(env["keys"]["planner"]), "If-Match": f'"{version}"'})
    assert r.status_code == 200, r.text
    problems = env["client"].get(f"/v1/plans/{plan}/validation", headers=auth(env["keys"]["viewer"])).json()
    kinds = {p["kind"] for p in problems["problems"] if p["severity"] == "error"}
    assert not kinds & {"overlap", "invalid_geometry"}, problems["problems"][:3]


def test_an_import_of_a_huge_grid_is_refused_and_changes_nothing(env) -> None:  # type: ignore[no-untyped-def]
    import json

    plan, version, grid = _draft(env, "huge import")
    c, h = env["client"], auth(env["keys"]["planner"])
    fc = c.get(f"/v1/plans/{plan}/grids", headers=h).json()
    before = _state(env, plan)
    g = shape(fc["features"][0]["geometry"])
    fc["features"][0]["geometry"] = mapping(shapely.segmentize(g, max_segment_length=(g.length / 6_000)))
    r = c.post(f"/v1/plans/{plan}/import", files={"file": ("grids.geojson", json.dumps(fc).encode())},
               headers={**h, "If-Match": f'"{version}"'})
    assert r.status_code == 422 and r.json()["error"]["code"] == "over_budget", r.text
    assert "feature 0" in r.json()["error"]["message"]
    assert _state(env, plan) == before
