"""The printable monthly briefing page: a static map picture and a chart (PNG, matplotlib), and tables.

The pictures are embedded as ``data:`` URIs so the page prints and saves as one file
and needs nothing from the network.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import io
from html import escape
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import matplotlib

matplotlib.use("Agg")  # no display on a server
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.collections import PatchCollection  # noqa: E402
from matplotlib.patches import Polygon as PolygonPatch  # noqa: E402
from pyproj import Transformer  # noqa: E402
from shapely.geometry import shape  # noqa: E402

from geo.config import TOWN_TIMEZONE  # noqa: E402
from geo.crs import WGS84, require_metric, transformer  # noqa: E402
from geo.errors import Unavailable  # noqa: E402
from geo.incidents import CATEGORIES  # noqa: E402

#: CJK font files looked for, first found wins (Debian: fonts-wqy-microhei, which the bootstrap installs;
#: fonts-noto-cjk). By file, not by family name: matplotlib's font cache may predate the font's install,
#: and a family it does not know falls back to a font without CJK glyphs (every label an empty box).
CJK_FONT_FILES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)
#: A character every label style uses; a font is taken only if it has a glyph for it.
CJK_PROBE = "网"

CATEGORY_LABELS = {
    "dispute": "矛盾纠纷 dispute", "safety_hazard": "安全隐患 safety hazard", "public_order": "治安秩序 public order",
    "environment": "环境卫生 environment", "facilities": "公共设施 facilities", "other": "其他 other",
}
CATEGORY_COLOURS = {
    "dispute": "#d97706", "safety_hazard": "#dc2626", "public_order": "#2563eb",
    "environment": "#16a34a", "facilities": "#7c3aed", "other": "#6b7280",
}


@functools.cache
def cjk_font() -> str:
    """The family name of the installed CJK font the pictures use, registered with matplotlib by file.

    Raises :class:`geo.errors.Unavailable` (503, naming the package to install) when none of
    :data:`CJK_FONT_FILES` is installed or has Chinese glyphs: a briefing with empty boxes for every
    label is worse than no briefing.
    """
    from matplotlib.ft2font import FT2Font

    for path in CJK_FONT_FILES:
        if not Path(path).is_file():
            continue
        if not FT2Font(path).get_char_index(ord(CJK_PROBE)):
            continue
        font_manager.fontManager.addfont(path)
        return font_manager.FontProperties(fname=path).get_name()
    raise Unavailable("no CJK font is installed for the briefing's map and chart: install Debian's "
                      "fonts-wqy-microhei (apt-get install fonts-wqy-microhei) and restart the service",
                      details={"looked_for": list(CJK_FONT_FILES)})


def town_time(iso: str) -> str:
    """An ISO timestamp as the town's wall-clock time, with the zone said.

    >>> town_time("2026-12-02T08:03:41.5+00:00")
    '2026-12-02 16:03 (UTC+8)'
    """
    when = dt.datetime.fromisoformat(iso).astimezone(ZoneInfo(TOWN_TIMEZONE))
    hours = when.utcoffset().total_seconds() / 3600  # type: ignore[union-attr]
    return f"{when:%Y-%m-%d %H:%M} (UTC{hours:+g})"


def _use_fonts() -> None:
    plt.rcParams["font.family"] = [cjk_font(), "DejaVu Sans"]


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _rings(geom: Any, t: Transformer) -> list[np.ndarray]:
    polys = getattr(geom, "geoms", [geom])
    out = []
    for p in polys:
        x, y = t.transform(*np.asarray(p.exterior.coords).T)
        out.append(np.c_[x, y])
    return out


def map_png(*, communities: dict, grids: dict, incidents: list[tuple[float, float, str]],
            hot_cells: dict | None, title: str, metric_crs: str) -> str:
    """Communities, grids, the month's incidents by category and the hot cells, drawn in metres of
    *metric_crs* (the deployment's ``metric_crs``, checked by :func:`geo.crs.require_metric`)."""
    _use_fonts()
    t = transformer(WGS84, require_metric(metric_crs))
    fig, ax = plt.subplots(figsize=(8.5, 7.5))
    grid_patches = [PolygonPatch(r, closed=True) for f in grids["features"] for r in _rings(shape(f["geometry"]), t)]
    ax.add_collection(PatchCollection(grid_patches, facecolor="#f3f4f6", edgecolor="#9ca3af", linewidth=0.6))
    if hot_cells:
        hot = [PolygonPatch(r, closed=True) for f in hot_cells["features"]
               if str(f["properties"].get("class", "")).startswith("hot")
               for r in _rings(shape(f["geometry"]), t)]
        ax.add_collection(PatchCollection(hot, facecolor="#ef4444", alpha=0.35, edgecolor="#b91c1c", linewidth=0.5))
    comm = [PolygonPatch(r, closed=True) for f in communities["features"] for r in _rings(shape(f["geometry"]), t)]
    ax.add_collection(PatchCollection(comm, facecolor="none", edgecolor="#111827", linewidth=1.6))
    for f in communities["features"]:
        c = shape(f["geometry"]).representative_point()
        x, y = t.transform(c.x, c.y)
        # a name is data: drawn as it is (parse_math=False: "$...$" in a name is not mathtext, which may not parse)
        ax.annotate(str(f["properties"]["name"]), (x, y), ha="center", fontsize=9, color="#111827", alpha=0.8,
                    parse_math=False)
    for cat, colour in CATEGORY_COLOURS.items():
        pts = np.array([(lon, lat) for lon, lat, c in incidents if c == cat]).reshape(-1, 2)
        if len(pts):
            x, y = t.transform(pts[:, 0], pts[:, 1])
            ax.scatter(x, y, s=7, color=colour, label=f"{CATEGORY_LABELS[cat]} ({len(pts)})", alpha=0.85)
    ax.set_aspect("equal")
    ax.autoscale_view()
    xmin, xmax = ax.get_xlim()
    ymin, _ = ax.get_ylim()
    bar = 200.0  # metres
    ax.plot([xmin + 40, xmin + 40 + bar], [ymin + 40, ymin + 40], color="black", linewidth=3)
    ax.text(xmin + 40 + bar / 2, ymin + 55, "200 m", ha="center", fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=12)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False,
              title="事件 Incidents / 红色 = 热点 hot spot (Gi*, 95%)", title_fontsize=8)
    return _png(fig)


