"""Property-based fuzzing of every operation in the app's own OpenAPI (schemathesis), over real HTTP
against a server and database of this module's own: no answer may be a 5xx.

Two modes: positive (requests the schema allows) and negative (each request breaks the schema somewhere:
a wrong type, a value out of range, a missing required member — what a careless or hostile client sends);
a negative request may get any 4xx, never a 5xx.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from geo.config import Settings
from geo.keys import create_key
from geo.store.db import make_engine
from tests.conftest import serve

MAX_EXAMPLES = 12  # per operation: bounded so `make test` stays quick
#: Operations whose every call is seconds of work get fewer examples.
HEAVY = {"/v1/coverage/suggest": 2, "/v1/reports/monthly.html": 3, "/v1/heatmap": 5, "/v1/lookup/batch": 6}

#: Hundreds of generated requests per test: left out of `make test-fast`, run by `make test`.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fuzz_target(module_db: str, tmp_path_factory):  # type: ignore[no-untyped-def]
    engine = make_engine(module_db)
    key = create_key(engine, role="admin", name="fuzz")[1]
    engine.dispose()
    server = serve(Settings(database_url=module_db, var_dir=tmp_path_factory.mktemp("var")))
    base = next(server)
    yield base, key
    next(server, None)


def _fuzz(base: str, key: str, mode: GenerationMode, examples: int) -> tuple[int, list[str]]:
    """Every operation, ``examples`` generated requests each (fewer for HEAVY ones); the 5xx answers."""
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @settings(max_examples=min(examples, HEAVY.get(operation.path, examples)), deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case) -> None:  # type: ignore[no-untyped-def]
            response = case.call(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60)
            if response.status_code >= 500:
                failures.append(f"{mode.value}: {case.method} {case.formatted_path} {case.query or ''} "
                                f"{str(case.body)[:100] if case.body is not None else ''} -> "
                                f"{response.status_code}: {response.text[:200]}")

        try:
            run()
        except Unsatisfiable:  # nothing in this operation's schema can be broken (no parameters, no body)
            pass
    return operations, failures


def test_no_server_errors(fuzz_target) -> None:  # type: ignore[no-untyped-def]
    """Every operation, MAX_EXAMPLES generated requests each (schemathesis strategies driven by hypothesis
    directly: schemathesis' pytest plugin does not run under pytest 9)."""
    base, key = fuzz_target
    operations, failures = _fuzz(base, key, GenerationMode.POSITIVE, MAX_EXAMPLES)
    assert operations >= 35
    assert failures == [], "\n".join(failures[:20])


#: Negative requests per operation: most are refused at validation, so they cost little.
NEGATIVE_EXAMPLES = 10


def test_no_server_errors_on_invalid_requests(fuzz_target) -> None:  # type: ignore[no-untyped-def]
    """Every operation, NEGATIVE_EXAMPLES requests each that break its schema (schemathesis' negative mode)."""
    base, key = fuzz_target
    operations, failures = _fuzz(base, key, GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES)
    assert operations >= 35
    assert failures == [], "\n".join(failures[:20])
