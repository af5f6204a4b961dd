"""Grid plans: drafts, their versions and edit log, validation, publishing, diffs.

The plan service: it holds the transactions and the rules; every SQL statement is in
:mod:`geo.store.plans`, validation is :mod:`geo.plan_checks`. The edits themselves
(assign, reshape, split, merge, import, suggest, undo/redo) are :mod:`geo.plan_edits`,
which locks a draft with :func:`lock_draft` from here.

Versions and lost updates
-------------------------
Every edit names the plan version it was made against (HTTP ``If-Match``).
:func:`lock_draft` locks the plan row (``SELECT ... FOR UPDATE``), compares versions and
raises :class:`StaleVersion` — naming who changed what since (:func:`last_edit`) — when
they differ. Two concurrent edits of one version: the second waits for the first's
lock, then sees the new version and gets 409.

Publishing validates the plan inside the same locked transaction, so what was
validated is what gets published.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from sqlalchemy import Connection, Engine

from geo.crs import METRIC_CRS_DEFAULT
from geo.messages import Joined, Msg
from geo.errors import (
    BadInput,
    NotADraft,
    NotFound,
    PlanInUse,
    PlanInvalid,
    StaleVersion,
    VersionRequired,
    WarningsNotAcknowledged,
)
from geo.plan_checks import Bands, Problem, Report, validate
from geo.store import audit
from geo.store import plans as store
from geo.store.db import reading
from geo.store.queries import no_plan

__all__ = [
    "Bands", "check_version", "copy_plan", "create_draft", "delete_draft", "diff", "edits", "last_edit", "lock_draft", "no_building", "plan_row", "problems_summary",
    "publish", "validate_plan",
]


#: Most characters of a plan's name.
PLAN_NAME_MAX = 200

# ---------------------------------------------------------------------------- a plan, its versions and edit log


def plan_row(conn: Connection, *, plan_id: int, lock: bool = False) -> Any:
    """The plan's row (id, town_id, name, status, version), locked with ``lock``; raises NotFound."""
    row = store.plan_row(conn, plan_id=plan_id, lock=lock)
    if row is None:
        raise no_plan(plan_id)
    return row


def no_building(missing: list[str]) -> NotFound:
    """The error for buildings not found: the first of *missing*, and how many more."""
    more = Msg("edit.more_buildings", n=len(missing) - 1) if len(missing) > 1 else ""
    return NotFound.say("edit.no_building", building=missing[0], more=more, details={"missing": missing})


def last_edit(conn: Connection, *, plan_id: int) -> dict[str, Any] | None:
    row = store.last_edit(conn, plan_id=plan_id)
    return None if row is None else _edit_dict(row)


def _edit_dict(row: Any) -> dict[str, Any]:
    return {"seq": row.seq, "version": row.version, "at": row.at.isoformat(), "actor": row.actor, "op": row.op,
            "grids": row.summary.get("grids", []), "summary": row.summary, "undone": row.undone}


def edits(conn: Connection, *, plan_id: int) -> list[dict[str, Any]]:
    """The plan's edit log, oldest first."""
    plan_row(conn, plan_id=plan_id)
    return [_edit_dict(r) for r in store.edit_rows(conn, plan_id=plan_id)]


def lock_draft(conn: Connection, *, plan_id: int, version: int | None) -> Any:
    """Lock the plan row and check it is a draft at ``version``."""
    if version is None:
        raise VersionRequired.say("plan.version_required")
    row = plan_row(conn, plan_id=plan_id, lock=True)
    if row.status != "draft":
        raise NotADraft.say("plan.not_a_draft_edit", plan=plan_id, status=_status(row.status))
    check_version(conn, row, version)
    return row


def check_version(conn: Connection, row: Any, version: int, *, deleting: bool = False) -> None:
    """Raise :class:`StaleVersion` naming who changed what since, when the (locked) plan *row* is not at
    *version* (saying what to do: redo the edit, or look before *deleting* again)."""
    if row.version == version:
        return
    last = last_edit(conn, plan_id=row.id)
    who: Any = ""
    if last is not None:
        grids = ", ".join(last["grids"][:4]) + (" ..." if len(last["grids"]) > 4 else "")
        who = Msg("plan.stale_undid" if last["undone"] else "plan.stale_made", actor=last["actor"],
                  op=last["op"], grids=grids or Msg("plan.no_grids"), at=last["at"])
    details = {"current_version": row.version, "sent_version": version, "last_edit": last}
    if deleting:
        raise StaleVersion.say("plan.stale_version_delete", plan=row.id, current=row.version, sent=version, who=who,
                               details=details)
    raise StaleVersion.say("plan.stale_version", plan=row.id, current=row.version, sent=version, who=who,
                           details=details)


# ---------------------------------------------------------------------------- drafts, validation, publishing


