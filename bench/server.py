"""The app under benchmark, served by uvicorn (1 worker) in its own process.

``python -m bench.server --url URL --port PORT`` serves ``create_app(settings)`` on
127.0.0.1:PORT, with two routes added to *this app instance only* (the
application code is unchanged):

``GET /bench/bare``
    a constant small JSON behind the same auth dependency as ``/v1/lookup``
    (``api.deps.require("client")``: the key is verified from the worker's
    key cache, against PostgreSQL at most every ``key_cache_s``), and, like ``lookup_point``, a plain ``def`` handler (run in
    Starlette's thread pool). The peer of ``GET /v1/lookup`` in the ratio.
``GET /bench/bare-noauth``
    the same without the auth dependency: shows what the per-request key
    check costs.

Uvicorn runs as ``gridmap serve`` runs it (h11, asyncio, one process), with the
access log off so that logging does not dominate either endpoint.
"""

from __future__ import annotations

import argparse
from typing import Annotated, Any

import uvicorn
from fastapi import Depends

from api.app import create_app
from api.deps import require
from geo.config import Settings
from geo.keys import KeyInfo


def bench_app(url: str) -> Any:
    # rate limits off: the benchmark measures throughput, not the limiter
    app = create_app(Settings(database_url=url, rate_limit_key_per_s=0, rate_limit_address_per_s=0))

    @app.get("/bench/bare", include_in_schema=False)
    def bare(key: Annotated[KeyInfo, Depends(require("client"))]) -> dict[str, Any]:
        return {"ok": True, "role": key.role}

    @app.get("/bench/bare-noauth", include_in_schema=False)
    def bare_noauth() -> dict[str, Any]:
        return {"ok": True, "role": None}

    return app


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True, help="SQLAlchemy URL of the database")
    ap.add_argument("--port", type=int, required=True)
    args = ap.parse_args()
    uvicorn.run(bench_app(args.url), host="127.0.0.1", port=args.port, workers=1,
                log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
