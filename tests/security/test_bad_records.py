"""One bad record must not take a page down: every page and report stays up whatever is stored.

Found by the outside test (issue 14): an incident with ``occurred_at`` 0001-01-01T08:05:43+08:05:43 was
accepted (the API refuses such times now: tests/security/test_data_integrity.py), and from then on
``/maps/command`` answered a bare 500 (its month pickers failed on year 1). Records like that may already
be stored, or come in by SQL or an import, so here they are written straight into the database: year 1
in local mean time, a time in 4713 BC, one at 23:59:59 on 9999-12-31 west of Greenwich (year 10000 in
UTC: past what Python's datetime holds) and one in the year 20000, with their first workflow event at the
same time. Then the map pages and the monthly reports are fetched over real HTTP and the map pages are
opened in Debian's headless Chromium: each answers 200 and draws.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from geo.config import Settings
from geo.keys import create_key
from geo.store.db import make_engine
from tests.conftest import auth, serve, sign_in_cookie
from tests.maps.conftest import open_map  # noqa: F401 - the page opener, for this module too

BAD_TIMES = (
    "0001-01-01T08:05:43+08:05:43",  # the attack
    "4713-01-01 00:00:00+00 BC",
    "9999-12-31T23:59:59-05:00",  # 10000-01-01 in UTC
    "20000-06-01 00:00:00+00",
)


@pytest.fixture(scope="module")
def site(module_db: str, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    engine = make_engine(module_db)
    with engine.begin() as conn:
        for i, when in enumerate(BAD_TIMES):
            incident = conn.execute(text("""
                INSERT INTO incident (ref, category, subcategory, source, severity, description, occurred_at,
                                      reported_at, status, grid_code, plan_id, geom)
                SELECT :ref, 'dispute', 'neighbour', 'hotline', 2, 'a bad record', CAST(:when AS timestamptz),
                       CAST(:when AS timestamptz), 'reported', grid_code, plan_id, geom
                FROM incident ORDER BY id LIMIT 1
                RETURNING id"""), {"ref": f"BAD-{i}", "when": when}).scalar_one()
            conn.execute(text("INSERT INTO incident_event (incident_id, seq, from_status, to_status, at, actor) "
                              "VALUES (:id, 1, NULL, 'reported', CAST(:when AS timestamptz), 'sql')"),
                         {"id": incident, "when": when})
    key = create_key(engine, role="viewer", name="bad records")[1]
    operator = create_key(engine, role="operator", name="bad records operator")[1]
    settings = Settings(database_url=module_db, var_dir=tmp_path_factory.mktemp("var"), basemap="none",
                        key_cache_s=0.5)
    for base in serve(settings):
        yield {"base": base, "key": key, "operator": operator, "engine": engine}
    engine.dispose()


@pytest.mark.parametrize("path", ["/maps/command", "/maps/", "/maps/coverage", "/maps/lookup",
                                  "/v1/reports/monthly.html?month=2026-11", "/v1/reports/monthly?month=2026-11",
                                  "/v1/reports/monthly.html?month=2026-12"])
def test_pages_answer_200_with_bad_records_stored(site: dict[str, Any], path: str) -> None:
    r = httpx.get(f"{site['base']}{path}", headers=auth(site["key"]), timeout=180)
    assert r.status_code == 200, f"{path}: {r.status_code} {r.text[:300]}"


def test_the_command_page_offers_the_plausible_months_only(site: dict[str, Any]) -> None:
    """The month pickers span the incidents with plausible times; the others are counted, not offered."""
    r = httpx.get(f"{site['base']}/maps/command", headers=auth(site["key"]), timeout=60)
    assert r.status_code == 200, r.text[:300]
    assert 'min=\\"2025-12\\" max=\\"2026-11\\"' in r.text  # the demo's incidents (in the panel's JSON)
    assert "4 incidents have an implausible time" in r.text


@pytest.mark.parametrize("path,ready", [
    ("/maps/command", "() => !!(window.gridmapCommand && window.gridmapCommand.ready) && "
                      "!window.gridmapCommand.state().loading"),
    ("/maps/", None),
    ("/maps/coverage", "() => !!(window.gridmapCoverage && window.gridmapCoverage.ready)"),
])
def test_map_pages_draw_with_bad_records_stored(browser, open_map, site: dict[str, Any], tmp_path: Path,  # type: ignore[no-untyped-def]  # noqa: F811
                                                path: str, ready: str | None) -> None:
    shot = tmp_path / ((path.strip("/").replace("/", "-") or "overview") + ".png")
    report = open_map(browser, f"{site['base']}{path}", screenshot=shot,
                      cookies=sign_in_cookie(site["base"], site["key"]), timeout_ms=60_000)
    if ready:
        report.page.wait_for_function(ready, timeout=60_000)
    assert report.page_errors == [] and report.console_errors == [], (report.page_errors, report.console_errors)
    assert report.failed_responses == [], report.failed_responses
    assert report.page.locator(".leaflet-pane svg path").count() > 150  # grids and buildings are drawn
    report.page.screenshot(path=str(shot), full_page=True)
    if path == "/maps/command":  # the note says what was left out of the month range
        note = report.page.inner_text("#gm-cmd-implausible")
        assert "4 起事件时间不可信" in note and "4 incidents have an implausible time" in note


def test_voiding_the_bad_records_clears_the_note(site: dict[str, Any]) -> None:
    """What the note says to do works: voided through the API, they are no longer counted (runs last)."""
    with site["engine"].connect() as conn:
        ids = conn.execute(text("SELECT id FROM incident WHERE ref LIKE 'BAD-%' ORDER BY id")).scalars().all()
    for incident in ids:
        r = httpx.post(f"{site['base']}/v1/incidents/{incident}/void", json={"reason": "time typed wrong"},
                       headers=auth(site["operator"]), timeout=30)
        assert r.status_code == 200, r.text
    r = httpx.get(f"{site['base']}/maps/command", headers=auth(site["key"]), timeout=60)
    assert r.status_code == 200 and "implausible time" not in r.text
