"""Re-fetch the vendored Leaflet assets into ``maps/static/vendor/``.

The map pages must work on an intranet, so Leaflet and its plugins are served
by the app itself, never from a CDN. This script is the one reproducible way
to (re)build that folder: it fetches each package with ``npm pack`` from the
npm registry (the only way in from here), copies just the dist files the maps
use plus the licence, and rewrites ``manifest.json`` (sizes and SHA-256 of each
file, npm integrity of each tarball) and ``README.md``.

Usage::

    python -m maps.vendor_assets            # fetch and rewrite the vendor folder
    python -m maps.vendor_assets --check    # verify files against manifest.json (no network)

To update a package, change its version in :data:`PACKAGES`, run the script,
check the browser tests (``pytest tests/maps``) and, if a URL folium emits
changed, the table in :mod:`maps.assets`.

One file does not come from npm: ``leaflet.heat/leaflet-heat.js`` is the copy
that folium ships (``folium/templates/leaflet_heat.min.js``): the npm release
0.2.0 of leaflet.heat ignores point weights (Leaflet/Leaflet.heat#74), folium
carries the upstream fix (Leaflet/Leaflet.heat#78), and ``folium.plugins.HeatMap``
is written against it. The licence file still comes from the npm package.

One file is an excerpt: ``leaflet-geoman/leaflet-geoman-layers.css`` is the
``src/css/layers.css`` section of Geoman's ``dist/leaflet-geoman.css`` (vertex
handles, draw cursors), cut between two marker comments. The planners' editor
has its own toolbar, so Geoman's toolbar styles (the rest of the file, whose SVG
icons are data: URIs with ``url(%23...)`` references inside) are not needed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from importlib import metadata, resources
from pathlib import Path

VENDOR_DIR = Path(__file__).resolve().parent / "static" / "vendor"
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Package:
    """One npm package and the files taken from its tarball.

    ``files`` maps a path inside the tarball's ``package/`` folder to a path
    under ``vendor/<dest>/``.
    """

    name: str
    version: str
    dest: str
    licence: str
    homepage: str
    files: dict[str, str]
    why: str
    # files that come from the installed folium package instead: src -> dest
    from_folium: dict[str, str] = field(default_factory=dict)
    # excerpts of a tarball file: dest -> (src, first line to keep, first line not to keep)
    excerpts: dict[str, tuple[str, str, str]] = field(default_factory=dict)


PACKAGES: list[Package] = [
    Package(
        name="leaflet",
        version="1.9.4",
        dest="leaflet",
        licence="BSD-2-Clause",
        homepage="https://leafletjs.com/",
        why="the map library (folium emits leaflet@1.9.3; 1.9.4 is the last 1.9.x)",
        files={
            "dist/leaflet.js": "leaflet.js",
            "dist/leaflet.css": "leaflet.css",
            "dist/images/layers.png": "images/layers.png",
            "dist/images/layers-2x.png": "images/layers-2x.png",
            "dist/images/marker-icon.png": "images/marker-icon.png",
            "dist/images/marker-icon-2x.png": "images/marker-icon-2x.png",
            "dist/images/marker-shadow.png": "images/marker-shadow.png",
            "LICENSE": "LICENSE",
        },
    ),
    Package(
        name="jquery",
        version="3.7.1",
        dest="jquery",
        licence="MIT",
        homepage="https://jquery.com/",
        why="folium's own templates use it (folium.Popup content, objects kept in front)",
        files={
            "dist/jquery.min.js": "jquery.min.js",
            "LICENSE.txt": "LICENSE.txt",
        },
    ),
    Package(
        name="leaflet.markercluster",
        version="1.5.3",
        dest="leaflet.markercluster",
        licence="MIT",
        homepage="https://github.com/Leaflet/Leaflet.markercluster",
        why="folium.plugins.MarkerCluster / FastMarkerCluster (folium emits 1.1.0)",
        files={
            "dist/leaflet.markercluster.js": "leaflet.markercluster.js",
            "dist/MarkerCluster.css": "MarkerCluster.css",
            "dist/MarkerCluster.Default.css": "MarkerCluster.Default.css",
            "MIT-LICENCE.txt": "MIT-LICENCE.txt",
        },
    ),
    Package(
        name="leaflet.heat",
        version="0.2.0",
        dest="leaflet.heat",
        licence="BSD-2-Clause",
        homepage="https://github.com/Leaflet/Leaflet.heat",
        why="folium.plugins.HeatMap; the script is folium's patched copy (weights fix, Leaflet.heat#78)",
        files={"LICENSE": "LICENSE"},
        from_folium={"templates/leaflet_heat.min.js": "leaflet-heat.js"},
    ),
    Package(
        name="swagger-ui-dist",
        version="5.35.0",
        dest="swagger-ui",
        licence="Apache-2.0",
        homepage="https://github.com/swagger-api/swagger-ui",
        why="FastAPI's /docs page (FastAPI points it at a CDN by default)",
        files={
            "swagger-ui-bundle.js": "swagger-ui-bundle.js",
            "swagger-ui.css": "swagger-ui.css",
            "favicon-32x32.png": "favicon-32x32.png",
            "LICENSE": "LICENSE",
        },
    ),
    Package(
        name="leaflet.fullscreen",
        version="3.0.2",
        dest="leaflet.fullscreen",
        licence="MIT",
        homepage="https://github.com/brunob/leaflet.fullscreen",
        why="folium.plugins.Fullscreen (folium emits 3.0.0)",
        files={
            "Control.FullScreen.js": "Control.FullScreen.js",
            "Control.FullScreen.css": "Control.FullScreen.css",
            "icon-fullscreen.svg": "icon-fullscreen.svg",
            "LICENSE": "LICENSE",
        },
    ),
    Package(
        name="@geoman-io/leaflet-geoman-free",
        version="2.20.2",
        dest="leaflet-geoman",
        licence="MIT",
        homepage="https://github.com/geoman-io/leaflet-geoman",
        why="the planners' editor (/maps/editor): vertex dragging with snapping, drawing a split line",
        files={
            "dist/leaflet-geoman.min.js": "leaflet-geoman.min.js",
            "LICENSE": "LICENSE",
        },
        excerpts={
            "leaflet-geoman-layers.css": (
                "dist/leaflet-geoman.css", "/* src/css/layers.css */", "/* src/css/controls.css */"
            ),
        },
    ),
    Package(
        name="maplibre-gl",
        version="5.24.1",
        dest="maplibre-gl",
        licence="BSD-3-Clause",
        homepage="https://maplibre.org/",
        why="the vector-tile page (/maps/tiles); the CSP build: its worker is a file of the app, not a blob: URL",
        files={
            "dist/maplibre-gl-csp.js": "maplibre-gl-csp.js",
            "dist/maplibre-gl-csp-worker.js": "maplibre-gl-csp-worker.js",
            "dist/maplibre-gl.css": "maplibre-gl.css",
            "LICENSE.txt": "LICENSE.txt",
        },
    ),
]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _npm_pack(spec: str, workdir: Path) -> dict:
    """``npm pack SPEC`` into *workdir*; returns npm's JSON record of the tarball."""
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm is not on PATH: install Node.js/npm (Debian: apt-get install npm)")
    proc = subprocess.run(
        [npm, "pack", spec, "--json", "--pack-destination", str(workdir)],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"npm pack {spec} failed:\n{proc.stderr.strip()}")
    info = json.loads(proc.stdout)
    return info[0] if isinstance(info, list) else info