def chart_png(*, report: dict[str, Any], previous: dict[str, Any] | None) -> str:
    """Incidents by category, this month against the previous one."""
    _use_fonts()
    cats = list(CATEGORIES)
    now = [report["town"]["by_category"][c] for c in cats]
    fig, ax = plt.subplots(figsize=(8.5, 3.6))
    y = np.arange(len(cats))
    if previous is not None:
        before = [previous["town"]["by_category"][c] for c in cats]
        ax.barh(y + 0.2, before, height=0.4, color="#cbd5e1", label=f"{previous['month']}")
        ax.barh(y - 0.2, now, height=0.4, color=[CATEGORY_COLOURS[c] for c in cats], label=report["month"])
        ax.legend(fontsize=8, frameon=False)
    else:
        ax.barh(y, now, color=[CATEGORY_COLOURS[c] for c in cats])
    for yi, v in zip(y, now):
        ax.text(v + 0.3, yi - (0.2 if previous is not None else 0), str(v), va="center", fontsize=8)
    ax.set_yticks(y, [CATEGORY_LABELS[c] for c in cats], fontsize=9)
    ax.invert_yaxis()
    ax.set_xlabel("事件数 incidents")
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title("按类别 By category", fontsize=11)
    return _png(fig)


def _num(v: Any) -> str:
    return "–" if v is None else (f"{v:,.1f}" if isinstance(v, float) else f"{v:,}")


