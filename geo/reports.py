"""The monthly briefing: what the monthly analysis meeting reads, per grid and for the town.

Per grid (the grid at the time of report, as incidents keep it): incidents by
category, closed and their closure times (reported → closed, hours: median and
mean), items still open and overdue now, items closed later than the whole
workflow's time limit, and how the grid's hotspot cells changed against the
previous month (Gi* on the same lattice for both months).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Connection

from geo import analysis
from geo.config import TOWN_TIMEZONE, Settings
from geo.errors import BadInput
from geo.incidents import CATEGORIES, OPEN_STATES, limits_h, points
from geo.store import queries
from geo.store import reports as store


#: The months a briefing can cover: a report reads the month before too, and the time zone shifts its
#: bounds, so years 1 and 9999 overflow the calendar; no plan or incident can lie outside these anyway.
FIRST_MONTH = (1900, 1)
LAST_MONTH = (2999, 12)


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, value: str) -> Month:
        """``YYYY-MM`` from :data:`FIRST_MONTH` to :data:`LAST_MONTH`.

        >>> Month.parse("2026-07"), str(Month.parse("2026-12").next())
        (Month(year=2026, month=7), '2027-01')
        >>> Month.parse("9999-12")
        Traceback (most recent call last):
        geo.errors.BadInput: month='9999-12' is outside the months a report can cover (1900-01 to 2999-12); use e.g. month=2026-07
        """
        try:
            year, month = (int(p) for p in value.split("-"))
            dt.date(year, month, 1)
        except (ValueError, TypeError, AttributeError):
            raise BadInput(f"month={value!r} is not YYYY-MM; use e.g. month=2026-07",
                           details={"field": "month"}) from None
        if not FIRST_MONTH <= (year, month) <= LAST_MONTH:
            raise BadInput(f"month={value!r} is outside the months a report can cover "
                           f"({FIRST_MONTH[0]:04d}-{FIRST_MONTH[1]:02d} to {LAST_MONTH[0]:04d}-{LAST_MONTH[1]:02d}); "
                           "use e.g. month=2026-07", details={"field": "month"})
        return cls(year, month)

    def start(self) -> dt.datetime:
        return dt.datetime(self.year, self.month, 1, tzinfo=ZoneInfo(TOWN_TIMEZONE))

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Month:
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def _incident_rows(conn: Connection, month: Month) -> list[Any]:
    return store.month_incidents(conn, start=month.start(), end=month.next().start())


def _points(conn: Connection, month: Month) -> tuple[np.ndarray, np.ndarray]:
    lon, lat, _, _ = points(conn, start=month.start(), end=month.next().start())
    return lon, lat


def monthly(conn: Connection, *, month: str, settings: Settings, now: dt.datetime | None = None,
            hotspot_cell_m: float = 100.0) -> dict[str, Any]:
    """The briefing for ``month`` (YYYY-MM) as a JSON-ready dict."""
    m = Month.parse(month)
    now = now or dt.datetime.now(dt.timezone.utc)
    limits = limits_h(settings)
    total_limit = sum(limits.values())
    plan = store.plan_in_force(conn, before=m.next().start()) or store.published_plan(conn)
    grids = store.plan_grids(conn, plan_id=plan.id if plan else -1)
    per_grid: dict[str | None, dict[str, Any]] = {
        g.code: {"code": g.code, "name": g.name, "community_code": g.community_code,
                 "community_name": g.community_name} for g in grids}
    rows = _incident_rows(conn, m)

    def blank(entry: dict[str, Any]) -> dict[str, Any]:
        entry.update({"incidents": 0, "by_category": {c: 0 for c in CATEGORIES}, "closed": 0,
                      "closure_hours": [], "overdue_open": 0, "closed_late": 0, "open": 0})
        return entry

    for entry in per_grid.values():
        blank(entry)
    town = blank({})
    for r in rows:
        key = r.grid_code
        if key not in per_grid:  # a grid of an older plan, or outside every grid
            per_grid[key] = blank({"code": key, "name": None, "community_code": None, "community_name": None})
        for entry in (per_grid[key], town):
            entry["incidents"] += 1
            entry["by_category"][r.category] += 1
            if r.closed_at is not None and r.reported_at is not None:
                entry["closed"] += 1
                hours = (r.closed_at - r.reported_at).total_seconds() / 3600
                entry["closure_hours"].append(hours)
                if hours > total_limit:
                    entry["closed_late"] += 1
            if r.status in OPEN_STATES:
                entry["open"] += 1
                since = r.since or r.reported_at
                if since is not None and (now - since).total_seconds() / 3600 > limits[r.status]:
                    entry["overdue_open"] += 1

    def finish(entry: dict[str, Any]) -> dict[str, Any]:
        hours = entry.pop("closure_hours")
        entry["closure_hours_median"] = round(float(np.median(hours)), 2) if hours else None
        entry["closure_hours_mean"] = round(float(np.mean(hours)), 2) if hours else None
        return entry

    changes = _hotspot_changes(conn, m, cell_m=hotspot_cell_m, crs=settings.metric_crs)
    grid_list = []
    for code, entry in per_grid.items():
        finish(entry)
        entry["hotspots"] = changes.get(code, {"new_hot": 0, "still_hot": 0, "no_longer_hot": 0})
        grid_list.append(entry)
    grid_list.sort(key=lambda e: (e["code"] is None, e["code"] or ""))
    finish(town)
    town["hotspots"] = {k: sum(e["hotspots"][k] for e in grid_list) for k in ("new_hot", "still_hot",
                                                                                "no_longer_hot")}
    return {
        "month": str(m), "previous_month": str(m.previous()),
        "plan": {"id": plan.id, "name": plan.name} if plan else None,
        "generated_at": now.isoformat(), "limits_h": limits, "hotspot_cell_m": hotspot_cell_m,
        "town": town, "grids": grid_list,
    }


def _hotspot_changes(conn: Connection, month: Month, *, cell_m: float, crs: str) -> dict[str, dict[str, int]]:
    """Per grid: hot cells (≥ 95 %) new this month, still hot, and no longer hot, against the previous month
    (cells in metres of the metric *crs*)."""
    extent = queries.community_union(conn)
    if extent is None:
        return {}
    cur, prev = _points(conn, month), _points(conn, month.previous())
    if len(cur[0]) < 3 or len(prev[0]) < 3:
        return {}
    a = analysis.hotspots(lon=prev[0], lat=prev[1], cell_m=cell_m, mask=extent, crs=crs)
    b = analysis.hotspots(lon=cur[0], lat=cur[1], cell_m=cell_m, lattice_=a.lattice, crs=crs)  # the same cells
    hot = ("hot_99", "hot_95")
    was = np.array([c in hot for c in a.classes])
    now_hot = np.array([c in hot for c in b.classes])
    centres = b.lattice.centres
    owners = store.published_grid_at(conn, x=[float(c[0]) for c in centres], y=[float(c[1]) for c in centres])
    out: dict[str, dict[str, int]] = {}
    for i, code in owners:
        if code is None or not (was[i] or now_hot[i]):
            continue
        entry = out.setdefault(code, {"new_hot": 0, "still_hot": 0, "no_longer_hot": 0})
        key = "still_hot" if was[i] and now_hot[i] else ("new_hot" if now_hot[i] else "no_longer_hot")
        entry[key] += 1
    return out
