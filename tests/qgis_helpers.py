"""Helpers for tests against the real QGIS: run a task to its end, wait with a deadline, make data."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, List

import numpy as np
from osgeo import gdal, ogr, osr
from qgis.PyQt.QtCore import QCoreApplication

from offload.core.runner import wait_for
from offload.core.task import OffloadTask, start
from offload.demo.tile_server import TileServer

AUTH_PASSWORD = "hunter2-password"  # basic_auth_config's (tests/conftest.py): it must never show anywhere


def run_to_end(task: OffloadTask, timeout_s: float = 30.0) -> bool:
    """Submit ``task`` to the real task manager and process events until it has finished."""
    start(task)
    return wait_for(task, timeout_s)


def wait_until(predicate: Callable[[], bool], timeout_s: float = 10.0, what: str = "condition") -> None:
    """Process events until ``predicate()`` holds; fail clearly after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached after {timeout_s} s")
        QCoreApplication.processEvents()
        time.sleep(0.002)


def write_raster(path: Path, values: np.ndarray, epsg: int = 3857, nodata: float = None,
                 geotransform=(1000.0, 10.0, 0.0, 2000.0, 0.0, -10.0), block: int = 0) -> Path:
    """Write a GeoTIFF of ``values`` (rows, cols) or (bands, rows, cols), in their dtype.

    :param block: tile size (0: GDAL's default strips).
    """
    from osgeo import gdal_array

    bands = values[np.newaxis] if values.ndim == 2 else values
    options = ["TILED=YES", f"BLOCKXSIZE={block}", f"BLOCKYSIZE={block}"] if block else []
    gdal_type = gdal_array.NumericTypeCodeToGDALTypeCode(bands.dtype)
    dataset = gdal.GetDriverByName("GTiff").Create(str(path), bands.shape[2], bands.shape[1], bands.shape[0],
                                                   gdal_type, options)
    dataset.SetGeoTransform(geotransform)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    dataset.SetProjection(srs.ExportToWkt())
    for index, band_values in enumerate(bands, start=1):
        band = dataset.GetRasterBand(index)
        if nodata is not None:
            band.SetNoDataValue(nodata)
        band.WriteArray(band_values)
    dataset = None
    return path


def read_raster(path: Path, band: int = 1):
    """(values, nodata) of one band."""
    dataset = gdal.Open(str(path))
    raster_band = dataset.GetRasterBand(band)
    return raster_band.ReadAsArray(), raster_band.GetNoDataValue()


def write_points(path: Path, count: int, epsg: int = 3857) -> Path:
    """Write ``count`` points into a GeoPackage layer ``points`` with an integer field ``n``."""
    driver = ogr.GetDriverByName("GPKG")
    source = driver.CreateDataSource(str(path))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    layer = source.CreateLayer("points", srs, ogr.wkbPoint)
    layer.CreateField(ogr.FieldDefn("n", ogr.OFTInteger))
    for n in range(count):
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetField("n", n)
        feature.SetGeometry(ogr.CreateGeometryFromWkt(f"POINT ({1000 + n} {2000 - n})"))
        layer.CreateFeature(feature)
    source = None
    return path


def leftovers(folder: Path) -> List[str]:
    """Names of Offload temporary files in ``folder``."""
    return sorted(p.name for p in Path(folder).iterdir() if ".offload-" in p.name)


def cancel_and_time(task: OffloadTask, timeout_s: float = 5.0) -> float:
    """Cancel a running task, wait for its ``finished()`` (failing after the generous ``timeout_s``),
    and return how long that took (s), for messages; the figures belong in ``bench/``.

    Also checks the task ended as canceled, not failed.
    """
    canceled_at = time.monotonic()
    task.cancel()
    wait_until(lambda: task.result is not None, timeout_s, "finished() after cancel")
    elapsed_s = time.monotonic() - canceled_at
    assert task.result is False and task.canceled and task.error is None, task.error
    return elapsed_s


class RecordingTileServer(TileServer):
    """The project's tile server, keeping the headers of every request it answers."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.seen = []

    def answer(self, handler) -> None:
        self.seen.append(dict(handler.headers.items()))
        super().answer(handler)
