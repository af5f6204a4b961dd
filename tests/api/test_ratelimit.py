"""Rate limits per key and per address (429 with Retry-After), and anonymous lookups for public deployments."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from geo.ratelimit import TokenBuckets
from geo.config import Settings
from geo.errors import RateLimited
from tests.conftest import auth

POINT = {"lon": 113.0951, "lat": 40.0537}


def test_token_bucket_refills_at_its_rate() -> None:
    now = [0.0]
    buckets = TokenBuckets(per_s=2, burst=3, clock=lambda: now[0])
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(0.5)  # empty: one token comes in half a second
    assert buckets.take("b") == 0.0  # another key has its own bucket
    now[0] += 0.5
    assert buckets.take("a") == 0.0
    now[0] += 100
    assert [buckets.take("a") for _ in range(4)][-1] > 0  # refilled to the burst, not beyond
    with pytest.raises(RateLimited) as err:
        buckets.check("a", what="API key")
    assert err.value.details["retry_after_s"] == 1 and "2 a second" in err.value.message
    assert TokenBuckets(per_s=0, burst=1).take("x") == 0.0  # 0 = off


def _client(db_url: str, tmp_path, **overrides) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(create_app(Settings(database_url=db_url, var_dir=tmp_path, **overrides)))


def test_per_key_limit_answers_429_with_retry_after(db_url: str, keys: dict[str, str], tmp_path) -> None:
    with _client(db_url, tmp_path, rate_limit_key_per_s=0.5, rate_limit_key_burst=3,
                 rate_limit_address_per_s=0) as c:
        codes = [c.get("/v1/lookup", params=POINT, headers=auth(keys["client"])).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        r = c.get("/v1/lookup", params=POINT, headers=auth(keys["client"]))
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        assert r.json()["error"]["code"] == "rate_limited" and "API key" in r.json()["error"]["message"]
        # another key is not affected
        assert c.get("/v1/lookup", params=POINT, headers=auth(keys["viewer"])).status_code == 200


def test_per_address_limit_counts_bad_keys_too(db_url: str, keys: dict[str, str], tmp_path) -> None:
    with _client(db_url, tmp_path, rate_limit_address_per_s=0.5, rate_limit_address_burst=3,
                 rate_limit_key_per_s=0) as c:
        codes = [c.get("/v1/lookup", params=POINT, headers=auth("gm_wrong_key")).status_code for _ in range(3)]
        assert codes == [401, 401, 401]
        r = c.get("/v1/lookup", params=POINT, headers=auth(keys["client"]))
        assert r.status_code == 429 and "address" in r.json()["error"]["message"] and r.headers["retry-after"]
        assert r.headers["x-content-type-options"] == "nosniff"  # security headers on the 429 too
        assert c.get("/health").status_code == 200  # only /v1/ and the sign-in form are limited


def test_anonymous_lookups_only_when_switched_on(db_url: str, tmp_path) -> None:
    with _client(db_url, tmp_path) as c:
        assert c.get("/v1/lookup", params=POINT).status_code == 401
    with _client(db_url, tmp_path, anonymous_lookups=True) as c:
        r = c.get("/v1/lookup", params=POINT)
        assert r.status_code == 200 and r.json()["grid"]["code"]
        assert "phone" not in r.json()["grid"]["grid_member"]  # anonymous callers are clients: no phone numbers
        assert c.get("/v1/lookup/address", params={"q": "春安新区3号楼"}).status_code == 200
        assert c.post("/v1/lookup/batch", json={"points": [[POINT["lon"], POINT["lat"]]]}).status_code == 200
        assert c.get("/v1/grids").status_code == 401  # everything else still needs a key
        assert c.get("/v1/plans").status_code == 401
