"""The console API: one line per task, chains of steps, handles that cancel and wait."""
from __future__ import annotations

import re
import sqlite3

import numpy as np
import pytest
from osgeo import gdal
from qgis.core import QgsRasterLayer

from offload import api
from offload.core.errors import InputError
from offload.demo.tile_server import Faults, TileServer
from qgis_helpers import read_raster, wait_until, write_raster


def test_calc_takes_paths_and_layers_and_loads_its_result(tmp_path, project):
    a = write_raster(tmp_path / "a.tif", np.full((20, 30), 4, np.float32))
    layer = QgsRasterLayer(str(write_raster(tmp_path / "b.tif", np.full((20, 30), 2, np.float32))), "b")
    handle = api.calc("A / B", {"A": str(a), "B": layer}, tmp_path / "q.tif")
    assert handle.wait(36) is True and handle.ok and handle.error is None
    assert read_raster(tmp_path / "q.tif")[0].max() == 2
    assert [l.name() for l in handle.layers()] == ["q"] and handle.outputs == [tmp_path / "q.tif"]
    assert repr(handle).startswith("<offload 'Calc A / B → q.tif': Done in ") and str(handle.result) in repr(handle)


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


@pytest.mark.parametrize("suffix, tables", [(".gpkg", "gpkg_tile_matrix"), (".mbtiles", "metadata")])
def test_tiles_into_a_package_by_its_suffix_alone(tmp_path, suffix, tables):
    """The output's suffix decides the format, as on the command line and in the Toolbox: no
    ``format=`` needed for a package."""
    output = tmp_path / f"basemap{suffix}"
    with TileServer("imagery") as server:
        handle = api.tiles(server.template, (6.96, 45.96, 7.02, 46.0), 12, output, cache_dir=tmp_path / "cache")
        assert handle.wait(60) is True, handle.error
    with sqlite3.connect(str(output)) as db:
        assert db.execute("SELECT count(*) FROM sqlite_master WHERE name = ?", (tables,)).fetchone() == (1,)


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
    assert handle.wait(36) is True, handle.error
    (buffered,) = handle.layers()
    areas = sorted(f.geometry().area() for f in buffered.getFeatures())
    assert areas == pytest.approx([np.pi * (2 * r) ** 2 for r in (1, 2, 3)], rel=0.01)
    with pytest.raises(InputError, match="distance field 'width' is not a field of 'wells'"):
        api.buffer(layer, distance_field="width")


def test_the_handle_prints_before_during_and_after_its_task(tmp_path, project):
    from qgis.PyQt import sip

    with TileServer("terrain", Faults(latency_ms=150)) as server:
        handle = api.tiles(server.template, (6.9, 45.9, 7.3, 46.2), 12, tmp_path / "dem.tif", workers=1,
                           cache_dir=tmp_path / "cache")
        before = repr(handle)  # the worker may already have picked it up
        queued = r"<offload 'Tiles z12 \(36\) → dem.tif': (Queued|Starting · \d+ s elapsed)>"
        assert re.fullmatch(queued, before), before
        assert handle.state in ("queued", "running")
        wait_until(lambda: " of 36 tiles" in str(handle), 10, "the first tiles")
        assert str(handle).startswith("Tiles z12 (36) → dem.tif: ") and "elapsed" in str(handle)
        assert handle.state == "running" and handle.result is None
        wait_until(lambda: handle.done, 30, "the download to end")
    wait_until(lambda: sip.isdeleted(handle.task), 5, "QGIS to delete the finished task")
    outcome = handle.task.outcome_text()
    assert repr(handle) == f"<offload 'Tiles z12 (36) → dem.tif': {outcome} → {tmp_path / 'dem.tif'}>"
    assert str(handle).startswith("Tiles z12 (36) → dem.tif: done in ")
    assert handle.result == tmp_path / "dem.tif" and handle.state == "done"
    handle.cancel()  # nothing to cancel any more, and no error either
    called = []
    handle.when_done(called.append)  # after the fact: at once
    assert called == [handle]


def test_when_done_calls_back_even_when_the_handle_is_not_kept(tmp_path, project):
    import gc

    a = write_raster(tmp_path / "a.tif", np.full((20, 30), 4, np.float32))
    results = []
    api.calc("A * 2", {"A": str(a)}, tmp_path / "twice.tif").when_done(lambda h: results.append(h.result))
    gc.collect()  # as the console's next line may: the handle was not kept
    wait_until(lambda: results, 30, "the callback")
    assert results == [tmp_path / "twice.tif"]


def test_when_done_calls_back_once_the_task_has_ended(tmp_path, project):
    a = write_raster(tmp_path / "a.tif", np.full((20, 30), 4, np.float32))
    results = []
    handle = api.calc("A * 2", {"A": str(a)}, tmp_path / "twice.tif").when_done(lambda h: results.append(h.result))
    wait_until(lambda: results, 30, "the callback")  # the handle kept referenced, as a caller keeps it
    assert results == [tmp_path / "twice.tif"] == [handle.result]


def test_wait_in_the_desktop_says_what_to_use_instead(tmp_path, project, monkeypatch):
    a = write_raster(tmp_path / "a.tif", np.full((4, 4), 4, np.float32))
    handle = api.calc("A", {"A": str(a)}, tmp_path / "same.tif")
    monkeypatch.setattr(api, "_is_desktop", lambda: True)
    with pytest.raises(RuntimeError, match=r"wait\(\) would freeze QGIS.*when_done.*handle.result"):
        handle.wait()
    monkeypatch.undo()
    assert handle.wait(36) is True


def test_a_mistake_is_one_input_error_with_a_short_traceback(tmp_path):
    import traceback

    a = write_raster(tmp_path / "a.tif", np.zeros((3, 3), np.float32))
    for call, message in (
        (lambda: api.calc("A +* 2", {"A": str(a)}, tmp_path / "o.tif"), "syntax error at column 4"),
        (lambda: api.calc("A", {"A": str(a)}, tmp_path / "o.tif", overwite=True), "calc() has no option 'overwite'"),
        (lambda: api.tiles("ftp://x/{z}/{x}/{y}", (0, 0, 1, 1), 3, tmp_path / "t.tif"), "scheme 'ftp'"),
        (lambda: api.chain(api.calc("A + C", {"A": str(a)}, tmp_path / "o.tif", start=False)), "unknown name 'C'"),
    ):
        with pytest.raises(InputError) as caught:
            call()
        error = caught.value
        assert message in str(error) and "\n" not in str(error)
        assert error.__cause__ is None and error.__context__ is None and error.__suppress_context__ is False
        frames = traceback.extract_tb(error.__traceback__)
        assert len(frames) <= 3, [frame.name for frame in frames]  # the caller, the API's entry, its raise
    assert not (tmp_path / "o.tif").exists()
