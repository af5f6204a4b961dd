"""Security headers on every response, and a request-body size limit.

HTML pages get a Content-Security-Policy that allows only the app's own scripts and
styles (the vendored Leaflet assets under /static) plus the page's *own* inline
scripts by their SHA-256 hash: folium writes the map set-up as inline script, and
hashing exactly those blocks keeps any other inline script (an injection) from
running. Images may be data: URIs (the report pictures, PNG heat overlays) and the
configured basemap's tile host.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Awaitable, Callable

from starlette.exceptions import HTTPException
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_body

_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)

TILE_HOSTS = {
    "osm": "https://tile.openstreetmap.org",
    "tianditu": "https://*.tianditu.gov.cn",
    "amap": "https://*.is.autonavi.com",
    "none": "",
}

COMMON = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "geolocation=(), camera=(), microphone=()",
}


def script_hashes(html: bytes) -> list[str]:
    return ["'sha256-" + base64.b64encode(hashlib.sha256(m.group(1)).digest()).decode() + "'"
            for m in _INLINE_SCRIPT.finditer(html)]


def csp(html: bytes, *, basemap: str) -> str:
    tiles = TILE_HOSTS.get(basemap, "")
    return "; ".join([
        "default-src 'self'",
        "script-src 'self' " + " ".join(script_hashes(html)),
        "style-src 'self' 'unsafe-inline'",  # folium and Leaflet set inline styles; no script can run from them
        f"img-src 'self' data: blob: {tiles}".rstrip(),
        "connect-src 'self'",
        "font-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


class SecurityHeaders(BaseHTTPMiddleware):
    def __init__(self, app: object, *, basemap: str) -> None:
        super().__init__(app)  # type: ignore[arg-type]
        self.basemap = basemap

    async def dispatch(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        for k, v in COMMON.items():
            response.headers.setdefault(k, v)
        if response.headers.get("content-type", "").startswith("text/html"):
            body = b"".join([chunk async for chunk in response.body_iterator])  # type: ignore[attr-defined]
            headers = dict(response.headers)
            headers.pop("content-length", None)
            headers["Content-Security-Policy"] = csp(body, basemap=self.basemap)
            return Response(body, status_code=response.status_code, headers=headers,
                            media_type=response.media_type)
        return response


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
