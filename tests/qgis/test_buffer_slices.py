"""native:buffer itself, on slices of a GeoPackage layer, one worker thread per core: native's
results in input order, a cancel that stops every slice and leaves nothing, no crash at exit."""
from __future__ import annotations

import subprocess
import sys
import threading

import pytest
from osgeo import ogr, osr
from qgis.core import QgsVectorLayer

import offload.vector_tasks.buffer as buffer_module
import offload.vector_tasks.slices as slices_module
from offload.vector_tasks.buffer_task import BufferTask
from offload.vector_tasks.request import BufferRequest
from qgis_helpers import run_to_end, wait_until
from vector_data import CAP_AND_JOIN_CASES, assert_same, cancel_a_heavy_buffer, make_layer, make_squares_with_bow_ties, native


@pytest.fixture
def sliced(monkeypatch):
    """Many small slices (so that they finish out of order), and a record of each sliced run;
    native:buffer's slices, not SQLite's (tests/qgis/test_buffer_sqlite.py)."""
    monkeypatch.setattr(slices_module, "MIN_SLICE_FEATURES", 50)
    monkeypatch.setattr(buffer_module, "sqlite_can_buffer", lambda plan: False)
    runs = []
    real = buffer_module.buffer_in_slices

    def recorded(plan, destination, *args):
        runs.append(destination)
        return real(plan, destination, *args)

    monkeypatch.setattr(buffer_module, "buffer_in_slices", recorded)
    return runs


def slice_threads() -> list:
    return [t for t in threading.enumerate() if t.name.startswith("offload-buffer-slices")]


@pytest.mark.parametrize("kind, cap, join, native_cap, native_join", CAP_AND_JOIN_CASES)
def test_slices_give_native_buffer_s_features_in_input_order(qgis_processing, tmp_path, sliced, kind, cap, join,
                                                             native_cap, native_join):
    spec = make_layer(tmp_path / "in.gpkg", kind, count=2000)
    task = BufferTask(BufferRequest(spec, tmp_path / "ours.gpkg", distance=3.5, segments=8, end_cap=cap, join=join))
    assert run_to_end(task, 120) is True
    assert sliced == [task.output.temp_path]
    ours = QgsVectorLayer(str(tmp_path / "ours.gpkg"), "ours", "ogr")
    assert [f["n"] for f in ours.getFeatures()] == list(range(2000))
    assert_same(ours, native(qgis_processing, spec, tmp_path, DISTANCE=3.5, SEGMENTS=8, END_CAP_STYLE=native_cap,
                             JOIN_STYLE=native_join))
    assert task.details.written == 2000 and task.details.null == 1 and not slice_threads()


def test_the_calling_thread_appends_the_slices_while_the_workers_go_on(tmp_path, sliced, monkeypatch):
    """A worker does not wait for its slice's turn to be written: it buffers the next one."""
    appenders, ahead = [], []
    real_add = slices_module.FileSink.add_layer

    def add_layer(sink, layer, *args):
        appenders.append(threading.current_thread())
        if len(appenders) == 1:  # held until a worker has buffered a slice more than its first
            wait_until(lambda: slices_module._Slicer.last.next_slice > 3, 60, "a worker to take a fourth slice")
            ahead.append(slices_module._Slicer.last.next_write)
        return real_add(sink, layer, *args)

    real_init = slices_module._Slicer.__init__

    def init(slicer, *args):
        real_init(slicer, *args)
        slices_module._Slicer.last = slicer

    monkeypatch.setattr(slices_module._Slicer, "last", None, raising=False)
    monkeypatch.setattr(slices_module.FileSink, "add_layer", add_layer)
    monkeypatch.setattr(slices_module._Slicer, "__init__", init)
    spec = make_layer(tmp_path / "in.gpkg", "polygons", count=2000)
    task = BufferTask(BufferRequest(spec, tmp_path / "out.gpkg", distance=2))
    assert run_to_end(task, 120) is True and task.details.written == 2000
    assert ahead == [0] and set(appenders) == {appenders[0]} and appenders[0] not in slice_threads()


def test_a_layer_inside_a_geopackage_is_written_in_slices_too(qgis_processing, tmp_path, sliced):
    spec = make_layer(tmp_path / "in.gpkg", "polygons", count=600)
    make_layer(tmp_path / "out.gpkg", "points", count=5, name="keep")
    task = BufferTask(BufferRequest(spec, f"{tmp_path / 'out.gpkg'}|layername=zones", distance=2))
    assert run_to_end(task, 120) is True and len(sliced) == 1
    zones = QgsVectorLayer(f"{tmp_path / 'out.gpkg'}|layername=zones", "zones", "ogr")
    assert_same(zones, native(qgis_processing, spec, tmp_path, DISTANCE=2))
    assert QgsVectorLayer(f"{tmp_path / 'out.gpkg'}|layername=keep", "keep", "ogr").featureCount() == 5
    dataset = ogr.Open(str(tmp_path / "out.gpkg"))
    assert dataset.GetLayerByName("zones").TestCapability(ogr.OLCFastSpatialFilter)  # its index, built at the end


