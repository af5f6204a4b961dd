"""Which role each route needs, read from its dependencies (every route must declare one)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

#: Routes anyone may call: health, the API documentation, the maps' sign-in, the OGC API's landing page
#: and conformance declaration (they hold no data; its collections need a key).
PUBLIC = {
    ("GET", "/health"), ("GET", "/docs"), ("GET", "/openapi.json"), ("GET", "/ogc"), ("GET", "/ogc/conformance"),
    ("GET", "/maps/login"), ("POST", "/maps/login"), ("POST", "/maps/logout"), ("GET", "/favicon.ico"),
}


def _declared(dependant: Dependant) -> str | None:
    role = getattr(dependant.call, "required_role", None)
    if role:
        return role
    for sub in dependant.dependencies:
        found = _declared(sub)
        if found:
            return found
    return None


def api_routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    """Every APIRoute with its full path, also inside included routers (FastAPI ≥ 0.16x keeps
    an included router as one object instead of copying its routes)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        elif hasattr(route, "original_router"):
            context = getattr(route, "include_context", None)
            yield from api_routes(route.original_router.routes, prefix + (getattr(context, "prefix", "") or ""))


def route_roles(app: FastAPI) -> dict[tuple[str, str], str | None]:
    """(method, path) → the role it needs; None for public routes and for routes that declare none."""
    out: dict[tuple[str, str], str | None] = {}
    for path, route in api_routes(app.routes):
        for method in sorted(route.methods - {"HEAD"}):
            out[(method, path)] = _declared(route.dependant)
    return out
