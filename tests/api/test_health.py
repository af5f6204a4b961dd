from __future__ import annotations


def test_health_reports_database_and_published_plan(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["plan"]["status"] == "published"
    assert body["plan"]["published_at"] == "2026-01-01T00:00:00+08:00"  # the demo plan, in town time


def test_health_says_when_the_database_is_down(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from api.app import create_app
    from geo.config import Settings

    # A socket directory with no server behind it: the database is unreachable.
    settings = Settings(database_url=f"postgresql+psycopg://postgres@/nothing?host={tmp_path}&port=1",
                        var_dir=tmp_path)
    with TestClient(create_app(settings)) as c:
        r = c.get("/health")
    assert r.status_code == 503
    assert r.headers["retry-after"]
    assert r.json()["database"] == "unavailable"


def test_openapi_docs_are_served(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert "/v1/grids" in spec["paths"] and "/health" in spec["paths"]


def test_the_favicon_is_served(client) -> None:  # type: ignore[no-untyped-def]
    """Browsers ask every page for /favicon.ico: a real icon, not a 404 in the console (issue 15, item 8)."""
    import io

    from PIL import Image

    r = client.get("/favicon.ico")
    assert r.status_code == 200 and r.headers["content-type"] == "image/x-icon"
    icon = Image.open(io.BytesIO(r.content))
    assert icon.format == "ICO" and (32, 32) in icon.info["sizes"]
