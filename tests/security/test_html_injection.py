"""Stored HTML injection: what any user can write shows as text on every page, never as markup.

Found by the outside test (issue 14): a camera named ``<img src=x onerror=alert(1)><b>x</b>`` reached
``/maps/`` as live elements through folium's tooltip and popup (the CSP stopped the script, not the
markup); and the CSP hashed *every* inline script of a page, so a script smuggled into one by data
would have been allowed.

Hostile values are written through the real API where it takes them (a camera's name, an incident's
description, its assignee and note, a draft plan's name) and straight into the database where it does
not (community, grid, building, key place and grid-member names, an address, an incident subcategory,
the published plan's name, an API key's name). Then every page is opened over real HTTP in Debian's
headless Chromium, every tooltip and popup that shows one of the values is opened, and the test asserts:
no injected element exists in the DOM, no injected script or handler ran, and the hostile text is on
the screen as text. Screenshots are saved under the test's tmp dir.
"""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy import text

from geo.config import Settings
from geo.keys import create_key
from geo.store.db import make_engine
from tests.conftest import auth, serve, sign_in_cookie
from tests.maps.conftest import open_map  # noqa: F401 - the page opener, for this module too

#: The injected script's body; its hash must never be in a page's CSP.
SCRIPT = "window.__gmScript=1"


def hostile(tag: str) -> str:
    """A value with an element (class gm-inj), an event handler and an inline script, marked *tag*."""
    return (f'{tag}<img src=x class=gm-inj onerror="window.__gmInjected=1"><b class="gm-inj">{tag}!</b>'
            f"<script>{SCRIPT}</script>")


#: What a person must see on the screen (the value as text).
def shown(tag: str) -> str:
    return f"{tag}<img src=x"


SHORT = "<b class=gm-inj>s</b>"  # 21 characters: an incident subcategory is at most 24
# A community name that is also matplotlib mathtext that does not parse (the report's map picture).
MATHTEXT = r" $\frac{$"

# Everything injected, any flag set: counted right after each tooltip/popup opens (they are built then).
_INJECTED = """() => document.querySelectorAll('.gm-inj, img[src="x"]').length +
    (window.__gmInjected ? 1000 : 0) + (window.__gmScript ? 1000 : 0)"""

# Opens the tooltip and the popup of every Leaflet layer on the page whose feature properties hold
# *marker* (mouseover and click fired on the layer itself, propagating to its groups as a real mouse
# does), and returns what showed: texts seen and the worst injection count.
_OPEN_ALL = """async (marker) => {
    const injected = () => document.querySelectorAll('.gm-inj, img[src="x"]').length +
        (window.__gmInjected ? 1000 : 0) + (window.__gmScript ? 1000 : 0);
    const seen = new Set(), leaves = [];
    const walk = (l) => {
        if (!l || seen.has(l)) return;
        seen.add(l);
        if (l instanceof L.LayerGroup) l.eachLayer(walk); else leaves.push(l);
    };
    for (const k of Object.keys(window)) {
        let v;
        try { v = window[k]; } catch (e) { continue; }
        if (v && typeof v === 'object' && v instanceof L.Layer) walk(v);
    }
    const out = {opened: 0, texts: [], worst: injected()};
    const tick = () => new Promise(r => setTimeout(r, 30));
    for (const l of leaves) {
        const p = l.feature && l.feature.properties;
        const mine = (p && JSON.stringify(p).includes(marker)) || String(l.options.title || '').includes(marker) ||
            (marker === 'place' && l.options.gmPlace !== undefined);  // key places: markers without a feature
        if (!mine || !l._map) continue;
        const ll = l.getLatLng ? l.getLatLng() : l.getBounds().getCenter();
        l.fire('mouseover', {latlng: ll}, true);
        await tick();
        document.querySelectorAll('.leaflet-tooltip').forEach(t => out.texts.push(t.innerText));
        out.worst = Math.max(out.worst, injected());
        l.fire('mouseout', {latlng: ll}, true);
        l.fire('click', {latlng: ll, originalEvent: new MouseEvent('click')}, true);
        await tick();
        document.querySelectorAll('.leaflet-popup-content').forEach(t => out.texts.push(t.innerText));
        out.worst = Math.max(out.worst, injected());
        l._map.closePopup();
        out.opened += 1;
    }
    return out;
}"""


