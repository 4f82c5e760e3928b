"""`make demo` end to end: the server, the chain, the styled project and the picture."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from osgeo import gdal
from qgis.core import QgsProject
from qgis.PyQt.QtGui import QImage


def test_the_demo_writes_its_outputs_and_a_map(tmp_path, subprocess_env):
    out = tmp_path / "demo"
    done = subprocess.run([sys.executable, "-m", "offload", "demo", "--output", str(out)], env=subprocess_env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "chain: tiles → slope → hillshade; buffer" in done.stderr
    for name in ("terrain.tif", "imagery.tif", "slope.tif", "hillshade.tif", "sample-points.gpkg", "sample-zones.gpkg",
                 "offload-demo.qgz", "offload-demo.png"):
        assert (out / name).exists(), name
    assert not [p for p in out.iterdir() if ".offload-" in p.name]
    slope = gdal.Open(str(out / "slope.tif"))
    values = slope.ReadAsArray()
    assert 5 < float(np.median(values[values != slope.GetRasterBand(1).GetNoDataValue()])) < 60
    project = QgsProject()
    assert project.read(str(out / "offload-demo.qgz"))
    assert sorted(layer.name() for layer in project.mapLayers().values()) == [
        "hillshade", "imagery", "sample points", "sample zones", "slope", "terrain"]
    (zones,) = project.mapLayersByName("sample zones")
    assert zones.featureCount() == 40
    ring = next(zones.getFeatures()).geometry().boundingBox()
    assert ring.height() == pytest.approx(2 * 750 / 111_130, rel=0.02)  # 750 m, in degrees of latitude
    assert all(layer.isValid() for layer in project.mapLayers().values())
    image = QImage(str(out / "offload-demo.png"))
    assert image.width() == 1000 and len({image.pixel(x, 500) for x in range(0, 1000, 10)}) > 50