def _extract(tgz: Path, into: Path) -> Path:
    with tarfile.open(tgz) as tar:
        tar.extractall(into, filter="data")
    return into / "package"


def _excerpt(text: str, begin: str, end: str, *, src: str) -> str:
    """The lines of *text* from the one equal to *begin* up to (not including) the one equal to *end*."""
    lines = text.splitlines(keepends=True)
    stripped = [line.strip() for line in lines]
    try:
        first = stripped.index(begin)
        last = stripped.index(end, first + 1)
    except ValueError:
        raise SystemExit(f"{src}: marker lines {begin!r} .. {end!r} not found; update the excerpt") from None
    return "".join(lines[first:last]).rstrip() + "\n"


def fetch(dest: Path = VENDOR_DIR) -> dict:
    """Fetch every package and rewrite *dest*; return the manifest written."""
    dest.mkdir(parents=True, exist_ok=True)
    folium_version = metadata.version("folium")
    manifest: dict = {"packages": []}
    with tempfile.TemporaryDirectory(prefix="gridmap-vendor-") as tmp:
        tmpdir = Path(tmp)
        for pkg in PACKAGES:
            spec = f"{pkg.name}@{pkg.version}"
            print(f"npm pack {spec}", file=sys.stderr)
            info = _npm_pack(spec, tmpdir)
            root = _extract(tmpdir / info["filename"], tmpdir / pkg.dest)
            out = dest / pkg.dest
            if out.exists():
                shutil.rmtree(out)
            files = []
            for src, rel in pkg.files.items():
                target = out / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(root / src, target)
                files.append(rel)
            for src, rel in pkg.from_folium.items():
                target = out / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                source = resources.files("folium").joinpath(src)
                target.write_bytes(source.read_bytes())
                files.append(rel)
            for rel, (src, begin, end) in pkg.excerpts.items():
                target = out / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                text = (root / src).read_text(encoding="utf-8")
                target.write_text(_excerpt(text, begin, end, src=src), encoding="utf-8")
                files.append(rel)
            record = {
                "name": pkg.name,
                "version": pkg.version,
                "licence": pkg.licence,
                "homepage": pkg.homepage,
                "dir": pkg.dest,
                "npm_integrity": info.get("integrity"),
                "command": f"npm pack {spec}",
                "from_folium": (
                    {rel: f"folium {folium_version}: folium/{src}" for src, rel in pkg.from_folium.items()}
                    or None
                ),
                "why": pkg.why,
                "files": {
                    rel: {"bytes": (out / rel).stat().st_size, "sha256": _sha256(out / rel)}
                    for rel in sorted(files)
                },
            }
            if pkg.excerpts:  # only where there are some: the other records stay as they were
                record["excerpts"] = {
                    rel: f"{src}, from the line {begin} up to the line {end}"
                    for rel, (src, begin, end) in pkg.excerpts.items()
                }
            manifest["packages"].append(record)
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (dest / "README.md").write_text(readme(manifest), encoding="utf-8")
    return manifest


