"""Small server-rendered pages around the maps (sign-in, a refusal). No inline script; every value escaped."""

from __future__ import annotations

from html import escape

from maps.nav import NAV_STYLESHEET_PATH, header_html

_NAV_CSS = f'<link rel="stylesheet" href="/static/{NAV_STYLESHEET_PATH}">'


def login_page(*, next_url: str, error: str = "") -> str:
    problem = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>gridmap · 登录 Sign in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
{_NAV_CSS}
<style>
body {{ font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif; background: #f3f4f6; }}
form {{ max-width: 26rem; margin: 12vh auto; background: #fff; padding: 2rem; border-radius: 8px;
       box-shadow: 0 2px 12px rgba(0,0,0,.12); }}
input[type=password] {{ width: 100%; padding: .5rem; margin: .5rem 0 1rem; box-sizing: border-box; }}
button {{ padding: .5rem 1.2rem; }} .error {{ color: #b91c1c; }}
</style></head>
<body>{header_html(name=None, role=None)}<form method="post" action="/maps/login">
<h1>gridmap</h1><p>高山镇网格化管理 · Gaoshan Town grid management</p>
{problem}
<label for="key">API 密钥 API key (viewer or above; 客户端密钥只能打开查询页面 a client key opens the lookup page)</label>
<input id="key" name="key" type="password" autocomplete="off" required>
<input type="hidden" name="next" value="{escape(next_url, quote=True)}">
<button type="submit">登录 Sign in</button>
</form></body></html>"""


def message_page(*, title: str, message: str, link: str = "/maps/", link_text: str = "地图 Maps",
                 header: str | None = None) -> str:
    """A page that says one thing (a refused form post, ...), with a link on; *header* is the site's
    (maps/nav.py), by default the one for nobody signed in."""
    header = header_html(name=None, role=None) if header is None else header
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>gridmap · {escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
{_NAV_CSS}
<style>
body {{ font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif; background: #f3f4f6; }}
main {{ max-width: 34rem; margin: 12vh auto; background: #fff; padding: 2rem; border-radius: 8px;
       box-shadow: 0 2px 12px rgba(0,0,0,.12); }} .error {{ color: #b91c1c; }}
</style></head>
<body>{header}<main><h1>{escape(title)}</h1><p class="error" role="alert">{escape(message)}</p>
<p><a href="{escape(link, quote=True)}">{escape(link_text)}</a></p></main></body></html>"""
