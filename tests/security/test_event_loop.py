"""One request must not stall everyone: ``/health`` answers while the heaviest allowed request of each
kind is still being worked on, over real HTTP (uvicorn on a loopback port, a database of the module's own).

The outside test sent a client-role ``POST /v1/lookup/batch`` with 1,000,000 addresses: it ran 31 s on
the event loop and ``/health`` did not answer for 20 s; a million points stalled it 2-4 s. Here each
heavy request runs in a thread of the test while another thread asks for ``/health`` again and again;
the test asserts that ``/health`` answered 200 again and again (:data:`ANSWERS` times) after the heavy
request had been sent in full and before its answer began to arrive (every route here answers only when
its work is done) — an order and a count of events, never a time. (The server runs in the test's own
process, as tests/conftest.py ``serve()`` runs it: client and server threads share one GIL, which makes
the test harder to pass, not easier.)

The batch limit is lowered to 200,000 rows for this module (``batch_max_rows``) so that it stays quick on
a two-core machine; the code path is the one a million rows take (bench measurements of a million rows are
in the issue's closing note).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
import orjson
import pytest

from geo.config import Settings
from geo.keys import create_key
from geo.store.db import make_engine
from tests.conftest import auth, serve

ROWS = 200_000


@pytest.fixture(scope="module")
def live(module_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    engine = make_engine(module_db)
    keys = {r: create_key(engine, role=r, name=f"{r} heavy")[1] for r in ("client", "viewer")}
    engine.dispose()
    server = serve(Settings(database_url=module_db, var_dir=tmp_path_factory.mktemp("var"), batch_max_rows=ROWS))
    base = next(server)
    yield base, keys
    next(server, None)


@dataclass
class Run:
    """What happened while one heavy request ran."""

    status: int = 0
    size: int = 0
    during: list[int] = field(default_factory=list)  # /health statuses answered while the heavy one worked
    error: BaseException | None = None


def _while_heavy(base: str, method: str, path: str, *, headers: dict[str, str], body: bytes | None = None,
                 **kwargs: Any) -> Run:
    run = Run()
    sent = threading.Event()  # the heavy request is on the wire, body and all
    answered = threading.Event()  # its answer has begun to arrive: its work is done
    finished = threading.Event()

    def pieces() -> Iterator[bytes]:
        assert body is not None
        for i in range(0, len(body), 1 << 20):
            yield body[i:i + (1 << 20)]
        sent.set()

    def heavy() -> None:
        try:
            with httpx.Client(timeout=600) as c:
                if body is not None:
                    kwargs["content"] = pieces()
                else:
                    sent.set()
                with c.stream(method, base + path, headers=headers, **kwargs) as r:
                    answered.set()
                    run.status = r.status_code
                    run.size = sum(len(b) for b in r.iter_bytes())
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            run.error = exc
        finally:
            sent.set()
            answered.set()
            finished.set()

    thread = threading.Thread(target=heavy)
    thread.start()
    with httpx.Client(timeout=600) as c:
        sent.wait()
        while not answered.is_set():
            r = c.get(base + "/health")
            if not answered.is_set():
                run.during.append(r.status_code)
    thread.join()
    if run.error is not None:
        raise run.error
    return run


#: /health answers that must come while the heavy request is worked on. One or two can come before the
#: server starts on it (it may still be reading the body's tail) and one as it finishes, even from an event
#: loop the work blocks (measured against the code before the fix: two); five cannot.
ANSWERS = 5


def _assert_health_answered(run: Run) -> None:
    assert run.status == 200, run
    answered = run.during.count(200)
    assert answered >= ANSWERS, (f"/health answered {answered} time(s) while the heavy request was worked on "
                                 f"(statuses {run.during[:20]}); the event loop is blocked")


def _points(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.column_stack([113.0938 + rng.random(n) * 0.0124, 40.046 + rng.random(n) * 0.008]).round(6)


def test_a_batch_of_the_most_points_allowed(live) -> None:  # type: ignore[no-untyped-def]
    base, keys = live
    body = orjson.dumps({"points": _points(ROWS).tolist()})
    run = _while_heavy(base, "POST", "/v1/lookup/batch", body=body,
                       headers={**auth(keys["client"]), "content-type": "application/json"})
    _assert_health_answered(run)
    assert run.size > ROWS * 50


def test_a_batch_of_the_most_addresses_allowed(live) -> None:  # type: ignore[no-untyped-def]
    base, keys = live
    rng = np.random.default_rng(1)
    names = ["春安新区", "宁丰社区", "宏盛家园", "Chun'an New District", "春安"]
    addresses = [f"{names[a]}{b}号楼{u}单元{f}{r:02d}室" for a, b, u, f, r in
                 zip(rng.integers(0, 5, ROWS), rng.integers(1, 30, ROWS), rng.integers(1, 6, ROWS),
                     rng.integers(1, 33, ROWS), rng.integers(1, 4, ROWS))]
    run = _while_heavy(base, "POST", "/v1/lookup/batch", body=orjson.dumps({"addresses": addresses}),
                       headers={**auth(keys["client"]), "content-type": "application/json"})
    _assert_health_answered(run)


def test_a_csv_batch_of_the_most_rows_allowed(live) -> None:  # type: ignore[no-untyped-def]
    base, keys = live
    body = ("lon,lat\n" + "\n".join(f"{x},{y}" for x, y in _points(ROWS, seed=2)) + "\n").encode()
    run = _while_heavy(base, "POST", "/v1/lookup/batch", body=body,
                       headers={**auth(keys["client"]), "content-type": "text/csv"})
    _assert_health_answered(run)


def test_a_batch_over_the_limit_is_refused_before_it_is_parsed(live) -> None:  # type: ignore[no-untyped-def]
    base, keys = live
    body = orjson.dumps({"points": _points(ROWS + 1).tolist()})
    r = httpx.post(base + "/v1/lookup/batch", content=body, timeout=600,
                   headers={**auth(keys["client"]), "content-type": "application/json"})
    assert r.status_code == 413, r.text
    assert r.json()["error"]["details"] == {"rows": ROWS + 1, "limit": ROWS}


@pytest.mark.parametrize("params", [
    {"cell_m": 5},  # the finest cells: 35,000 of them, the biggest answer
    {"cell_m": 33, "threshold_m": 20_000},  # every cell a neighbour of every other, just under the budget
    {"cell_m": 5, "from": "2025-12-01", "to": "2026-12-01", "periods": 14},  # emerging, just under its budget
], ids=["finest cells", "widest band", "emerging"])
def test_the_heaviest_hot_spots_allowed(live, params: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    base, keys = live
    _assert_health_answered(_while_heavy(base, "GET", "/v1/hotspots", params=params, headers=auth(keys["viewer"])))


@pytest.mark.parametrize("params", [
    {"format": "points", "cell_m": 2, "min_fraction": 0},  # the finest lattice under the budget, every cell
    {"format": "weekly", "cell_m": 15, "min_fraction": 0},  # every week of the year, just under the budget
    {"format": "png", "cell_m": 2},
], ids=["points", "weekly", "png"])
def test_the_heaviest_heatmaps_allowed(live, params: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    base, keys = live
    _assert_health_answered(_while_heavy(base, "GET", "/v1/heatmap", params=params, headers=auth(keys["viewer"])))


def test_the_heaviest_camera_suggestion_allowed(live) -> None:  # type: ignore[no-untyped-def]
    base, keys = live
    run = _while_heavy(base, "POST", "/v1/coverage/suggest", json={"k": 13, "hfov_deg": 360, "range_m": 40},
                       headers=auth(keys["viewer"]))
    _assert_health_answered(run)


def test_the_monthly_report_page(live) -> None:  # type: ignore[no-untyped-def]
    base, keys = live
    run = _while_heavy(base, "GET", "/v1/reports/monthly.html", params={"month": "2026-06"},
                       headers=auth(keys["viewer"]))
    _assert_health_answered(run)
