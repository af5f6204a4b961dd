"""The editor's community chooser: a plan too big to edit whole in one page (a city's) is edited one
community at a time (``/maps/editor?plan=ID&community=CODE``: the page loads and validates that
community only). This page lists the plan's communities, with their grids and buildings, to pick one.

>>> html = scope_page(plan={"id": 7, "name": "草稿 <1>", "status": "draft"}, limit=3000, grids=6087,
...                   communities=[{"code": "140214101001", "name": "春安新区", "grids": 17, "buildings": 60}])
>>> 'href="/maps/editor?plan=7&amp;community=140214101001"' in html and "草稿 &lt;1&gt;" in html
True
"""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

__all__ = ["scope_page"]


def scope_page(*, plan: dict, communities: list[dict], grids: int, limit: int, header: str = "") -> str:
    """The chooser for *plan* (its ``id``, ``name``, ``status``): *grids* grids, more than *limit*
    (``GRIDMAP_MAP_INLINE_MAX``); *communities*: ``code``, ``name``, ``grids``, ``buildings`` each."""
    rows = []
    for c in communities:
        href = "/maps/editor?" + urlencode({"plan": plan["id"], "community": c["code"]})
        rows.append(f'<tr><td><a href="{escape(href, quote=True)}">{escape(str(c.get("name") or c["code"]))}</a></td>'
                    f'<td>{escape(str(c["code"]))}</td><td>{int(c["grids"]):,}</td><td>{int(c["buildings"]):,}</td></tr>')
    title = f"#{plan['id']} {plan.get('name', '')}"
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>gridmap · {escape(title)} · 选择社区 Choose a community</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif; background: #f3f4f6; color: #1f2937; }}
main {{ max-width: 52rem; margin: 4vh auto; background: #fff; padding: 1.5rem 2rem; border-radius: 8px;
       box-shadow: 0 2px 12px rgba(0,0,0,.12); }}
table {{ border-collapse: collapse; width: 100%; font-size: 15px; }}
th, td {{ text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #e5e7eb; }}
td:nth-child(n+3), th:nth-child(n+3) {{ text-align: right; }}
a {{ color: #1d4ed8; }}
</style>
<link rel="stylesheet" href="/static/gridmap/nav.css"></head>
<body>{header}<main id="gm-ed-scope">
<h1>{escape(title)}</h1>
<p>此方案有 {grids:,} 个网格，超过一页可编辑的 {limit:,} 个：请选择一个社区编辑（校验也按社区进行）。<br>
This plan has {grids:,} grids, more than one page edits at once ({limit:,}): choose a community to edit
(validation runs for that community).</p>
<table><thead><tr><th>社区 Community</th><th>代码 Code</th><th>网格 Grids</th><th>楼栋 Buildings</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table>
<p><a href="/maps/editor">全部方案 All plans</a> · <a href="/maps/">总览地图 Overview map</a></p>
</main></body></html>"""
