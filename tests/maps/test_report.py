"""The monthly briefing's pictures print Chinese: the CJK font is chosen by file, and a render that
would draw empty boxes is detected (matplotlib warns of every glyph a font lacks)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
from matplotlib import font_manager

from geo.errors import Unavailable
from maps import report



@pytest.fixture(scope="module")
def monthly(engine, settings) -> dict:  # type: ignore[no-untyped-def]
    """The demo town's real briefing for July 2026, made at a known instant."""
    import datetime as dt

    from geo import reports

    with engine.connect() as conn:
        return reports.monthly(conn, month="2026-07", settings=settings,
                               now=dt.datetime(2026, 8, 1, 0, 30, tzinfo=dt.timezone.utc))
COMMUNITIES = {"type": "FeatureCollection", "features": [{
    "type": "Feature", "properties": {"name": "春安新区"},
    "geometry": {"type": "Polygon", "coordinates": [[[113.094, 40.049], [113.100, 40.049], [113.100, 40.054],
                                                     [113.094, 40.054], [113.094, 40.049]]]}}]}


def _missing_glyphs(render) -> list[str]:  # type: ignore[no-untyped-def]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        render()
    return [str(w.message) for w in caught if re.search(r"Glyph \d+ .* missing from font", str(w.message))]


def _map() -> str:
    return report.map_png(communities=COMMUNITIES, grids={"type": "FeatureCollection", "features": []},
                          incidents=[(113.097, 40.051, "dispute")], hot_cells=None, title="春安新区 2026-07 事件",
                          metric_crs="EPSG:4547")


def test_the_font_is_an_installed_cjk_file() -> None:
    family = report.cjk_font()
    path = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
    assert path in report.CJK_FONT_FILES and Path(path).is_file()


def test_the_chart_has_every_chinese_glyph(monthly) -> None:  # type: ignore[no-untyped-def]
    assert _missing_glyphs(lambda: report.chart_png(report=monthly, previous=None)) == []


def test_the_map_has_every_chinese_glyph() -> None:
    assert _missing_glyphs(_map) == []


def test_a_font_without_chinese_is_caught(monthly, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """What the briefing looked like before: DejaVu Sans for the labels, every Chinese glyph missing."""
    monkeypatch.setattr(report, "_use_fonts", lambda: plt.rcParams.update({"font.family": ["DejaVu Sans"]}))
    missing = _missing_glyphs(lambda: report.chart_png(report=monthly, previous=None))
    assert missing and any("DejaVu Sans" in m for m in missing)


def test_no_cjk_font_is_a_503_naming_the_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(report, "CJK_FONT_FILES", (str(tmp_path / "none.ttc"),))
    report.cjk_font.cache_clear()
    try:
        with pytest.raises(Unavailable, match="fonts-wqy-microhei"):
            report.cjk_font()
    finally:
        monkeypatch.undo()
        report.cjk_font.cache_clear()


def test_the_page_says_when_it_was_made_in_town_time(monthly) -> None:  # type: ignore[no-untyped-def]
    html = report.monthly_html(report=monthly, previous=None, map_src="data:,", chart_src="data:,")
    assert "生成 generated 2026-08-01 08:30 (UTC+8)" in html
