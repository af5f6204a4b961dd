"""Compression and CORS of every response, from the settings.

- gzip (Starlette's GZipMiddleware) for answers of :data:`GZIP_MIN_BYTES` or more when the client sends
  ``Accept-Encoding: gzip``: JSON, GeoJSON, CSV, HTML and MVT; already-compressed kinds (PNG, zip) are
  left alone. Level :data:`GZIP_LEVEL`: level 9 (Starlette's default) costs several times the CPU for a
  few per cent fewer bytes. Streamed answers (``POST /v1/lookup/batch``) stay streamed: each piece is
  compressed as it comes. 304s and 204s have no body and pass untouched, and so do ETags: the tiles'
  are weak (``W/"..."``), the same tile gzip'd or not.
- CORS (Starlette's CORSMiddleware) only when ``GRIDMAP_CORS_ORIGINS`` lists origins: reads (GET,
  HEAD) from those origins' pages, with the ``Authorization`` and ``If-None-Match`` headers admitted and
  ``ETag`` exposed; no credentials (cookies): another site's page uses a key. Empty (the default): no
  CORS headers at all.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp

GZIP_MIN_BYTES = 1024
GZIP_LEVEL = 6
#: Bodies that are compressed already (or must reach the client piece by piece untouched).
NOT_GZIPPED = ("image/png", "image/jpeg", "application/zip", "application/gzip", "text/event-stream")

CORS_METHODS = ("GET", "HEAD")
CORS_HEADERS = ("Authorization", "If-None-Match", "Accept", "Accept-Encoding", "Content-Type")
CORS_EXPOSED = ("ETag", "Content-Crs", "Link")
CORS_MAX_AGE_S = 600


def cors_origins(value: str) -> list[str]:
    """The origins of a ``GRIDMAP_CORS_ORIGINS`` value; ValueError naming a malformed one.

    >>> cors_origins(" https://wall.example.org, http://10.0.0.5:8080 ,")
    ['https://wall.example.org', 'http://10.0.0.5:8080']
    >>> cors_origins("")
    []
    >>> cors_origins("wall.example.org")
    Traceback (most recent call last):
    ...
    ValueError: GRIDMAP_CORS_ORIGINS: 'wall.example.org' is not an origin: write scheme://host[:port], e.g. https://wall.example.org (no path), or *
    """
    out = []
    for raw in value.split(","):
        entry = raw.strip().rstrip("/")
        if not entry:
            continue
        parts = urlsplit(entry)
        if entry != "*" and (parts.scheme not in ("http", "https") or not parts.hostname or parts.path
                             or parts.query):
            raise ValueError(f"GRIDMAP_CORS_ORIGINS: {entry!r} is not an origin: write scheme://host[:port], "
                             "e.g. https://wall.example.org (no path), or *")
        out.append(entry)
    return out


def gzip(app: ASGIApp) -> GZipMiddleware:
    return GZipMiddleware(app, minimum_size=GZIP_MIN_BYTES, compresslevel=GZIP_LEVEL,
                          exclude_content_types=NOT_GZIPPED)


def cors(app: ASGIApp, *, origins: list[str]) -> ASGIApp:
    """CORS for *origins*; with none, *app* itself (no CORS headers at all)."""
    if not origins:
        return app
    return CORSMiddleware(app, allow_origins=origins, allow_methods=CORS_METHODS, allow_headers=CORS_HEADERS,
                          expose_headers=CORS_EXPOSED, allow_credentials=False, max_age=CORS_MAX_AGE_S)
