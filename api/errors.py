"""The one table from domain errors to HTTP, and the error envelope.

Every 4xx/5xx body is ``{"error": {"code": "snake_case", "message": "...", "details": ...}}``; an error made
from the message catalogue (geo/messages.py, :meth:`geo.errors.GridmapError.say`) also carries
``"message_zh"``, its Chinese (``message`` stays English, as API clients know it). So does a request that
FastAPI refuses before a route runs (422 ``invalid_request``; 400 ``invalid_parameter`` on /ogc): each problem
in ``details`` keeps ``where``, ``problem`` and ``type`` and adds ``problem_zh`` (:func:`problem_zh`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from geo.errors import (
    BadInput,
    Conflict,
    Forbidden,
    GridmapError,
    InvalidParameter,
    NotFound,
    OverBudget,
    RateLimited,
    StaleVersion,
    TooLarge,
    Unauthorized,
    Unavailable,
    UnsupportedMediaType,
    VersionRequired,
    excerpt,
)
from geo.messages import MESSAGES, REQUEST_ERROR_ALIASES, Msg, en, fields_of, zh
from geo.tiles import BadTile

#: Domain error → HTTP status. The first class in an error's MRO found here wins.
STATUS: dict[type[GridmapError], int] = {
    BadTile: 400,  # a tile address outside the tile matrix set: the URL names no resource
    InvalidParameter: 400,
    OverBudget: 422,
    TooLarge: 413,
    UnsupportedMediaType: 415,
    NotFound: 404,
    BadInput: 422,
    Conflict: 409,
    Unauthorized: 401,
    Forbidden: 403,
    Unavailable: 503,
    VersionRequired: 428,
    RateLimited: 429,
}

#: Where the OGC API answers otherwise (its paths only): an edit whose ``If-Match`` names an older plan
#: version is HTTP's (RFC 9110) and OGC API – Features Part 4's 412 Precondition Failed there; /v1/plans
#: keeps its documented 409 (same code ``stale_version``, same message and details).
OGC_STATUS: dict[type[GridmapError], int] = {
    StaleVersion: 412,
}

RETRY_AFTER_S = 5


def _json_safe(v: Any) -> Any:
    """Details may carry what the client sent, NaN and infinities included: JSON has no such numbers."""
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    if isinstance(v, dict):
        return {str(k): _json_safe(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_json_safe(x) for x in v]
    return v


def error_body(code: str, message: str, details: Any = None, *, message_zh: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message, "details": _json_safe(details)}
    if message_zh:
        body["message_zh"] = message_zh
    return {"error": body}


#: Paths of the OGC API: its errors also carry OGC API's exception members (``code``, ``description``)
#: beside the envelope, and a query parameter that fails validation is 400 there (not 422).
OGC_PREFIX = "/ogc"


def _ogc(request: Request) -> bool:
    path = request.url.path
    return path == OGC_PREFIX or path.startswith(OGC_PREFIX + "/")


def _body(request: Request, code: str, message: str, details: Any = None, *,
          message_zh: str | None = None) -> dict[str, Any]:
    body = error_body(code, message, details, message_zh=message_zh)
    if _ogc(request):
        body.update(code=code, description=message)
    return body


def status_for(exc: GridmapError, *, ogc: bool = False) -> int:
    """The HTTP status of a domain error (``ogc``: on the OGC API's paths, :data:`OGC_STATUS` first)."""
    for cls in type(exc).__mro__:
        if ogc and cls in OGC_STATUS:
            return OGC_STATUS[cls]  # type: ignore[index]
        if cls in STATUS:
            return STATUS[cls]  # type: ignore[index]
    return 500


def _headers(status: int) -> dict[str, str]:
    if status == 401:
        return {"WWW-Authenticate": "Bearer"}
    if status == 503:
        return {"Retry-After": str(RETRY_AFTER_S)}
    return {}


async def _domain(request: Request, exc: GridmapError) -> JSONResponse:
    status = status_for(exc, ogc=_ogc(request))
    headers = _headers(status)
    if status == 429 and isinstance(exc.details, dict):
        headers["Retry-After"] = str(exc.details.get("retry_after_s", 1))
    return JSONResponse(_body(request, exc.code, exc.message, exc.details, message_zh=exc.message_zh),
                        status_code=status, headers=headers)


def _where_zh(loc: tuple[Any, ...] | list[Any]) -> str:
    """Where a problem is, in Chinese: "查询参数 lon（即经度）", "请求体字段 points.3", "请求体"."""
    kind, *rest = [*loc] or ["body"]
    if not rest:
        return zh("request.the_body") if kind == "body" else zh("request.in.other", name=kind)
    name = ".".join(str(p) for p in rest)
    first = str(rest[0]).lower()
    if len(rest) == 1 and f"field.{first}" in MESSAGES:
        name = zh("request.field", name=name, meaning=Msg(f"field.{first}"))
    entry = f"request.in.{kind}" if f"request.in.{kind}" in MESSAGES else "request.in.other"
    return zh(entry, name=name)


def problem_zh(error: Mapping[str, Any]) -> str:
    """One of pydantic's request errors (``{"type", "loc", "msg", "ctx", "input"}``) in Chinese, from the
    catalogue entry of its type (geo/messages.py ``request.<type>``, :data:`REQUEST_ERROR_ALIASES`), else
    ``request.other``, which names the field and quotes pydantic's English.

    >>> problem_zh({"type": "missing", "loc": ("query", "lat"), "msg": "Field required"})
    '缺少查询参数 lat（即纬度）：请提供它'
    >>> problem_zh({"type": "uuid_parsing", "loc": ("body", "token"), "msg": "Input should be a valid UUID"})
    '请求体字段 token 的值无效（Input should be a valid UUID）：请按 /docs 中的说明填写'
    """
    kind = str(error.get("type") or "")
    kind = REQUEST_ERROR_ALIASES.get(kind, kind)
    entry = f"request.{kind}" if f"request.{kind}" in MESSAGES else "request.other"
    loc = error.get("loc") or ()
    ctx = {k: str(v) for k, v in (error.get("ctx") or {}).items()}
    value = error.get("input")
    fields: dict[str, Any] = {
        "where": _where_zh(loc), "problem": error.get("msg") or "", "input": excerpt(value),
        "position": loc[1] if kind == "json_invalid" and len(loc) > 1 else "?", **ctx}
    try:
        text = zh(entry, **{k: fields[k] for k in fields_of(MESSAGES[entry][0])})
    except KeyError:  # a context pydantic did not give this time: the generic text still names the field
        text = zh("request.other", where=fields["where"], problem=fields["problem"])
    return _CJK_SPACE.sub("", text)


#: A space the templates put after {where} for a field name in Latin letters, between two Chinese characters
#: (or after "）"), where Chinese has none.
_CJK_SPACE = re.compile(r"(?<=[\u4e00-\u9fff）]) (?=[\u4e00-\u9fff])")


async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    problems = [
        {"where": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg"), "type": e.get("type"),
         "problem_zh": problem_zh(e)}
        for e in errors
    ]
    if problems:
        message = en("request.problems", problems="; ".join(f"{p['where']}: {p['problem']}" for p in problems))
        message_zh = zh("request.problems", problems="；".join(p["problem_zh"] for p in problems))
    else:
        message, message_zh = en("request.invalid"), zh("request.invalid")
    ogc = _ogc(request)
    return JSONResponse(_body(request, "invalid_parameter" if ogc else "invalid_request", message, problems,
                              message_zh=message_zh),
                        status_code=400 if ogc else 422)


async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, f"http_{exc.status_code}")
    message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 404:
        message = f"no such path {request.url.path}: /docs lists the API"
    elif exc.status_code == 413:
        code = "body_too_large"
        message = ("the request body is larger than the limit (GRIDMAP_MAX_BODY_BYTES, "
                   f"{request.app.state.settings.max_body_bytes:,} bytes): split it into smaller requests")
    elif exc.status_code == 400 and message == "There was an error parsing the body":  # FastAPI's words
        code = "unreadable_body"
        message = ("the request body could not be read as JSON: send UTF-8 encoded JSON (RFC 8259) with "
                   "'Content-Type: application/json', nested no deeper than about 500 levels")
    return JSONResponse(_body(request, code, message), status_code=exc.status_code,
                        headers={**_headers(exc.status_code), **(exc.headers or {})})