def test_slices_keep_the_source_s_fids_as_native_buffer_does(qgis_processing, tmp_path, sliced):
    """Deleted features leave gaps, which GDAL's appends would close (here up to the largest fid)."""
    spec = make_layer(tmp_path / "in.gpkg", "polygons", count=1000)
    source = ogr.Open(str(tmp_path / "in.gpkg"), 1)  # GDAL's SQL functions, for the R-tree's triggers
    source.ExecuteSQL("DELETE FROM polygons WHERE fid % 7 = 0 OR fid BETWEEN 300 AND 420")
    source.ExecuteSQL("UPDATE polygons SET fid = 9223372036854775807 WHERE fid = 1000")
    source = None
    task = BufferTask(BufferRequest(spec, tmp_path / "ours.gpkg", distance=2))
    assert run_to_end(task, 120) is True and len(sliced) == 1
    ours, theirs = QgsVectorLayer(str(tmp_path / "ours.gpkg"), "ours", "ogr"), native(qgis_processing, spec, tmp_path,
                                                                                       DISTANCE=2)
    fids = [f.id() for f in ours.getFeatures()]
    assert fids == [f.id() for f in theirs.getFeatures()] and 7 not in fids and fids[-1] == 2 ** 63 - 1
    assert_same(ours, theirs)


def test_invalid_geometries_in_slices_are_skipped_failed_or_fixed(tmp_path, sliced):
    spec = make_squares_with_bow_ties(tmp_path / "bad.gpkg", 400, bow_ties=(150, 320))
    skipped = BufferTask(BufferRequest(spec, tmp_path / "skipped.gpkg", distance=1, invalid="skip"))
    assert run_to_end(skipped, 60) is True and skipped.details.skipped == 2 and skipped.details.written == 398
    kept = QgsVectorLayer(str(tmp_path / "skipped.gpkg"), "skipped", "ogr")
    assert [f.id() for f in kept.getFeatures()] == [n for n in range(1, 401) if n not in (151, 321)]  # as SQLite's engine
    failed = BufferTask(BufferRequest(spec, tmp_path / "failed.gpkg", distance=1, invalid="fail"))
    assert run_to_end(failed, 60) is False and "has an invalid geometry" in failed.error.one_line()
    assert not (tmp_path / "failed.gpkg").exists()
    fixed = BufferTask(BufferRequest(spec, tmp_path / "fixed.gpkg", distance=1))  # native:buffer cannot: ours does
    assert run_to_end(fixed, 60) is True and fixed.details.fixed == 2 and fixed.details.written == 400
    assert len(sliced) == 3 and not slice_threads()


def test_cancel_reaches_the_running_slices_and_leaves_nothing(tmp_path, sliced, monkeypatch):
    monkeypatch.setattr(slices_module, "SLICES_PER_CORE", 1)  # few, long slices: under way when the cancel comes
    started, stopped = [], []
    real_run = slices_module._Slicer._run

    def run(self, algorithm_id, parameters, context, feedback):
        started.append(algorithm_id)
        try:
            return real_run(self, algorithm_id, parameters, context, feedback)
        finally:
            stopped.append(feedback.isCanceled())

    monkeypatch.setattr(slices_module._Slicer, "_run", run)
    task = cancel_a_heavy_buffer(tmp_path, started)
    assert task.result is False and task.canceled and task.error is None and len(sliced) == 1
    assert True in stopped  # a running native:buffer was told, and stopped between features
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.gpkg"]
    wait_until(lambda: not slice_threads(), 5, "the slice workers to end")


def test_the_cli_buffers_in_slices_and_exits_cleanly(tmp_path, subprocess_env):
    """Workers make their own Processing contexts, feedbacks and layers: all gone before QGIS exits."""
    spec = make_layer(tmp_path / "in.gpkg", "polygons", count=3000)
    done = subprocess.run([sys.executable, "-m", "offload", "buffer", "--input", spec, "--distance", "2",
                           "--output", str(tmp_path / "out.gpkg")], env=subprocess_env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert QgsVectorLayer(str(tmp_path / "out.gpkg"), "o", "ogr").featureCount() == 3000



FAIL_THEN_EXIT = """
import atexit, gc, sys
from pathlib import Path
from offload.core.runner import headless_app
app = headless_app(full=True)
from offload.core.control import Control
from offload.core.errors import TaskFailed
import offload.vector_tasks.buffer as buffer
from offload.vector_tasks.buffer import run_buffer, validate_buffer_request
from offload.vector_tasks.request import BufferRequest
if sys.argv[3] == "slices":
    buffer.sqlite_can_buffer = lambda plan: False
plan = validate_buffer_request(BufferRequest(sys.argv[1], sys.argv[2], distance=2, invalid="fail"))
assert plan.slices is not None
try:
    run_buffer(plan, Path(sys.argv[2]), Control())
except TaskFailed as exc:
    error = exc
print(error.one_line(), flush=True)
atexit.unregister(app.exitQgis)
app.exitQgis()
del error, plan  # kept until QGIS has exited, as a task's error may be
gc.collect()
"""


@pytest.mark.parametrize("engine", ["slices", "sqlite"])
def test_a_slice_s_error_kept_to_the_end_keeps_nothing_of_the_slice_s(tmp_path, subprocess_env, engine):
    """A worker's error must not keep the worker's Processing context (and the layers in it)
    alive: freed at exit, after QGIS, it crashed the process. native:buffer's slices or SQLite's."""
    path = tmp_path / "bad.gpkg"
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(3857)
    layer = source.CreateLayer("bad", srs, ogr.wkbPolygon)
    for wkt in ("POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0))", "POLYGON ((0 0, 10 10, 10 0, 0 10, 0 0))"):
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
        layer.CreateFeature(feature)
    source = None
    done = subprocess.run([sys.executable, "-c", FAIL_THEN_EXIT, f"{path}|layername=bad", str(tmp_path / "out.gpkg"),
                           engine],
                          env=subprocess_env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "feature 2 has an invalid geometry" in done.stdout
