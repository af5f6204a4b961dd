"""The interactive map pages, rendered by folium from the database and served with vendored assets.

Map pages sign in once with a key (POST /maps/login sets an HttpOnly, SameSite=Strict
cookie); every page needs at least the viewer role, except the lookup page, which hotline staff open
with ``client`` keys (:func:`map_client`; a client signed in elsewhere gets a 403 page, in Chinese and
English, that names the page it may open: :class:`PageRefused`).

Sign-in and sign-out are form posts, so another site could make a visitor's browser send
them (sign-in CSRF: an auto-submitting form signs the victim in under the attacker's key,
and what they then report is the attacker's; a post to /maps/logout signs them out).
Both refuse, with a 403 that says why, a post whose ``Origin`` (or, without one, whose
``Referer``) is not this server's own origin — scheme, host and port as the browser
addressed it (the Host header; the scheme is https behind a TLS proxy listed in
GRIDMAP_TRUSTED_PROXIES). ``Origin: null`` (a page that hides where it is) is refused too.

A post with neither header passes: every current browser sends ``Origin`` with a form
POST (Chrome, Edge, Safari, and Firefox since 70; this server's Referrer-Policy is
``same-origin``, so its own sign-in form gets its true origin, not ``null``), so a
request without it is not a browser's form but a client that holds the key it sends
(curl, httpx, the tests' sign-in helper) — nothing a cross-site page can forge.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Mapping
from typing import Annotated, Any
from urllib.parse import urlsplit

import folium
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection

from api.deps import SESSION_COOKIE, ConnDep, EngineDep, SettingsDep, caller
from api.security import csp_nonce
from api.params import TOWN_TZ
from geo import messages
from geo.config import TOWN_TIMEZONE, Settings
from geo.errors import GridmapError, NotFound
from geo.keys import KeyInfo, authenticate, end_session, role_allows, start_session
from geo.plan_checks import Bands
from geo.store import incidents as incident_store
from geo.store import queries
from maps.base import render
from maps.command import VIEW_SOURCES as COMMAND_SOURCES
from maps.command import build_command_map
from maps.coverage import VIEW_SOURCES as COVERAGE_SOURCES
from maps.coverage import build_coverage_map
from maps.editor import build_editor_map, plans_page
from maps.editor_scope import scope_page
from maps.lookup import VIEW_SOURCES as LOOKUP_SOURCES
from maps.lookup import build_lookup_map
from maps.byview import ViewSource, inline_or_view
from maps.overview import VIEW_SOURCES as OVERVIEW_SOURCES
from maps.overview import build_overview_map
from maps.nav import add_header, header_html
from maps.pages import login_page, message_page
from maps.tiles import tiles_page

router = APIRouter(prefix="/maps", tags=["maps"])

#: Where the app serves ``maps/static/`` and the JSON API the map pages call.
STATIC_URL = "/static"
API_BASE = "/v1"


class SignInRequired(Exception):
    """Raised by :func:`map_viewer` so the app can redirect the browser to the sign-in page."""

    def __init__(self, next_url: str):
        self.next_url = next_url


class PageRefused(Exception):
    """Raised by :func:`map_viewer` for a signed-in key whose role may not open the page (a client key
    anywhere but the lookup page): the app answers 403 with :func:`refused_page`."""

    def __init__(self, info: KeyInfo, path: str):
        self.info, self.path = info, path


#: The page a client key opens (hotline staff: which grid, which grid member).
CLIENT_PAGE = "/maps/lookup"


def _signed_in(request: Request, role: str) -> KeyInfo:
    # back to the same page after signing in, query included (/maps/editor?plan=7)
    here = str(request.url.path) + (f"?{request.url.query}" if request.url.query else "")
    try:
        info = caller(request)
        if info is None:
            raise SignInRequired(here)
    except GridmapError:
        raise SignInRequired(here) from None
    if not role_allows(info.role, role):
        raise PageRefused(info, str(request.url.path))
    request.state.viewer = info  # for the page's header (who is signed in, what they may open)
    return info


def map_viewer(request: Request) -> KeyInfo:
    """A page for viewers and above."""
    return _signed_in(request, "viewer")


def map_client(request: Request) -> KeyInfo:
    """The lookup page: any key, client included."""
    return _signed_in(request, "client")


def refused_page(request: Request, exc: PageRefused) -> HTMLResponse:
    """403: the page is not for this key's role; says (中文 — English) which page it may open."""
    info = exc.info
    message = messages.both("maps.page_refused", role=info.role, page=exc.path)
    header = header_html(name=info.name, role=info.role, current=exc.path)
    return HTMLResponse(message_page(title=messages.label("maps.refused_title"), message=message,
                                     link=CLIENT_PAGE, link_text="查询 Lookup", header=header), status_code=403)


