"""What moving or swapping buildings would do to the grids involved, before the planner does it.

Pure geometry in a metric CRS (metres), no database: the editor's candidate colours (which neighbouring
grids a building can move to) and swap hints (which building of a neighbouring grid to trade it for)
are computed here, with the same partition edit the move itself makes
(:func:`geo.partition.assign` with the footprint: only the building's grid and the target change).

An outcome is ``ok`` when every grid the edit changes ends up with its households and population in the
bands (:class:`geo.plan_checks.Bands`) and in one part (parts over :data:`geo.plan_checks.SLIVER_M2`);
otherwise its ``reasons`` say what is wrong, one line each ("out of band: grid … would have 312
households > 300", "would split grid … into 2 parts").

Examples
--------
>>> from shapely import box
>>> lay = Layout(grids={"A": box(0, 0, 100, 100), "B": box(100, 0, 200, 100)},
...              buildings={"a1": Building("a1", box(10, 10, 40, 90), 150, 450),
...                         "a2": Building("a2", box(60, 10, 90, 90), 100, 450),
...                         "b1": Building("b1", box(110, 10, 190, 90), 150, 450)},
...              cells={"a2": box(50, 0, 100, 100)})
>>> [(o.target, o.ok, o.reasons) for o in move_outcomes(lay, ["a2"], bands=Bands((100, 300), (400, 1000)))]
[('B', True, [])]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import shapely
from shapely import Geometry

from geo import messages, partition
from geo.plan_checks import SLIVER_M2, Bands

__all__ = ["Building", "Layout", "Outcome", "move_outcomes", "neighbours", "swap_outcome", "swap_outcomes"]


@dataclass(frozen=True)
class Building:
    code: str
    footprint: Geometry
    households: int
    population: int


@dataclass
class Layout:
    """One community: its grids ``{code: geometry}``, buildings ``{code: Building}`` and the cells of the
    buildings that may move (``{code: cell}``, :func:`geo.partition.building_cells`)."""

    grids: Mapping[str, Geometry]
    buildings: Mapping[str, Building]
    cells: Mapping[str, Geometry]
    owner: dict[str, str | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.owner:
            self.owner = {code: owner_of(self.grids, b.footprint) for code, b in self.buildings.items()}

    def members(self, grid: str) -> list[str]:
        return sorted(c for c, g in self.owner.items() if g == grid)


@dataclass(frozen=True)
class Outcome:
    target: str  # the grid the buildings would go to (a swap: the other building's grid)
    ok: bool
    reasons: list[dict[str, Any]]  # [{kind, grid, detail, detail_zh}]: households_band, population_band, non_contiguous, empty
    grids: dict[str, dict[str, int]]  # code -> households/population before and after, parts after
    building: str | None = None  # a swap: the building it trades with

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"grid": self.target, "ok": self.ok, "reasons": self.reasons, "grids": self.grids}
        if self.building is not None:
            out["building"] = self.building
        return out


def owner_of(grids: Mapping[str, Geometry], footprint: Geometry) -> str | None:
    """The grid covering the building's point on surface (lowest code on a shared edge), as validation says."""
    point = footprint.point_on_surface()
    for code in sorted(grids):
        g = grids[code]
        if g is not None and g.covers(point):
            return code
    return None


def neighbours(grids: Mapping[str, Geometry], codes: Sequence[str]) -> list[str]:
    """The grids sharing a border (not only a corner) with any of ``codes``, by code."""
    out = set()
    for code in codes:
        for other, g in grids.items():
            if other not in codes and g is not None and partition.shared_border(grids[code], g) > 0:
                out.add(other)
    return sorted(out)


def _parts(geom: Geometry | None) -> int:
    if geom is None or geom.is_empty:
        return 0
    return int(sum(1 for p in shapely.get_parts(geom) if p.area > SLIVER_M2))


