"""Point → grid (and building) lookup from an in-memory index per plan.

How it is indexed, and why
--------------------------
Each worker process keeps, per plan, an immutable :class:`PlanIndex`: the plan's
grid polygons (WGS84) in a shapely ``STRtree``, each polygon *prepared* (GEOS
prepared geometry), plus the building footprints in a second tree. A lookup is a
bounding-box query on the tree followed by an exact ``intersects_xy`` test on the
few candidates: no database round trip, no scan. A town has 50 grids, a city
6,000; either index builds in well under a second and fits in a few MB, so
keeping it in memory beats a per-request PostGIS query (≈1 ms of round trip and
planning) by an order of magnitude, and batches of a million points are answered
by the same vectorised code.

Boundaries
----------
A point on the boundary shared by two grids is *covered* by both (MapIt uses
"covers" for the same reason: boundary points must not fall through). The rule
that makes the answer unique and deterministic: **among the grids that cover the
point, the one with the lowest grid code wins**. Codes are numbered west→east,
north→south, so a point on a shared edge goes to the western/northern grid.

Consistency when a plan is published
------------------------------------
:class:`LookupService` holds a reference to the current index and swaps it in one
assignment when it sees a new published plan (it polls ``grid_plan`` every
``poll_s`` seconds, 0.25 s by default). A request takes the reference once and
answers entirely from it, so an answer never mixes two plans; every worker
answers from a new plan within ``poll_s`` plus the index build time (a few ms at
town scale). Buildings and the gazetteer do not depend on the plan: they are kept
across plan switches and rebuilt when their fingerprint changes (checked every
few seconds), so a switch at city scale rebuilds only the 6,000 grids.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from typing import Any

from sqlalchemy import Connection, Engine

from geo.errors import NotFound
from geo.grid_index import BuildingRecord, GridRecord, Places, PlanIndex, make_index, make_places
from geo.store.db import reading
from geo.store.queries import (building_rows, get_plan, grid_rows, load_gazetteer, places_fingerprint,
                               published_plan)

#: Polls between two checks of the buildings' fingerprint (20 × 0.25 s = 5 s).
PLACES_EVERY = 20


def load_places(conn: Connection) -> Places:
    """The buildings and the gazetteer, as the index holds them."""
    rows = building_rows(conn)
    return make_places(fingerprint=places_fingerprint(conn),
                       buildings=tuple(BuildingRecord(r.id, r.code, r.name, r.address, r.floors, r.height_m)
                                       for r in rows),
                       wkb=[bytes(r.wkb) for r in rows], gazetteer=load_gazetteer(conn))


def build_index(conn: Connection, *, plan: dict[str, Any], places: Places | None = None) -> PlanIndex:
    """Load a plan's grids into a :class:`PlanIndex`; ``places`` is reused when given and still current."""
    rows = grid_rows(conn, plan_id=plan["id"])
    if places is None or places.fingerprint != places_fingerprint(conn):
        places = load_places(conn)
    return make_index(plan=plan, grids=tuple(GridRecord(r.id, r.code, r.name, r.community_code, r.community_name,
                                                        r.member, r.phone) for r in rows),
                      wkb=[bytes(r.wkb) for r in rows], places=places)


class LookupService:
    """Per-worker holder of the current plan's index, plus a small cache of other plans'."""

    def __init__(self, engine: Engine, *, poll_s: float = 0.25, cache_size: int = 4) -> None:
        self.engine = engine
        self.poll_s = poll_s
        self.cache_size = cache_size
        self._current: PlanIndex | None = None
        self._current_key: tuple[int, int] | None = None
        self._others: OrderedDict[tuple[int, int], PlanIndex] = OrderedDict()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: Polls the watcher has finished (whether or not they swapped): what "within one poll" counts.
        self.polls = 0

    # -- the published plan -------------------------------------------------------------
    def refresh(self, *, check_places: bool = False) -> bool:
        """Rebuild the current index if the published plan (id or version) changed, or, with
        ``check_places``, if buildings, units or communities changed; True if swapped."""
        with reading(self.engine) as conn:
            plan = published_plan(conn)
            key = (plan["id"], plan["version"]) if plan else None
            previous = self._current
            if key == self._current_key:
                if not (check_places and previous is not None
                        and places_fingerprint(conn) != previous.places.fingerprint):
                    return False
                previous = None  # rebuild the places too
            index = build_index(conn, plan=plan, places=previous.places if previous else None) if plan else None
        with self._lock:
            self._current, self._current_key = index, key  # one swap: readers see old or new, never a mix
        return True

    def loaded(self) -> bool:
        """Whether the published plan's index is in memory (:meth:`current` then reads no database)."""
        return self._current is not None

    def current(self) -> PlanIndex:
        index = self._current
        if index is None:
            self.refresh()
            index = self._current
        if index is None:
            raise NotFound.say("lookup.no_plan_published")
        return index

    def start(self) -> None:
        """Watch for newly published plans in a daemon thread."""
        if self._thread is not None:
            return
        self._stop.clear()

        def loop() -> None:
            polls = 0
            while not self._stop.wait(self.poll_s):
                polls += 1
                try:
                    # The plan every poll; buildings and addresses (a heavier check) every PLACES_EVERY polls.
                    self.refresh(check_places=polls % PLACES_EVERY == 0)
                except Exception:  # the database may be away for a while; keep the last index
                    pass
                self.polls = polls

        self._thread = threading.Thread(target=loop, name="gridmap-lookup-refresh", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    # -- other plans and past dates ------------------------------------------------------
    def for_plan(self, plan_id: int) -> PlanIndex:
        current = self._current
        if current is not None and current.plan["id"] == plan_id:
            return current
        with reading(self.engine) as conn:
            plan = get_plan(conn, plan_id=plan_id)
            return self._cached(conn, plan)

    def at(self, when: dt.datetime) -> PlanIndex:
        """The index of the plan that was published at ``when``."""
        with reading(self.engine) as conn:
            plan = published_plan(conn, at=when)
            if plan is None:
                raise NotFound.say("lookup.no_plan_at", when=when.isoformat())
            current = self._current
            if current is not None and current.plan["id"] == plan["id"]:
                return current
            return self._cached(conn, plan)

    def _cached(self, conn: Connection, plan: dict[str, Any]) -> PlanIndex:
        key = (plan["id"], plan["version"])
        with self._lock:
            hit = self._others.get(key)
            if hit is not None:
                self._others.move_to_end(key)
                return hit
        current = self._current
        index = build_index(conn, plan=plan, places=current.places if current else None)
        with self._lock:
            self._others[key] = index
            while len(self._others) > self.cache_size:
                self._others.popitem(last=False)
        return index