def site_header(request: Request) -> str:
    """The header of a page that :func:`map_viewer` let in (maps/nav.py)."""
    info: KeyInfo | None = getattr(request.state, "viewer", None)
    here = str(request.url.path) + (f"?{request.url.query}" if request.url.query else "")
    return header_html(name=info.name if info else None, role=info.role if info else None, current=here)


map_viewer.required_role = "viewer"  # type: ignore[attr-defined]
map_client.required_role = "client"  # type: ignore[attr-defined]
MapViewer = Annotated[KeyInfo, Depends(map_viewer)]
MapClient = Annotated[KeyInfo, Depends(map_client)]


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of *url*, lower case, without the scheme's default port; None if it has none."""
    try:
        parts = urlsplit(url.strip())
        scheme, host, port = parts.scheme.lower(), (parts.hostname or "").lower(), parts.port
    except ValueError:  # a port that is not a number
        return None
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}" + (f":{port}" if port and port != _DEFAULT_PORTS[scheme] else "")


def _own_origin(request: Request) -> str:
    return _origin_of(f"{request.url.scheme}://{request.headers.get('host') or request.url.netloc}") or ""


def cross_site(request: Request, *, what: str) -> str | None:
    """Why this form post (*what*: "sign-in", "sign-out") is refused as cross-site, or None when it
    came from this server's own pages (or not from a browser at all: see the module's docstring)."""
    own = _own_origin(request)
    origin, referer = request.headers.get("origin"), request.headers.get("referer")
    if origin is not None:
        sent, how = (None if origin.strip().lower() == "null" else _origin_of(origin)), "Origin"
        shown = origin.strip()[:100] or "(empty)"
    elif referer:
        sent, how, shown = _origin_of(referer), "Referer", (_origin_of(referer) or referer.strip()[:100])
    else:
        return None
    if sent == own:
        return None
    why = (f"跨站表单被拒绝 Cross-site form refused: this {what} form was sent from another page ({how}: "
           f"{shown}), not from this server ({own}); nothing was changed. Open {own}/maps/login and use the "
           "form there.")
    if sent and urlsplit(sent).netloc == urlsplit(own).netloc:  # only http vs https differs
        why += (" If a TLS proxy is in front of gridmap, list it in GRIDMAP_TRUSTED_PROXIES so the server "
                "sees the https it forwards.")
    return why


@router.get("/login", response_class=HTMLResponse, summary="Sign-in page of the maps")
def login_form(next: str = "/maps/", error: str = "") -> HTMLResponse:
    return HTMLResponse(login_page(next_url=next, error=error))


@router.post("/login", summary="Sign in with an API key; sets a session cookie (a server-side session, not the key)")
def login(request: Request, engine: EngineDep, settings: SettingsDep, key: Annotated[str, Form()],
          next: Annotated[str, Form()] = "/maps/") -> Response:
    target = next if next.startswith("/maps") and not next.startswith("/maps//") else "/maps/"
    refused = cross_site(request, what="sign-in")
    if refused:  # before the key is even looked at
        return HTMLResponse(login_page(next_url=target, error=refused), status_code=403)
    try:
        info = authenticate(engine, key.strip())
    except GridmapError as exc:
        said = messages.both(exc.message_id, **(exc.fields or {})) if exc.message_id else exc.message
        return HTMLResponse(login_page(next_url=target, error=said), status_code=401)
    if not role_allows(info.role, "viewer") and urlsplit(target).path != CLIENT_PAGE:
        target = CLIENT_PAGE  # a client key (hotline staff) opens the lookup page only
    _, token = start_session(engine, key.strip(), hours=settings.session_hours)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", path="/",
                        max_age=int(settings.session_hours * 3600), secure=request.url.scheme == "https")
    return response


@router.post("/logout", summary="Sign out of the maps: the session ends on the server")
def logout(request: Request, engine: EngineDep) -> Response:
    refused = cross_site(request, what="sign-out")
    if refused:  # the session stays, and so does the cookie
        return HTMLResponse(message_page(title="未退出 Not signed out", message=refused), status_code=403)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        end_session(engine, token)
        request.app.state.keys.forget(token)
    response = RedirectResponse("/maps/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _layers(conn: Connection, settings: Settings, *, plan_id: int, community: str | None,
            views: Mapping[str, ViewSource], loaders: Mapping[str, Callable[[], str]]) -> dict[str, dict | ViewSource]:
    """Each layer of *loaders* (name -> a function giving its GeoJSON text): the FeatureCollection, or,
    when the layer has a source in *views* and more features than ``GRIDMAP_MAP_INLINE_MAX``, that
    source (for the plan, and the community when given): the page loads it by view."""
    counts = queries.layer_counts(conn, plan_id=plan_id, community=community) if views else {}
    out: dict[str, dict | ViewSource] = {}
    for name, load in loaders.items():
        source = views.get(name)
        if source is None:
            out[name] = json.loads(load())
            continue
        params: dict[str, str | int] = {"plan": plan_id} if name in ("grids", "buildings") else {}
        if community is not None and name in ("grids", "buildings"):
            params["filter"] = f"community_code = '{community.replace(chr(39), chr(39) * 2)}'"
        if source.follows is not None:  # by view when the layer it follows is (loaders lists that one first)
            out[name] = source if isinstance(out[source.follows], ViewSource) else json.loads(load())
            continue
        out[name] = inline_or_view(lambda load=load: json.loads(load()), count=counts[name],
                                   limit=settings.map_inline_max, source=source.with_params(**params))
    return out


