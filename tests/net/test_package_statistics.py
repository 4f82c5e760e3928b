"""Loading an MBTiles of several zooms into QGIS leaves nothing in the working folder.

QGIS computes approximate statistics as it builds a raster layer; GDAL computes them on an
overview and, for GDAL 3.6's MBTiles driver, saves them as ``" - zoom_level=N.aux.xml"`` in the
working folder. Offload stores them on the package first (core/package_statistics.py)."""
from __future__ import annotations

import gc
from pathlib import Path

import pytest
from osgeo import gdal

from offload.core.package_statistics import store_package_statistics
from offload.demo.tile_server import TileServer
from offload.net_tasks.request import TileRequest
from offload.net_tasks.tile_task import TileDownloadTask
from qgis_helpers import run_to_end

# Zoom 12: 3 × 3 tiles, 589,824 pixels: more than twice QGIS's sample of 250,000, so QGIS asks GDAL for
# approximate statistics, which GDAL computes on the smallest overview of more than 2,500 pixels (zoom 10).
BBOX = (6.95, 45.90, 7.15, 46.05)


def closed_all_layers() -> None:
    """Remove every layer from the project, so QGIS closes their datasets (and GDAL saves their records)."""
    from qgis.core import QgsProject
    from qgis.PyQt.QtCore import QCoreApplication

    QgsProject.instance().removeAllMapLayers()
    QCoreApplication.processEvents()
    gc.collect()


def test_offload_s_load_of_an_mbtiles_with_a_zoom_range_writes_nothing_in_the_working_folder(
        qgis_app, tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    output = tmp_path / "basemap.mbtiles"
    with TileServer("imagery") as server:
        task = TileDownloadTask(TileRequest(server.template, BBOX, 12, output, zoom_min=10, format="MBTiles",
                                            cache_dir=tmp_path / "cache"))
        assert run_to_end(task, 60) is True
    assert [layer.source() for layer in task.loaded_layers()] == [str(output)]
    closed_all_layers()
    assert list(work.iterdir()) == []
    # what is kept instead: the approximate statistics QGIS reads, on the package (the file QGIS writes anyway)
    dataset = gdal.Open(str(output))
    band = dataset.GetRasterBand(1)
    assert band.GetMetadataItem("STATISTICS_APPROXIMATE") == "YES" and band.GetOverviewCount() == 2


def test_processing_s_load_of_an_mbtiles_writes_nothing_in_the_working_folder(offload_provider, tmp_path,
                                                                               monkeypatch):
    import processing
    from qgis.core import QgsProject

    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    output = tmp_path / "basemap.mbtiles"
    with TileServer("imagery") as server:
        processing.runAndLoadResults("offload:tiles", {
            "URL": server.template, "EXTENT": "6.95,7.15,45.90,46.05 [EPSG:4326]", "ZOOM": 12, "MIN_ZOOM": 10,
            "FORMAT": 3, "OUTPUT": str(output)})
    assert [Path(layer.source()) for layer in QgsProject.instance().mapLayers().values()] == [output]
    closed_all_layers()
    assert list(work.iterdir()) == []


def test_the_statistics_are_gdal_s_own_and_the_rest_is_left_alone(qgis_app, tmp_path, monkeypatch):
    """The values GDAL's approximate statistics give; a file GDAL cannot read as an MBTiles is not touched."""
    source = tmp_path / "source.mbtiles"
    with TileServer("imagery") as server:
        task = TileDownloadTask(TileRequest(server.template, BBOX, 12, source, zoom_min=10, format="MBTiles",
                                            cache_dir=tmp_path / "cache"), load_outputs=False)
        assert run_to_end(task, 60) is True
    copy = tmp_path / "copy.mbtiles"
    copy.write_bytes(source.read_bytes())
    store_package_statistics(source)
    dataset = gdal.Open(str(source))
    ours = [dataset.GetRasterBand(band).GetStatistics(True, False) for band in (1, 2, 3)]
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # GDAL's own computation, which leaves the stray file this avoids
    dataset = gdal.Open(str(copy))
    theirs = [dataset.GetRasterBand(band).ComputeStatistics(True) for band in (1, 2, 3)]
    dataset = None
    assert ours == [pytest.approx(values) for values in theirs]
    assert [p.name for p in work.iterdir()] == [" - zoom_level=10.aux.xml"]  # GDAL 3.6's, without Offload
    for untouched in (tmp_path / "not.mbtiles", tmp_path / "mosaic.tif"):
        untouched.write_bytes(b"not a raster")
        store_package_statistics(untouched)
        assert not Path(f"{untouched}.aux.xml").exists()
