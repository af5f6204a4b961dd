"""Security headers on every response, and a request-body size limit.

HTML pages get a Content-Security-Policy that allows only the app's own scripts and
styles (the vendored Leaflet assets under /static) plus the inline scripts that carry
this response's *nonce*: a random token made for every request (:func:`csp_nonce`)
that the page builder writes on its own ``<script>`` tags (``maps.base.render(m,
nonce=...)``; folium writes the map set-up as inline script). Nothing else is allowed:
an inline script that stored data smuggled into a page has no nonce (it cannot know
one made after it was stored), so it does not run — whatever the page holds. (Before,
the policy listed the hash of *every* inline script in the response, which allowed an
injected one too.) Images may be data: URIs (the report pictures, PNG heat overlays)
and the configured basemap's tile host.

``Referrer-Policy: same-origin``: no other site learns a page's address, and a browser
sends its true ``Origin`` on the sign-in form's POST (with ``no-referrer`` it sends
``Origin: null``, which the sign-in's cross-site check must refuse; see
``api/routes/maps.py``).
"""

from __future__ import annotations

import re
import secrets

from starlette.exceptions import HTTPException
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_body

TILE_HOSTS = {
    "osm": "https://tile.openstreetmap.org",
    "tianditu": "https://*.tianditu.gov.cn",
    "amap": "https://*.is.autonavi.com",
    "none": "",
}

COMMON = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "geolocation=(), camera=(), microphone=()",
}

_STATE_KEY = "csp_nonce"
_SCRIPT_OPEN = re.compile(r"<script\b", re.I)


def csp_nonce(request: Request) -> str:
    """This response's CSP nonce: write it on the page's own scripts (``<script nonce="...">``).

    Made by :class:`SecurityHeaders` before the route runs; a request that did not pass through
    it (a bare app in a unit test) gets one here, which its policy then never names.
    """
    nonce = getattr(request.state, _STATE_KEY, None)
    if nonce is None:
        nonce = secrets.token_urlsafe(18)
        setattr(request.state, _STATE_KEY, nonce)
    return nonce


def stamp_scripts(html: str, nonce: str) -> str:
    """*html* with *nonce* on every ``<script`` tag: only for a page of the app's own, with no data in
    it at all (Swagger UI's page at /docs); a page that holds data stamps its scripts where it
    writes them (``maps.base.render``)."""
    return _SCRIPT_OPEN.sub(f'<script nonce="{nonce}"', html)


def csp(*, nonce: str, basemap: str) -> str:
    tiles = TILE_HOSTS.get(basemap, "")
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        "style-src 'self' 'unsafe-inline'",  # folium and Leaflet set inline styles; no script can run from them
        f"img-src 'self' data: blob: {tiles}".rstrip(),
        "connect-src 'self'",
        "font-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


class SecurityHeaders:
    """Pure ASGI middleware: the common security headers on every response, and on HTML a
    Content-Security-Policy naming this request's nonce (made here, before the route runs, kept in the
    request's state for :func:`csp_nonce`). Pure ASGI rather than Starlette's BaseHTTPMiddleware, which
    runs the app in a task of its own and re-sends every body as a stream: that cost every request about
    as much as the cheapest route itself."""

    def __init__(self, app: ASGIApp, *, basemap: str) -> None:
        self.app = app
        self.basemap = basemap

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(18)  # 144 bits, new for every request
        scope.setdefault("state", {})[_STATE_KEY] = nonce  # what request.state reads

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for k, v in COMMON.items():
                    if k not in headers:
                        headers[k] = v
                if headers.get("content-type", "").startswith("text/html"):
                    headers["Content-Security-Policy"] = csp(nonce=nonce, basemap=self.basemap)
            await send(message)

        await self.app(scope, receive, with_headers)


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a body grows past the limit; FastAPI lets HTTPExceptions through
    its body parsing, and the app's handler answers 413 in the error envelope."""

    def __init__(self) -> None:
        super().__init__(status_code=413, detail="Content Too Large")


class BodyLimit:
    """Pure ASGI middleware: refuse bodies over ``max_body_bytes`` — announced ones before reading
    anything, chunked ones (no Content-Length) as soon as the bytes read pass the limit."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.max_body_bytes:
            response = JSONResponse(error_body(
                "body_too_large", f"the request body is {int(length):,} bytes; the limit is {self.max_body_bytes:,} "
                "(GRIDMAP_MAX_BODY_BYTES): split it into smaller requests"), status_code=413)
            await response(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body_bytes:
                    raise BodyTooLarge()
            return message

        await self.app(scope, limited, send)
