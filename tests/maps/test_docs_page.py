"""/docs renders the OpenAPI in a real browser, offline (vendored Swagger UI), under the CSP."""

from __future__ import annotations

from pathlib import Path

import httpx

from maps.assets import assert_no_cdn


def test_docs_render_offline(browser, live_server: str, tmp_path: Path) -> None:
    html = httpx.get(f"{live_server}/docs").text
    assert_no_cdn(html)
    context = browser.new_context()
    errors: list[str] = []
    external: list[str] = []
    try:
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.route("**/*", lambda r: (external.append(r.request.url), r.abort()) if "127.0.0.1" not in r.request.url
                   else r.continue_())
        page.goto(f"{live_server}/docs")
        page.wait_for_selector(".opblock-tag", timeout=20_000)
        tags = page.locator(".opblock-tag").all_inner_texts()
        assert any("lookup" in t for t in tags) and any("incidents" in t for t in tags)
        page.screenshot(path=str(tmp_path / "docs.png"))
    finally:
        context.close()
    assert errors == [] and external == []


def test_security_headers(live_server: str, settings) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from api.app import create_app

    r = httpx.get(f"{live_server}/maps/login")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY"
    api = httpx.get(f"{live_server}/health")
    assert api.headers["x-content-type-options"] == "nosniff"
    with TestClient(create_app(settings.model_copy(update={"max_body_bytes": 1000}))) as small:
        big = small.post("/v1/lookup/batch", content=b"[" + b"1," * 1000 + b"1]",
                         headers={"Content-Type": "application/json"})
    assert big.status_code == 413 and "GRIDMAP_MAX_BODY_BYTES" in big.json()["error"]["message"]