def copy_plan(engine: Engine, *, source_id: int, name: str, actor: str) -> int:
    """A new draft holding a copy of ``source_id``'s grids; returns its id."""
    with engine.begin() as conn:
        source = store.plan_town(conn, plan_id=source_id)
        if source is None:
            raise no_plan(source_id)
        plan_id = store.insert_draft(conn, town_id=source.town_id, name=name, parent_id=source_id, actor=actor)
        store.copy_grids(conn, source_id=source_id, target_id=plan_id)
        audit.record(conn, actor=actor, action="copy", entity="grid_plan", entity_id=str(plan_id),
                     after={"parent_id": source_id, "name": name})
    return plan_id


def create_draft(engine: Engine, *, name: str, actor: str, source_id: int | None = None) -> int:
    """A draft copied from ``source_id`` or, by default, from the published plan."""
    name = (name or "").strip()
    if not name:
        raise BadInput.say("plan.name_required")
    if len(name) > PLAN_NAME_MAX:
        raise BadInput.say("plan.name_too_long", limit=PLAN_NAME_MAX, n=len(name))
    if source_id is None:
        with reading(engine) as conn:
            source_id = store.published_plan_id(conn)
        if source_id is None:
            raise NotFound.say("plan.none_published_to_copy")
    return copy_plan(engine, source_id=source_id, name=name, actor=actor)


def delete_draft(engine: Engine, *, plan_id: int, version: int | None, actor: str) -> dict[str, Any]:
    """Delete the draft ``plan_id`` at ``version`` with its grids and edit log, audited; returns what was
    deleted (id, name, version).

    As every other write of a plan, it names the version it was made against (HTTP ``If-Match``): none is
    :class:`VersionRequired`, another is :class:`StaleVersion` naming who changed what since, so a draft
    somebody edited after the planner last looked is not deleted unseen. Only a draft goes (a published or
    retired plan is the record of what was in force: :class:`NotADraft`), and only one that nothing refers
    to (:class:`PlanInUse`, naming the plans copied from it and the incidents placed in its grids)."""
    if version is None:
        raise VersionRequired.say("plan.version_required_delete")
    with engine.begin() as conn:
        row = plan_row(conn, plan_id=plan_id, lock=True)
        if row.status != "draft":
            raise NotADraft.say("plan.not_a_draft_delete", plan=plan_id, status=_status(row.status),
                                details={"status": row.status})
        check_version(conn, row, version, deleting=True)
        refs = store.plan_references(conn, plan_id=plan_id)
        if refs["plans"] or refs["incidents"]:
            named = []
            if refs["plans"]:
                named.append(Msg("plan.in_use_plans", plans=", ".join("#" + str(p) for p in refs["plans"])))
            if refs["incidents"]:
                named.append(Msg("plan.in_use_incidents", n=refs["incidents"]))
            raise PlanInUse.say("plan.in_use", plan=plan_id, named=Joined(named, "plan.and"),
                                details={"plans": refs["plans"], "incidents": refs["incidents"]})
        store.delete_plan(conn, plan_id=plan_id)
        deleted = {"id": row.id, "name": row.name, "version": row.version}
        audit.record(conn, actor=actor, action="delete", entity="grid_plan", entity_id=str(plan_id),
                     before=deleted)
    return deleted


def validate_plan(conn: Connection, *, plan_id: int, bands: Bands = Bands(),
                  metric_crs: str = METRIC_CRS_DEFAULT, community: str | None = None) -> Report:
    """Every problem and the metrics of a plan (see :mod:`geo.plan_checks`).

    With ``community``, only that community's grids and buildings (what an editor needs after an edit
    there: ~0.1 s instead of seconds at city scale); a grid of another community overlapping it is then
    not seen — publishing always validates the whole plan.
    """
    plan_row(conn, plan_id=plan_id)
    community_id = None
    if community is not None:
        community_id = store.community_id(conn, code=community)
        if community_id is None:
            raise NotFound.say("plan.no_community", community=community)
    grids, communities, buildings = store.plan_layers(conn, plan_id=plan_id, metric_crs=metric_crs,
                                                      community_id=community_id)
    return validate(grids, communities, buildings, bands=bands)


def problems_summary(problems: list[Problem], *, limit: int = 5) -> str:
    return str(_summary(problems, limit=limit))


def _summary(problems: list[Problem], *, limit: int = 5) -> Joined:
    """The first *limit* problems' details, "; and N more": a message field in either language."""
    more = Msg("plan.and_more", n=len(problems) - limit) if len(problems) > limit else None
    return Joined(problems[:limit], ("；", "; "), tail=more)


def _status(status: str) -> Any:
    """A plan's status as a message field ("已发布" / "published"); an unknown one as it is."""
    return Msg(f"plan.status.{status}") if status in ("draft", "published", "retired") else status


