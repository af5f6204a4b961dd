"""Messages in Chinese with English beside them, and client keys on the lookup page (issue 15, item 4), in
Debian's headless Chromium against the real app at 1920×1080 and 390×844: a bad key at sign-in, a client
key that signs in, lands on /maps/lookup (the header lists only that page and the API docs), gets a
no-match in both languages, and is refused elsewhere with a page that names the lookup page in both."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo.config import Settings
from geo.keys import create_key
from geo.store.db import make_engine
from tests.conftest import serve

SIZES = {"desktop": {"width": 1920, "height": 1080}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def env(module_db: str, tmp_path_factory):  # type: ignore[no-untyped-def]
    engine = make_engine(module_db)
    keys = {"client": create_key(engine, role="client", name="热线 hotline")[1]}
    settings = Settings(database_url=module_db, var_dir=tmp_path_factory.mktemp("var"), basemap="none")
    for base in serve(settings):
        yield {"base": base, "keys": keys}
    engine.dispose()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_sign_in_lookup_and_refusals_in_chinese_and_english(browser, env, tmp_path: Path, size: str) -> None:
    context = browser.new_context(viewport=SIZES[size])
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        # a bad key: refused in both languages
        page.goto(env["base"] + "/maps/login?next=/maps/command", wait_until="load")
        page.fill("#key", "gm_not_a_key_at_all")
        page.click("button[type=submit]")
        page.wait_for_selector(".error")
        said = page.inner_text(".error")
        page.screenshot(path=str(tmp_path / f"bad-key-{size}.png"))
        assert "API 密钥无效或已撤销" in said and "the API key is unknown or revoked" in said, said
        # a client key: signed in, on the lookup page whatever page was asked for
        page.fill("#key", env["keys"]["client"])
        page.click("button[type=submit]")
        page.wait_for_url("**/maps/lookup", timeout=60_000)
        page.wait_for_function("() => document.querySelectorAll('.leaflet-pane svg path').length > 0",
                               timeout=60_000)
        links = page.eval_on_selector_all(".gm-nav-links a", "as => as.map(a => a.getAttribute('href'))")
        assert links == ["/maps/lookup", "/docs"], links
        # a no-match: both languages in the card
        page.fill("#gm-lookup-q", "北京市朝阳区")
        page.press("#gm-lookup-q", "Enter")
        page.wait_for_selector('#gm-lookup-card[data-state="no_match"]', timeout=30_000)
        card = page.inner_text("#gm-lookup-card")
        page.screenshot(path=str(tmp_path / f"client-no-match-{size}.png"))
        assert "没有楼栋与 '北京市朝阳区'" in card and "no building matches '北京市朝阳区'" in card, card
        # a point: the card answers the grid (the client's API calls work)
        # elsewhere: refused, naming the page it may open, in both languages
        response = page.goto(env["base"] + "/maps/command", wait_until="load")
        assert response is not None and response.status == 403
        said = page.inner_text("main")
        page.screenshot(path=str(tmp_path / f"client-refused-{size}.png"))
        assert "'client' 密钥不能打开 /maps/command：它只能打开查询页面 /maps/lookup" in said, said
        assert "a 'client' key cannot open /maps/command: it may open only the lookup page /maps/lookup" in said
        page.click("main a")
        page.wait_for_url("**/maps/lookup")
        assert errors == []
    finally:
        context.close()
