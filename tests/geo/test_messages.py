"""The message catalogue (geo/messages.py): every entry in both languages with the same fields, and the
page-facing messages it covers made from it, not from English strings in the code."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from geo import messages
from geo.errors import GridmapError, NoMatch
from geo.plan_checks import KINDS, problem
from geo.validation.problems import GeometryProblem
from geo.vocabulary import INCIDENT_CATEGORIES

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("message_id", sorted(messages.MESSAGES))
def test_every_entry_has_both_languages_with_the_same_fields(message_id: str) -> None:
    zh, en = messages.MESSAGES[message_id]
    assert zh.strip() and en.strip(), message_id
    assert CJK.search(zh), f"{message_id}: the Chinese has no CJK: {zh!r}"
    assert messages.fields_of(zh) == messages.fields_of(en), message_id


def test_every_category_subcategory_and_hotspot_class_has_a_label() -> None:
    for cat, subs in INCIDENT_CATEGORIES.items():
        assert f"category.{cat}" in messages.MESSAGES
        for sub in subs:
            assert f"category.{cat}.{sub}" in messages.MESSAGES
    assert messages.category_label("dispute", "family") == "家庭 family"
    assert messages.category_label("dispute") == "矛盾纠纷 Dispute"
    classes = {f"{s}_{c}" for s in ("hot", "cold") for c in (90, 95, 99)} | {"not_significant"}
    assert {f"hotspot.{c}" for c in classes} <= set(messages.MESSAGES)
    assert messages.label("hotspot.hot_99") == "显著热点 99 % significant hot spot"


def test_errors_from_the_catalogue_carry_their_chinese() -> None:
    err = NoMatch.say("lookup.no_match", q="某处", details={"threshold": 70})
    assert err.message == "no building matches '某处'; give the community and the building number, e.g. 春安新区3号楼2单元"
    assert err.message_zh is not None and "某处" in err.message_zh and CJK.search(err.message_zh)
    assert GridmapError("plain").message_zh is None


def _calls(path: Path, names: set[str]):  # type: ignore[no-untyped-def]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
            if name in names:
                yield node


def test_every_plan_problem_is_made_from_the_catalogue() -> None:
    """geo/plan_checks.py makes every problem with problem() (catalogue entry plan.<kind>), never Problem(...)
    with an English detail; every kind has its entry."""
    path = ROOT / "geo" / "plan_checks.py"
    direct = [n.lineno for n in _calls(path, {"Problem"})]
    assert direct == [_line_of(path, "return Problem(kind, grids, messages.en(")], direct
    for kind in KINDS:
        assert f"plan.{kind}" in messages.MESSAGES
    p = problem("overlap", ("A", "B"), a="A", b="B", area="2.0 m²")
    assert p.detail == "grids A and B overlap by 2.0 m²; a place must be in one grid only"
    assert p.detail_zh == "网格 A 与 B 重叠 2.0 m²：一个地点只能属于一个网格"


def _line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line)


def test_every_geometry_problem_reason_has_a_catalogue_entry() -> None:
    """Every reason geo/validation gives a GeometryProblem (a literal first argument of GeometryProblem(...) or
    Malformed(...), and the reasons listed in its docstring) has an entry geometry.<reason>."""
    reasons: set[str] = set()
    for path in (ROOT / "geo" / "validation").glob("*.py"):
        for call in _calls(path, {"GeometryProblem", "Malformed"}):
            if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
                reasons.add(call.args[0].value)
    reasons |= set(re.findall(r"``([a-z_0-9]+)``", GeometryProblem.__doc__ or ""))
    assert {"self_intersection", "malformed", "null"} <= reasons
    missing = sorted(r for r in reasons if f"geometry.{r}" not in messages.MESSAGES)
    assert missing == []
    gp = GeometryProblem("self_intersection", "ring 0 self-intersects at (1, 1)")
    assert gp.as_dict()["message_zh"] == messages.zh("geometry.self_intersection")


def test_lookup_and_auth_refusals_are_made_from_the_catalogue() -> None:
    """No NoMatch/OutsideGrids/Unauthorized/Forbidden in the lookup routes, the key checks and the
    dependencies is built from an English string: each is Error.say(<catalogue id>, ...)."""
    targets = {"NoMatch", "OutsideGrids", "Unauthorized", "Forbidden"}
    for rel in ("api/routes/lookup.py", "geo/keys.py", "api/deps.py", "geo/lookup.py"):
        path = ROOT / rel
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                f = node.exc.func
                if isinstance(f, ast.Name) and f.id in targets:
                    pytest.fail(f"{rel}:{node.lineno}: {f.id}(...) with an English message; use {f.id}.say(id, ...)")
                if isinstance(f, ast.Attribute) and f.attr == "say":
                    first = node.exc.args[0]
                    ids = [first.value] if isinstance(first, ast.Constant) else [
                        c.value for c in ast.walk(first) if isinstance(c, ast.Constant) and isinstance(c.value, str)]
                    assert ids and all(i in messages.MESSAGES for i in ids), (rel, node.lineno, ids)


_WORKFLOW = {
    "geo/plans.py": {"VersionRequired", "StaleVersion", "NotADraft", "PlanInUse", "PlanInvalid",
                     "WarningsNotAcknowledged"},
    "geo/plan_edits.py": {"NothingToUndo", "NothingToRedo"},
    # the edits the editor makes: split, merge, swap, assign, reshape (BadInput; every other refusal of a plan
    # request: test_every_refusal_a_plans_request_meets_is_made_from_the_catalogue)
    "geo/partition.py": {"BadInput"},
    "api/routes/ogc.py": {"Forbidden"},
    "api/routes/ogc_transactions.py": {"VersionRequired"},
    "api/routes/plans.py": {"VersionRequired"},
}
_EDITOR_BAD_INPUTS = ("the edit would leave", "in different communities", "a swap takes", "is in no grid",
                      "are both in grid", "the swap ", "merge takes")


def _raises(rel: str):  # type: ignore[no-untyped-def]
    tree = ast.parse((ROOT / rel).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            yield node


def _literal_text(node: ast.expr) -> str:
    return "".join(c.value for c in ast.walk(node) if isinstance(c, ast.Constant) and isinstance(c.value, str))


def test_plan_workflow_and_edit_refusals_are_made_from_the_catalogue() -> None:
    """The plan workflow's refusals (412 stale version, 409 not a draft / in use / invalid / warnings, 428), the
    editor's edit refusals (split, merge, swap, assign; geo/partition.py, geo/plan_edits.py) and the OGC API's
    403 are Error.say(<catalogue id>, ...), so the envelope carries message_zh."""
    for rel, targets in _WORKFLOW.items():
        for node in _raises(rel):
            f = node.exc.func
            if isinstance(f, ast.Name) and f.id in targets:
                pytest.fail(f"{rel}:{node.lineno}: {f.id}(...) with an English message; use {f.id}.say(id, ...)")
            if isinstance(f, ast.Attribute) and f.attr == "say":
                first = node.exc.args[0]
                assert isinstance(first, ast.Constant) and first.value in messages.MESSAGES, (rel, node.lineno)
    for node in _raises("geo/plan_edits.py"):
        f = node.exc.func
        if isinstance(f, ast.Name) and f.id == "BadInput":
            text = _literal_text(node.exc)
            assert not text.startswith(_EDITOR_BAD_INPUTS), f"geo/plan_edits.py:{node.lineno}: {text[:60]!r}"


def test_workflow_messages_keep_their_english_and_say_it_in_chinese() -> None:
    from geo.errors import PlanInUse, StaleVersion, WarningsNotAcknowledged
    from geo.plan_checks import problem
    from geo.plans import _summary

    made = messages.Msg("plan.stale_made", actor="planner b", op="assign", grids="140214101001001", at="10:00")
    err = StaleVersion.say("plan.stale_version", plan=3, current=5, sent=4, who=made)
    assert err.message == ("plan 3 is at version 5, not 4: planner b made 'assign' (140214101001001) at 10:00; "
                           "reload the plan and redo your change")
    assert err.message_zh == ("方案 3 当前为版本 5，而不是 4：planner b 于 10:00 做了 'assign'（140214101001001）："
                              "请重新加载方案后再做一次修改")
    warnings = [problem("households_band", ("G",), grid="G", value=310, off=10, side=messages.Msg("plan.above"),
                        low=200, high=300)] * 7
    err = WarningsNotAcknowledged.say("plan.warnings_not_acknowledged", plan=3, n=7, summary=_summary(warnings))
    assert err.message.startswith("plan 3 has 7 band warning(s): grid G has 310 households, 10 above the band 200–300; ")
    assert err.message.endswith('; and 2 more; publish with {"acknowledge_warnings": true} to accept them')
    assert err.message_zh is not None and "网格 G 有 310 户" in err.message_zh and "另有 2 条" in err.message_zh
    named = messages.Joined([messages.Msg("plan.in_use_plans", plans="#4"),
                             messages.Msg("plan.in_use_incidents", n=2)], "plan.and")
    err = PlanInUse.say("plan.in_use", plan=3, named=named)
    assert err.message.startswith("draft 3 is referred to by plan(s) #4 copied from it (their source) and 2 incident(s)")
    assert err.message_zh is not None and err.message_zh.startswith("草稿 3 被从它复制的方案 #4（以它为来源）和位于其网格中的 2 起")


#: Where a /v1/plans request is refused (file -> the functions to walk, None = the whole file): plans, drafts,
#: edits, hints, the route's own checks and If-Match, import (the file and each feature) and export.
_PLAN_REFUSALS: dict[str, set[str] | None] = {
    "geo/plans.py": None, "geo/plan_edits.py": None, "geo/plan_hints.py": None, "geo/plan_checks.py": None,
    "geo/partition.py": None, "api/routes/plans.py": None, "api/params.py": {"parse_if_match"},
    "geo/exchange.py": {"read_plan_file", "export_plan"}, "geo/io/write.py": {"_check_shapefile"},
    "geo/store/queries.py": {"no_plan"},
    "api/routes/ogc_transactions.py": None,  # adding and removing a grid (OGC API Part 4) write through the same edits
}


def _error_classes() -> set[str]:
    import geo.errors

    return {n for n, o in vars(geo.errors).items() if isinstance(o, type) and issubclass(o, GridmapError)}


def test_every_refusal_a_plans_request_meets_is_made_from_the_catalogue() -> None:
    """Every domain error raised (or made, in a helper such as queries.no_plan) where a /v1/plans request is
    refused is Error.say(<catalogue id>, ...) — never Error("English ...") — so its envelope carries
    message_zh: the workflow, the editor's edits, the refusals it rarely meets (unknown plans, grids,
    buildings, communities; names, codes and limits; add/remove of a grid; imports and exports)."""
    classes = _error_classes()
    seen = 0
    for rel, functions in _PLAN_REFUSALS.items():
        tree = ast.parse((ROOT / rel).read_text(encoding="utf-8"))
        scopes = [tree] if functions is None else [
            n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name in functions]
        assert functions is None or {f.name for f in scopes} == functions, (rel, functions)
        for scope in scopes:
            for node in ast.walk(scope):
                made = node.exc if isinstance(node, ast.Raise) else node.value if isinstance(node, ast.Return) else None
                if not isinstance(made, ast.Call):
                    continue
                f = made.func
                if isinstance(f, ast.Name) and f.id in classes:
                    pytest.fail(f"{rel}:{node.lineno}: {f.id}(...) with an English message; use {f.id}.say(id, ...)")
                if isinstance(f, ast.Attribute) and f.attr == "say" and isinstance(f.value, ast.Name) \
                        and f.value.id in classes:
                    first = made.args[0]
                    assert isinstance(first, ast.Constant) and first.value in messages.MESSAGES, (rel, node.lineno)
                    seen += 1
    assert seen > 60, seen  # the walk found the raise sites