def publish(engine: Engine, *, plan_id: int, actor: str, version: int | None = None,
            acknowledge_warnings: bool = False, bands: Bands = Bands(), check: bool = True,
            metric_crs: str = METRIC_CRS_DEFAULT,
            problem_json: Callable[[Problem], dict[str, Any]] | None = None,
            on_published: Callable[..., Any] | None = None) -> None:
    """Validate and publish ``plan_id`` (a draft), retiring the published plan, atomically.

    Parameters
    ----------
    version : int, optional
        When given, the plan must still be at this version (else :class:`StaleVersion`).
    acknowledge_warnings : bool
        Publish despite band warnings; without it they raise :class:`WarningsNotAcknowledged`.
    check : bool
        ``False`` skips validation (tests that build odd histories on purpose; the API always checks).
    problem_json : callable, optional
        Turns a problem into the JSON the error details carry (the API passes one that adds GeoJSON).
    on_published : callable, optional
        ``on_published(conn, plan_id=..., previous=[ids])`` runs in the same transaction after
        the swap (derived data such as per-grid camera coverage).
    """
    with engine.begin() as conn:
        rows = store.lock_plan_and_published(conn, plan_id=plan_id)
        target = next((r for r in rows if r.id == plan_id), None)
        if target is None:
            raise no_plan(plan_id)
        if target.status != "draft":
            raise NotADraft.say("plan.not_a_draft_publish", plan=plan_id, status=_status(target.status))
        if version is not None and target.version != version:
            lock_draft(conn, plan_id=plan_id, version=version)  # raises StaleVersion with who changed what
        if check:
            report = validate_plan(conn, plan_id=plan_id, bands=bands, metric_crs=metric_crs)
            as_json = problem_json or (lambda p: {"kind": p.kind, "severity": p.severity, "grids": list(p.grids),
                                                  "detail": p.detail, "detail_zh": p.detail_zh})
            if report.errors:
                raise PlanInvalid.say(
                    "plan.invalid", plan=plan_id, n=len(report.errors), summary=_summary(report.errors),
                    details={"problems": [as_json(p) for p in report.problems]})
            if report.warnings and not acknowledge_warnings:
                raise WarningsNotAcknowledged.say(
                    "plan.warnings_not_acknowledged", plan=plan_id, n=len(report.warnings),
                    summary=_summary(report.warnings),
                    details={"problems": [as_json(p) for p in report.warnings]})
        old = [r.id for r in rows if r.status == "published" and r.town_id == target.town_id]
        store.retire(conn, plan_ids=old)
        store.mark_published(conn, plan_id=plan_id)
        audit.record(conn, actor=actor, action="publish", entity="grid_plan", entity_id=str(plan_id),
                     before={"published": old, "version": target.version},
                     after={"published": plan_id, "version": target.version + 1,
                            "acknowledged_warnings": acknowledge_warnings})
        if on_published is not None:
            on_published(conn, plan_id=plan_id, previous=old)


def diff(conn: Connection, *, plan_id: int, against: int, metric_crs: str = METRIC_CRS_DEFAULT) -> dict[str, Any]:
    """What changed from plan ``against`` to ``plan_id``: grids and the buildings (households) that moved.

    Grid geometries in the answer are metric: the symmetric difference of old and new.
    """
    plan_row(conn, plan_id=plan_id)
    plan_row(conn, plan_id=against)
    new_g, _c, buildings = store.plan_layers(conn, plan_id=plan_id, metric_crs=metric_crs)
    old_g, _c2, _b2 = store.plan_layers(conn, plan_id=against, metric_crs=metric_crs)
    from geo.plan_checks import building_grids

    new_owner = building_grids(new_g, buildings)
    old_owner = building_grids(old_g, buildings)
    new_codes, old_codes = np.asarray(new_g["code"]), np.asarray(old_g["code"])
    to = np.where(new_owner >= 0, new_codes[np.maximum(new_owner, 0)] if len(new_codes) else "", None)
    fr = np.where(old_owner >= 0, old_codes[np.maximum(old_owner, 0)] if len(old_codes) else "", None)
    moved = []
    for i in np.nonzero(to != fr)[0]:
        b = buildings.iloc[i]
        moved.append({"code": b["code"], "address": b["address"], "from": fr[i], "to": to[i],
                      "households": int(b["households"]), "population": int(b["population"]),
                      "geometry": b.geometry})
    per_new = _households_by_grid(to, buildings)
    per_old = _households_by_grid(fr, buildings)
    old_geom = dict(zip(old_g["code"], old_g.geometry, strict=True))
    new_geom = dict(zip(new_g["code"], new_g.geometry, strict=True))
    grids = []
    for code in sorted(set(old_geom) | set(new_geom)):
        a, b = old_geom.get(code), new_geom.get(code)
        if a is None or b is None:
            change, delta = ("added", b) if a is None else ("removed", a)
        else:
            delta = shapely.symmetric_difference(a, b)
            if delta.area <= 1.0:
                continue
            change = "changed"
        grids.append({"code": code, "change": change,
                      "area_before_m2": round(a.area, 1) if a is not None else None,
                      "area_after_m2": round(b.area, 1) if b is not None else None,
                      "households_before": per_old.get(code, 0) if a is not None else None,
                      "households_after": per_new.get(code, 0) if b is not None else None,
                      "geometry": delta})
    return {"grids": grids, "buildings_moved": moved,
            "households_moved": int(sum(m["households"] for m in moved))}


def _households_by_grid(owner: np.ndarray, buildings: gpd.GeoDataFrame) -> dict[str, int]:
    out: dict[str, int] = {}
    for code, h in zip(owner, buildings["households"], strict=True):
        if code is not None:
            out[code] = out.get(code, 0) + int(h)
    return out