def monthly_html(*, report: dict[str, Any], previous: dict[str, Any] | None, map_src: str, chart_src: str) -> str:
    town = report["town"]
    cats = list(CATEGORIES)
    head = "".join(f"<th>{escape(CATEGORY_LABELS[c].split(' ')[0])}</th>" for c in cats)
    rows = []
    for g in report["grids"]:
        if not g["incidents"] and not g["overdue_open"]:
            continue
        cells = "".join(f"<td>{g['by_category'][c] or ''}</td>" for c in cats)
        hs = g["hotspots"]
        change = " ".join(s for s in (f"+{hs['new_hot']} 新" if hs["new_hot"] else "",
                                       f"{hs['still_hot']} 持续" if hs["still_hot"] else "",
                                       f"−{hs['no_longer_hot']} 消退" if hs["no_longer_hot"] else "") if s)
        rows.append(
            f"<tr><td class=code>{escape(g['code'] or '（网格外 outside）')}</td><td>{escape(g['name'] or '')}</td>"
            f"<td class=n>{g['incidents']}</td>{cells}<td class=n>{g['closed']}</td>"
            f"<td class=n>{_num(g['closure_hours_median'])}</td><td class=n>{g['overdue_open']}</td>"
            f"<td class=n>{g['closed_late']}</td><td>{escape(change)}</td></tr>")
    prev_total = previous["town"]["incidents"] if previous else None
    delta = "" if prev_total is None else f"（上月 previous month {prev_total:,}）"
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>高山镇网格月度分析 Gaoshan monthly briefing {escape(report['month'])}</title>
<style>
body {{ font-family: "WenQuanYi Micro Hei", "Noto Sans CJK SC", sans-serif; margin: 1.5cm; color: #111827; }}
h1 {{ font-size: 20pt; margin: 0 }} h2 {{ font-size: 13pt; margin-top: 1.2em; border-bottom: 1px solid #d1d5db }}
.kpis {{ display: flex; gap: 1.5em; margin: .8em 0 }} .kpi b {{ display: block; font-size: 18pt }}
table {{ border-collapse: collapse; font-size: 9pt; width: 100% }}
th, td {{ border: 1px solid #d1d5db; padding: 2px 4px }} th {{ background: #f3f4f6 }}
td.n {{ text-align: right }} td.code {{ font-family: monospace }}
img {{ max-width: 100% }}
@media print {{ body {{ margin: 1cm }} h2 {{ break-after: avoid }} table {{ break-inside: auto }} }}
</style></head>
<body>
<h1>高山镇网格化管理月度分析 · Monthly briefing {escape(report['month'])}</h1>
<p>方案 Plan: {escape((report.get('plan') or {}).get('name') or '–')} · 生成 generated {escape(town_time(report['generated_at']))}
· 热点: Getis–Ord Gi*, {report['hotspot_cell_m']:.0f} m cells, 95 %</p>
<div class=kpis>
<div class=kpi><b>{town['incidents']:,}</b>事件 incidents {escape(delta)}</div>
<div class=kpi><b>{town['closed']:,}</b>已办结 closed</div>
<div class=kpi><b>{_num(town['closure_hours_median'])} h</b>办结时长中位数 median closure</div>
<div class=kpi><b>{town['overdue_open']:,}</b>逾期未办 overdue open</div>
<div class=kpi><b>{town['hotspots']['new_hot']:,}</b>新增热点格 new hot cells</div>
</div>
<h2>地图 Map</h2><img alt="map of the month's incidents and hot spots" src="{map_src}">
<h2>类别 Categories</h2><img alt="incidents by category" src="{chart_src}">
<h2>分网格 By grid</h2>
<table><thead><tr><th>网格 grid</th><th>名称 name</th><th>合计 total</th>{head}<th>办结 closed</th>
<th>中位时长 h</th><th>逾期 overdue</th><th>超时办结 late</th><th>热点变化 hot spots</th></tr></thead>
<tbody>{''.join(rows)}</tbody></table>
</body></html>"""
