"""The one header on every page: the pages the signed-in role may open, who is signed in, and sign-out.

:func:`header_html` makes it (trusted, static HTML; the key's name is escaped); :func:`add_header` puts it
above a folium map (the map fills the rest of the window, so the header covers none of its controls);
the plain pages (the plans list, the sign-in and message pages, the vector-tile page) write it first in
their ``<body>``. Its styles are ``maps/static/gridmap/nav.css`` (:data:`NAV_STYLESHEET_PATH`). On a phone
the header is one row (under 48 px): the links and who is signed in open from a menu button (CSS only).

Sign-out is a form POST to ``/maps/logout`` (the server checks its ``Origin``: api/routes/maps.py).

Examples
--------
>>> html = header_html(name="<b>张三</b>", role="viewer", current="/maps/lookup")
>>> "&lt;b&gt;张三&lt;/b&gt;" in html and 'action="/maps/logout"' in html
True
>>> 'href="/maps/lookup" aria-current="page"' in html
True
>>> [p.path for p in pages_for("client")], len(pages_for("viewer")) == len(PAGES)
(['/maps/lookup', '/docs'], True)
"""

from __future__ import annotations

import html as _html
from dataclasses import dataclass

import folium
from branca.element import CssLink, Element

from geo.keys import role_allows
from maps.assets import local_url

__all__ = ["NAV_STYLESHEET_PATH", "PAGES", "NavPage", "add_header", "header_html", "pages_for"]

#: Under ``maps/static/``.
NAV_STYLESHEET_PATH = "gridmap/nav.css"


@dataclass(frozen=True)
class NavPage:
    path: str
    label: str
    role: str  # the role the page needs


#: The site's pages, in the header's order.
PAGES = (
    NavPage("/maps/", "总览 Overview", "viewer"),
    NavPage("/maps/lookup", "查询 Lookup", "client"),  # hotline staff sign in with client keys
    NavPage("/maps/command", "指挥 Command", "viewer"),
    NavPage("/maps/coverage", "覆盖 Coverage", "viewer"),
    NavPage("/maps/editor", "规划 Editor", "viewer"),
    NavPage("/maps/tiles", "瓦片 Tiles", "viewer"),
    NavPage("/docs", "API 文档 API docs", "client"),
)

ROLE_LABELS = {"client": "客户端 client", "viewer": "查看 viewer", "operator": "值班 operator",
               "planner": "规划 planner", "admin": "管理 admin"}


def pages_for(role: str) -> list[NavPage]:
    """The pages a key of *role* may open."""
    return [p for p in PAGES if role_allows(role, p.role)]


def _is_here(page: NavPage, current: str) -> bool:
    return current == page.path or (page.path != "/maps/" and current.startswith(page.path + "?"))


def header_html(*, name: str | None, role: str | None, current: str = "") -> str:
    """The header for a key named *name* of *role* on the page at path *current* (None: nobody signed in:
    the header has the site's name only)."""
    esc = _html.escape
    links = ""
    who = ""
    if role is not None:
        items = []
        for p in pages_for(role):
            mark = ' aria-current="page"' if _is_here(p, current) else ""
            items.append(f'<a href="{esc(p.path)}"{mark}>{esc(p.label)}</a>')
        links = f'<nav class="gm-nav-links" aria-label="页面 Pages">{"".join(items)}</nav>'
        here_label = next((p.label for p in pages_for(role) if _is_here(p, current)), "")
        # a phone: the links and who is signed in fold behind a menu button (a checkbox's label: no script)
        menu = ('<input type="checkbox" id="gm-nav-menu" class="gm-nav-toggle">'
                '<label for="gm-nav-menu" class="gm-nav-menu" title="菜单 Menu">'
                '<span aria-hidden="true">&#9776;</span> 菜单 Menu</label>'
                + (f'<span class="gm-nav-here">{esc(here_label)}</span>' if here_label else ""))
        links = menu + links
        who = (f'<div class="gm-nav-who"><span class="gm-nav-user" title="已登录 Signed in">'
               f'<span class="gm-nav-name">{esc(name or "?")}</span> · '
               f'<span class="gm-nav-role">{esc(ROLE_LABELS.get(role, role))}</span></span>'
               '<form method="post" action="/maps/logout" class="gm-nav-logout">'
               '<button type="submit">退出 Sign out</button></form></div>')
    return (f'<header class="gm-nav" role="banner"><a class="gm-nav-brand" href="/maps/">gridmap</a>'
            f"{links}{who}</header>")


def add_header(m: folium.Map, header: str, *, static_url: str = "/static") -> folium.Map:
    """Put *header* (:func:`header_html`) above the map: first in the page's body, the map below it filling
    the rest (``nav.css``)."""
    root = m.get_root()
    root.header.add_child(CssLink(local_url(NAV_STYLESHEET_PATH, static_url)), name="gridmap_nav_css")
    # folium adds the map's own <div> to the body when it renders: the header, added now, comes first
    root.html.add_child(Element(header), name="gridmap_nav", index=0)
    return m
