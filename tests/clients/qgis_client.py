"""A real QGIS (PyQGIS of Debian 12's QGIS 3.22, the system Python, not the project's venv) as a
planner's desktop would use it: an OGC API – Features connection and a vector-tile connection to
gridmap, with the API key in a QGIS "Basic" authentication configuration (the only header-carrying
method QGIS 3.22 has), features read and a map rendered.

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 tests/clients/qgis_client.py BASE KEY OUT_DIR

Prints one JSON object: per collection the feature count QGIS read, its fields and CRS; the extent;
the vector-tile layer's validity and how many pixels of a rendered map are not background. Run by
tests/api/test_ogc_qgis.py; kept free of the project's imports (it runs under another Python).
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (  # noqa: E402  (after the platform is set)
    Qgis,
    QgsApplication,
    QgsAuthMethodConfig,
    QgsCoordinateReferenceSystem,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsRectangle,
    QgsVectorLayer,
    QgsVectorTileLayer,
)
from qgis.PyQt.QtCore import QSize  # noqa: E402
from qgis.PyQt.QtGui import QColor  # noqa: E402


def render(layer, extent: QgsRectangle, path: str) -> int:  # type: ignore[no-untyped-def]
    """Render *layer* over *extent* (EPSG:3857) to *path*; the pixels that are not the white background."""
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
    settings.setExtent(extent)
    settings.setOutputSize(QSize(512, 512))
    settings.setBackgroundColor(QColor(255, 255, 255))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    image.save(path)
    white = QColor(255, 255, 255).rgb()
    return sum(1 for x in range(0, 512, 4) for y in range(0, 512, 4) if image.pixel(x, y) != white)


def main() -> None:
    base, key, out = sys.argv[1], sys.argv[2], sys.argv[3]
    os.environ["QGIS_AUTH_DB_DIR_PATH"] = out  # a throwaway authentication database
    app = QgsApplication([], False, out)
    app.setPrefixPath("/usr", True)
    app.initQgis()
    auth = QgsApplication.authManager()
    auth.setMasterPassword("gridmap test", True)
    cfg = QgsAuthMethodConfig("Basic")
    cfg.setName("gridmap")
    cfg.setConfig("username", "qgis")
    cfg.setConfig("password", key)
    stored = auth.storeAuthenticationConfig(cfg)
    authcfg = cfg.id()
    result: dict = {"qgis": Qgis.QGIS_VERSION, "stored": bool(stored[0] if isinstance(stored, tuple) else stored),
                    "methods": auth.authMethodsKeys(), "collections": {}}
    for name in sys.argv[4].split(","):
        uri = (f"url='{base}/ogc' typename='{name}' authcfg='{authcfg}' restrictToRequestBBOX='0' "
               "pagingEnabled='true' pageSize='1000'")
        layer = QgsVectorLayer(uri, name, "OAPIF")
        entry: dict = {"valid": layer.isValid()}
        if layer.isValid():
            ids = [f.id() for f in layer.getFeatures()]
            entry.update(read=len(ids), fields=[f.name() for f in layer.fields()], crs=layer.crs().authid(),
                         extent=[layer.extent().xMinimum(), layer.extent().yMinimum(),
                                 layer.extent().xMaximum(), layer.extent().yMaximum()])
        # (an invalid layer's error() crashes QGIS 3.22: its provider is gone; validity is the answer)
        result["collections"][name] = entry
    tiles = QgsVectorTileLayer(f"type=xyz&url={base}/tiles/grids/{{z}}/{{x}}/{{y}}.mvt&zmin=12&zmax=20"
                               f"&authcfg={authcfg}", "grids tiles")
    result["tiles"] = {"valid": tiles.isValid()}
    if tiles.isValid():
        x0, y0, x1, y1 = (float(v) for v in sys.argv[5].split(","))  # the town in EPSG:3857
        result["tiles"]["drawn_pixels"] = render(tiles, QgsRectangle(x0, y0, x1, y1), f"{out}/qgis-grids-tiles.png")
    print(json.dumps(result, ensure_ascii=False), flush=True)
    # Not app.exitQgis(): QGIS 3.22's teardown of a headless application segfaults now and then (after
    # the work is done); leave at once with the answer printed.
    os._exit(0)


if __name__ == "__main__":
    main()
