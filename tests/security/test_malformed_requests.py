"""Malformed parameters that were 500s: each is a 4xx with an error code and a message naming the field.

The outside test found these answering a bare 500 (each reproduced against the code before the fix):
``/v1/heatmap?format=weekly&from=0001-01-01`` (the week's Monday minus the time zone overflowed the
calendar), ``/v1/reports/monthly?month=0001-01`` and ``month=9999-12`` (the previous or next month
overflowed; the .html variant too), a batch with ``"at": 123`` or ``"plan": {"a": 1}`` (used as a
string and as an id unchecked), a CSV batch with ``?plan=abc`` (``int("abc")``).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import auth

POINT = [[113.1, 40.05]]

CASES = [
    ("GET", "/v1/heatmap", {"params": {"format": "weekly", "from": "0001-01-01"}}, "from"),
    ("GET", "/v1/heatmap", {"params": {"to": "9999-12-31"}}, "to"),
    ("GET", "/v1/hotspots", {"params": {"from": "0001-01-01", "to": "0002-01-01", "periods": 3}}, "from"),
    ("GET", "/v1/reports/monthly", {"params": {"month": "0001-01"}}, "month"),
    ("GET", "/v1/reports/monthly", {"params": {"month": "9999-12"}}, "month"),
    ("GET", "/v1/reports/monthly.html", {"params": {"month": "0001-01"}}, "month"),
    ("GET", "/v1/reports/monthly.html", {"params": {"month": "9999-12"}}, "month"),
    ("POST", "/v1/lookup/batch", {"json": {"points": POINT, "at": 123}}, "at"),
    ("POST", "/v1/lookup/batch", {"json": {"points": POINT, "plan": {"a": 1}}}, "plan"),
    ("POST", "/v1/lookup/batch", {"json": {"points": POINT, "plan": True}}, "plan"),
    ("POST", "/v1/lookup/batch", {"json": {"points": POINT, "plan": 1.5}}, "plan"),
    ("POST", "/v1/lookup/batch", {"json": {"points": POINT, "plan": 99999999999999999999}}, "plan"),
    ("POST", "/v1/lookup/batch", {"json": {"points": POINT, "crs": ["wgs84"]}}, "crs"),
    ("POST", "/v1/lookup/batch", {"json": {"addresses": ["春安新区3号楼"], "at": "9999-12-31T23:59:59-14:00"}}, "at"),
    ("POST", "/v1/lookup/batch", {"params": {"plan": "abc"}, "content": b"lon,lat\n113.1,40.05\n",
                                  "headers": {"content-type": "text/csv"}}, "plan"),
    ("POST", "/v1/lookup/batch", {"data": {"plan": "abc"}, "files": {"file": ("p.csv", b"lon,lat\n113.1,40.05\n",
                                                                           "text/csv")}}, "plan"),
    ("POST", "/v1/lookup/batch", {"params": {"at": "0001-01-01"}, "content": b"lon,lat\n113.1,40.05\n",
                                  "headers": {"content-type": "text/csv"}}, "at"),
    ("GET", "/v1/lookup", {"params": {"lon": 113.1, "lat": 40.05, "plan": 99999999999999999999}}, "plan"),
    ("GET", "/v1/lookup", {"params": {"lon": 113.1, "lat": 40.05, "at": "0001-01-01"}}, "at"),
]


@pytest.mark.parametrize(("method", "path", "kwargs", "field"), CASES,
                         ids=[f"{m} {p} {f}={k.get('params', k.get('json', k.get('data', {}))).get(f)!r}"
                              for m, p, k, f in CASES])
def test_malformed_parameter_is_a_4xx_naming_it(env, method: str, path: str, kwargs: dict[str, Any],
                                                field: str) -> None:  # type: ignore[no-untyped-def]
    headers = {**auth(env["keys"]["viewer"]), **kwargs.pop("headers", {})}
    r = env["client"].request(method, path, headers=headers, **kwargs)
    assert 400 <= r.status_code < 500, f"{r.status_code}: {r.text[:300]}"
    error = r.json()["error"]
    assert error["code"] in ("bad_input", "bad_crs"), error
    assert error["message"].startswith(f"{field}=") or error["message"].startswith(f"{field} "), error["message"]


def test_a_plausible_window_still_answers(env) -> None:  # type: ignore[no-untyped-def]
    c, h = env["client"], auth(env["keys"]["viewer"])
    assert c.get("/v1/heatmap", params={"format": "weekly", "from": "2026-06-01", "to": "2026-07-01"},
                 headers=h).status_code == 200
    assert c.get("/v1/reports/monthly", params={"month": "1900-01"}, headers=h).status_code == 200
    assert c.get("/v1/reports/monthly", params={"month": "2999-12"}, headers=h).status_code == 200
    r = c.post("/v1/lookup/batch", json={"points": POINT, "plan": 1, "crs": "wgs84"}, headers=h)
    assert r.status_code == 200 and r.json()["results"][0]["grid"] is not None
    r = c.post("/v1/lookup/batch", params={"plan": "1"}, content=b"lon,lat\n113.1,40.05\n",
               headers={**h, "content-type": "text/csv"})
    assert r.status_code == 200 and "140214" in r.text


BODIES = [
    (b"", "not valid JSON"),
    (b"[1, 2]", "send either"),
    (b'{"points": [[113.1, 40.05],, [1, 2]]}', "not valid JSON"),
    (b'{"points": [[113.1, 40.05], [1, 2],]}', "not valid JSON"),
    (b'{"points": [[113.1, 40.05]}', "not valid JSON"),
    (b'{"points": [[113.1, 40.05]], "crs": "wgs84"', "not valid JSON"),
    (b'{"points": "113.1,40.05"}', '"points" must be a list'),
    (b'{"points": {"a": [1, 2]}}', '"points" must be a list'),
    (b'{"points": [], "addresses": []}', "send either"),
    (b'{"addresses": ["\\"]}', "not valid JSON"),
    (b'{"points": [[1, 2]]} {"points": []}', "not valid JSON"),
]


@pytest.mark.parametrize(("body", "says"), BODIES, ids=[b.decode(errors="replace")[:40] for b, _ in BODIES])
def test_a_malformed_json_batch_is_a_400_or_422(env, body: bytes, says: str) -> None:  # type: ignore[no-untyped-def]
    r = env["client"].post("/v1/lookup/batch", content=body,
                           headers={**auth(env["keys"]["client"]), "content-type": "application/json"})
    assert r.status_code in (400, 422), r.text
    assert says in r.json()["error"]["message"]


def test_a_batch_s_other_members_are_bounded(env) -> None:  # type: ignore[no-untyped-def]
    """Only the rows may be big: a body whose other members take more than 64 KB is refused unread."""
    body = b'{"points": [[113.1, 40.05]], "note": "' + b"x" * 70_000 + b'"}'
    r = env["client"].post("/v1/lookup/batch", content=body,
                           headers={**auth(env["keys"]["client"]), "content-type": "application/json"})
    assert r.status_code == 413, r.text
    assert "65,536" in r.json()["error"]["message"]
