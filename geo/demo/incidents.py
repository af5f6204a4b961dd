"""A year of simulated incidents: when, what, where (hotspot kernels and background),
source, severity and how far each walked the workflow (:func:`simulate_incidents`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import shapely

from geo.demo.model import Progress
from geo.demo.sites import Site
from geo.vocabulary import INCIDENT_SOURCES, INCIDENT_STATUSES

TZ = "+08:00"
PERIOD_START = dt.datetime(2025, 12, 1)
PERIOD_END = dt.datetime(2026, 12, 1)  # exclusive: the data end at 2026-11-30T23:59:59+08:00

INCIDENT_STATES = INCIDENT_STATUSES  # generated incidents walk the workflow in this order


# category, subcategory, annual share, seasonal amplitude, peak month, hour profile
SUBCATEGORIES = (
    ("dispute", "neighbour", 0.10, 0.6, 7.5, "day"),
    ("dispute", "family", 0.04, 0.4, 2.0, "evening"),
    ("dispute", "property", 0.07, 0.5, 7.0, "day"),
    ("safety_hazard", "fire", 0.07, 0.7, 1.0, "heating"),
    ("safety_hazard", "gas", 0.05, 0.9, 1.0, "heating"),
    ("safety_hazard", "electrical", 0.05, 0.6, 1.0, "heating"),
    ("safety_hazard", "structural", 0.02, 0.5, 4.0, "day"),
    ("public_order", "noise", 0.10, 0.5, 7.5, "evening"),
    ("public_order", "parking", 0.10, 0.0, 1.0, "day"),
    ("public_order", "other", 0.04, 0.3, 8.0, "evening"),
    ("environment", "sanitation", 0.09, 0.6, 7.0, "day"),
    ("environment", "other", 0.03, 0.3, 5.0, "day"),
    ("facilities", "lighting", 0.04, 0.5, 12.0, "evening"),
    ("facilities", "lift", 0.05, 0.0, 1.0, "day"),
    ("facilities", "water", 0.05, 0.6, 1.0, "day"),
    ("facilities", "other", 0.04, 0.2, 6.0, "day"),
    ("other", "other", 0.06, 0.0, 1.0, "day"),
)
SOURCES = INCIDENT_SOURCES
_HOURS = {
    "day": np.array([1, 0.5, 0.3, 0.3, 0.4, 1, 2, 4, 7, 9, 9, 8, 6, 6, 8, 9, 9, 8, 6, 5, 4, 3, 2, 1.5]),
    "evening": np.array([3, 2, 1, 0.5, 0.3, 0.5, 1, 2, 3, 4, 4, 4, 4, 4, 4, 5, 5, 6, 8, 10, 11, 10, 8, 5]),
    "heating": np.array([2, 1.5, 1, 1, 1, 2, 5, 8, 7, 6, 5, 5, 5, 4, 4, 4, 5, 7, 9, 9, 8, 6, 4, 3]),
}
# kernel kinds: market, parking, building (a troubled building), square, background
_AFFINITY = {
    "market": {"noise": 1.0, "parking": 0.8, ("public_order", "other"): 0.8, "sanitation": 1.0,
               ("environment", "other"): 0.3, "fire": 0.2, "electrical": 0.2, ("other", "other"): 0.3,
               "neighbour": 0.1},
    "parking": {"parking": 1.0, "noise": 0.4, ("public_order", "other"): 0.3, "fire": 0.15, "electrical": 0.25,
                "lighting": 0.3},
    "building": {"neighbour": 1.0, "property": 0.8, "family": 0.6, "lift": 1.0, "water": 0.8, "gas": 0.6,
                 "structural": 0.8, "fire": 0.4, "electrical": 0.4, "sanitation": 0.2, "noise": 0.3,
                 ("facilities", "other"): 0.3},
    "square": {"noise": 1.0, ("public_order", "other"): 0.3, "lighting": 0.3, ("facilities", "other"): 0.4,
               ("environment", "other"): 0.2},
    "background": {},
}
_KINDS = ("market", "parking", "building", "square", "background")
_SEVERITY = {
    "dispute": (0.35, 0.4, 0.2, 0.05), "safety_hazard": (0.1, 0.35, 0.35, 0.2),
    "public_order": (0.5, 0.35, 0.12, 0.03), "environment": (0.6, 0.3, 0.08, 0.02),
    "facilities": (0.4, 0.4, 0.15, 0.05), "other": (0.7, 0.25, 0.05, 0.0),
}
DESCRIPTIONS = {
    ("dispute", "neighbour"): ("{b}楼上漏水引发邻里纠纷", "{b}邻居因噪音发生争执", "{b}楼道占用引发邻里矛盾"),
    ("dispute", "family"): ("{b}家庭矛盾需调解", "{b}赡养老人问题引发家庭纠纷"),
    ("dispute", "property"): ("{b}物业费收缴纠纷", "{b}安置房面积争议", "{b}车位归属纠纷"),
    ("safety_hazard", "fire"): ("{b}楼道堆放杂物，存在消防隐患", "{p}电动车违规充电", "{p}消防通道被占用"),
    ("safety_hazard", "gas"): ("{b}居民反映闻到燃气味", "{b}燃气管道老化需检修", "{b}违规燃煤取暖，存在一氧化碳中毒隐患"),
    ("safety_hazard", "electrical"): ("{b}私拉电线", "{b}配电箱异常发热", "{p}飞线充电"),
    ("safety_hazard", "structural"): ("{b}外墙保温层脱落", "{b}楼顶防水层破损", "{b}楼梯扶手松动"),
    ("public_order", "noise"): ("{p}夜间噪音扰民", "{p}广场舞音响声音过大", "{p}装修噪音扰民"),
    ("public_order", "parking"): ("{p}车辆乱停乱放", "{p}占用消防通道停车", "{p}僵尸车长期占用车位"),
    ("public_order", "other"): ("{p}流动摊贩占道经营", "{p}可疑人员逗留", "{p}醉酒人员滋事"),
    ("environment", "sanitation"): ("{p}垃圾未及时清运", "{p}下水道堵塞有异味", "{b}楼道卫生差"),
    ("environment", "other"): ("{p}绿化带被毁", "{p}私自种菜", "{p}违规焚烧杂物"),
    ("facilities", "lighting"): ("{p}路灯不亮", "{b}楼道声控灯损坏"),
    ("facilities", "lift"): ("{b}电梯故障停运", "{b}电梯困人", "{b}电梯异响"),
    ("facilities", "water"): ("{b}停水", "{b}水管冻裂漏水", "{b}自来水水压不足"),
    ("facilities", "other"): ("{p}健身器材损坏", "{p}井盖缺失", "{b}单元门禁损坏"),
    ("other", "other"): ("{p}居民咨询政策", "{p}居民反映其他事项"),
}
NOTES_ASSIST = {
    "dispute": ("社区调委会介入调解", "联系物业公司协调", "约双方到社区调解室面谈"),
    "safety_hazard": ("通知物业清理并复查", "联系燃气公司上门检修", "联系供电所排查线路", "联系消防站协助"),
    "public_order": ("联系社区民警协助", "联系城管中队处理", "劝离并登记"),
    "environment": ("通知保洁公司清运", "联系环卫所处理"),
    "facilities": ("联系物业公司维修", "联系电梯维保单位", "联系供水公司抢修"),
    "other": ("转相关部门答复",),
}


@dataclass
class _Kernel:
    kind: str
    community: int
    x: float
    y: float
    sx: float
    sy: float
    weight: float
    name: str
    doors: np.ndarray | None = None


def iso_local(sec: np.ndarray) -> np.ndarray:
    """Local (Asia/Shanghai) seconds since 1970 as ISO 8601 strings with +08:00."""
    s = np.datetime_as_string(sec.astype("datetime64[s]"), unit="s")
    return np.char.add(s.astype("U19"), TZ)


def local_seconds(d: dt.datetime) -> int:
    return int((d - dt.datetime(1970, 1, 1)).total_seconds())


def _kernels(site: Site, rng: np.random.Generator, town: bool) -> list[_Kernel]:
    """Where incidents come from: hotspots (markets, parking lots, squares, troubled
    buildings) and one background component per community (weighted by population).

    In the town one market, one parking lot and one building are hot; in the city about
    three compounds in ten have a busy market, one lot in twenty is hot, and one compound
    in five has a troubled building."""
    ks: list[_Kernel] = []
    comms = site.communities
    pops = np.array([cm.population for cm in comms], dtype=float)
    n_markets = sum(p.kind == "market" for cm in comms for p in cm.places)
    n_lots = sum(p.kind == "parking" for cm in comms for p in cm.places)
    hot_market = int(rng.integers(n_markets)) if town else -1
    hot_lot = int(rng.integers(n_lots)) if town else -1
    trouble = int(rng.integers(len(comms))) if town else -1
    mk = lot_i = 0
    for ci, cm in enumerate(comms):
        busy = rng.random() < 0.3
        for p in cm.places:
            x0, y0, x1, y1 = p.geom.bounds
            if p.kind == "market":
                w = (1.0 if mk == hot_market else 0.12) if town else (0.5 if busy else 0.05)
                ks.append(_Kernel("market", ci, (x0 + x1) / 2, y1 + 6.0, 16.0, 12.0, w, p.name))
                mk += 1
            elif p.kind == "parking":
                w = (0.7 if lot_i == hot_lot else 0.02) if town else (0.3 if rng.random() < 0.05 else 0.01)
                ks.append(_Kernel("parking", ci, (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 3, 5.0, w, p.name))
                lot_i += 1
            elif p.kind == "square":
                ks.append(_Kernel("square", ci, (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 3, (y1 - y0) / 3,
                                  0.2 if town else 0.08, p.name))
        if ci == trouble or (not town and rng.random() < 0.2):
            b = cm.buildings[int(rng.integers(len(cm.buildings)))]
            ks.append(_Kernel("building", ci, 0.0, 0.0, 5.0, 6.0, 0.8 if town else 0.25,
                              f"{cm.spec.name}{b.name}", doors=b.doors))
        bg = 4.0 * pops[ci] / pops.sum() if town else pops[ci] / pops.mean()
        ks.append(_Kernel("background", ci, 0.0, 0.0, 0.0, 0.0, bg, cm.spec.name))
    return ks


def simulate_incidents(site: Site, n: int, rng: np.random.Generator, town: bool,
               progress: Progress) -> dict[str, np.ndarray]:
    """``n`` incidents as column arrays (local seconds, metres); sorted by time."""
    comms = site.communities
    # When and what: a day x subcategory intensity with seasonality.
    days = np.arange((PERIOD_END - PERIOD_START).days)
    month = np.array([(PERIOD_START + dt.timedelta(days=int(d))).month
                      + (PERIOD_START + dt.timedelta(days=int(d))).day / 31.0 for d in days])
    lam = np.stack([share * (1.0 + amp * np.cos(2 * np.pi * (month - peak) / 12.0))
                    for _, _, share, amp, peak, _ in SUBCATEGORIES], axis=1)
    flat = rng.choice(lam.size, size=n, p=(lam / lam.sum()).ravel())
    day, sub = np.divmod(flat, len(SUBCATEGORIES))
    hour = np.empty(n, dtype=np.int64)
    for s, (_, _, _, _, _, prof) in enumerate(SUBCATEGORIES):
        m = sub == s
        p = _HOURS[prof] / _HOURS[prof].sum()
        hour[m] = rng.choice(24, size=int(m.sum()), p=p)
    t_occ = local_seconds(PERIOD_START) + day * 86400 + hour * 3600 + rng.integers(0, 3600, n)

    # Where: one component per incident (a hotspot kernel or a community's background).
    ks = _kernels(site, rng, town)
    kind_idx = np.array([_KINDS.index(k.kind) for k in ks])
    aff = np.zeros((len(_KINDS), len(SUBCATEGORIES)))
    for ki, kind in enumerate(_KINDS):
        for s, (cat, subc, *_rest) in enumerate(SUBCATEGORIES):
            tab = _AFFINITY[kind]
            aff[ki, s] = 1.0 if kind == "background" else tab.get((cat, subc), tab.get(subc, 0.0))
    kw = np.array([k.weight for k in ks])
    comp = np.empty(n, dtype=np.int64)
    for s in range(len(SUBCATEGORIES)):
        m = sub == s
        w = kw * aff[kind_idx, s]
        comp[m] = rng.choice(len(ks), size=int(m.sum()), p=w / w.sum())

    fps = np.array([b.footprint for cm in comms for b in cm.buildings], dtype=object)
    fp_tree = shapely.STRtree(shapely.buffer(fps, 1.0, quad_segs=2))
    polys = np.array([cm.polygon for cm in comms], dtype=object)
    c_tree = shapely.STRtree(shapely.buffer(polys, -0.5))
    roads = [(ci, r) for ci, cm in enumerate(comms) for r in cm.roads if r.kind == "internal"]
    r_geom = np.array([r.geom for _, r in roads], dtype=object)
    r_w = np.array([r.width_m for _, r in roads])
    r_len = shapely.length(r_geom)
    r_comm = np.array([ci for ci, _ in roads])
    r_cum = np.cumsum(r_len)
    r_first = np.searchsorted(r_comm, np.arange(len(comms)), side="left")
    r_last = np.searchsorted(r_comm, np.arange(len(comms)), side="right") - 1
    bounds = shapely.bounds(polys)
    kx = np.array([k.x for k in ks])
    ky = np.array([k.y for k in ks])
    ksx = np.array([k.sx for k in ks])
    ksy = np.array([k.sy for k in ks])
    kcomm = np.array([k.community for k in ks])
    xy = np.zeros((n, 2))

    def sample(idx: np.ndarray) -> None:
        kinds = kind_idx[comp[idx]]
        ci = kcomm[comp[idx]]
        out = np.zeros((len(idx), 2))
        g = kinds <= 3
        out[g, 0] = rng.normal(kx[comp[idx][g]], ksx[comp[idx][g]])
        out[g, 1] = rng.normal(ky[comp[idx][g]], ksy[comp[idx][g]])
        bld = np.flatnonzero(kinds == 2)
        for j in bld:
            doors = ks[comp[idx[j]]].doors
            dx, dy = doors[int(rng.integers(len(doors)))]
            out[j] = (dx + rng.normal(0, 5.0), dy + 1.0 + abs(rng.normal(0, 6.0)))
        bg = np.flatnonzero(kinds == 4)
        on_road = bg[rng.random(len(bg)) < 0.5]
        free = np.setdiff1d(bg, on_road)
        if len(on_road):
            cc = ci[on_road]
            lo = np.where(r_first[cc] > 0, r_cum[r_first[cc] - 1], 0.0)
            hi = r_cum[r_last[cc]]
            tpos = lo + rng.random(len(on_road)) * (hi - lo)
            ri = np.minimum(np.searchsorted(r_cum, tpos, side="right"), len(r_cum) - 1)
            d = tpos - np.where(ri > 0, r_cum[ri - 1], 0.0)
            d = np.clip(d, 1.0, r_len[ri] - 1.0)
            p0 = shapely.get_coordinates(shapely.line_interpolate_point(r_geom[ri], d))
            p1 = shapely.get_coordinates(shapely.line_interpolate_point(r_geom[ri], d + 0.5))
            v = p1 - p0
            v /= np.maximum(np.hypot(v[:, 0], v[:, 1]), 1e-9)[:, None]
            off = (rng.random(len(on_road)) * 2 - 1) * (r_w[ri] / 2 + 3.0)
            out[on_road, 0] = p0[:, 0] - v[:, 1] * off
            out[on_road, 1] = p0[:, 1] + v[:, 0] * off
        if len(free):
            cc = ci[free]
            out[free, 0] = bounds[cc, 0] + rng.random(len(free)) * (bounds[cc, 2] - bounds[cc, 0])
            out[free, 1] = bounds[cc, 1] + rng.random(len(free)) * (bounds[cc, 3] - bounds[cc, 1])
        xy[idx] = out

    for chunk in np.array_split(np.arange(n), max(1, n // 200_000)):
        todo = chunk
        for _round in range(200):
            sample(todo)
            pts = shapely.points(xy[todo])
            bad = np.zeros(len(todo), dtype=bool)
            hit = fp_tree.query(pts, predicate="intersects")
            bad[hit[0]] = True
            inside = c_tree.query(pts, predicate="within")
            ok_comm = np.zeros(len(todo), dtype=bool)
            ok_comm[inside[0][inside[1] == kcomm[comp[todo[inside[0]]]]]] = True
            bad |= ~ok_comm
            todo = todo[bad]
            if not len(todo):
                break
        if len(todo):  # pragma: no cover
            raise AssertionError(f"{len(todo)} incidents could not be placed")
    progress("incidents placed", n, n)

    cat_arr = np.array([c for c, *_ in SUBCATEGORIES])
    category = cat_arr[sub]
    sev = np.empty(n, dtype=np.int64)
    for cat, p in _SEVERITY.items():
        m = category == cat
        sev[m] = rng.choice([1, 2, 3, 4], size=int(m.sum()), p=p)
    src_p = np.tile([0.30, 0.20, 0.10, 0.25, 0.15], (len(SUBCATEGORIES), 1))
    for s, (cat, subc, *_r2) in enumerate(SUBCATEGORIES):
        if subc in ("noise", "parking") or (cat, subc) == ("public_order", "other"):
            src_p[s] = (0.25, 0.15, 0.30, 0.20, 0.10)
        elif cat == "safety_hazard":
            src_p[s] = (0.35, 0.10, 0.05, 0.25, 0.25)
        elif subc in ("lift", "water"):
            src_p[s] = (0.15, 0.30, 0.00, 0.40, 0.15)
    source = np.empty(n, dtype=np.int64)
    for s in range(len(SUBCATEGORIES)):
        m = sub == s
        source[m] = rng.choice(len(SOURCES), size=int(m.sum()), p=src_p[s] / src_p[s].sum())

    # Workflow times; the status is the last step reached before the end of the period.
    now = local_seconds(PERIOD_END) - 1
    lag = np.where(source == SOURCES.index("camera"), rng.exponential(300, n), rng.exponential(1800, n))
    t_rep = t_occ + lag.astype(np.int64) + 60
    late = t_rep > now
    t_rep[late] = t_occ[late] + (now - t_occ[late]) // 2
    outcome = rng.choice(3, size=n, p=[0.92, 0.04, 0.04])  # normal, rejected, duplicate
    stall = rng.random((n, 4)) < np.array([0.04, 0.04, 0.05, 0.04])
    base = np.array([1.5 * 3600, 4 * 3600, 10 * 3600, 2.0 * 86400])
    slow = np.array([4 * 86400, 3 * 86400, 10 * 86400, 40 * 86400])
    steps = rng.exponential(1.0, (n, 4)) * np.where(stall, slow, base)
    steps[:, 3] *= (1.0 + 0.5 * (sev - 1))
    steps = np.maximum(steps, 120).astype(np.int64)
    t_steps = t_rep[:, None] + np.cumsum(steps, axis=1)  # accepted, assigned, assisting, closed
    t_end = t_rep + np.maximum(rng.exponential(3 * 3600, n), 300).astype(np.int64)
    reached = (t_steps <= now).sum(axis=1)  # 0..4 steps after reported
    status = np.where(outcome == 0, reached + 0, np.where(t_end <= now, 4 + outcome, 0))
    # Every workflow state occurs: the latest incidents take any missing one (as if slower).
    order = np.argsort(t_occ, kind="stable")
    for st_i in range(len(INCIDENT_STATES)):
        if (status == st_i).any():
            continue
        for j in order[::-1]:
            if outcome[j] != 0 or np.sum(status == status[j]) < 2:
                continue
            if st_i <= 4 and status[j] > st_i:
                status[j] = st_i
                break
            if st_i >= 5:
                outcome[j] = st_i - 4
                t_end[j] = max(min(t_end[j], now), t_rep[j] + 60)
                status[j] = st_i
                break
    # time order and refs
    o = order
    res = {
        "t_occ": t_occ[o], "t_rep": t_rep[o], "t_steps": t_steps[o], "t_end": t_end[o],
        "status": status[o], "outcome": outcome[o], "sub": sub[o], "sev": sev[o], "source": source[o],
        "xy": xy[o], "comp": comp[o], "community": kcomm[comp[o]],
    }
    res["kernels"] = np.array(ks, dtype=object)
    return res


