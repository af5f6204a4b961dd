"""Fixtures for map tests: Debian's headless Chromium and a page opener.

- ``browser`` (session): Playwright driving ``/usr/bin/chromium``; the tests
  that use it skip only when that binary is missing.
- ``open_map`` (function): ``open_map(browser, url, *, screenshot)`` ->
  :class:`tests.maps.browser.PageReport`; pages are closed after the test.
- ``static_site`` (function): ``static_site({"index.html": html})`` serves pages
  plus ``maps/static/`` at ``/static`` from a throwaway 127.0.0.1 server.
- ``by_view_server`` (module): the app with every map layer loaded by view (``map_inline_max=0``),
  as a city's pages load theirs.
- ``page_at_origin`` (function): ``page_at_origin(server, key, html)`` -> ``(page, errors)``: a page
  built in the test (other budgets, say) served at *server*'s origin, signed in with *key*, so its
  requests reach the real API with the session cookie; closed afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from geo.config import Settings
from tests.conftest import serve

from maps.assets import STATIC_DIR
from tests.maps.browser import CHROMIUM, StaticSite, acquire_browser, release_browser
from tests.maps.browser import open_map as _open_map


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run browser tests")
    chromium = acquire_browser()  # one per test process, shared with tests/security/
    try:
        yield chromium
    finally:
        release_browser()


@pytest.fixture(scope="module")
def by_view_server(settings: Settings) -> Iterator[str]:
    """The app with every map layer loaded by view (``GRIDMAP_MAP_INLINE_MAX=0``)."""
    yield from serve(settings.model_copy(update={"map_inline_max": 0}))


@pytest.fixture
def page_at_origin(browser):
    """``page_at_origin(server, key, html, *, path)`` -> (page, page errors): *html* at ``server + path``."""
    from tests.conftest import sign_in_cookie

    contexts = []

    def opener(server: str, key: str, html: str, *, path: str = "/maps/__test_page__"):
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        contexts.append(context)
        context.add_cookies(sign_in_cookie(server, key))
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.route(server + path, lambda route: route.fulfill(status=200, content_type="text/html", body=html))
        return page, errors

    yield opener
    for context in contexts:
        context.close()


@pytest.fixture
def open_map():
    """``open_map(browser, url, *, screenshot, **kw)``; every page it opened is closed afterwards."""
    reports = []

    def opener(browser, url: str, *, screenshot: Path, **kwargs):
        report = _open_map(browser, url, screenshot=screenshot, **kwargs)
        reports.append(report)
        return report

    yield opener
    for report in reports:
        report.close()


@pytest.fixture
def static_site(tmp_path):
    """``static_site(pages) -> StaticSite`` serving *pages* and ``maps/static`` at ``/static``."""
    sites = []

    def start(pages: dict[str, str | bytes], *, static_url: str = "/static") -> StaticSite:
        site = StaticSite(
            tmp_path / f"site{len(sites)}", pages=pages, mounts={static_url.strip("/"): STATIC_DIR}
        ).__enter__()
        sites.append(site)
        return site

    yield start
    for site in sites:
        site.__exit__(None, None, None)