def _map_page(request: Request, build: Callable[..., folium.Map], conn: Connection, settings: Settings, *,
              plan_id: int | None = None, community: str | None = None,
              views: Mapping[str, ViewSource] | None = None, more_layers: Mapping[str, Callable[[], str]] | None = None,
              totals: Callable[[int], dict[str, Any]] | None = None, header: str | None = None,
              keep: Mapping[str, tuple[str, ...]] | None = None, **page: Any) -> HTMLResponse:
    """The page of map builder *build* (``maps.*.build_*_map``): the plan's grids and buildings (the
    published plan when *plan_id* is None; of one community when *community* is given) and *more_layers*
    (name -> a function giving its GeoJSON), the town's bounds and the basemap settings, plus the page's
    own arguments *page*. A layer with a source in *views* is loaded by view when it is big
    (:func:`_layers`); the builder then gets ``totals=totals(plan_id)`` too (the counts it can no longer
    make from the layers). Its own inline scripts carry this response's CSP nonce (no other inline
    script runs). The site's header (*header*, else :func:`site_header`) sits above the map."""
    if plan_id is None:
        plan_id = queries.resolve_plan(conn, plan_id=None)["id"]
    layers = _layers(conn, settings, plan_id=plan_id, community=community, views=views or {}, loaders={
        "grids": lambda: queries.grids_geojson(conn, plan_id=plan_id, community=community),
        "buildings": lambda: queries.buildings_geojson(conn, plan_id=plan_id, community=community),
        **(more_layers or {}),
    })
    if keep is not None:  # a client's page (:func:`client_layers`)
        layers = client_layers(layers, keep)
    if totals is not None and any(isinstance(v, ViewSource) for v in layers.values()):
        page["totals"] = totals(plan_id)
    m = build(
        **layers,
        bounds=queries.bounds(conn),
        basemap=settings.basemap,
        tianditu_key=settings.tianditu_key,
        static_url=STATIC_URL,
        **page,
    )
    add_header(m, site_header(request) if header is None else header, static_url=STATIC_URL)
    return HTMLResponse(render(m, nonce=csp_nonce(request)))


@router.get("/", response_class=HTMLResponse, summary="Overview map: communities, grids, buildings, cameras")
def overview(request: Request, conn: ConnDep, settings: SettingsDep, _: MapViewer) -> HTMLResponse:
    return _map_page(request, build_overview_map, conn, settings, views=OVERVIEW_SOURCES,
                     more_layers={"cameras": lambda: queries.cameras_geojson(conn),
                                  "communities": lambda: queries.communities_geojson(conn)},
                     totals=lambda plan_id: queries.overview_totals(conn, plan_id=plan_id),
                     community_names=queries.community_labels(conn))


@router.get("/lookup", response_class=HTMLResponse, summary="Lookup map: which grid is this point or address in?")
def lookup_map(request: Request, conn: ConnDep, settings: SettingsDep, key: MapClient) -> HTMLResponse:
    """Any key, client too (hotline staff): a client's page holds only what ``GET /v1/lookup`` tells a
    client (no phone numbers, households or population: :func:`client_layers`)."""
    viewer = role_allows(key.role, "viewer")
    return _map_page(request, build_lookup_map, conn, settings, api_base=API_BASE,
                     views=LOOKUP_SOURCES if viewer else client_sources(LOOKUP_SOURCES),
                     keep=None if viewer else CLIENT_FIELDS,
                     communities={code: c["name"] for code, c in queries.community_labels(conn).items()})


#: What a client's lookup page holds of each layer: what /v1/lookup answers a client.
CLIENT_FIELDS = {
    "grids": ("code", "name", "community_code", "community_name", "grid_member", "label_lon", "label_lat"),
    "buildings": ("code", "name", "address", "community_code", "grid_code", "floors", "units"),
}


def client_sources(views: Mapping[str, ViewSource]) -> dict[str, ViewSource]:
    """*views* asking only for :data:`CLIENT_FIELDS`."""
    return {name: dataclasses.replace(v, properties=tuple(p for p in v.properties if p in CLIENT_FIELDS.get(name, ())))
            for name, v in views.items()}


