"""Loading an MBTiles of several zooms into QGIS leaves nothing in the working folder.

QGIS computes approximate statistics as it builds a raster layer; GDAL computes them on an
overview and, for GDAL 3.6's MBTiles driver, saves them as ``" - zoom_level=N.aux.xml"`` in the
working folder. Offload stores them on the package first (core/package_statistics.py)."""
from __future__ import annotations

import gc
import os
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest
from osgeo import gdal

import offload.core.package_statistics as package_statistics
from offload.core.package_statistics import store_package_statistics
from offload.demo.tile_server import Faults, TileServer
from offload.net_tasks.request import TileRequest
from offload.net_tasks.tile_task import TileDownloadTask
from qgis_helpers import run_to_end

# Zoom 12: 3 × 3 tiles, 589,824 pixels: more than twice QGIS's sample of 250,000, so QGIS asks GDAL for
# approximate statistics, which GDAL computes on the smallest overview of more than 2,500 pixels (zoom 10).
BBOX = (6.95, 45.90, 7.15, 46.05)


def statistics_stored(path: Path) -> list:
    """Each colour band's stored statistics ([min, max, mean, stddev]); None for a band without."""
    dataset = gdal.Open(str(path))
    try:
        return [dataset.GetRasterBand(band).GetStatistics(True, False) if
                dataset.GetRasterBand(band).GetMetadataItem("STATISTICS_MEAN") is not None else None
                for band in (1, 2, 3)]
    finally:
        dataset = None


def gdal_s_own(path: Path, tmp_path: Path) -> list:
    """GDAL's approximate statistics of bands 1-3, computed on a copy (in a folder of its own: the stray file)."""
    folder = tmp_path / "gdal"
    folder.mkdir(exist_ok=True)
    copy = folder / "copy.mbtiles"
    shutil.copy(path, copy)
    here = os.getcwd()
    os.chdir(folder)  # GDAL 3.6 writes its record of the overview in the working folder
    try:
        dataset = gdal.Open(str(copy))
        values = [dataset.GetRasterBand(band).ComputeStatistics(True) for band in (1, 2, 3)]
        dataset = None
    finally:
        os.chdir(here)
    return values


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


def test_the_task_stores_them_on_its_worker_never_on_qgis_main_thread(qgis_app, tmp_path, monkeypatch):
    """A 21,504-tile package's statistics froze QGIS for 1.2-1.7 s as it loaded; now 0.01 s."""
    on_main_thread = []
    original = package_statistics.store_package_statistics

    def recorded(*args, **kwargs):
        on_main_thread.append(threading.current_thread() is threading.main_thread())
        return original(*args, **kwargs)

    monkeypatch.setattr(package_statistics, "store_package_statistics", recorded)
    output = tmp_path / "basemap.mbtiles"
    with TileServer("imagery") as server:
        task = TileDownloadTask(TileRequest(server.template, BBOX, 12, output, zoom_min=10, format="MBTiles",
                                            cache_dir=tmp_path / "cache"))
        assert run_to_end(task, 60) is True
    assert on_main_thread == [False] and [layer.source() for layer in task.loaded_layers()] == [str(output)]
    assert statistics_stored(output) == [pytest.approx(values) for values in gdal_s_own(output, tmp_path)]


def test_a_package_added_to_gets_them_anew_and_one_never_loaded_gets_none(qgis_app, tmp_path):
    output = tmp_path / "basemap.mbtiles"
    with TileServer("imagery") as server:
        def run(bbox, zoom_min: int, load: bool) -> None:
            task = TileDownloadTask(TileRequest(server.template, bbox, 12, output, zoom_min=zoom_min, format="MBTiles",
                                                cache_dir=tmp_path / "cache"), load_outputs=load)
            assert run_to_end(task, 60) is True

        run(BBOX, 11, load=False)  # the command line's run: nothing beside the package
        assert not Path(f"{output}.aux.xml").exists()
        run(BBOX, 11, load=True)
        before = statistics_stored(output)
        run((6.8, 45.8, 7.3, 46.1), 10, load=False)  # a resume: a wider area, a coarser zoom
        closed_all_layers()
    assert statistics_stored(output) != before
    assert statistics_stored(output) == [pytest.approx(values) for values in gdal_s_own(output, tmp_path)]


def test_a_package_added_to_by_a_run_that_was_canceled_gets_them_anew(qgis_app, tmp_path):
    """The tiles stored before the cancel stay in the package: statistics of the package before
    them would be stale."""
    output = tmp_path / "basemap.mbtiles"
    with TileServer("imagery", Faults(latency_ms=10)) as server:
        first = TileDownloadTask(TileRequest(server.template, BBOX, 12, output, zoom_min=11, format="MBTiles",
                                             cache_dir=tmp_path / "cache"))
        assert run_to_end(first, 60) is True
        closed_all_layers()
        before, held = statistics_stored(output), tile_count(output)
        wider = TileDownloadTask(TileRequest(server.template, (6.6, 45.6, 7.5, 46.3), 12, output, zoom_min=8,
                                             format="MBTiles", cache_dir=tmp_path / "cache"), load_outputs=False)
        wider.progressChanged.connect(lambda percent: wider.cancel() if percent > 40 else None)
        assert run_to_end(wider, 120) is False and wider.canceled
    assert tile_count(output) > held
    assert statistics_stored(output) != before
    assert statistics_stored(output) == [pytest.approx(values) for values in gdal_s_own(output, tmp_path)]


