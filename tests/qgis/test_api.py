"""The console API: one line per task, chains of steps, handles that cancel and wait."""
from __future__ import annotations

import numpy as np
import pytest
from osgeo import gdal
from qgis.core import QgsRasterLayer

from offload import api
from offload.core.errors import InputError
from offload.net_tasks.server import Faults, TileServer
from qgis_helpers import read_raster, wait_until, write_raster


def test_calc_takes_paths_and_layers_and_loads_its_result(tmp_path, project):
    a = write_raster(tmp_path / "a.tif", np.full((20, 30), 4, np.float32))
    layer = QgsRasterLayer(str(write_raster(tmp_path / "b.tif", np.full((20, 30), 2, np.float32))), "b")
    handle = api.calc("A / B", {"A": str(a), "B": layer}, tmp_path / "q.tif")
    assert handle.wait(30) is True and handle.ok and handle.error is None
    assert read_raster(tmp_path / "q.tif")[0].max() == 2
    assert [l.name() for l in handle.layers()] == ["q"] and handle.outputs == [tmp_path / "q.tif"]
    assert "done" in repr(handle)


def test_bad_input_is_an_input_error_at_once(tmp_path):
    a = write_raster(tmp_path / "a.tif", np.zeros((3, 3), np.float32))
    with pytest.raises(InputError, match="unknown name 'C'"):
        api.calc("A + C", {"A": str(a)}, tmp_path / "o.tif")
    with pytest.raises(InputError, match="missing.tif' does not exist"):
        api.calc("A", {"A": str(tmp_path / "missing.tif")}, tmp_path / "o.tif")
    assert not (tmp_path / "o.tif").exists()
    with pytest.raises(TypeError, match="steps made with start=False"):
        api.chain(object())


def test_a_chain_of_tiles_then_slope_in_one_line(tmp_path, project):
    with TileServer("terrain") as server:
        handle = api.chain(
            api.tiles(server.template, (6.95, 45.95, 7.05, 46.05), 12, tmp_path / "dem.tif", decode="terrarium",
                      cache_dir=tmp_path / "cache", start=False),
            api.calc("slope(dem)", {"dem": tmp_path / "dem.tif"}, tmp_path / "slope.tif", start=False),
        )
        assert handle.wait(60) is True, handle.error
    slope = gdal.Open(str(tmp_path / "slope.tif"))
    assert slope.RasterXSize == 512 and [l.name() for l in project.mapLayers().values()] == ["slope"]


def test_cancel_and_a_wait_that_times_out(tmp_path):
    with TileServer("terrain", Faults(latency_ms=300)) as server:
        handle = api.tiles(server.template, (6.9, 45.9, 7.1, 46.1), 12, tmp_path / "dem.tif", workers=1,
                           cache_dir=tmp_path / "cache")
        with pytest.raises(TimeoutError, match="still running after 0.2 s; canceled"):
            handle.wait(0.2)
        wait_until(lambda: handle.done, 10, "the canceled task to finish")
    assert handle.ok is False and not (tmp_path / "dem.tif").exists()


def test_buffer_a_live_layer_into_a_memory_layer(tmp_path, project):
    from qgis.core import QgsFeature, QgsGeometry, QgsPointXY, QgsVectorLayer

    layer = QgsVectorLayer("Point?crs=EPSG:3857&field=r:double", "wells", "memory")
    features = []
    for r in (1.0, 2.0, 3.0):
        feature = QgsFeature(layer.fields())
        feature.setAttributes([r])
        feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(10 * r, 0)))
        features.append(feature)
    layer.dataProvider().addFeatures(features)
    handle = api.buffer(layer, distance_expression='"r" * 2', segments=16)
    assert handle.wait(30) is True, handle.error
    (buffered,) = handle.layers()
    areas = sorted(f.geometry().area() for f in buffered.getFeatures())
    assert areas == pytest.approx([np.pi * (2 * r) ** 2 for r in (1, 2, 3)], rel=0.01)
    with pytest.raises(InputError, match="distance field 'width' is not a field of 'wells'"):
        api.buffer(layer, distance_field="width")
