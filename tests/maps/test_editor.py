"""The editor page's builder (maps/editor.py), without a browser: assets, plan, bands, layers."""

from __future__ import annotations

import doctest
import html as _html
import json
import re

import pytest
from shapely.geometry import box, mapping

import maps.editor
from maps import vendor_assets
from maps.assets import STATIC_DIR, assert_no_cdn
from maps.editor import (
    DEVIATION_CLASSES,
    GEOMAN_CSS,
    GEOMAN_JS,
    LAYER_NAMES,
    MODES,
    PLANS_SCRIPT_PATHS,
    SCRIPT_PATHS,
    build_editor_map,
    deviation_class,
    plans_page,
    render,
)

BANDS = {"households": (200, 300), "population": (400, 500)}


def _fc(*features):
    return {"type": "FeatureCollection", "features": list(features)}


def _feature(geom, **props):
    return {"type": "Feature", "id": props.get("code"), "geometry": mapping(geom), "properties": props}


def _town():
    community = "140214101001"
    grids = _fc(
        _feature(box(113.100, 40.050, 113.102, 40.052), code=f"{community}001", name="春安新区第1网格",
                 community_code=community, households=232, population=490, buildings=2, units=6),
        _feature(box(113.102, 40.050, 113.104, 40.052), code=f"{community}002", name="春安新区第2网格",
                 community_code=community, households=180, population=390, buildings=1, units=3),
    )
    buildings = _fc(
        _feature(box(113.1005, 40.0505, 113.1012, 40.0507), code=f"{community}-01", name="1号楼",
                 address="春安新区1号楼", community_code=community, grid_code=f"{community}001",
                 households=86, population=198, units=3),
    )
    communities = _fc(_feature(box(113.100, 40.050, 113.104, 40.052), code=community, name="春安新区"))
    return grids, buildings, communities


def _page(**kw) -> str:
    grids, buildings, communities = _town()
    args = dict(plan={"id": 12, "name": "2027 调整 <draft>", "status": "draft", "version": 5},
                grids=grids, buildings=buildings, communities=communities, bands=BANDS,
                bounds=(113.100, 40.050, 113.104, 40.052))
    args.update(kw)
    return render(build_editor_map(**args))


def _panels(html: str) -> str:
    """The panels' HTML, decoded (MapPanel puts it in the page as JSON strings)."""
    return "\n".join(json.loads(literal) for literal in re.findall(r'innerHTML = ("(?:[^"\\]|\\.)*");', html))


def _panel_settings(html: str) -> dict[str, str]:
    """The data-* settings of #gm-editor."""
    tag = re.search(r'<div id="gm-editor"[^>]*>', _panels(html))
    assert tag, "no #gm-editor panel in the page"
    return {k: _html.unescape(v) for k, v in re.findall(r'data-([a-z-]+)="([^"]*)"', tag.group(0))}


def test_page_loads_the_vendored_geoman_after_leaflet_and_nothing_from_outside() -> None:
    html = _page()
    assert_no_cdn(html)
    leaflet = html.index('<script src="/static/vendor/leaflet/leaflet.js"></script>')
    geoman = html.index(f'<script src="/static/{GEOMAN_JS}"></script>')
    assert leaflet < geoman  # Geoman's init hooks must exist before folium makes the map and layers
    assert f'href="/static/{GEOMAN_CSS}"' in html
    assert '<script defer src="/static/gridmap/common.js"></script>' + "".join(
        f'<script defer src="/static/{path}"></script>' for path in SCRIPT_PATHS) in html
    assert 'href="/static/gridmap/editor.css"' in html
    for path in (GEOMAN_JS, GEOMAN_CSS, "gridmap/common.js", *SCRIPT_PATHS, "gridmap/editor.css"):
        assert (STATIC_DIR / path).is_file(), path


def _editor_scripts(html: str) -> list[str]:
    """The page's script paths under gridmap/editor/, in the order the page loads them."""
    return re.findall(r'<script defer src="/static/(gridmap/editor/[^"]+)"></script>', html)


def test_every_editor_script_is_loaded_once_and_main_last() -> None:
    """A file added to maps/static/gridmap/editor/ but not to SCRIPT_PATHS (or the start page's) would
    never run: each is loaded by the editor page or the start page, by neither twice, main.js last."""
    files = sorted(f"gridmap/editor/{p.name}" for p in (STATIC_DIR / "gridmap/editor").iterdir())
    assert files and all(f.endswith(".js") for f in files), files
    editor = _editor_scripts(_page())
    start = _editor_scripts(plans_page(plans=[], published=None))
    assert editor == list(SCRIPT_PATHS) and start == list(PLANS_SCRIPT_PATHS)
    assert len(set(editor)) == len(editor) and len(set(start)) == len(start), (editor, start)
    assert sorted(set(editor) | set(start)) == files
    assert editor[-1] == "gridmap/editor/main.js"  # makes the editor from the parts before it
    assert start[-1] == "gridmap/editor/plans.js"
    # each part a page loads is defined before the script that uses it
    for page in (editor, start):
        defined: set[str] = set()
        for path in page:
            source = (STATIC_DIR / path).read_text(encoding="utf-8")
            used = set(re.findall(r"\bM\.(\w+)\b", source))
            own = set(re.findall(r"\bM\.(\w+) = ", source))
            assert used - own <= defined, (path, sorted(used - own - defined))
            defined |= own


