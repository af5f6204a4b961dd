"""Drive a real headless Chromium (Debian's) against a map page.

Reusable by any test that opens a gridmap page, e.g. the app's ``/maps/``::

    from tests.maps.browser import launch_browser, open_map

    report = open_map(browser, "http://127.0.0.1:8000/maps/", screenshot=tmp_path / "m.png")
    assert not report.console_errors and not report.page_errors and not report.external_requests

Every request to a host other than 127.0.0.1 / localhost / ::1 is aborted and
recorded, so a page that reaches for a CDN or tile server fails the test
instead of hanging or silently passing; except what ``serve_outside`` answers
(a test's fixture basemap tiles, for instance), which is served and recorded apart.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from dataclasses import dataclass, field
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

CHROMIUM = Path("/usr/bin/chromium")
#: byview.js has no refresh waiting and no request in flight (a page without it has no data-gm-views).
VIEWS_IDLE = "[undefined, 'idle'].includes(document.documentElement.dataset.gmViews)"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
VIEWPORT = {"width": 1280, "height": 860}


def launch_browser(playwright):
    """Launch Debian's Chromium headless through Playwright (never a downloaded build)."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)


_shared: dict[str, object] = {"users": 0}


def acquire_browser():
    """The test process's one Playwright-driven Chromium, started on first use.

    Playwright's sync API runs one instance per thread at a time, so every ``browser`` fixture
    (tests/maps/conftest.py, the browser tests of tests/security/) shares this one; each
    :func:`release_browser` when done, and the last one stops it.
    """
    if not _shared.get("browser"):
        from playwright.sync_api import sync_playwright

        pw = sync_playwright().start()
        try:
            _shared["browser"] = launch_browser(pw)
        except Exception:
            pw.stop()
            raise
        _shared["playwright"] = pw
    _shared["users"] = int(_shared["users"]) + 1
    return _shared["browser"]


def release_browser() -> None:
    _shared["users"] = int(_shared["users"]) - 1
    if _shared["users"] <= 0 and _shared.get("browser"):
        try:
            _shared.pop("browser").close()  # type: ignore[union-attr]
        finally:
            _shared.pop("playwright").stop()  # type: ignore[union-attr]


@dataclass
class PageReport:
    """What a page did while it loaded, plus the live page for further checks."""

    url: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)  # aborted
    served_outside: list[str] = field(default_factory=list)  # answered by open_map's serve_outside
    failed_responses: list[str] = field(default_factory=list)  # local responses with status >= 400
    path_count: int = 0  # SVG path.leaflet-interactive elements
    layer_control_labels: list[str] = field(default_factory=list)
    screenshot: Path | None = None
    page: object = None  # playwright.sync_api.Page
    context: object = None  # playwright.sync_api.BrowserContext

    def close(self) -> None:
        if self.context is not None:
            self.context.close()
            self.context = None


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    return (parts.hostname or "") in LOCAL_HOSTS


_MAP_SETTLED = """() => {
    const c = document.querySelector('.leaflet-container');
    return !!c && !c.classList.contains('leaflet-zoom-anim');
}"""

_HAS_PATHS = "() => document.querySelectorAll('.leaflet-pane svg path').length > 0"


def open_map(
    browser,
    url: str,
    *,
    screenshot: Path,
    wait_for_paths: bool = True,
    timeout_ms: float = 20_000,
    viewport: dict | None = None,
    cookies: list[dict] | None = None,
    serve_outside: Callable[[str], tuple[str, bytes] | None] | None = None,
) -> PageReport:
    """Open *url* in a fresh browser context and report what happened.

    Aborts (and records) every non-local request, collects console errors
    and uncaught page errors, waits for ``window.L`` and, unless
    *wait_for_paths* is False, for Leaflet's panes to hold SVG paths, then
    saves a full-page screenshot to *screenshot*. The caller owns the returned
    report's page: call ``report.close()`` (the ``open_map`` fixture does).

    If Leaflet never loads or nothing is drawn, raises ``AssertionError``
    with what the page logged (the screenshot is still saved).
    """
    context = browser.new_context(viewport=viewport or VIEWPORT, device_scale_factor=1)
    if cookies:
        context.add_cookies(cookies)
    report = PageReport(url=url, context=context)

    def route(route_obj):
        req_url = route_obj.request.url
        if _is_local(req_url):
            route_obj.continue_()
            return
        answer = serve_outside(req_url) if serve_outside is not None else None
        if answer is not None:
            report.served_outside.append(req_url)
            route_obj.fulfill(status=200, content_type=answer[0], body=answer[1])
        else:
            report.external_requests.append(req_url)
            route_obj.abort("blockedbyclient")

    context.route("**/*", route)
    page = context.new_page()
    report.page = page

    def on_console(msg):
        if msg.type != "error":
            return
        where = (msg.location or {}).get("url", "")
        # an aborted outside request is already in external_requests
        if where and not _is_local(where) and "Failed to load resource" in msg.text:
            return
        report.console_errors.append(f"{msg.text} ({where})" if where else msg.text)

    def on_response(resp):
        if resp.status >= 400 and _is_local(resp.url):
            report.failed_responses.append(f"{resp.status} {resp.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: report.page_errors.append(str(exc)))
    page.on("response", on_response)

    screenshot = Path(screenshot)
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    report.screenshot = screenshot
    try:
        page.goto(url, wait_until="load", timeout=timeout_ms)
        page.wait_for_function("() => typeof window.L === 'object'", timeout=timeout_ms)
        if wait_for_paths:
            page.wait_for_function(_HAS_PATHS, timeout=timeout_ms)
        page.wait_for_function(_MAP_SETTLED, timeout=timeout_ms)
        page.wait_for_load_state("networkidle", timeout=timeout_ms)
        page.wait_for_timeout(200)  # let fades and label placement finish before the picture
    except Exception as exc:  # playwright's TimeoutError and friends
        try:
            page.screenshot(path=str(screenshot), full_page=True)
        except Exception:
            pass
        raise AssertionError(
            f"map page {url} did not load: {exc}\n"
            f"console errors: {report.console_errors}\npage errors: {report.page_errors}\n"
            f"external requests: {report.external_requests}\nfailed responses: {report.failed_responses}"
        ) from exc

    report.path_count = page.locator(".leaflet-pane svg path.leaflet-interactive").count()
    report.layer_control_labels = page.eval_on_selector_all(
        ".leaflet-control-layers-overlays label",
        "els => els.map(e => e.textContent.trim())",
    )
    page.screenshot(path=str(screenshot), full_page=True)
    return report


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        pass


class StaticSite:
    """A throwaway HTTP server on 127.0.0.1 (free port) serving a folder.

    ``pages`` (name -> content) are written into *root*; ``mounts`` maps a
    URL folder (e.g. ``"static"``) to a directory, symlinked into *root*.
    Use as a context manager; ``url(path)`` gives an absolute URL.
    """

    def __init__(self, root: Path, pages: dict[str, str | bytes] | None = None, mounts: dict[str, Path] | None = None):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        for name, body in (pages or {}).items():
            target = self.root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(body, str):
                target.write_text(body, encoding="utf-8")
            else:
                target.write_bytes(body)
        for name, directory in (mounts or {}).items():
            link = self.root / name
            if link.is_symlink() or link.exists():
                if link.is_dir() and not link.is_symlink():
                    shutil.rmtree(link)
                else:
                    link.unlink()
            link.symlink_to(Path(directory).resolve(), target_is_directory=True)
        handler = functools.partial(_QuietHandler, directory=str(self.root))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="gridmap-test-http", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str = "") -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def __enter__(self) -> StaticSite:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