def readme(manifest: dict) -> str:
    """The vendor folder's README, generated from the manifest."""
    total = 0
    rows = []
    for p in manifest["packages"]:
        size = sum(f["bytes"] for f in p["files"].values())
        total += size
        src = p["command"]
        if p.get("from_folium"):
            src += " (licence); script from " + "; ".join(p["from_folium"].values())
        for rel, what in (p.get("excerpts") or {}).items():
            src += f" ({rel}: an excerpt of {what})"
        rows.append(
            f"| {p['name']} | {p['version']} | {p['licence']} | `{p['dir']}/` | {size / 1024:.1f} KiB | `{src}` | {p['why']} |"
        )
    lines = [
        "# Vendored map assets",
        "",
        "Leaflet and the plugins the gridmap pages use, served by the app under",
        "`<static>/vendor/` so that the maps work with no internet. Never point a",
        "page at a CDN: `maps.assets.localize()` rewrites folium's CDN links to these",
        "files and refuses any it does not know.",
        "",
        "Generated by `python -m maps.vendor_assets` (which runs the npm commands",
        "below in a temporary folder and copies only the dist files listed in",
        "`manifest.json`, with SHA-256 sums). Verify without network:",
        "`python -m maps.vendor_assets --check`.",
        "",
        "| package | version | licence | folder | size | fetched with | used for |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"Total: {total / 1024:.1f} KiB. Each folder holds the package's own licence file.",
        "",
        "Not vendored (folium's defaults that gridmap drops): Bootstrap 5 JS/CSS,",
        "Bootstrap 3 glyphicons, Font Awesome and Leaflet.awesome-markers. They are",
        "only needed by `folium.Icon` (and `FastMarkerCluster` without a callback),",
        "which `localize()` rejects with a message; use `folium.DivIcon`,",
        "`folium.CircleMarker` or Leaflet's default marker instead.",
        "",
    ]
    return "\n".join(lines)


def check(dest: Path = VENDOR_DIR) -> list[str]:
    """Compare the files on disk with ``manifest.json``; return the problems found."""
    problems = []
    manifest = json.loads((dest / MANIFEST).read_text(encoding="utf-8"))
    for p in manifest["packages"]:
        for rel, meta in p["files"].items():
            path = dest / p["dir"] / rel
            if not path.is_file():
                problems.append(f"missing: {path}")
            elif _sha256(path) != meta["sha256"]:
                problems.append(f"changed since vendoring: {path}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m maps.vendor_assets", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="verify files against manifest.json; no network")
    parser.add_argument("--dest", type=Path, default=VENDOR_DIR, help=f"vendor folder (default {VENDOR_DIR})")
    args = parser.parse_args(argv)
    if args.check:
        problems = check(args.dest)
        for line in problems:
            print(line, file=sys.stderr)
        print("ok" if not problems else f"{len(problems)} problem(s)")
        return 1 if problems else 0
    manifest = fetch(args.dest)
    n = sum(len(p["files"]) for p in manifest["packages"])
    print(f"vendored {len(manifest['packages'])} packages, {n} files into {args.dest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
