"""Map pages in headless Chromium: bytes and time of the first view, by view against embedded (issue 13).

``python -m bench.pages [--database gridmap_city] [--browser-embedded] [--pages /maps/,/maps/command]``

Serves the app twice on loopback (``gridmap serve``, one worker each), on the same database:

- *by view*: as deployed (``GRIDMAP_MAP_INLINE_MAX`` default 3,000: a city's layers load by view);
- *embedded* (the baseline): ``GRIDMAP_MAP_INLINE_MAX=1000000000``: every layer inline, as before.

For each map page it opens the by-view page in Debian's Chromium (1920x1080, as a command centre's
screen) and reads from the browser: the HTML's bytes on the wire, first contentful paint, the bytes
transferred until the page is idle (its own readiness hooks, byview.js idle, no request in flight;
vendored scripts and styles included, listed apart), and the time to idle. The embedded page's HTML is
fetched with httpx (bytes on the wire with gzip, server time) and, with ``--browser-embedded``, opened
in the browser too (at city scale it may take minutes). Prints each figure and the ratio by view /
embedded. Progress lines go to stderr.

The machine has 2 cores: Chromium, the server and PostgreSQL share them, so times are rough (read
them against the load average printed); bytes are exact.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import httpx

from bench.common import loadavg, progress

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

#: Each page's own "done" (besides byview.js idle and no request in flight).
READY = {
    "/maps/command": "!!(window.gridmapCommand && window.gridmapCommand.ready && !window.gridmapCommand.state().loading)",
    "/maps/coverage": "!!(window.gridmapCoverage && window.gridmapCoverage.ready && "
                      "!window.gridmapCoverage.state().loading)",
}
#: byview.js idle (as tests/maps/browser.py VIEWS_IDLE; bench does not import the tests)
_IDLE = "[undefined, 'idle'].includes(document.documentElement.dataset.gmViews)"

_FIGURES = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  let assets = 0, data = 0, n = 0;
  for (const r of performance.getEntriesByType('resource')) {
    n += 1;
    if (new URL(r.name).pathname.startsWith('/static/')) assets += r.transferSize; else data += r.transferSize;
  }
  return {html: nav.transferSize, html_raw: nav.decodedBodySize, fcp_ms: fcp ? fcp.startTime : null,
          ttfb_ms: nav.responseStart - nav.startTime, dcl_ms: nav.domContentLoadedEventStart - nav.startTime,
          assets: assets, data: data, requests: n};
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served(database: str, *, inline_max: int | None) -> Iterator[str]:
    """``gridmap serve`` (one worker, no set-up) on a free port; yields its base URL once it answers."""
    port = _free_port()
    env = {**os.environ, "GRIDMAP_PG_DATABASE": database, "GRIDMAP_RATE_LIMIT_KEY_PER_S": "0",
           "GRIDMAP_RATE_LIMIT_ADDRESS_PER_S": "0", "GRIDMAP_ACCESS_LOG": "false"}
    if inline_max is not None:
        env["GRIDMAP_MAP_INLINE_MAX"] = str(inline_max)
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--no-setup", "--workers", "1", "--port",
                             str(port)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    t0 = time.monotonic()
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gridmap serve exited: {proc.stderr.read().decode()[-2000:]}")
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() - t0 > 300:
                raise RuntimeError("gridmap serve did not answer within 300 s")
            time.sleep(0.5)
        progress(f"served {database} (inline max {inline_max or 'default'}) at {url} after "
                 f"{time.monotonic() - t0:.1f} s")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@contextmanager
def viewer_key(database: str) -> Iterator[str]:
    """A viewer key in *database* for the run, revoked at its end."""
    from geo.config import get_settings
    from geo.keys import create_key, revoke_key
    from geo.store.db import database_url, make_engine

    settings = get_settings().model_copy(update={"pg_database": database})
    engine = make_engine(database_url(settings))
    info, key = create_key(engine, role="viewer", name="bench-pages")
    try:
        yield key
    finally:
        revoke_key(engine, prefix=info.prefix, actor="bench-pages")
        engine.dispose()


def _pages(url: str, key: str) -> list[str]:
    plans = httpx.get(f"{url}/v1/plans", headers={"Authorization": f"Bearer {key}"}, timeout=60).json()["plans"]
    published = next((p["id"] for p in plans if p.get("status") == "published"), None)
    pages = ["/maps/", "/maps/lookup", "/maps/command", "/maps/coverage"]
    if published is not None:
        pages.append(f"/maps/editor?plan={published}")
    return pages


def _html(url: str, path: str, key: str) -> dict[str, Any]:
    t0 = time.perf_counter()
    with httpx.stream("GET", url + path, headers={"Authorization": f"Bearer {key}", "Accept-Encoding": "gzip"},
                      timeout=600) as r:
        wire = sum(len(chunk) for chunk in r.iter_raw())
    return {"status": r.status_code, "wire": wire, "s": time.perf_counter() - t0}


def _browse(browser: Any, url: str, path: str, key: str, *, timeout_s: float,
            screenshot: Path | None = None) -> dict[str, Any]:
    cookie = httpx.post(f"{url}/maps/login", data={"key": key, "next": "/maps/"}, follow_redirects=False,
                        timeout=60).cookies
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    context.add_cookies([{"name": k, "value": v, "url": url} for k, v in cookie.items()])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        t0 = time.perf_counter()
        page.goto(url + path, wait_until="load", timeout=timeout_s * 1000)
        ready = " && ".join([_IDLE] + ([READY[path.split("?")[0]]] if path.split("?")[0] in READY else []))
        page.wait_for_function(f"() => {ready}", timeout=timeout_s * 1000, polling=50)
        page.wait_for_load_state("networkidle", timeout=timeout_s * 1000)
        idle = time.perf_counter() - t0 - 0.5  # networkidle waits 500 ms with nothing in flight
        figures = page.evaluate(_FIGURES)
        if screenshot is not None:
            page.screenshot(path=str(screenshot))
        return {**figures, "idle_s": idle, "errors": errors}
    finally:
        context.close()


def _kb(n: float | None) -> str:
    return "–" if n is None else f"{n / 1024:,.0f} KB"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database", default="gridmap", help="database (gridmap: the town; gridmap_city: the city)")
    ap.add_argument("--browser-embedded", action="store_true", help="open the embedded pages in Chromium too")
    ap.add_argument("--timeout", type=float, default=300, help="seconds a page may take in the browser")
    ap.add_argument("--screenshots", type=Path, help="save each by-view page's first view here (PNG)")
    ap.add_argument("--pages", default="", help="comma-separated paths to measure (default: every map page)")
    args = ap.parse_args()
    with viewer_key(args.database) as key:
        run(args, key)


def run(args: argparse.Namespace, key: str) -> None:
    from playwright.sync_api import sync_playwright

    print(f"bench/pages — database {args.database}, Chromium 1920x1080, 2 CPUs, load {loadavg()}")
    rows = []
    with served(args.database, inline_max=None) as by_view, served(args.database, inline_max=10**9) as embedded, \
            sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        wanted = [p for p in args.pages.split(",") if p]
        for path in [p for p in _pages(by_view, key) if not wanted or p.split("?")[0] in wanted]:
            progress(f"{path}: by view")
            _browse(browser, by_view, path, key, timeout_s=args.timeout)  # warm: server caches, lookup index
            shot = None
            if args.screenshots:
                args.screenshots.mkdir(parents=True, exist_ok=True)
                shot = args.screenshots / (path.strip("/").split("?")[0].replace("/", "-") + ".png")
            mine = _browse(browser, by_view, path, key, timeout_s=args.timeout, screenshot=shot)
            progress(f"{path}: embedded HTML")
            base = _html(embedded, path, key)
            theirs = None
            if args.browser_embedded:
                progress(f"{path}: embedded in the browser")
                try:
                    theirs = _browse(browser, embedded, path, key, timeout_s=args.timeout)
                except Exception as exc:  # a city's embedded page may not settle within the timeout
                    theirs = {"failed": type(exc).__name__}
            rows.append((path, mine, base, theirs))
        browser.close()

    print(f"\n{'page':<24} {'HTML':>9} {'TTFB':>7} {'FCP':>8} {'data':>9} {'assets':>9} {'req':>4} {'idle':>7} | "
          f"{'embedded HTML':>13} {'server':>7} {'ratio HTML':>10}")
    for path, mine, base, theirs in rows:
        ratio = mine["html"] / base["wire"] if base["wire"] else float("nan")
        fcp = f"{mine['fcp_ms'] / 1000:.2f} s" if mine["fcp_ms"] is not None else "–"
        print(f"{path:<24} {_kb(mine['html']):>9} {mine['ttfb_ms'] / 1000:>5.2f} s {fcp:>8} {_kb(mine['data']):>9} {_kb(mine['assets']):>9} "
              f"{mine['requests']:>4} {mine['idle_s']:>5.2f} s | {_kb(base['wire']):>13} {base['s']:>5.2f} s "
              f"{ratio:>10.3f}" + (f"  errors: {mine['errors']}" if mine["errors"] else ""))
        if theirs is not None:
            if "failed" in theirs:
                print(f"{'  embedded, browser':<24} {theirs['failed']}")
            else:
                print(f"{'  embedded, browser':<24} {_kb(theirs['html']):>9} {theirs['ttfb_ms'] / 1000:>5.2f} s "
                      f"{theirs['fcp_ms'] / 1000:>6.2f} s "
                      f"{_kb(theirs['data']):>9} {_kb(theirs['assets']):>9} {theirs['requests']:>4} "
                      f"{theirs['idle_s']:>5.2f} s   FCP ratio {mine['fcp_ms'] / theirs['fcp_ms']:.2f}")
    print("\nHTML: the page on the wire (gzip); TTFB: navigation to the first byte (the server's work); data: every other response but /static (API, /ogc) until idle;"
          " assets: /static (vendored Leaflet, plugins, page scripts; cached after the first visit);"
          f" idle: from navigation until the page's own readiness and no request for 500 ms. Load {loadavg()}.")


if __name__ == "__main__":
    main()
