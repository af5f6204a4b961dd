"""The overview map, built from a small synthetic town and opened in Chromium."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from shapely.geometry import Point, box, mapping

from maps.assets import assert_no_cdn, find_cdn_urls
from maps.overview import CAMERA_STATUS_COLOURS, LAYER_NAMES, build_overview_map, render

SCREENSHOT_COPY = Path("/tmp/gridmap-overview.png")
DISTRICT_TOWN = "140214001"


def _fc(features):
    return {"type": "FeatureCollection", "features": features}


def _feature(geom, **props):
    return {"type": "Feature", "id": props.get("code"), "geometry": mapping(geom), "properties": props}


def synthetic_town():
    """2 communities, 4 grids, 6 buildings, 10 cameras near 113.1E 40.05N (WGS84)."""
    communities, grids, buildings, cameras = [], [], [], []
    names = [("春安新区", "Chun'an New District"), ("宁丰社区", "Ningfeng Community")]
    for c, (name, name_en) in enumerate(names):
        west = 113.095 + c * 0.0056
        area = box(west, 40.045, west + 0.005, 40.050)  # ~425 m x 555 m
        ccode = f"{DISTRICT_TOWN}{c + 1:03d}"
        communities.append(_feature(area, code=ccode, name=name, name_en=name_en))
        for g in range(2):  # west and east halves
            gx = west + g * 0.0025
            gcode = f"{ccode}{g + 1:03d}"
            grids.append(
                _feature(
                    box(gx, 40.045, gx + 0.0025, 40.050),
                    code=gcode,
                    name=f"{name}第{g + 1}网格",
                    community_code=ccode,
                    households=220 + 10 * g + 40 * c,
                    population=450 + 20 * g + 30 * c,
                    buildings=2 if g == 0 else 1,
                    grid_member=f"网格员{c * 2 + g + 1}",
                )
            )
        # three south-facing slabs, 60 m x 13 m, rows ~60 m apart
        for b, (dx, dy, g) in enumerate([(0.0004, 0.0010, 0), (0.0004, 0.0030, 0), (0.0029, 0.0020, 1)]):
            bx, by = west + dx, 40.045 + dy
            bcode = f"{ccode}B{b + 1:02d}"
            buildings.append(
                _feature(
                    box(bx, by, bx + 0.0007, by + 0.00012),
                    code=bcode,
                    name=f"{b + 1}号楼",
                    address=f"{name}{b + 1}号楼",
                    floors=11 + 3 * b,
                    height_m=33.0 + 9 * b,
                    units=3,
                    households=66 + 18 * b,
                    grid_code=f"{ccode}{g + 1:03d}",
                )
            )
    statuses = ["online"] * 6 + ["offline"] * 2 + ["fault"] * 2
    for i, status in enumerate(statuses):
        x = 113.0955 + (i % 5) * 0.0021
        y = 40.0455 + (i // 5) * 0.0035
        cameras.append(
            _feature(
                Point(x, y),
                code=f"140214001013200{i:05d}",
                name=f"摄像头{i + 1}",
                kind=["bullet", "dome", "ptz", "fisheye"][i % 4],
                status=status,
                mount="pole",
                height_m=5.0,
                azimuth_deg=(i * 37) % 360,
                hfov_deg=90.0,
                range_m=40.0,
            )
        )
    return _fc(communities), _fc(grids), _fc(buildings), _fc(cameras)


@pytest.fixture(scope="module")
def town():
    return synthetic_town()


@pytest.fixture(scope="module")
def overview_html(town):
    communities, grids, buildings, cameras = town
    m = build_overview_map(
        communities=communities,
        grids=grids,
        buildings=buildings,
        cameras=cameras,
        bounds=(113.095, 40.045, 113.1056, 40.050),
    )
    return render(m)


def test_overview_html_has_no_cdn_assets(overview_html):
    assert_no_cdn(overview_html)
    assert find_cdn_urls(overview_html) == []
    assert "/static/vendor/leaflet/leaflet.js" in overview_html
    assert "<title>高山镇网格总览 Gaoshan Town grids</title>" in overview_html


def test_overview_html_stays_small(town):
    """700 cameras, 125 buildings and 50 grids stay one layer each, not one object per feature."""
    communities, grids, buildings, _ = town
    cams = []
    for i in range(700):
        cams.append(
            _feature(
                Point(113.095 + (i % 35) * 0.0003, 40.045 + (i // 35) * 0.00025),
                code=f"1402140010132{i:07d}",
                name=f"cam{i}",
                kind="dome",
                status=("online", "offline", "fault")[i % 3],
                mount="wall",
                height_m=3.0,
                azimuth_deg=180.0,
                hfov_deg=100.0,
                range_m=12.0,
            )
        )
    html = render(
        build_overview_map(
            communities=communities, grids=grids, buildings=buildings, cameras=_fc(cams), bounds=None
        )
    )
    assert html.count("L.circleMarker") + html.count("new L.CircleMarker") <= 1
    assert len(html) < 400_000, len(html)


def test_overview_in_chromium(browser, open_map, static_site, town, overview_html, tmp_path):
    communities, grids, buildings, cameras = town
    site = static_site({"index.html": overview_html})
    shot = tmp_path / "overview.png"
    report = open_map(browser, site.url("index.html"), screenshot=shot)
    shutil.copyfile(shot, SCREENSHOT_COPY)

    page = report.page
    assert page.evaluate("typeof L") == "object"
    assert page.evaluate("L.version").startswith("1.9")
    assert report.console_errors == []
    assert report.page_errors == []
    assert report.external_requests == []
    assert report.failed_responses == []
    assert report.layer_control_labels == list(LAYER_NAMES.values())
    n = sum(len(fc["features"]) for fc in (communities, grids, buildings, cameras))
    assert report.path_count >= n, (report.path_count, n)

    # one label per grid, showing the grid number (last 3 digits of the code)
    labels = page.eval_on_selector_all(".gm-grid-label span", "els => els.map(e => e.textContent)")
    assert sorted(labels) == ["001", "001", "002", "002"]
    # title and legend are on the page
    assert "高山镇网格总览" in page.inner_text(".gm-title")
    legend = page.inner_text(".gm-legend")
    assert "春安新区" in legend and "宁丰社区" in legend and "故障 fault (2)" in legend
    # cameras are drawn in their status colours
    fills = page.eval_on_selector_all(
        ".leaflet-gm-cameras-pane path.leaflet-interactive",
        "els => els.map(e => e.getAttribute('fill'))",
    )
    assert sorted(fills) == sorted(
        [CAMERA_STATUS_COLOURS[f["properties"]["status"]] for f in cameras["features"]]
    )


def test_overview_layers_toggle(browser, open_map, static_site, town, overview_html, tmp_path):
    site = static_site({"index.html": overview_html})
    report = open_map(browser, site.url("index.html"), screenshot=tmp_path / "toggle.png")
    before = report.path_count
    page = report.page
    control = page.locator(".leaflet-control-layers-overlays")
    control.get_by_text(LAYER_NAMES["cameras"], exact=True).click()
    after = page.locator(".leaflet-pane svg path.leaflet-interactive").count()
    assert after == before - len(town[3]["features"])
    control.get_by_text(LAYER_NAMES["grids"], exact=True).click()
    assert page.locator(".gm-grid-label").count() == 0
