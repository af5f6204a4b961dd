"""Property-based fuzzing of every operation in the app's own OpenAPI (schemathesis), over real HTTP
against a server and database of this module's own: no answer may be a 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from geo.config import Settings
from geo.keys import create_key
from geo.store.db import make_engine
from tests.conftest import serve

MAX_EXAMPLES = 12  # per operation: bounded so `make test` stays quick
#: Operations whose every call is seconds of work get fewer examples.
HEAVY = {"/v1/coverage/suggest": 2, "/v1/reports/monthly.html": 3, "/v1/heatmap": 5, "/v1/lookup/batch": 6}


@pytest.fixture(scope="module")
def fuzz_target(module_db: str, tmp_path_factory):  # type: ignore[no-untyped-def]
    engine = make_engine(module_db)
    key = create_key(engine, role="admin", name="fuzz")[1]
    engine.dispose()
    server = serve(Settings(database_url=module_db, var_dir=tmp_path_factory.mktemp("var")))
    base = next(server)
    yield base, key
    next(server, None)


def test_no_server_errors(fuzz_target) -> None:  # type: ignore[no-untyped-def]
    """Every operation, MAX_EXAMPLES generated requests each (schemathesis strategies driven by hypothesis
    directly: schemathesis' pytest plugin does not run under pytest 9)."""
    base, key = fuzz_target
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @settings(max_examples=HEAVY.get(operation.path, MAX_EXAMPLES), deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case) -> None:  # type: ignore[no-untyped-def]
            response = case.call(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} {case.query or ''} -> "
                                f"{response.status_code}: {response.text[:200]}")

        run()
    assert operations >= 35
    assert failures == [], "\n".join(failures[:20])
