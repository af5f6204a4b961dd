"""Per-key and per-address rate limits: token buckets, answered with 429 and Retry-After.

Each bucket holds up to ``burst`` requests and refills at ``per_s`` requests a
second. The per-address limit (the client's IP as the server sees it) applies to
every ``/v1/`` request and to the sign-in form, before authentication, so a flood
of bad keys is limited too; the per-key limit applies after authentication. A
batch lookup counts as one request (its size is limited separately).

The buckets are shared by every worker on every machine: rows in PostgreSQL, leased a few
tokens at a time and spent from memory (:mod:`geo.ratelimit` says how, and the bound: at most
``workers × rate_limit_lease`` requests over the limit).

The client's address is the connection's peer. ``X-Forwarded-For`` is believed only
from the proxies listed in ``GRIDMAP_TRUSTED_PROXIES`` (addresses or CIDRs; empty by
default: none), by :func:`proxy_trust` in front of the app; from anyone else the header
changes nothing, so rotating it does not escape the limit. (uvicorn believes it from
127.0.0.1 by default: ``gridmap serve`` turns that off, and the app decides.) Behind a
reverse proxy, list the proxy there, or every client shares the proxy's bucket.

Hand-written rather than a library (slowapi, limits): the shared bucket is one SQL
statement on the database the app already has, and those libraries bring their own
storage backends (Redis, memcached) and decorators that would have to be threaded
through every route.
"""

from __future__ import annotations

import ipaddress

import anyio.to_thread
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api.errors import error_body
from geo.errors import RateLimited
from geo.ratelimit import SharedBuckets, limited


class AddressLimit:
    """ASGI middleware: the per-address limit on ``/v1/`` and ``/maps/login``."""

    def __init__(self, app: ASGIApp, *, buckets: SharedBuckets) -> None:
        self.app = app
        self.buckets = buckets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not self.buckets.enabled or not (
                path.startswith("/v1/") or path == "/maps/login"):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = client[0] if client else "unknown"
        wait = self.buckets.take_local(address)  # from memory: a held token, or a known refusal
        if wait is None:  # a lease: one round trip to PostgreSQL, off the event loop
            wait = await anyio.to_thread.run_sync(self.buckets.take, address)
        if wait > 0:
            exc: RateLimited = limited("address", per_s=self.buckets.per_s, burst=self.buckets.burst, wait_s=wait)
            from starlette.responses import JSONResponse

            response = JSONResponse(error_body(exc.code, exc.message, exc.details), status_code=429,
                                    headers={"Retry-After": str(exc.details["retry_after_s"])})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def trusted_proxies(value: str) -> list[str]:
    """The entries of ``GRIDMAP_TRUSTED_PROXIES`` (comma-separated addresses or CIDRs, or ``*``), checked.

    Raises ValueError naming a malformed entry: uvicorn would take it as a literal host name and
    trust nothing (or the wrong thing) without a word.

    >>> trusted_proxies(" 10.0.0.5, 192.168.0.0/24 ,")
    ['10.0.0.5', '192.168.0.0/24']
    >>> trusted_proxies("")
    []
    >>> trusted_proxies("proxy.local")
    Traceback (most recent call last):
    ...
    ValueError: GRIDMAP_TRUSTED_PROXIES: 'proxy.local' is not an IP address or CIDR (e.g. 10.0.0.5 or 10.0.0.0/24), nor *
    """
    entries = [part.strip() for part in str(value).split(",") if part.strip()]
    if entries == ["*"]:
        return entries
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False) if "/" in entry else ipaddress.ip_address(entry)
        except ValueError:
            raise ValueError(f"GRIDMAP_TRUSTED_PROXIES: {entry!r} is not an IP address or CIDR "
                             "(e.g. 10.0.0.5 or 10.0.0.0/24), nor *") from None
    return entries


def proxy_trust(app: ASGIApp, *, trusted: list[str]) -> ASGIApp:
    """*app* behind uvicorn's ProxyHeadersMiddleware when *trusted* (:func:`trusted_proxies` of the
    setting) lists proxies: for a request from one of them, the client address and scheme become
    X-Forwarded-For's (the nearest untrusted hop) and X-Forwarded-Proto's; from anyone else, and with
    the setting empty, nothing changes.
    """
    return ProxyHeadersMiddleware(app, trusted_hosts=trusted) if trusted else app  # type: ignore[arg-type]
