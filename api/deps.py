"""Request dependencies: settings, the engine, and role checks."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable, Iterator
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection, Engine

from geo.config import Settings
from geo.errors import Forbidden, Unauthorized
from geo.keys import KeyInfo, role_allows
from geo.lookup import LookupService
from geo.ratelimit import limited
from geo.store.db import reading

T = TypeVar("T")

#: Name of the cookie the map pages' sign-in sets (HttpOnly, SameSite=Strict): a session token.
SESSION_COOKIE = "gridmap_session"

#: Who calls the lookups without a key when ``anonymous_lookups`` is on.
ANONYMOUS = KeyInfo(id=0, prefix="anonymous", role="client", name="anonymous",
                    created_at=dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc), revoked_at=None)


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_engine(request: Request) -> Engine:
    return request.app.state.engine


def lookup_service(request: Request) -> LookupService:
    """The worker's lookup indexes (built at start-up, switched when a plan is published)."""
    return request.app.state.lookup


def get_conn(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Connection]:
    """A read connection for the duration of the request, ended by COMMIT when the request did not
    fail (:func:`geo.store.db.reading`: a ROLLBACK would throw away the connection's prepared
    statements)."""
    with reading(engine) as conn:
        yield conn


async def with_conn(request: Request, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """``fn(conn, *args, **kwargs)`` with a read connection, in one worker thread: one thread hop for
    the request. (A sync endpoint taking :data:`ConnDep` costs three: the dependency's enter and exit
    each run in Starlette's thread pool, then the endpoint; on a tile of a few milliseconds that is
    measurable: bench/README.md "Per-request cost: one round trip, prepared statements, ...".)

    Its callers only read (tiles, OGC items pages), and may lag the primary: the connection is the read
    replica's when ``GRIDMAP_READ_DATABASE_URL`` names one (``app.state.read_engine``), else the primary's."""
    engine: Engine = request.app.state.read_engine

    def work() -> T:
        with reading(engine) as conn:
            return fn(conn, *args, **kwargs)

    return await anyio.to_thread.run_sync(work)


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
ConnDep = Annotated[Connection, Depends(get_conn)]


def actor_name(key: KeyInfo) -> str:
    """Who made a change, for the audit log and the edit log: the key's prefix and name."""
    return f"key:{key.prefix} ({key.name})"


def presented_key(request: Request) -> str | None:
    """The API key of an ``Authorization`` header, if any: ``Bearer <key>``, or ``Basic`` credentials
    whose password is the key (any user name). Basic is for GIS clients that can send no other header:
    QGIS 3.22 (Debian 12) offers only Basic, ESRI-token, certificate and PKI authentication (its "API
    Header" method came in a later release), and GDAL sends Basic from ``GDAL_HTTP_USERPWD``. No
    answer ever asks for Basic (a 401 says ``WWW-Authenticate: Bearer``), so a browser never prompts
    for it nor sends it unasked. Raises Unauthorized for Basic credentials that are not base64 of
    ``user:key``."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    scheme, token = scheme.lower(), token.strip()
    if scheme == "bearer" and token:
        return token
    if scheme == "basic" and token:
        try:
            _, colon, password = base64.b64decode(token, validate=True).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            colon, password = "", ""
        if not (colon and password.strip()):
            raise Unauthorized.say("auth.bad_basic")
        return password.strip()
    return None


def caller(request: Request) -> KeyInfo | None:
    """Who is calling: the Bearer key, else the map session cookie (a server-side session token,
    never the key itself); None when neither was sent. Raises Unauthorized for a bad one."""
    key = presented_key(request)
    if key is not None:
        return request.app.state.keys.authenticate(key)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        return request.app.state.keys.authenticate_session(token)
    return None


async def caller_async(request: Request) -> KeyInfo | None:
    """:func:`caller` for the event loop: a key or session verified within ``key_cache_s`` is answered
    from memory on the loop; only a check against the database goes to a worker thread."""
    key = presented_key(request)
    token = request.cookies.get(SESSION_COOKIE) if key is None else None
    if key or token:
        known = request.app.state.keys.cached(key or token, kind="key" if key else "session")
        if known is not None:
            return known
    return await anyio.to_thread.run_sync(caller, request)


#: Declares the Bearer scheme in the OpenAPI document (``components.securitySchemes.bearer`` and each
#: keyed operation's ``security``); the key itself is read and checked by :func:`caller`.
BEARER = HTTPBearer(auto_error=False, scheme_name="bearer",
                    description="an API key: `Authorization: Bearer <key>` (`gridmap keys create --role ROLE`); "
                                "clients that can only send Basic credentials (QGIS 3.22, GDAL_HTTP_USERPWD) give "
                                "any user name and the key as the password")


def require(role: str, *, anonymous: bool = True) -> Callable[..., KeyInfo]:
    """A dependency admitting keys whose role grants ``role``; 401 without a key, 403 below it.
    ``anonymous``: whether ``GRIDMAP_ANONYMOUS_LOOKUPS`` lets a caller without a key in as a client."""

    async def dependency(request: Request,
                         _: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)] = None) -> KeyInfo:
        # async, so a request whose key is in the cache costs no thread hop (a sync dependency runs in
        # Starlette's thread pool): only a database check (a cache miss, a rate-limit lease) takes one
        info = await caller_async(request)
        if info is None:
            if role == "client" and anonymous and request.app.state.settings.anonymous_lookups:
                request.state.key = ANONYMOUS  # limited per address by api.ratelimit.AddressLimit
                return ANONYMOUS
            raise Unauthorized.say("auth.key_required")
        if not role_allows(info.role, role):
            raise Forbidden.say("auth.role_too_low", role=info.role, needs=role)
        limits = request.app.state.key_limits
        wait = limits.take_local(info.prefix)
        if wait is None:  # only a lease from the shared bucket can tell: a round trip
            wait = await anyio.to_thread.run_sync(limits.take, info.prefix)
        if wait > 0:
            raise limited("API key", per_s=limits.per_s, burst=limits.burst, wait_s=wait)
        request.state.key = info
        return info

    dependency.required_role = role  # type: ignore[attr-defined]
    return dependency


Client = Annotated[KeyInfo, Depends(require("client"))]
#: Any key (client and up), never the anonymous caller: the OGC API's collections.
KeyHolder = Annotated[KeyInfo, Depends(require("client", anonymous=False))]
Viewer = Annotated[KeyInfo, Depends(require("viewer"))]
Operator = Annotated[KeyInfo, Depends(require("operator"))]
Planner = Annotated[KeyInfo, Depends(require("planner"))]
Admin = Annotated[KeyInfo, Depends(require("admin"))]