def tile_count(path: Path) -> int:
    with sqlite3.connect(str(path)) as db:
        return db.execute("SELECT count(*) FROM tiles").fetchone()[0]


def test_statistics_from_reads_that_failed_are_never_stored(qgis_app, tmp_path, monkeypatch):
    """Another run's commit lands as the overview is read: the reads fail (the tiles would read as
    zeros). Nothing is stored, and what was stored before is dropped: QGIS computes its own."""
    output = tmp_path / "basemap.mbtiles"
    with TileServer("imagery") as server:
        task = TileDownloadTask(TileRequest(server.template, BBOX, 12, output, zoom_min=10, format="MBTiles",
                                            cache_dir=tmp_path / "cache"), load_outputs=False)
        assert run_to_end(task, 60) is True
    store_package_statistics(output)
    assert None not in statistics_stored(output)
    other = sqlite3.connect(str(output), isolation_level=None)
    original = package_statistics._sample_overview

    def then_another_run_commits(band):
        if not other.in_transaction:
            other.execute("BEGIN EXCLUSIVE")
        return original(band)

    monkeypatch.setattr(package_statistics, "_sample_overview", then_another_run_commits)
    store_package_statistics(output)
    other.execute("ROLLBACK")
    other.close()
    assert statistics_stored(output) == [None, None, None]


def test_a_large_package_is_sampled_and_the_values_stay_near_gdal_s(qgis_app, tmp_path, monkeypatch):
    """An overview of 16 x 16 tiles: 64 of them read, spread over it."""
    from offload.demo.tile_images import encode_png, imagery_rgb, tile_heights
    from offload.net_tasks.tile_package import mercator_to_lonlat
    from offload.net_tasks.tiles import Tile, tile_bounds

    bodies = [encode_png(imagery_rgb(tile_heights(Tile(8500 + 3 * n, 5800 + 5 * n, 14)))) for n in range(16)]
    output = tmp_path / "large.mbtiles"
    db = sqlite3.connect(str(output))
    db.executescript("CREATE TABLE metadata (name text, value text); CREATE TABLE tiles (zoom_level integer, "
                     "tile_column integer, tile_row integer, tile_data blob); "
                     "CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row);")
    x0, y0 = 530, 360  # zoom 10
    for z, n in ((10, 16), (11, 32)):
        f = 2 ** (z - 10)
        db.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)",
                       [(z, x0 * f + i, 2 ** z - 1 - (y0 * f + j), bodies[(7 * i + 3 * j + i * j) % 16])
                        for i in range(n) for j in range(n)])
    west, north = tile_bounds(Tile(x0, y0, 10))[0], tile_bounds(Tile(x0, y0, 10))[3]
    east, south = tile_bounds(Tile(x0 + 15, y0 + 15, 10))[2], tile_bounds(Tile(x0 + 15, y0 + 15, 10))[1]
    (w, s), (e, n_) = mercator_to_lonlat(west, south), mercator_to_lonlat(east, north)
    db.executemany("INSERT INTO metadata VALUES (?, ?)", [("name", "large"), ("format", "png"), ("minzoom", "10"),
                                                          ("maxzoom", "11"), ("bounds", f"{w},{s},{e},{n_}")])
    db.commit()
    db.close()
    reads = []
    real_read = gdal.Band.ReadAsArray
    monkeypatch.setattr(gdal.Band, "ReadAsArray", lambda band, *a, **k: reads.append(a) or real_read(band, *a, **k))
    store_package_statistics(output)
    monkeypatch.undo()
    assert len(reads) == 3 * 64  # 8 x 8 of the overview's 16 x 16 tiles, for each colour band
    for ours, theirs in zip(statistics_stored(output), gdal_s_own(output, tmp_path)):
        assert theirs[0] <= ours[0] <= ours[1] <= theirs[1]
        assert ours[2] == pytest.approx(theirs[2], rel=0.05) and ours[3] == pytest.approx(theirs[3], rel=0.15)


def test_processing_s_resume_without_loading_refreshes_what_is_stored(offload_provider, qgis_app, tmp_path):
    """A package Processing adds to but does not load keeps no stale statistics beside it."""
    import processing

    output = tmp_path / "basemap.mbtiles"
    with TileServer("imagery") as server:
        def run(extent: str, zoom_min: int) -> None:
            processing.run("offload:tiles", {"URL": server.template, "EXTENT": extent, "ZOOM": 12, "MIN_ZOOM": zoom_min,
                                             "RESUME": True, "CACHE": str(tmp_path / "cache"), "OUTPUT": str(output)})

        run("6.95,7.05,45.95,46.05 [EPSG:4326]", 11)
        store_package_statistics(output)  # as a load would have
        before = statistics_stored(output)
        run("6.8,7.3,45.8,46.1 [EPSG:4326]", 10)  # a wider area, a coarser zoom; nothing loads it
        closed_all_layers()
    assert statistics_stored(output) != before
    assert statistics_stored(output) == [pytest.approx(values) for values in gdal_s_own(output, tmp_path)]
