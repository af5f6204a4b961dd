"""Work budgets: how much one analysis request may ask for, estimated before the work starts.

Every analysis grows with a number the request controls (the cell size, the distance band, the
window, k, ...). Each budget below counts that number and is a setting (``GRIDMAP_BUDGET_*``);
a request whose estimate is over it is refused with :class:`geo.errors.OverBudget` (HTTP 422
``over_budget``) before any of the work is done. The message names the budget, the estimate, the
setting and how to narrow the request; ``details`` carries ``{budget, estimate, setting}``.

==========================  ================================================================
budget                      what is counted
==========================  ================================================================
``gi_weights``              non-zero spatial weights of one Gi* lattice: cells × neighbours
                            (self included); the weights matrix, the pair search and the
                            memory (~60-100 bytes per entry) all grow with it
``emerging_cells``          cells × periods of an emerging-hot-spot request (Gi* per period)
``kde_cells``               cells of one kernel-density lattice, its padding of 4 bandwidths
                            included (the convolution and the answer grow with it)
``weekly_cells``            frames × cells of a weekly heatmap (every frame is a density on
                            the whole lattice, and the answer carries them all)
``suggest``                 candidate views × k × view area / the area of a 90°, 40 m view:
                            the greedy covering intersects the candidates' views with the
                            unwatched space once per pick
==========================  ================================================================

The estimates are plain arithmetic (no geometry), so they cost nothing and can run before the data
is read. They are honest rather than safe-side guesses: :func:`lattice_cells` is within a few per
cent of the cells a masked lattice really keeps, :func:`neighbours_per_cell` counts the lattice
points within the distance band exactly (the Gauss circle count) up to 200 cells of radius and
uses πr²/cell area beyond, capped by the number of cells.

Examples
--------
>>> round(lattice_cells(shape="square", cell_m=10, area_m2=1e6, perimeter_m=4000, parts=1,
...                     bbox_cells=10_000))
10000
>>> neighbours_per_cell(kind="distance_band", shape="square", cell_m=100, threshold_m=150, k=8)
9
>>> neighbours_per_cell(kind="rook", shape="square", cell_m=100, threshold_m=None, k=8)
5
>>> Budgets().gi_weights
1000000
"""

from __future__ import annotations

import gc
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from geo.errors import OverBudget

if TYPE_CHECKING:
    from geo.config import Settings

__all__ = [
    "Budgets",
    "REFERENCE_VIEW_M2",
    "cell_area",
    "Pacer",
    "check",
    "collector_held",
    "lattice_cells",
    "neighbours_per_cell",
    "suggest_units",
    "view_area",
    "weights_nonzeros",
]

_SQRT3 = math.sqrt(3.0)
#: Above this many cells of radius the distance-band neighbours are πr²/cell area instead of a count.
_EXACT_RADIUS_CELLS = 200
#: The view the suggestion budget is measured in: 90°, 40 m (the API's defaults), in m².
REFERENCE_VIEW_M2 = math.pi * 40.0**2 * 90.0 / 360.0


@dataclass(frozen=True)
class Budgets:
    """The budgets of one deployment (see the module docstring); build with :meth:`from_settings`."""

    gi_weights: int = 1_000_000
    emerging_cells: int = 500_000
    kde_cells: int = 1_000_000
    weekly_cells: int = 500_000
    suggest: int = 500_000

    @classmethod
    def from_settings(cls, settings: Settings) -> Budgets:
        return cls(gi_weights=settings.budget_gi_weights, emerging_cells=settings.budget_emerging_cells,
                   kde_cells=settings.budget_kde_cells, weekly_cells=settings.budget_weekly_cells,
                   suggest=settings.budget_suggest)


#: The environment variable of each budget.
SETTINGS = {
    "gi_weights": "GRIDMAP_BUDGET_GI_WEIGHTS",
    "emerging_cells": "GRIDMAP_BUDGET_EMERGING_CELLS",
    "kde_cells": "GRIDMAP_BUDGET_KDE_CELLS",
    "weekly_cells": "GRIDMAP_BUDGET_WEEKLY_CELLS",
    "suggest": "GRIDMAP_BUDGET_SUGGEST",
}


