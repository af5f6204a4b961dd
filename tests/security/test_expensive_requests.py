"""Expensive analysis requests: refused with 422 ``over_budget`` before the work, naming the budget, the
estimate, the setting and how to narrow the request; a request just under the budget still answers.

The outside test found (viewer key, the Gaoshan demo data):
``GET /v1/hotspots?cell_m=15&threshold_m=20000`` took +1.1 GB, ``cell_m=12`` +2.6 GB;
``POST /v1/coverage/suggest`` with k=20 at 360° took 17 s; ``GET /v1/heatmap?format=weekly`` gave a
120 MB answer. Each budget is a setting (geo/budgets.py); these are the defaults.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from geo.config import Settings
from tests.conftest import auth


def _over_budget(r: Any, setting: str) -> dict[str, Any]:
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "over_budget", error
    assert setting in error["message"]
    assert set(error["details"]) == {"budget", "estimate", "setting"}
    assert error["details"]["setting"] == setting
    assert error["details"]["estimate"] > error["details"]["budget"]
    assert f"{error['details']['budget']:,}" in error["message"] and f"{error['details']['estimate']:,}" in error["message"]
    return error


def _suggested(message: str, pattern: str) -> float:
    """A number the message offers to narrow the request (e.g. ``cell_m >= 33``)."""
    found = re.search(pattern, message)
    assert found, f"{pattern!r} not offered in: {message}"
    return float(found.group(1))


def test_budgets_are_settings_with_these_defaults() -> None:
    s = Settings()
    assert (s.budget_gi_weights, s.budget_emerging_cells, s.budget_kde_cells, s.budget_weekly_cells,
            s.budget_suggest) == (1_000_000, 500_000, 1_000_000, 500_000, 500_000)
    assert Settings(budget_gi_weights=5).budget_gi_weights == 5


@pytest.mark.parametrize("cell_m", [15, 12])
def test_a_distance_band_over_the_whole_town_is_refused(env, cell_m: int) -> None:  # type: ignore[no-untyped-def]
    c, h = env["client"], auth(env["keys"]["viewer"])
    r = c.get("/v1/hotspots", params={"cell_m": cell_m, "threshold_m": 20_000}, headers=h)
    error = _over_budget(r, "GRIDMAP_BUDGET_GI_WEIGHTS")
    assert error["details"]["budget"] == env["settings"].budget_gi_weights
    assert "threshold_m" in error["message"] and "cell_m" in error["message"]
    # what the message offers is enough: a bigger cell with the same band, or a smaller band
    bigger = _suggested(error["message"], r"cell_m >= (\d+)")
    r = c.get("/v1/hotspots", params={"cell_m": bigger, "threshold_m": 20_000}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["weights"]["threshold_m"] == 20_000
    smaller = _suggested(error["message"], r"threshold_m <= (\d+)")
    r = c.get("/v1/hotspots", params={"cell_m": cell_m, "threshold_m": smaller}, headers=h)
    assert r.status_code == 200, r.text


def test_too_many_nearest_neighbours_are_refused(env) -> None:  # type: ignore[no-untyped-def]
    c, h = env["client"], auth(env["keys"]["viewer"])
    r = c.get("/v1/hotspots", params={"cell_m": 5, "weights": "knn", "k": 50}, headers=h)
    error = _over_budget(r, "GRIDMAP_BUDGET_GI_WEIGHTS")
    k = int(_suggested(error["message"], r"k <= (\d+)"))
    assert c.get("/v1/hotspots", params={"cell_m": 5, "weights": "knn", "k": k}, headers=h).status_code == 200


def test_the_smallest_cells_with_their_default_band_still_answer(env) -> None:  # type: ignore[no-untyped-def]
    r = env["client"].get("/v1/hotspots", params={"cell_m": 5}, headers=auth(env["keys"]["viewer"]))
    assert r.status_code == 200, r.text
    assert r.json()["n_cells"] > 30_000


def test_emerging_hot_spots_over_many_periods_of_small_cells_are_refused(env) -> None:  # type: ignore[no-untyped-def]
    c, h = env["client"], auth(env["keys"]["viewer"])
    window = {"from": "2025-12-01", "to": "2026-12-01", "cell_m": 5}
    r = c.get("/v1/hotspots", params={**window, "periods": 24}, headers=h)
    error = _over_budget(r, "GRIDMAP_BUDGET_EMERGING_CELLS")
    periods = int(_suggested(error["message"], r"periods <= (\d+)"))
    r = c.get("/v1/hotspots", params={**window, "periods": periods}, headers=h)
    assert r.status_code == 200, r.text
    assert len(r.json()["emerging"]["periods"]) == periods


def test_a_weekly_heatmap_of_the_whole_year_on_fine_cells_is_refused(env) -> None:  # type: ignore[no-untyped-def]
    c, h = env["client"], auth(env["keys"]["viewer"])
    r = c.get("/v1/heatmap", params={"format": "weekly"}, headers=h)  # all of the year, 10 m cells
    error = _over_budget(r, "GRIDMAP_BUDGET_WEEKLY_CELLS")
    assert "frames" in error["message"] and "from/to" in error["message"]
    bigger = _suggested(error["message"], r"cell_m >= (\d+)")
    r = c.get("/v1/heatmap", params={"format": "weekly", "cell_m": bigger}, headers=h)
    assert r.status_code == 200, r.text
    assert len(r.json()["frames"]) >= 52
    weeks = int(_suggested(error["message"], r"at most (\d+) weeks"))
    monday = dt.date(2026, 1, 5)
    window = {"from": monday.isoformat(), "to": (monday + dt.timedelta(weeks=weeks)).isoformat()}
    r = c.get("/v1/heatmap", params={"format": "weekly", **window}, headers=h)
    assert r.status_code == 200, r.text
    assert len(r.json()["frames"]) == weeks
    longer = {**window, "to": (monday + dt.timedelta(weeks=weeks + 1)).isoformat()}
    _over_budget(c.get("/v1/heatmap", params={"format": "weekly", **longer}, headers=h), "GRIDMAP_BUDGET_WEEKLY_CELLS")


def test_the_command_page_s_weekly_heatmap_still_answers(env) -> None:  # type: ignore[no-untyped-def]
    from maps.command import BANDWIDTH_M, WEEKLY_CELL_M

    r = env["client"].get("/v1/heatmap", params={"format": "weekly", "from": "2025-12-01", "to": "2026-12-01",
                                                 "bandwidth_m": BANDWIDTH_M, "cell_m": WEEKLY_CELL_M},
                          headers=auth(env["keys"]["viewer"]))
    assert r.status_code == 200, r.text


def test_a_heatmap_lattice_of_metre_cells_is_refused(env) -> None:  # type: ignore[no-untyped-def]
    c, h = env["client"], auth(env["keys"]["viewer"])
    r = c.get("/v1/heatmap", params={"cell_m": 1, "min_fraction": 0}, headers=h)
    error = _over_budget(r, "GRIDMAP_BUDGET_KDE_CELLS")
    bigger = _suggested(error["message"], r"cell_m >= (\d+)")
    r = c.get("/v1/heatmap", params={"cell_m": bigger}, headers=h)
    assert r.status_code == 200, r.text


def test_twenty_cameras_seeing_all_round_over_the_whole_town_are_refused(env) -> None:  # type: ignore[no-untyped-def]
    c, h = env["client"], auth(env["keys"]["viewer"])
    for range_m in (40, 100):
        r = c.post("/v1/coverage/suggest", json={"k": 20, "hfov_deg": 360, "range_m": range_m}, headers=h)
        error = _over_budget(r, "GRIDMAP_BUDGET_SUGGEST")
        assert "hfov_deg" in error["message"] and "grid" in error["message"]
    k = int(_suggested(error["message"], r"k <= (\d+)"))
    assert k >= 1
    # one grid instead of the whole town: the same cameras answer
    grid = c.get("/v1/coverage", headers=h).json()["grids"][0]["code"]
    r = c.post("/v1/coverage/suggest", json={"k": 20, "hfov_deg": 360, "range_m": 100, "grid": grid}, headers=h)
    assert r.status_code == 200, r.text


def test_the_coverage_page_s_suggestion_still_answers(env) -> None:  # type: ignore[no-untyped-def]
    from maps.coverage import MAX_K

    r = env["client"].post("/v1/coverage/suggest", json={"k": MAX_K}, headers=auth(env["keys"]["viewer"]))
    assert r.status_code == 200, r.text
    assert len(r.json()["features"]) == MAX_K


def test_a_budget_of_a_deployment_of_its_own(module_db: str, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    """Budgets come from the settings: a small one refuses what the default allows."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from geo.keys import create_key
    from geo.store.db import make_engine

    engine = make_engine(module_db)
    key = create_key(engine, role="viewer", name="small budgets")[1]
    engine.dispose()
    settings = Settings(database_url=module_db, var_dir=tmp_path_factory.mktemp("var"), budget_gi_weights=500)
    with TestClient(create_app(settings)) as c:
        r = c.get("/v1/hotspots", params={"cell_m": 100}, headers=auth(key))
        error = _over_budget(r, "GRIDMAP_BUDGET_GI_WEIGHTS")
        assert error["details"]["budget"] == 500