#: What a data error's SQLSTATE says about the value, in the client's terms. The database's own text
#: is never sent: it names tables, columns and the server, and quotes what it could not read.
_DATA_ERRORS = {
    "22P02": "a text where a number, date or code was expected",
    "22021": "a control character (NUL) or bytes that are not UTF-8",
    "22003": "a number out of range",
    "22008": "a date or time out of range",
    "22007": "a date or time in an unknown form",
    "22001": "a text longer than the field holds",
}


async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
    if isinstance(exc, DataError):  # a value the database cannot hold, e.g. a NUL byte in text
        state = getattr(exc.orig, "sqlstate", None) or ""
        if state not in _DATA_ERRORS and "NUL" in str(exc.orig):  # psycopg refuses NUL before the server sees it
            state = "22021"
        what = _DATA_ERRORS.get(state, "a value the database cannot hold")
        return JSONResponse(error_body(
            "invalid_value", f"a value in the request cannot be stored or compared ({what}); remove control "
            "characters and send text, numbers and dates in their usual forms (ISO 8601 dates)",
            {"sqlstate": state or None}), status_code=422)
    if isinstance(exc, OperationalError) or exc.connection_invalidated:
        return JSONResponse(
            error_body("database_unavailable", "the database is not answering; retry in a few seconds"),
            status_code=503, headers=_headers(503),
        )
    raise exc


def install(app: FastAPI) -> None:
    app.add_exception_handler(GridmapError, _domain)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http)  # type: ignore[arg-type]
    app.add_exception_handler(DBAPIError, _database)  # type: ignore[arg-type]
