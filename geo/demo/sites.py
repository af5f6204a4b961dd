"""Communities assembled into a site: one community (:func:`make_community`), the four
Gaoshan communities (:func:`build_town`) or a Datong-sized city (:func:`build_city`), placed on a
lattice of streets."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from shapely import LineString

from geo.demo.cameras import place_cameras
from geo.demo.grids import building_regions, feasible_grid_counts, partition_community
from geo.demo.layout import layout_community
from geo.demo.model import Community, CommunitySpec, Progress, Road, round_to, seeded_rng

#: Yungang District, and Gaoshan Town in it (the town code's last three digits were chosen for the demo).
DISTRICT_CODE = "140214"
TOWN_CODE = "140214101"
#: Where the town (the city) set is centred, lon/lat.
TOWN_LONLAT = (113.10, 40.05)
CITY_LONLAT = (113.30, 40.08)


def make_community(spec: CommunitySpec, *, seed: int | Sequence[int], n_grids: int | None = None,
                   n_pole: int | None = None, grid_target: float = 250.0) -> Community:
    """Layout, grids, households and cameras of one community, in local metres.

    When no division of the buildings into grids fits the household band, the layout is
    drawn again (deterministically) with other floors, up to 20 times.

    >>> spec = CommunitySpec(code="140214101001", name="试验小区", name_en="Test", pinyin="Shiyan",
    ...                      aliases=(), width=420.0, units=(3,) * 14)
    >>> c = make_community(spec, seed=7)
    >>> len(c.buildings), sum(b.units for b in c.buildings)
    (14, 42)
    """
    base = list(seed) if isinstance(seed, Sequence) else [int(seed)]
    for attempt in range(20):
        # Whole buildings do not always split into the band: lay out again (new floors).
        c = layout_community(spec, seed=base + [1] + ([attempt] if attempt else []))
        try:
            partition_community(c, seed=base + [2], n_grids=n_grids, grid_target=grid_target)
        except ValueError:
            continue
        place_cameras(c, seed=base + [3], n_pole=n_pole)
        return c
    raise ValueError(f"{spec.name}: no layout splits into grids inside the band")


TOWN_COMMUNITIES = (
    # name, name_en, pinyin, aliases, buildings, width, facilities, lattice (column, stack from south)
    ("春安新区", "Chun'an New District", "Chun'an Xinqu", ("春安",), 40, 540.0,
     ("market", "kindergarten", "clinic", "school"), (0, 1)),
    ("宁丰社区", "Ningfeng Community", "Ningfeng Shequ", ("宁丰",), 32, 480.0,
     ("kindergarten", "market", "clinic"), (1, 1)),
    ("宏盛家园", "Hongsheng Homeland", "Hongsheng Jiayuan", ("宏盛",), 30, 480.0,
     ("clinic", "kindergarten", "market"), (1, 0)),
    ("高山佳苑", "Gaoshan Jiayuan", "Gaoshan Jiayuan", ("佳苑", "高山"), 23, 540.0,
     ("market", "clinic", "kindergarten"), (0, 0)),
)
TOWN_BUILDINGS, TOWN_UNITS, TOWN_GRIDS, TOWN_CADRES = 125, 390, 50, 32


def _units_list(rng: np.random.Generator, n: int, total: int, p: Sequence[float]) -> list[int]:
    units = list(rng.choice([2, 3, 4], size=n, p=p))
    while sum(units) != total:
        i = int(rng.integers(n))
        if sum(units) > total and units[i] > 2:
            units[i] -= 1
        elif sum(units) < total and units[i] < 4:
            units[i] += 1
    return [int(u) for u in units]


def largest_remainder(total: int, weights: Sequence[float]) -> list[int]:
    w = np.asarray(weights, dtype=float)
    share = total * w / w.sum()
    out = np.floor(share).astype(int)
    for i in np.argsort(-(share - out), kind="stable")[: total - out.sum()]:
        out[i] += 1
    return [int(v) for v in out]


@dataclass
class Site:
    """Communities placed on their lattice, and the town streets between them."""

    communities: list[Community]
    streets: list[Road]


def _lattice(comms: list[Community], cells: list[tuple[int, int]], rng: np.random.Generator,
             street_names: Callable[[str, int], str]) -> list[Road]:
    """Place communities (local coordinates) on a lattice of columns separated by streets;
    moves them and returns the streets (kind "street"), all relative to (0, 0)."""
    ncol = max(c for c, _ in cells) + 1
    col_w = [max(cm.width for cm, (c, _) in zip(comms, cells) if c == col) for col in range(ncol)]
    gaps_v = [round_to(rng.uniform(26.0, 36.0), 0.5) for _ in range(ncol + 1)]
    col_x = []
    x = 0.0
    for col in range(ncol):
        col_x.append(x)
        x += col_w[col] + gaps_v[col + 1]
    streets: list[Road] = []
    tops: list[float] = []
    for col in range(ncol):
        members = sorted([(s, i) for i, (c, s) in enumerate(cells) if c == col])
        y = 0.0
        for j, (_, i) in enumerate(members):
            cm = comms[i]
            cm.translate(col_x[col], y)
            gap = round_to(rng.uniform(24.0, 34.0), 0.5)
            yc = y + cm.height + gap / 2
            width = round_to(gap - 2 * rng.uniform(4.0, 6.0), 0.5)
            streets.append(Road(street_names("ew", col * 100 + j + 1), "street", width,
                                LineString([(col_x[col] - gaps_v[col] / 2, yc),
                                            (col_x[col] + col_w[col] + gaps_v[col + 1] / 2, yc)])))
            y += cm.height + gap
        tops.append(y - gap / 2)
    south = -14.0
    x_end = col_x[-1] + col_w[-1] + gaps_v[-1] / 2
    streets.append(Road(street_names("ew", 0), "street", 20.0, LineString([(-gaps_v[0] / 2, south), (x_end, south)])))
    for col in range(ncol + 1):
        xc = (col_x[col] - gaps_v[col] / 2) if col < ncol else x_end
        ytop = max(tops[max(col - 1, 0)], tops[min(col, ncol - 1)]) - 0.0
        width = round_to(gaps_v[col] - 2 * rng.uniform(4.0, 6.0), 0.5)
        streets.append(Road(street_names("ns", col), "street", width, LineString([(xc, south), (xc, ytop)])))
    return streets


def _town_street_name(kind: str, k: int) -> str:
    if kind == "ns":
        return ("新村路", "云冈路", "东环路")[k] if k < 3 else f"经{k}路"
    if k == 0:
        return "高山大街"
    col, j = divmod(k, 100)
    names = {(0, 1): "佳苑街", (0, 2): "北环街", (1, 1): "宏盛街", (1, 2): "北环街"}
    return names.get((col, j), f"纬{j}街")


def _city_street_name(kind: str, k: int) -> str:
    if kind == "ns":
        return f"经{k + 1}路"
    if k == 0:
        return "南环路"
    col, j = divmod(k, 100)
    return f"纬{j}街({col + 1}段)"


def _split_grids(total: int, feasible: list[list[int]], caps: list[int]) -> list[int] | None:
    """Grid counts per community summing to ``total``, each feasible, capacities per grid as
    even as possible."""
    best, best_cost = None, math.inf
    mean = sum(caps) / total

    def rec(i: int, left: int, acc: list[int]) -> None:
        nonlocal best, best_cost
        if i == len(feasible):
            if left == 0:
                cost = sum((c / k - mean) ** 2 for c, k in zip(caps, acc))
                if cost < best_cost:
                    best, best_cost = list(acc), cost
            return
        for k in feasible[i]:
            if k <= left:
                rec(i + 1, left - k, acc + [k])

    rec(0, total, [])
    return best


def build_town(seed: int = 1, progress: Progress | None = None) -> Site:
    """The four Gaoshan communities with exactly 125 buildings, 390 units and 50 grids.

    Buildings come whole, so not every draw of units and floors can be cut into exactly
    50 grids inside the household band; draws are repeated (deterministically, attempt
    by attempt) until one can.
    """
    progress = progress or (lambda s, d, t: None)
    for attempt in range(50):
        rng = seeded_rng([seed, 0, attempt])
        units = _units_list(rng, TOWN_BUILDINGS, TOWN_UNITS, (0.25, 0.38, 0.37))
        specs = []
        pos = 0
        for i, (name, en, py, aliases, nb, width, fac, _) in enumerate(TOWN_COMMUNITIES):
            specs.append(CommunitySpec(code=f"{TOWN_CODE}{i + 1:03d}", name=name, name_en=en, pinyin=py,
                                       aliases=aliases, width=width, units=tuple(units[pos:pos + nb]),
                                       facilities=fac, gates=3 if i == 0 else None))
            pos += nb
        comms = [layout_community(s, seed=[seed, 1, i, attempt]) for i, s in enumerate(specs)]
        regions = [building_regions(cm) for cm in comms]
        feas = [feasible_grid_counts(cm, r) for cm, r in zip(comms, regions)]
        alloc = _split_grids(TOWN_GRIDS, feas, [cm.capacity for cm in comms])
        if alloc is not None:
            break
    else:  # pragma: no cover
        raise ValueError(f"seed {seed}: no layout splits into {TOWN_GRIDS} grids")
    for i, cm in enumerate(comms):
        partition_community(cm, seed=[seed, 2, i], n_grids=alloc[i], regions=regions[i])
        progress("communities", i + 1, len(comms))
    # Cameras: a town total in 718..745, pole cameras shared by internal road length.
    fixed = [place_cameras(cm, seed=[seed, 3, i], n_pole=0) for i, cm in enumerate(comms)]
    total = int(rng.integers(718, 746))
    road_len = [sum(r.geom.length for r in cm.roads if r.kind == "internal") for cm in comms]
    poles = largest_remainder(total - sum(fixed), road_len)
    for i, cm in enumerate(comms):
        place_cameras(cm, seed=[seed, 3, i], n_pole=poles[i])
    streets = _lattice(comms, [t[-1] for t in TOWN_COMMUNITIES], rng, _town_street_name)
    return Site(comms, streets)


CITY_PREFIXES = (
    ("御河", "Yuhe"), ("文瀛", "Wenying"), ("平城", "Pingcheng"), ("魏都", "Weidu"), ("云冈", "Yungang"),
    ("同泉", "Tongquan"), ("和阳", "Heyang"), ("恒安", "Heng'an"), ("振华", "Zhenhua"), ("新建", "Xinjian"),
    ("永泰", "Yongtai"), ("华林", "Hualin"), ("迎宾", "Yingbin"), ("柳航", "Liuhang"), ("锦绣", "Jinxiu"),
    ("金地", "Jindi"), ("馨园", "Xinyuan"), ("龙园", "Longyuan"), ("兴云", "Xingyun"), ("南关", "Nanguan"),
    ("北关", "Beiguan"), ("东信", "Dongxin"), ("西苑", "Xiyuan"), ("鼓楼", "Gulou"), ("开源", "Kaiyuan"),
    ("富乐", "Fule"), ("安康", "Ankang"), ("怡馨", "Yixin"), ("阳光", "Yangguang"), ("春晖", "Chunhui"),
    ("瑞和", "Ruihe"), ("泰和", "Taihe"), ("康乐", "Kangle"), ("幸福", "Xingfu"), ("祥和", "Xianghe"),
    ("明珠", "Mingzhu"), ("凤凰", "Fenghuang"), ("桃园", "Taoyuan"), ("白马", "Baima"), ("青年", "Qingnian"),
)
CITY_SUFFIXES = (
    ("小区", "Xiaoqu"), ("家园", "Jiayuan"), ("花园", "Huayuan"), ("新村", "Xincun"), ("佳苑", "Jiayuan"),
    ("雅苑", "Yayuan"), ("公寓", "Gongyu"), ("里", "Li"), ("社区", "Shequ"), ("新城", "Xincheng"),
)
CITY_DISTRICTS = ("140213", "140214", "140215", "140212")
CITY_COMMUNITIES = 375
CITY_STACK = 19


def _city_specs(seed: int) -> tuple[list[CommunitySpec], list[tuple[int, int]]]:
    rng = seeded_rng([seed, 100])
    combos = [(p, s) for p in CITY_PREFIXES for s in CITY_SUFFIXES]
    pick = rng.permutation(len(combos))[:CITY_COMMUNITIES]
    ncol = math.ceil(CITY_COMMUNITIES / CITY_STACK)
    col_w = [round_to(rng.uniform(520.0, 660.0), 10.0) for _ in range(ncol)]
    specs, cells = [], []
    for i in range(CITY_COMMUNITIES):
        (pn, pp), (sn, sp) = combos[pick[i]]
        block = i // 25
        town = f"{CITY_DISTRICTS[block % len(CITY_DISTRICTS)]}{block + 1:03d}"
        code = f"{town}{i % 25 + 1:03d}"
        col, stack = divmod(i, CITY_STACK)
        walkup = rng.random() < 0.75
        if walkup:
            n = int(rng.integers(170, 236))
            units = tuple(int(u) for u in rng.choice([2, 3], size=n, p=[0.8, 0.2]))
            fac = tuple(rng.permutation(["market", "kindergarten", "clinic"]))
        else:
            n = int(rng.integers(25, 46))
            units = tuple(int(u) for u in rng.choice([2, 3, 4], size=n, p=[0.1, 0.68, 0.22]))
            fac = ("kindergarten", "market", "clinic")
        specs.append(CommunitySpec(code=code, name=pn + sn, name_en=f"{pp} {sp}", pinyin=f"{pp} {sp}",
                                   aliases=(pn,), width=col_w[col], units=units,
                                   style="walkup" if walkup else "highrise", facilities=fac))
        cells.append((col, stack))
    return specs, cells


def _city_worker(args: tuple[CommunitySpec, int, int]) -> Community:
    spec, seed, i = args
    return make_community(spec, seed=[seed, 9, i], grid_target=290.0)


def build_city(seed: int = 1, progress: Progress | None = None, workers: int | None = None) -> Site:
    """About 375 compounds (three in four are 6-storey walk-up estates), ~6,000 grids."""
    progress = progress or (lambda s, d, t: None)
    specs, cells = _city_specs(seed)
    jobs = [(s, seed, i) for i, s in enumerate(specs)]
    workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    comms: list[Community] = []
    if workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers) as ex:
            for c in ex.map(_city_worker, jobs, chunksize=4):
                comms.append(c)
                progress("communities", len(comms), len(jobs))
    else:
        for job in jobs:
            comms.append(_city_worker(job))
            progress("communities", len(comms), len(jobs))
    streets = _lattice(comms, cells, seeded_rng([seed, 101]), _city_street_name)
    return Site(comms, streets)