def test_static_url_reaches_every_asset() -> None:
    html = _page(static_url="/gm/static")
    assert f'"/gm/static/{GEOMAN_JS}"' in html
    assert all(f'"/gm/static/{path}"' in html for path in SCRIPT_PATHS)
    assert '"/gm/static/gridmap/common.js"' in html
    assert "/static/vendor/leaflet-geoman" not in html.replace("/gm/static/", "")


def test_geoman_is_vendored_with_its_licence_and_in_the_manifest() -> None:
    pkg = next(p for p in vendor_assets.PACKAGES if p.name == "@geoman-io/leaflet-geoman-free")
    assert pkg.version.startswith("2.20.")
    manifest = json.loads((STATIC_DIR / "vendor" / "manifest.json").read_text(encoding="utf-8"))
    entry = next(p for p in manifest["packages"] if p["name"] == pkg.name)
    assert set(entry["files"]) == {"LICENSE", "leaflet-geoman.min.js", "leaflet-geoman-layers.css"}
    assert vendor_assets.check() == []
    css = (STATIC_DIR / GEOMAN_CSS).read_text(encoding="utf-8")
    assert ".marker-icon" in css and "url(" not in css  # the layer styles only, no toolbar icons


def test_page_carries_the_plan_its_version_and_the_bands() -> None:
    html = _page()
    s = _panel_settings(html)
    assert s["plan-id"] == "12" and s["plan-version"] == "5" and s["plan-status"] == "draft"
    assert s["api-base"] == "/v1"
    assert json.loads(s["bands"]) == {"households": [200, 300], "population": [400, 500]}
    classes = json.loads(s["classes"])
    assert [c[0] for c in classes] == [c for c, _, _ in DEVIATION_CLASSES]
    # the plan's name is escaped; the title names it
    assert "2027 调整 &lt;draft&gt;" in html and "<draft>" not in html
    assert "<title>" in html and "2027 调整" in html.split("<title>")[1].split("</title>")[0]


def test_page_has_the_toolbar_the_layers_and_the_panes() -> None:
    html = _page()
    panels = _panels(html)
    for mode, label in MODES:
        assert f'data-mode="{mode}"' in panels and label in panels
    for element in ("gm-ed-undo", "gm-ed-redo", "gm-ed-publish", "gm-ed-diff", "gm-ed-metrics", "gm-ed-status",
                    "gm-ed-problems", "gm-ed-community"):
        assert f'id="{element}"' in panels, element
    assert "户数偏差 Households vs band 200–300" in panels  # the legend
    for layer in (*LAYER_NAMES, "communities"):
        assert f'"gmLayer": "{layer}"' in html, layer
    for pane in ("gm-ed-grids", "gm-ed-problems", "gm-ed-diff", "gm-ed-buildings"):
        assert f'"{pane}"' in html
    # buildings are no snap target for Geoman's vertex editing
    assert '"snapIgnore": true' in html and '"pmIgnore": true' in html
    # data in the page: the grid and the building with their counts
    assert "140214101001002" in html and ("春安新区1号楼" in html or "\\u6625\\u5b89" in html)


def test_bands_and_plan_are_checked() -> None:
    with pytest.raises(ValueError, match="households"):
        _page(bands={"population": (400, 500)})
    with pytest.raises(ValueError, match="min <= max"):
        _page(bands={"households": (300, 200), "population": (400, 500)})
    with pytest.raises(ValueError, match="'id'"):
        _page(plan={"name": "no id"})
    with pytest.raises(ValueError, match="FeatureCollection"):
        _page(grids=[])


@pytest.mark.parametrize(("deviation", "cls"), [
    (None, "ok"), (0, "ok"), (-1, "under"), (-49, "under"), (-50, "under-far"), (-300, "under-far"),
    (1, "over"), (49.9, "over"), (50, "over-far"),
])
def test_deviation_classes(deviation, cls) -> None:
    assert deviation_class(deviation, (200, 300)) == cls


def test_plans_page_lists_plans_and_offers_a_new_draft() -> None:
    plans = [
        {"id": 1, "name": "初始 initial", "status": "retired", "version": 3, "published_at": "2026-01-01T00:00:00+08:00"},
        {"id": 2, "name": "现行 current", "status": "published", "version": 4,
         "published_at": "2026-03-01T00:00:00+08:00"},
        {"id": 3, "name": "草稿 <a>", "status": "draft", "version": 9},
        {"id": 5, "name": "草稿 b", "status": "draft", "version": 1},
    ]
    html = plans_page(plans=plans, published=plans[1])
    assert_no_cdn(html)
    assert 'id="gm-editor-plans"' in html and 'data-source="2"' in html
    assert '<script defer src="/static/gridmap/common.js"></script>' + "".join(
        f'<script defer src="/static/{path}"></script>' for path in PLANS_SCRIPT_PATHS) in html
    assert "<script>" not in html  # no inline script: the CSP allows none that is not hashed
    assert 'id="gm-ed-newest" href="/maps/editor?plan=5"' in html
    assert html.index('data-plan="5"') < html.index('data-plan="3"') < html.index('data-plan="1"')
    assert "草稿 &lt;a&gt;" in html
    assert 'id="gm-ed-new" disabled' not in html
    # nothing published: no source to copy, the button is off
    assert 'id="gm-ed-new" disabled' in plans_page(plans=[], published=None)


def test_docstring_examples() -> None:
    result = doctest.testmod(maps.editor, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