def client_layers(layers: dict[str, Any], keep: Mapping[str, tuple[str, ...]]) -> dict[str, Any]:
    """The inline FeatureCollections of *layers* with only the properties *keep* lists for each."""
    for name, fields in keep.items():
        fc = layers.get(name)
        if isinstance(fc, dict):
            for f in fc.get("features", ()):
                f["properties"] = {k: v for k, v in (f.get("properties") or {}).items() if k in fields}
    return layers


@router.get("/command", response_class=HTMLResponse,
            summary="Command-centre map: incident heatmap by week, Gi* hot spots, incidents by state")
def command_map(request: Request, conn: ConnDep, settings: SettingsDep, _: MapViewer) -> HTMLResponse:
    months, implausible = incident_months(conn, settings)
    return _map_page(request, build_command_map, conn, settings, views=COMMAND_SOURCES, months=months,
                     implausible=implausible, earliest=settings.incident_earliest.isoformat(), api_base=API_BASE)


@router.get("/tiles", response_class=HTMLResponse,
            summary="Vector-tile map (MapLibre): every /tiles layer, loaded by view")
def tiles_map(request: Request, _: MapViewer, plan: int | None = None) -> HTMLResponse:
    return HTMLResponse(tiles_page(static_url=STATIC_URL, header=site_header(request),
                                   style_url="/tiles/style.json" + (f"?plan={plan}" if plan else "")))


def incident_months(conn: Connection, settings: Settings) -> tuple[tuple[str, str], int]:
    """The months (``YYYY-MM``, town time) the month pickers offer: those of the incidents whose times are
    plausible (from ``GRIDMAP_INCIDENT_EARLIEST`` to a day ahead; this month when there are none), and how
    many incidents are left out.

    The API refuses other times, but records stored before it did (or by SQL, or an import) may hold
    anything PostgreSQL holds: year 1 in local mean time (the month pickers once failed on it and the page
    answered 500), 4713 BC, the year 20000 (past what Python's datetime holds). So the months are made in
    SQL (:func:`geo.store.incidents.plausible_months`), from the plausible records only, and no stored time
    is ever turned into a Python datetime here.
    """
    first, last, implausible = incident_store.plausible_months(conn, earliest=settings.incident_earliest,
                                                               timezone=TOWN_TIMEZONE)
    if first is None:  # no incidents yet (or none plausible): the pickers offer this month
        first = last = dt.datetime.now(TOWN_TZ).strftime("%Y-%m")
    return (first, last), implausible


@router.get("/coverage", response_class=HTMLResponse,
            summary="Coverage map: camera views by status, gaps, per-grid coverage, uncovered key places, "
                    "suggested sites")
def coverage_map(request: Request, conn: ConnDep, settings: SettingsDep, _: MapViewer) -> HTMLResponse:
    return _map_page(request, build_coverage_map, conn, settings, views=COVERAGE_SOURCES, api_base=API_BASE)


@router.get("/editor", response_class=HTMLResponse,
            summary="Planners' editor: paint buildings into grids, move boundaries, split, merge, publish")
def editor_map(request: Request, conn: ConnDep, settings: SettingsDep, viewer: MapViewer, plan: int | None = None,
               community: str | None = None) -> HTMLResponse:
    """``?plan=ID`` opens that plan (a viewer may look; the API refuses a viewer's writes); without it,
    the list of plans with the newest draft first and a button for a new draft from the published plan.
    ``&community=CODE`` loads and validates one community only (a city-scale plan: the page reloads
    and validates after every edit)."""
    listing = dict(role=viewer.role, header=site_header(request))
    if plan is None:
        return HTMLResponse(plans_page(plans=queries.list_plans(conn), published=queries.published_plan(conn),
                                       **listing))
    try:
        plan_row = queries.get_plan(conn, plan_id=plan)
    except NotFound as exc:
        return HTMLResponse(plans_page(plans=queries.list_plans(conn), published=queries.published_plan(conn),
                                       error=exc.message, **listing), status_code=404)
    if community is None:
        grids = queries.layer_counts(conn, plan_id=plan_row["id"])["grids"]
        if grids > settings.map_inline_max:  # a city's plan: one community at a time
            return HTMLResponse(scope_page(plan=plan_row, grids=grids, limit=settings.map_inline_max,
                                           communities=queries.community_plan_counts(conn, plan_id=plan_row["id"]),
                                           header=listing["header"]))
    return _map_page(
        request,
        build_editor_map,
        conn,
        settings,
        plan_id=plan_row["id"],
        community=community,
        scope=community,
        plan=plan_row,
        communities=json.loads(queries.communities_geojson(conn)),
        bands=dataclasses.asdict(Bands.of(settings)),
        api_base=API_BASE,
        role=viewer.role,
    )