def check(budgets: Budgets | None, name: str, *, estimate: float, what: str, narrow: str) -> None:
    """Raise :class:`OverBudget` when ``estimate`` is over budget ``name`` (no-op without budgets).

    ``what`` says what was estimated, in words and numbers (e.g. "Gi* weights: 4,154 cells × 4,019
    neighbours"); ``narrow`` how to get under the budget (e.g. "use cell_m >= 60").

    >>> check(Budgets(), "suggest", estimate=10, what="x", narrow="y")
    >>> try:
    ...     check(Budgets(suggest=5), "suggest", estimate=10, what="the suggestion: 10 units", narrow="ask for fewer")
    ... except OverBudget as e:
    ...     print(e.message); print(e.details)
    the suggestion: 10 units is over the budget of 5 (GRIDMAP_BUDGET_SUGGEST); ask for fewer
    {'budget': 5, 'estimate': 10, 'setting': 'GRIDMAP_BUDGET_SUGGEST'}
    """
    if budgets is None:
        return
    budget = int(getattr(budgets, name))
    est = int(math.ceil(estimate))
    if est <= budget:
        return
    setting = SETTINGS[name]
    raise OverBudget(f"{what} is over the budget of {budget:,} ({setting}); {narrow}",
                     details={"budget": budget, "estimate": est, "setting": setting})


# -- lattices --------------------------------------------------------------------------


def cell_area(shape: str, cell_m: float) -> float:
    """Area of one cell (m²): a square of side c, or a hexagon of flat-to-flat width c."""
    return cell_m * cell_m if shape == "square" else _SQRT3 / 2 * cell_m * cell_m


def lattice_cells(*, shape: str, cell_m: float, area_m2: float, perimeter_m: float, parts: int,
                  bbox_cells: float) -> float:
    """Cells whose interior meets a study area of ``area_m2`` with boundary length ``perimeter_m``.

    Area over cell area, plus the cells the boundary crosses that the area leaves out: a curve of
    length P crosses ~4P/(πc) cells of size c (Buffon), half of which the area already counts;
    plus one per part (a part smaller than a cell still takes one). At most ``bbox_cells``.
    """
    est = area_m2 / cell_area(shape, cell_m) + 2.0 * perimeter_m / (math.pi * cell_m) + parts
    return float(min(est, bbox_cells))


def neighbours_per_cell(*, kind: str, shape: str, cell_m: float, threshold_m: float | None, k: int) -> int:
    """Cells in one cell's neighbourhood, itself included, away from the lattice's edge.

    distance_band: the lattice points within ``threshold_m`` of a centre (default 1.5 × cell_m),
    counted exactly up to 200 cells of radius, πr²/cell area beyond; knn: k + 1; queen and rook:
    9 and 5 on squares, 7 on hexagons.
    """
    if kind == "knn":
        return int(k) + 1
    if kind in ("queen", "rook"):
        if shape == "hex":
            return 7
        return 9 if kind == "queen" else 5
    r = 1.5 * cell_m if threshold_m is None else float(threshold_m)
    rc = r / cell_m * (1 + 1e-9)
    if rc > _EXACT_RADIUS_CELLS:
        return int(math.ceil(math.pi * r * r / cell_area(shape, cell_m)))
    m = int(math.floor(rc)) + 2
    count = 0
    if shape == "square":
        for i in range(-m, m + 1):
            h = rc * rc - i * i
            if h >= 0:
                count += 2 * int(math.floor(math.sqrt(h))) + 1
        return count
    # hexagons: centres at (i + j/2, j·√3/2) cell widths (an equivalent labelling of the rows)
    for j in range(-m - 1, m + 2):
        dy = j * _SQRT3 / 2
        h = rc * rc - dy * dy
        if h < 0:
            continue
        half = math.sqrt(h)
        off = (j % 2) / 2
        count += int(math.floor(half - off)) - int(math.ceil(-half - off)) + 1
    return count


