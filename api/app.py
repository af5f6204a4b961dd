"""The FastAPI application factory. Settings are explicit or built on demand; nothing at import."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from api import errors
from api.compression import cors, cors_origins, gzip
from api.ratelimit import AddressLimit, proxy_trust, trusted_proxies
from api.security import BodyLimit, SecurityHeaders, csp_nonce, stamp_scripts
import maps as map_package
from api.routes import analysis, audit, cameras, coverage, features, health, incidents, lookup, ogc, plans
from api.routes import ogc_transactions, tiles
from api.routes import maps as map_pages
from geo.config import Settings, get_settings
from geo.keys import KeyCache
from geo.lookup import LookupService
from geo.ratelimit import SharedBuckets
from geo.store.db import database_url, make_engine, read_database_url
from geo.store.ogc import MatchedCounts

STATIC_DIR = Path(map_package.__file__).resolve().parent / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = {"pool_size": settings.db_pool_size, "max_overflow": settings.db_max_overflow}
        app.state.engine = make_engine(database_url(settings), **pool)
        replica = read_database_url(settings)
        # tiles, OGC items pages and the lookup indexes' loads (api.deps.with_conn): the replica's, if any
        app.state.read_engine = make_engine(replica, **pool) if replica else app.state.engine
        app.state.keys = KeyCache(app.state.engine, ttl_s=settings.key_cache_s)  # revocation: the primary
        app.state.lookup = LookupService(app.state.read_engine, poll_s=settings.lookup_poll_s)
        app.state.lookup.start()
        for limits in (app.state.key_limits, app.state.address_limits):
            limits.attach(app.state.engine)  # shared by every worker: leased from PostgreSQL
        try:
            yield
        finally:
            app.state.lookup.stop()
            for limits in (app.state.key_limits, app.state.address_limits):
                limits.attach(None)
            if app.state.read_engine is not app.state.engine:
                app.state.read_engine.dispose()
            app.state.engine.dispose()

    app = FastAPI(
        title="gridmap",
        summary="Grid management for township governance: grids, buildings, cameras and incidents on PostGIS.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # FastAPI's pages load Swagger UI / ReDoc from a CDN; /docs below serves vendored assets
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.ogc_counts = MatchedCounts()  # numberMatched kept between pages (exact: keyed on data_version)
    errors.install(app)
    app.state.key_limits = SharedBuckets(kind="key", per_s=settings.rate_limit_key_per_s,
                                         burst=settings.rate_limit_key_burst, lease=settings.rate_limit_lease)
    app.state.address_limits = SharedBuckets(kind="address", per_s=settings.rate_limit_address_per_s,
                                             burst=settings.rate_limit_address_burst, lease=settings.rate_limit_lease)
    app.add_middleware(AddressLimit, buckets=app.state.address_limits)
    app.add_middleware(BodyLimit, max_body_bytes=settings.max_body_bytes)  # chunked bodies too
    app.add_middleware(cors, origins=cors_origins(settings.cors_origins))  # none by default; ValueError: bad entry
    # inside the headers middleware: it sees the route's own response, one message with its size known
    app.add_middleware(gzip)
    app.add_middleware(SecurityHeaders, basemap=settings.basemap)
    # outermost: everything above sees the client's address (X-Forwarded-For only from GRIDMAP_TRUSTED_PROXIES)
    app.add_middleware(proxy_trust, trusted=trusted_proxies(settings.trusted_proxies))  # ValueError: bad entry

    @app.exception_handler(map_pages.PageRefused)
    async def _refused(request: Request, exc: map_pages.PageRefused) -> HTMLResponse:
        return map_pages.refused_page(request, exc)

    @app.exception_handler(map_pages.SignInRequired)
    async def _sign_in(request: Request, exc: map_pages.SignInRequired) -> RedirectResponse:
        return RedirectResponse(f"/maps/login?next={quote(exc.next_url)}", status_code=303)

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json", title="gridmap API",
            swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/vendor/swagger-ui/favicon-32x32.png",
        )
        # its one inline script (no data in the page) carries the response's CSP nonce
        return HTMLResponse(stamp_scripts(bytes(page.body).decode(), csp_nonce(request)))

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> FileResponse:
        """The tab icon browsers ask for on every page (it was a 404 in every page's console)."""
        return FileResponse(STATIC_DIR / "gridmap" / "favicon.ico", media_type="image/x-icon",
                            headers={"Cache-Control": "public, max-age=86400"})

    app.include_router(health.router)
    app.include_router(lookup.router)
    app.include_router(cameras.router)  # before features: /v1/cameras/{id} beside GET /v1/cameras
    app.include_router(coverage.router)
    app.include_router(features.router)
    app.include_router(incidents.router)
    app.include_router(analysis.router)
    app.include_router(audit.router)
    app.include_router(plans.router)
    app.include_router(ogc.router)
    app.include_router(ogc_transactions.router)  # Part 4: writes on the grids of a draft
    app.include_router(map_pages.router)
    app.include_router(tiles.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
