"""Requests FastAPI refuses before a route runs (422 ``invalid_request``): the envelope's English is what it
was, and ``message_zh`` (and each problem's ``problem_zh``) says in Chinese which field is wrong and how to
fix it, from the message catalogue (geo/messages.py ``request.<pydantic error type>``).

Real requests over the app against a real PostGIS (this module's database)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from geo import messages
from tests.conftest import app_env, auth

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def env(module_db: str, tmp_path_factory):  # type: ignore[no-untyped-def]
    with app_env(module_db, tmp_path_factory.mktemp("var"), roles=("client", "viewer", "planner")) as env:
        yield env


def _refused(r: Any) -> dict[str, Any]:
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "invalid_request"
    assert err["message"].endswith(" (see /docs for the expected fields)"), err["message"]
    assert err["message_zh"].endswith("（各字段的要求见 /docs）") and CJK.search(err["message_zh"]), err
    for p in err["details"]:
        assert set(p) == {"where", "problem", "type", "problem_zh"} and CJK.search(p["problem_zh"]), p
    return err


def test_a_missing_query_parameter_is_named_in_chinese(env) -> None:  # type: ignore[no-untyped-def]
    err = _refused(env["client"].get("/v1/lookup", params={"lon": 113.1}, headers=auth(env["keys"]["client"])))
    # the English clients parse, unchanged
    assert err["message"] == "query.lat: Field required (see /docs for the expected fields)"
    assert err["details"] == [{"where": "query.lat", "problem": "Field required", "type": "missing",
                               "problem_zh": "缺少查询参数 lat（即纬度）：请提供它"}]
    assert err["message_zh"] == "缺少查询参数 lat（即纬度）：请提供它（各字段的要求见 /docs）"


def test_an_ill_typed_number_says_what_it_must_be(env) -> None:  # type: ignore[no-untyped-def]
    err = _refused(env["client"].get("/v1/lookup", params={"lon": "一百一十三", "lat": "40.05"},
                                     headers=auth(env["keys"]["client"])))
    assert err["details"][0]["type"] == "float_parsing"
    assert err["message_zh"].startswith("查询参数 lon（即经度）须为数字（例如 113.1），而不是 '一百一十三'")


def test_body_fields_out_of_range_too_long_unknown_or_ill_typed(env) -> None:  # type: ignore[no-untyped-def]
    c, h = env["client"], auth(env["keys"]["planner"])
    plan = c.get("/v1/plans", headers=auth(env["keys"]["viewer"])).json()["plans"][0]["id"]
    err = _refused(c.post(f"/v1/plans/{plan}/suggest", json={"community": "140214101001", "seed": -1,
                                                              "name": "长" * 201}, headers=h))
    by_type = {p["type"]: p for p in err["details"]}
    assert by_type["greater_than_equal"]["problem_zh"] == "请求体字段 seed（即随机种子）须大于或等于 0，而不是 -1"
    assert by_type["string_too_long"]["problem_zh"] == "请求体字段 name（即名称）最多 200 个字符：请缩短"
    assert "；" in err["message_zh"] and "seed" in err["message_zh"] and "name" in err["message_zh"]

    err = _refused(c.post("/v1/plans", json={"name": "x", "source": "最新", "colour": "red"}, headers=h))
    by_type = {p["type"]: p for p in err["details"]}
    assert by_type["int_parsing"]["problem_zh"] == "请求体字段 source（即来源方案编号）须为整数，而不是 '最新'"
    assert by_type["extra_forbidden"]["problem_zh"].startswith("请求体字段 colour 不是此请求的字段：请删除它")

    err = _refused(c.post(f"/v1/plans/{plan}/merge", json={"grids": ["140214101001001"]}, headers=h))
    assert err["details"][0]["problem_zh"] == "请求体字段 grids（即网格编码）至少要有 2 项，而不是 1 项"


def test_a_choice_outside_the_list_names_the_choices(env) -> None:  # type: ignore[no-untyped-def]
    c = env["client"]
    plan = c.get("/v1/plans", headers=auth(env["keys"]["viewer"])).json()["plans"][0]["id"]
    err = _refused(c.get(f"/v1/plans/{plan}/export", params={"format": "kml"}, headers=auth(env["keys"]["viewer"])))
    assert err["details"][0]["type"] == "literal_error"
    assert err["details"][0]["problem_zh"] == "查询参数 format（即文件格式）须为以下之一：'geojson', 'gpkg' or 'shp'，而不是 'kml'"


def test_a_body_that_is_not_json_or_not_an_object(env) -> None:  # type: ignore[no-untyped-def]
    c, h = env["client"], auth(env["keys"]["planner"])
    err = _refused(c.post("/v1/plans", content=b'{"name": ', headers={**h, "Content-Type": "application/json"}))
    assert err["details"][0]["type"] == "json_invalid"
    assert err["message_zh"].startswith("请求体不是有效的 JSON（约第 9 个字符处：") and "Content-Type" in err["message_zh"]
    err = _refused(c.post("/v1/plans", json=["a list"], headers=h))
    assert err["details"][0]["problem_zh"] == "请求体须为 JSON 对象（{...}）"
    err = _refused(c.post("/v1/plans", headers=h))
    assert err["details"][0]["problem_zh"] == "缺少请求体：请提供它"


def test_each_error_type_the_brief_lists_has_an_entry_and_the_rest_still_name_the_field() -> None:
    from api.errors import problem_zh

    for kind in ("missing", "int_parsing", "float_parsing", "greater_than_equal", "less_than_equal",
                 "string_too_long", "literal_error", "enum", "json_invalid", "extra_forbidden", "too_short",
                 "too_long", "bool_parsing", "int_type", "datetime_parsing", "dict_type", "list_type", "value_error"):
        entry = messages.REQUEST_ERROR_ALIASES.get(kind, kind)
        assert f"request.{entry}" in messages.MESSAGES, kind
    for alias, entry in messages.REQUEST_ERROR_ALIASES.items():
        assert f"request.{entry}" in messages.MESSAGES, alias
    # a type with no entry, and an entry whose context pydantic left out: the generic text, naming the field
    said = problem_zh({"type": "url_parsing", "loc": ("body", "callback"), "msg": "Input should be a valid URL"})
    assert said == "请求体字段 callback 的值无效（Input should be a valid URL）：请按 /docs 中的说明填写"
    said = problem_zh({"type": "less_than_equal", "loc": ("query", "k"), "msg": "Input should be at most 5"})
    assert said == "查询参数 k 的值无效（Input should be at most 5）：请按 /docs 中的说明填写"
    assert problem_zh({"type": "missing", "loc": ("header", "If-Match"), "msg": "Field required"}) == \
        "缺少请求头 If-Match（即方案版本）：请提供它"
