"""Sign-in CSRF: another site cannot sign a visitor in (under the attacker's key) or out.

Found by the outside test (issue 14): a cross-site auto-submitting form to ``POST /maps/login`` signed
the victim's browser in under the attacker's key (what the victim then reports is the attacker's), and
a cross-site post to ``/maps/logout`` signed them out. Both now check ``Origin`` (or ``Referer`` when
there is no Origin) against the server's own origin and refuse with a 403 that says why.

The attacker's page is a real page on another site (``http://localhost:<port>``, while the app is
``http://127.0.0.1:<port>``: another host, so another site), opened in Debian's headless Chromium. A
request with neither header is not a browser's form post (every current browser sends Origin with one)
and passes: that is how ``tests/conftest.py``'s ``sign_in_cookie`` (httpx) signs in.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.deps import SESSION_COOKIE
from geo.config import Settings
from geo.keys import create_key
from geo.store.db import make_engine
from tests.conftest import serve, sign_in_cookie
from tests.maps.browser import StaticSite


@pytest.fixture(scope="module")
def app_site(module_db: str, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    engine = make_engine(module_db)
    keys = {"victim": create_key(engine, role="viewer", name="victim")[1],
            "attacker": create_key(engine, role="operator", name="attacker")[1]}
    settings = Settings(database_url=module_db, var_dir=tmp_path_factory.mktemp("var"), basemap="none",
                        key_cache_s=0.2)
    for base in serve(settings):
        yield {"base": base, "keys": keys}
    engine.dispose()


def _attacker_page(target: str, fields: dict[str, str], *, hide_referrer: bool = False) -> str:
    inputs = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                     for k, v in fields.items())
    meta = '<meta name="referrer" content="no-referrer">' if hide_referrer else ""
    return (f"<!doctype html><html><head>{meta}<title>free prizes</title></head><body>"
            f'<form method="post" action="{html.escape(target)}">{inputs}</form>'
            "<script>document.forms[0].submit()</script></body></html>")


def _visit(browser, tmp_path: Path, page_html: str, *, cookies: list[dict[str, str]] | None = None):  # type: ignore[no-untyped-def]
    """Open *page_html* from another site; returns (context, page, the form post's request headers)."""
    site = StaticSite(tmp_path / "evil", pages={"index.html": page_html}).__enter__()
    context = browser.new_context()
    if cookies:
        context.add_cookies(cookies)
    page = context.new_page()
    posts: list[dict[str, str]] = []
    page.on("request", lambda r: posts.append(r.headers) if r.method == "POST" else None)
    try:
        with page.expect_navigation(url=lambda u: "127.0.0.1" in u and "/maps/" in u, timeout=20_000):
            page.goto(site.url("index.html").replace("127.0.0.1", "localhost"))
        page.wait_for_load_state("load")
    finally:
        site.__exit__(None, None, None)
    return context, page, posts


def _session(context: Any) -> str | None:
    return next((c["value"] for c in context.cookies() if c["name"] == SESSION_COOKIE), None)


@pytest.mark.parametrize("hide_referrer", [False, True], ids=["origin", "origin-null"])
def test_a_cross_site_form_does_not_sign_the_victim_in(browser, app_site, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                       hide_referrer: bool) -> None:
    base = app_site["base"]
    evil = _attacker_page(f"{base}/maps/login", {"key": app_site["keys"]["attacker"], "next": "/maps/"},
                          hide_referrer=hide_referrer)
    context, page, posts = _visit(browser, tmp_path, evil)
    try:
        assert posts and posts[0].get("origin") == ("null" if hide_referrer else "http://localhost:"
                                                    + posts[0]["origin"].rsplit(":", 1)[-1])
        page.screenshot(path=str(tmp_path / "refused.png"))
        assert _session(context) is None, "the attacker's form signed the victim in"
        body = page.inner_text("body")
        assert "Cross-site form refused" in body and "/maps/login" in body
        r = context.request.get(f"{base}/v1/grids", max_redirects=0)
        assert r.status == 401  # nobody is signed in
    finally:
        context.close()


def test_a_cross_site_form_does_not_sign_the_victim_out(browser, app_site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    base = app_site["base"]
    cookies = sign_in_cookie(base, app_site["keys"]["victim"])
    context, page, posts = _visit(browser, tmp_path, _attacker_page(f"{base}/maps/logout", {}), cookies=cookies)
    try:
        assert posts and posts[0].get("origin", "").startswith("http://localhost:")
        assert "Cross-site form refused" in page.inner_text("body")
        assert _session(context) == cookies[0]["value"], "the attacker's form took the victim's cookie away"
        r = httpx.get(f"{base}/v1/grids", cookies={SESSION_COOKIE: cookies[0]["value"]}, timeout=30)
        assert r.status_code == 200  # the session is still open on the server
    finally:
        context.close()


def test_signing_in_and_out_on_the_servers_own_pages_still_works(browser, app_site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    base = app_site["base"]
    context = browser.new_context()
    posts: list[dict[str, str]] = []
    try:
        page = context.new_page()
        page.on("request", lambda r: posts.append(r.headers) if r.method == "POST" else None)
        page.goto(f"{base}/maps/login")
        page.fill("#key", app_site["keys"]["victim"])
        page.click("button[type=submit]")
        page.wait_for_function("() => typeof window.L === 'object'", timeout=30_000)
        # the browser sent the page's true origin (Referrer-Policy same-origin), and it was accepted
        assert posts[0].get("origin") == base
        assert _session(context)
        # a sign-out form on the server's own page (same origin) ends the session
        page.goto(f"{base}/maps/login?next=/maps/coverage")
        with page.expect_navigation(url=f"{base}/maps/login", timeout=10_000):
            page.evaluate("""() => { const f = document.createElement('form'); f.method = 'post';
                f.action = '/maps/logout'; document.body.appendChild(f); f.submit(); }""")
        assert posts[-1].get("origin") == base
        assert _session(context) is None
    finally:
        context.close()


def test_headers_decide_and_non_browser_clients_pass(app_site) -> None:  # type: ignore[no-untyped-def]
    """Over real HTTP: what each header (or none) gets."""
    base, key = app_site["base"], app_site["keys"]["victim"]
    form = {"key": key, "next": "/maps/"}

    def login(**headers: str) -> httpx.Response:
        return httpx.post(f"{base}/maps/login", data=form, headers=headers, follow_redirects=False, timeout=30)

    # neither header: a client with the key (curl, httpx), not a browser's form: signs in
    assert login().status_code == 303
    assert login(Origin=base).status_code == 303
    assert login(Origin=base.upper().replace("HTTP", "http")).status_code == 303  # host case does not matter
    assert login(Referer=f"{base}/maps/login?next=/maps/").status_code == 303
    for headers in ({"Origin": "https://evil.example"}, {"Origin": "null"}, {"Origin": ""},
                    {"Origin": base.replace("http://", "https://")},
                    {"Origin": base + ".evil.example"}, {"Origin": base.rsplit(":", 1)[0] + ":1"},
                    {"Referer": "https://evil.example/maps/login"},
                    {"Origin": "https://evil.example", "Referer": f"{base}/maps/login"}):
        r = login(**headers)
        assert r.status_code == 403, headers
        assert SESSION_COOKIE not in r.cookies and "set-cookie" not in r.headers
        assert "Cross-site form refused" in r.text and base in r.text, r.text
    tls = login(Origin=base.replace("http://", "https://"))
    assert "GRIDMAP_TRUSTED_PROXIES" in tls.text  # only the scheme differs: say what to set
    # sign-out the same way
    token = login().cookies[SESSION_COOKIE]
    r = httpx.post(f"{base}/maps/logout", cookies={SESSION_COOKIE: token}, headers={"Origin": "https://evil.example"},
                   follow_redirects=False, timeout=30)
    assert r.status_code == 403 and "set-cookie" not in r.headers and "Not signed out" in r.text
    assert httpx.get(f"{base}/v1/grids", cookies={SESSION_COOKIE: token}, timeout=30).status_code == 200
    r = httpx.post(f"{base}/maps/logout", cookies={SESSION_COOKIE: token}, headers={"Origin": base},
                   follow_redirects=False, timeout=30)
    assert r.status_code == 303
    assert httpx.get(f"{base}/v1/grids", cookies={SESSION_COOKIE: token}, timeout=30).status_code == 401