def _outcome(lay: Layout, moves: Sequence[tuple[str, str]], bands: Bands, *, target: str,
             building: str | None = None) -> Outcome:
    """Apply ``moves`` ([(building, to grid)], in order) to a copy of the layout and judge the grids changed."""
    current: dict[str, Geometry] = dict(lay.grids)
    changed: set[str] = set()
    hh: dict[str, int] = {}
    pop: dict[str, int] = {}
    for code, g in lay.owner.items():
        if g is not None:
            hh[g] = hh.get(g, 0) + lay.buildings[code].households
            pop[g] = pop.get(g, 0) + lay.buildings[code].population
    before = {c: (hh.get(c, 0), pop.get(c, 0)) for c in lay.grids}
    for code, to in moves:
        b = lay.buildings[code]
        src = lay.owner.get(code)
        step = partition.assign(current, cell=lay.cells[code], target=to, footprint=b.footprint)
        current.update({k: v for k, v in step.items() if v is not None})
        changed |= set(step)
        if src is not None and src != to:
            hh[src] -= b.households
            pop[src] -= b.population
            changed.add(src)
        hh[to] = hh.get(to, 0) + b.households
        pop[to] = pop.get(to, 0) + b.population
        changed.add(to)
    reasons: list[dict[str, Any]] = []
    info: dict[str, dict[str, int]] = {}
    for code in sorted(changed):
        parts = _parts(current.get(code))
        h, p = hh.get(code, 0), pop.get(code, 0)
        info[code] = {"households_before": before[code][0], "households_after": h,
                      "population_before": before[code][1], "population_after": p, "parts": parts}
        if parts == 0:
            reasons.append(_reason("empty", grid=code))
        elif parts > 1:
            reasons.append(_reason("non_contiguous", grid=code, parts=parts))
        for what, n, (lo, hi) in (("households", h, bands.households), ("population", p, bands.population)):
            if n > hi or n < lo:
                reasons.append(_reason(f"{what}_band", grid=code, n=n, op=">" if n > hi else "<",
                                       limit=hi if n > hi else lo))
    return Outcome(target=target, ok=not reasons, reasons=reasons, grids=info, building=building)


def _reason(kind: str, **fields: Any) -> dict[str, Any]:
    """{kind, grid, detail, detail_zh}: the detail in English and Chinese from the message catalogue."""
    return {"kind": kind, "grid": fields["grid"], "detail": messages.en(f"hint.{kind}", **fields),
            "detail_zh": messages.zh(f"hint.{kind}", **fields)}


def _rank(o: Outcome) -> tuple[int, int, str, str]:
    """ok first, then fewer reasons, then the smallest total distance from the bands' middles."""
    spread = sum(abs(g["households_after"] - 250) for g in o.grids.values())
    return (0 if o.ok else 1, len(o.reasons), f"{spread:08d}", f"{o.target}/{o.building or ''}")


def move_outcomes(lay: Layout, moving: Sequence[str], *, bands: Bands) -> list[Outcome]:
    """For each grid neighbouring the moving buildings' grids: what moving them all there would do."""
    sources = sorted({g for c in moving if (g := lay.owner.get(c)) is not None})
    out = [_outcome(lay, [(c, t) for c in moving], bands, target=t) for t in neighbours(lay.grids, sources)]
    return sorted(out, key=lambda o: (o.target,))


def swap_outcomes(lay: Layout, building: str, *, bands: Bands) -> list[Outcome]:
    """For each building B of a grid neighbouring ``building``'s grid X: what swapping them would do
    (``building`` to B's grid, B to X), best first."""
    x = lay.owner.get(building)
    if x is None:
        return []
    out = []
    for y in neighbours(lay.grids, [x]):
        for other in lay.members(y):
            if other in lay.cells:
                out.append(swap_outcome(lay, building, other, bands=bands))
    return sorted(out, key=_rank)


def swap_outcome(lay: Layout, a: str, b: str, *, bands: Bands) -> Outcome:
    """What swapping ``a`` (to ``b``'s grid) and ``b`` (to ``a``'s) would do; both need their cells."""
    x, y = lay.owner.get(a), lay.owner.get(b)
    if x is None or y is None:
        raise ValueError("both buildings of a swap must be in a grid")
    return _outcome(lay, [(a, y), (b, x)], bands, target=y, building=b)