def weights_nonzeros(cells: float, per_cell: float) -> float:
    """Non-zero weights of a lattice: every cell's neighbourhood, capped at all the cells."""
    return cells * min(cells, per_cell)


# -- camera suggestions ------------------------------------------------------------------


def view_area(hfov_deg: float, range_m: float) -> float:
    """Area (m²) of an unoccluded view: a sector of ``hfov_deg`` and radius ``range_m``."""
    return math.pi * range_m * range_m * min(hfov_deg, 360.0) / 360.0


def suggest_units(*, candidates: int, k: int, hfov_deg: float, range_m: float) -> float:
    """Work of a greedy camera suggestion: candidate views × k × view area / :data:`REFERENCE_VIEW_M2`
    (views smaller than the reference count as one)."""
    return candidates * k * max(1.0, view_area(hfov_deg, range_m) / REFERENCE_VIEW_M2)


# -- doing the work without pausing everyone ------------------------------------------------

#: Longest the collector stays off while heavy jobs overlap without a pause (seconds).
MAX_COLLECTOR_HOLD_S = 60.0
_hold_lock = threading.Lock()
_holds = 0
_held_since = 0.0
_was_enabled = True


@contextmanager
def collector_held() -> Iterator[None]:
    """No automatic cyclic garbage collection while the block (a heavy job) runs.

    A budget bounds how much work a request does; this keeps that work from pausing everyone else.
    A full collection walks every tracked object of the process (~0.2 s for a worker's ~330,000
    here) holding the GIL, and it is triggered by whoever allocates after enough objects have
    survived two young collections: a heavy job making millions of short-lived containers (row
    lists, GeoJSON features) triggers one every few tenths of a second, each a 0.2 s stall of the
    event loop and of every request. Reference counting still frees those containers the moment
    they are dropped; only reference cycles wait for the collector, which runs again as soon as
    no heavy job runs (or once a minute while jobs keep overlapping). Nested and concurrent
    holds are counted; a collector someone else turned off stays off.

    >>> import gc
    >>> with collector_held():
    ...     gc.isenabled()
    False
    >>> gc.isenabled()
    True
    """
    global _holds, _held_since, _was_enabled
    with _hold_lock:
        if _holds == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
            _held_since = time.monotonic()
        _holds += 1
    try:
        yield
    finally:
        with _hold_lock:
            _holds -= 1
            if _holds == 0:
                if _was_enabled:
                    gc.enable()
            elif time.monotonic() - _held_since > MAX_COLLECTOR_HOLD_S:
                gc.collect()
                _held_since = time.monotonic()


class Pacer:
    """Lets other threads run for a moment every few milliseconds of pure-Python work.

    CPython hands the GIL to a waiting thread only after it has waited a whole switch interval (5 ms)
    while the running thread executes bytecode; every blocking step of a light request (the event
    loop waking, its database round trips, each thread hop) waits that long again, so /health took
    ~110 ms behind a thread matching addresses. Calling the pacer between small pieces of such work
    sleeps ``pause_s`` once ``every_s`` has passed: a waiting thread takes the GIL within about
    ``every_s`` instead of 5 ms, at the cost of ``pause_s / every_s`` of the heavy work's speed (5 %).
    Call it often: it only reads the clock until the time has come.

    >>> pace = Pacer()
    >>> for _ in range(1000):
    ...     pace()
    """

    def __init__(self, every_s: float = 0.002, pause_s: float = 0.0001) -> None:
        self.every_s = every_s
        self.pause_s = pause_s
        self._next = time.perf_counter() + every_s

    def __call__(self) -> None:
        now = time.perf_counter()
        if now >= self._next:
            time.sleep(self.pause_s)
            self._next = time.perf_counter() + self.every_s