def _csp_hash(body: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"


@pytest.fixture(scope="module")
def site(module_db: str, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    engine = make_engine(module_db)
    with engine.begin() as conn:
        plan_id = conn.execute(text("SELECT id FROM grid_plan WHERE status = 'published'")).scalar_one()
        # a grid with incidents in 2026-11 (the report's month) and a staffed grid member, and a building in it
        grid = conn.execute(text(
            "SELECT i.grid_code FROM incident i JOIN staff s ON s.grid_code = i.grid_code AND s.role = 'grid_member' "
            "WHERE i.occurred_at >= '2026-11-01' AND i.occurred_at < '2026-12-01' "
            "GROUP BY i.grid_code ORDER BY count(*) DESC LIMIT 1")).scalar_one()
        community = conn.execute(text("SELECT community_id FROM grid WHERE plan_id = :p AND code = :g"),
                                 {"p": plan_id, "g": grid}).scalar_one()
        building = conn.execute(text(
            "SELECT b.code, ST_X(ST_PointOnSurface(b.geom)) AS lon, ST_Y(ST_PointOnSurface(b.geom)) AS lat "
            "FROM building b JOIN grid g ON g.plan_id = :p AND g.code = :g AND ST_Within(b.geom, g.geom) "
            "ORDER BY b.code LIMIT 1"), {"p": plan_id, "g": grid}).one()
        conn.execute(text("UPDATE community SET name = :n, name_en = :e WHERE id = :id"),
                     {"n": hostile("community") + MATHTEXT, "e": hostile("communityen"), "id": community})
        conn.execute(text("UPDATE grid SET name = :n WHERE plan_id = :p AND code = :g"),
                     {"n": hostile("gridname"), "p": plan_id, "g": grid})
        conn.execute(text("UPDATE staff SET name = :n WHERE role = 'grid_member' AND grid_code = :g"),
                     {"n": hostile("member"), "g": grid})
        conn.execute(text("UPDATE building SET name = :n, address = :a WHERE code = :c"),
                     {"n": hostile("bname"), "a": hostile("baddress"), "c": building.code})
        conn.execute(text("UPDATE key_place SET name = :n"), {"n": hostile("place")})
        conn.execute(text("UPDATE grid_plan SET name = :n WHERE id = :p"), {"n": hostile("published"), "p": plan_id})
    keys = {r: create_key(engine, role=r, name=f"injection {r}")[1] for r in ("viewer", "operator", "planner")}
    keys["named"] = create_key(engine, role="planner", name=hostile("keyname"))[1]
    settings = Settings(database_url=module_db, var_dir=tmp_path_factory.mktemp("var"), basemap="none",
                        key_cache_s=0.5, lookup_poll_s=0.1)
    for base in serve(settings):
        h_op, h_pl = auth(keys["operator"]), auth(keys["planner"])
        # through the real API: a camera's name, an incident (description, assignee, note), a draft's name
        cams = httpx.get(f"{base}/v1/cameras", headers=h_op, timeout=30).json()["features"]
        camera = next(f for f in cams if f["properties"]["status"] == "online")
        r = httpx.patch(f"{base}/v1/cameras/{camera['id']}", json={"name": hostile("camera")}, headers=h_op, timeout=60)
        assert r.status_code == 200, r.text
        r = httpx.post(f"{base}/v1/incidents", headers=h_op, timeout=30, json={
            "category": "dispute", "subcategory": "neighbour", "lon": building.lon, "lat": building.lat,
            "source": "hotline", "description": hostile("description")})
        assert r.status_code == 201, r.text
        incident = r.json()["id"]
        for step in ({"to": "accepted", "note": hostile("note")},
                     {"to": "assigned", "assignee": hostile("assignee"), "note": hostile("note2")}):
            r = httpx.post(f"{base}/v1/incidents/{incident}/transitions", json=step, headers=h_op, timeout=30)
            assert r.status_code == 201, r.text
        r = httpx.post(f"{base}/v1/plans", json={"name": hostile("draft")}, headers=h_pl, timeout=120)
        assert r.status_code == 201, r.text
        draft = r.json()["id"]
        with engine.begin() as conn:  # a subcategory the API refuses (not in the vocabulary): stored anyway
            conn.execute(text("UPDATE incident SET subcategory = :s WHERE id = :i"), {"s": SHORT, "i": incident})
        yield {"base": base, "keys": keys, "grid": grid, "building": building, "camera": camera["properties"]["code"],
               "incident": incident, "draft": draft, "plan": plan_id}
    engine.dispose()


def _open(browser, open_map, site: dict[str, Any], path: str, shot: Path, *, who: str = "viewer",
          ready: str | None = None):
    report = open_map(browser, f"{site['base']}{path}", screenshot=shot, cookies=sign_in_cookie(site["base"],
                      site["keys"][who]), timeout_ms=60_000)
    if ready:
        report.page.wait_for_function(ready, timeout=60_000)
        report.page.wait_for_load_state("networkidle")
    return report


def _check(page, shot: Path, tags: list[str], extra_texts: list[str] = ()) -> list[str]:
    """Open every tooltip/popup of a hostile value; assert nothing injected and the texts shown."""
    texts = list(extra_texts)
    for tag in tags:
        out = page.evaluate(_OPEN_ALL, tag)
        assert out["worst"] == 0, f"an injected element or script ({tag}) is live in the page"
        texts += out["texts"]
    texts.append(page.inner_text("body"))
    page.screenshot(path=str(shot), full_page=True)
    assert page.evaluate(_INJECTED) == 0
    return texts


def _assert_shown(texts: list[str], tags: list[str]) -> None:
    blob = "\n".join(texts)
    missing = [tag for tag in tags if shown(tag) not in blob]
    assert not missing, f"the hostile values of {missing} are not on the screen as text"


def _csp_refuses_the_injected_script(r: httpx.Response) -> None:
    csp = r.headers["content-security-policy"]
    script_src = next(p for p in csp.split(";") if p.strip().startswith("script-src"))
    assert _csp_hash(SCRIPT) not in script_src and "'unsafe-inline'" not in script_src, csp
    assert "'nonce-" in script_src and "sha256-" not in script_src, csp


def test_overview_shows_hostile_names_as_text(browser, open_map, site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    report = _open(browser, open_map, site, "/maps/", tmp_path / "overview.png")
    tags = ["camera", "community", "communityen", "gridname", "member", "bname", "baddress"]
    texts = _check(report.page, tmp_path / "overview.png", tags)
    _assert_shown(texts, tags)
    assert report.page_errors == []
    r = httpx.get(f"{site['base']}/maps/", headers=auth(site["keys"]["viewer"]), timeout=60)
    assert r.status_code == 200
    _csp_refuses_the_injected_script(r)
    shutil.copy(tmp_path / "overview.png", "/tmp/gridmap-injection-overview.png")


def test_command_page_shows_hostile_incident_fields_as_text(browser, open_map, site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    report = _open(browser, open_map, site, "/maps/command", tmp_path / "command.png",
                   ready="() => !!(window.gridmapCommand && window.gridmapCommand.ready) && "
                         "!window.gridmapCommand.state().loading")
    page = report.page
    # the incident's marker sits in a cluster: zoom until it shows, then open its popup
    popup = page.evaluate("""async (id) => {
        const group = window.gridmapCommand.layers.incidents;
        let marker = null;
        group.eachLayer(l => { if (l.options.gmId === id) marker = l; });
        if (!marker) return null;
        await new Promise(r => group.zoomToShowLayer(marker, r));
        marker.openPopup();
        await new Promise(r => setTimeout(r, 100));
        const node = document.querySelector('.leaflet-popup-content');
        return node ? node.innerText : '';
    }""", site["incident"])
    assert popup is not None, "the hostile incident is not on the command map"
    assert page.evaluate(_INJECTED) == 0
    texts = _check(page, tmp_path / "command.png", ["gridname"], [popup])
    _assert_shown(texts, ["description", "assignee"])
    assert SHORT in popup  # the subcategory the database holds, as text
    assert report.page_errors == []


def test_coverage_page_shows_hostile_names_as_text(browser, open_map, site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    report = _open(browser, open_map, site, "/maps/coverage", tmp_path / "coverage.png",
                   ready="() => !!(window.gridmapCoverage && window.gridmapCoverage.ready)")
    page = report.page
    tags = ["camera", "place", "gridname"]
    texts = _check(page, tmp_path / "coverage.png", tags)
    _assert_shown(texts, tags)
    assert report.page_errors == []


def test_lookup_page_shows_hostile_names_as_text(browser, open_map, site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    report = _open(browser, open_map, site, "/maps/lookup", tmp_path / "lookup.png",
                   ready="() => !!(window.gridmapLookup && window.gridmapLookup.ready)")
    page = report.page
    b = site["building"]
    point = page.evaluate("""([lat, lon]) => {
        const m = window.gridmapLookup.map;
        m.setView([lat, lon], 18, {animate: false});
        const p = m.latLngToContainerPoint([lat, lon]);
        const r = m.getContainer().getBoundingClientRect();
        return [r.left + p.x, r.top + p.y];
    }""", [b.lat, b.lon])
    page.mouse.click(*point)
    page.wait_for_function("() => { const s = window.gridmapLookup.state(); return !!s && s !== 'loading'; }",
                           timeout=15_000)
    page.wait_for_timeout(300)
    card = page.inner_text("#gm-lookup-card")
    texts = _check(page, tmp_path / "lookup.png", [], [card])
    _assert_shown(texts, ["gridname", "member", "baddress", "community"])
    assert report.page_errors == []


def test_editor_shows_hostile_names_as_text(browser, open_map, site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    report = _open(browser, open_map, site, f"/maps/editor?plan={site['draft']}", tmp_path / "editor.png",
                   who="named", ready="() => !!(window.gridmapEditor && window.gridmapEditor.ready)")
    page = report.page
    texts = _check(page, tmp_path / "editor.png", ["gridname", "baddress"], [page.title()])
    _assert_shown(texts, ["draft", "gridname", "baddress"])
    assert report.page_errors == []
    r = httpx.get(f"{site['base']}/maps/editor?plan={site['draft']}", headers=auth(site["keys"]["planner"]),
                  timeout=60)
    assert r.status_code == 200
    _csp_refuses_the_injected_script(r)


def test_plan_list_and_sign_in_pages_show_hostile_text(browser, open_map, site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context()
    context.add_cookies(sign_in_cookie(site["base"], site["keys"]["viewer"]))
    try:
        page = context.new_page()
        page.goto(f"{site['base']}/maps/editor")
        texts = _check(page, tmp_path / "plans.png", [])
        _assert_shown(texts, ["draft", "published"])
        page.goto(f"{site['base']}/maps/login?" + httpx.QueryParams(error=hostile("error"), next=hostile("next")).__str__())
        texts = _check(page, tmp_path / "login.png", [])
        _assert_shown(texts, ["error"])
        assert page.get_attribute("input[name=next]", "value") == hostile("next")
    finally:
        context.close()


def test_monthly_report_shows_hostile_names_as_text(browser, site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = f"{site['base']}/v1/reports/monthly.html?month=2026-11"
    r = httpx.get(url, headers=auth(site["keys"]["viewer"]), timeout=120)
    assert r.status_code == 200, r.text[:500]
    context = browser.new_context()
    context.add_cookies(sign_in_cookie(site["base"], site["keys"]["viewer"]))
    try:
        page = context.new_page()
        page.goto(url, timeout=120_000)
        texts = _check(page, tmp_path / "report.png", [])
        _assert_shown(texts, ["gridname", "published"])
    finally:
        context.close()


def test_the_csp_never_allows_an_inline_script_the_page_builder_did_not_write(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A page whose data smuggled an inline ``<script>`` past the escaping (simulated: a builder that
    writes a value unescaped into the body) is served through the app's real security middleware: the
    builder's own scripts (the map) run, the smuggled one does not, and the CSP names neither its hash
    nor 'unsafe-inline'. Before, the middleware hashed every inline script of the response."""
    import uvicorn
    from branca.element import Element
    from fastapi import FastAPI
    from fastapi.staticfiles import StaticFiles

    from api.security import SecurityHeaders, csp_nonce
    from maps.assets import STATIC_DIR
    from maps.base import new_map, render
    from tests.conftest import _free_port

    app = FastAPI()
    app.add_middleware(SecurityHeaders, basemap="none")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/page", response_class=HTMLResponse)
    def page(request: Request) -> HTMLResponse:
        m = new_map(bounds=(113.08, 40.04, 113.12, 40.06))
        m.get_root().html.add_child(Element(f"<div>{hostile('smuggled')}</div>"))  # the escaping bug
        return HTMLResponse(render(m, nonce=csp_nonce(request)))

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            assert thread.is_alive()
            threading.Event().wait(0.05)
        r = httpx.get(f"http://127.0.0.1:{port}/page")
        assert f"<script>{SCRIPT}</script>" in r.text  # the smuggled script is in the page ...
        _csp_refuses_the_injected_script(r)  # ... and the policy does not allow it
        nonces = {re.search(r"'nonce-([^']+)'", httpx.get(f"http://127.0.0.1:{port}/page").headers[
            "content-security-policy"]).group(1) for _ in range(3)}
        assert len(nonces) == 3  # a new nonce for every response
        context = browser.new_context()
        try:
            tab = context.new_page()
            violations: list[str] = []
            tab.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
            tab.goto(f"http://127.0.0.1:{port}/page")
            tab.wait_for_function("() => typeof window.L === 'object' && document.querySelector('.leaflet-container')")
            assert tab.evaluate("typeof window.__gmScript") == "undefined"  # the smuggled script did not run
            assert tab.evaluate("document.querySelectorAll('.leaflet-control-scale').length") == 1  # the builder's did
            assert violations, "Chromium reported no CSP violation for the smuggled script"
            tab.screenshot(path=str(tmp_path / "smuggled.png"))
        finally:
            context.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
