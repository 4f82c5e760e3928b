"""The base task's contract, on the real QgsTaskManager with real files."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal, ogr
from qgis.core import QgsApplication, QgsProject, QgsTask, QgsVectorLayer
from qgis.PyQt.QtCore import Qt

from offload.core.errors import TaskFailed
from offload.core.log import TAG
from offload.core.control import PROGRESS_INTERVAL_S
from offload.core.snapshot import layer_source
from offload.core.task import OffloadTask, running_tasks, start
from qgis_helpers import cancel_and_time, leftovers, run_to_end, wait_until, write_points, write_raster


class RaisingTask(OffloadTask):
    """Writes half an output, then fails."""

    def __init__(self, output: Path, **options):
        super().__init__("raising task", **options)
        self.output = self.declare_output(output, "raster")

    def work(self) -> None:
        write_raster(self.output.temp_path, np.zeros((4, 4), np.float32))
        raise ValueError("boom at block 42")


class LoopTask(OffloadTask):
    """Writes a temporary file, then loops until canceled (or for ``seconds``)."""

    def __init__(self, output: Path, seconds: float = 60.0, **options):
        super().__init__("loop task", **options)
        self.output = self.declare_output(output, "file")
        self.seconds = seconds
        self.iterations = 0

    def work(self) -> None:
        self.output.temp_path.write_bytes(b"partial")
        deadline = time.monotonic() + self.seconds
        while time.monotonic() < deadline:
            self.check_canceled()
            self.iterations += 1
            self.report((self.iterations % 1000) / 1000, "looping")


class WriteLayersTask(OffloadTask):
    """Writes a GeoTIFF and a GeoPackage; records the thread work() ran on."""

    def __init__(self, raster: Path, vector: Path, **options):
        super().__init__("write layers", **options)
        self.raster = self.declare_output(raster, "raster", layer_name="the raster")
        self.vector = self.declare_output(vector, "vector", layer_name="the points")
        self.work_thread = None

    def work(self) -> None:
        self.work_thread = threading.current_thread()
        write_raster(self.raster.temp_path, np.arange(12, dtype=np.float32).reshape(3, 4))
        write_points(self.vector.temp_path, 3)


class CountFeaturesTask(OffloadTask):
    """Counts a layer's features from its source, after ``gate`` opens."""

    def __init__(self, layer, gate: threading.Event, **options):
        super().__init__("count features", **options)
        self.layer = layer_source(layer, "layer")
        self.gate = gate
        self.count = None

    def work(self) -> None:
        while not self.gate.wait(0.01):
            self.check_canceled()
        source = ogr.Open(self.layer.split("|")[0])
        self.count = source.GetLayer(0).GetFeatureCount()


def test_failure_keeps_error_logs_it_calls_back_on_main_thread_and_leaves_nothing(tmp_path):
    logged = []

    def on_log(message, tag, level):
        logged.append((tag, message))

    QgsApplication.messageLog().messageReceived.connect(on_log)
    callback_threads = []
    task = RaisingTask(tmp_path / "out.tif", on_failure=lambda t: callback_threads.append(threading.current_thread()))
    try:
        assert run_to_end(task) is False
        wait_until(lambda: any(tag == TAG for tag, _ in logged), 5, "the log message")
    finally:
        QgsApplication.messageLog().messageReceived.disconnect(on_log)
    assert isinstance(task.exception, ValueError)
    assert isinstance(task.error, TaskFailed)
    assert task.error.one_line() == "ValueError: boom at block 42"
    assert "Traceback" in task.traceback and "boom at block 42" in task.traceback
    assert any(tag == TAG and "boom at block 42" in message for tag, message in logged)
    assert callback_threads == [threading.main_thread()]
    assert list(tmp_path.iterdir()) == []
    assert task.status() == QgsTask.TaskStatus.Terminated


def test_cancel_during_a_loop_is_answered_and_leaves_nothing(tmp_path):
    task = LoopTask(tmp_path / "out.bin")
    start(task)
    wait_until(lambda: task.iterations > 100, 10, "the loop to run")
    assert leftovers(tmp_path), "the task should be writing its temporary file"
    cancel_and_time(task)  # answered (within its generous deadline) as a cancel, not a failure
    assert list(tmp_path.iterdir()) == []


def test_success_loads_raster_and_vector_outputs_on_the_main_thread(tmp_path, project):
    added_on = []
    project.layerWasAdded.connect(lambda layer: added_on.append(threading.current_thread()), Qt.DirectConnection)
    task = WriteLayersTask(tmp_path / "grid.tif", tmp_path / "points.gpkg")
    assert run_to_end(task) is True
    assert task.work_thread is not threading.main_thread()
    assert added_on == [threading.main_thread()] * 2
    names = sorted(layer.name() for layer in project.mapLayers().values())
    assert names == ["the points", "the raster"]
    assert [layer.isValid() for layer in task.loaded_layers()] == [True, True]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid.tif", "points.gpkg"]
    assert gdal.Open(str(tmp_path / "grid.tif")).ReadAsArray()[2, 3] == 11


def test_a_layers_source_outlives_the_layer_being_changed_and_removed(tmp_path, project):
    path = write_points(tmp_path / "pts.gpkg", 7)
    layer = QgsVectorLayer(f"{path}|layername=points", "pts", "ogr")
    project.addMapLayer(layer)
    gate = threading.Event()
    task = CountFeaturesTask(layer, gate)
    assert task.layer == layer.source()
    start(task)
    layer.setSubsetString('"n" < 2')
    layer.setName("renamed")
    project.removeMapLayer(layer.id())  # deletes the layer
    gate.set()
    wait_until(lambda: task.result is not None, 10, "finished()")
    assert task.result is True and task.count == 7


def test_main_thread_objects_are_refused_at_construction_naming_the_argument(tmp_path):
    task = LoopTask(tmp_path / "x.bin")
    with pytest.raises(TypeError, match=r"argument 'project' is a QgsProject"):
        task.project = QgsProject.instance()
    with pytest.raises(TypeError, match=r"argument 'canvas_layers' is a QgsVectorLayer"):
        task.canvas_layers = [QgsVectorLayer("Point", "mem", "memory")]
    assert running_tasks() == []


def test_progress_signals_are_throttled_to_twenty_a_second_at_most(tmp_path):
    emitted = []
    task = LoopTask(tmp_path / "x.bin", seconds=1.0)
    task.progressChanged.connect(lambda value: emitted.append(value))
    began = time.monotonic()
    assert run_to_end(task) is True
    elapsed = time.monotonic() - began
    assert task.iterations > 1000, "the loop must report far more often than QGIS hears"
    assert 1 <= len(emitted) <= elapsed / PROGRESS_INTERVAL_S + 2, f"{len(emitted)} signals in {elapsed:.2f} s"


def test_a_direct_addtask_is_kept_alive_too(tmp_path):
    QgsApplication.taskManager().addTask(LoopTask(tmp_path / "direct.bin", seconds=0.2))
    assert len(running_tasks()) == 1
    wait_until(lambda: not running_tasks(), 10, "the task to finish")
    assert (tmp_path / "direct.bin").read_bytes() == b"partial"


class GdalTask(OffloadTask):
    """Opens ``source`` with GDAL and translates it to a compressed GeoTIFF, reporting progress."""

    def __init__(self, source: Path, output: Path):
        super().__init__("gdal translate")
        self.source = str(source)
        self.output = self.declare_output(output, "raster")

    def work(self) -> None:
        dataset = gdal.Open(self.source)
        gdal.Translate(str(self.output.temp_path), dataset, creationOptions=["COMPRESS=DEFLATE", "ZLEVEL=9"],
                       callback=self.gdal_progress())


def test_gdal_errors_become_the_message_without_touching_use_exceptions(tmp_path):
    use_exceptions_before = gdal.GetUseExceptions()
    task = GdalTask(tmp_path / "missing.tif", tmp_path / "out.tif")
    assert run_to_end(task) is False
    assert task.error.one_line().startswith("GDAL: ") and "missing.tif" in task.error.one_line()
    assert "No such file or directory" in task.error.one_line()
    assert gdal.GetUseExceptions() == use_exceptions_before
    assert list(tmp_path.iterdir()) == []


def test_cancel_stops_a_long_gdal_call_through_its_progress_callback(tmp_path):
    rng = np.random.default_rng(1)
    write_raster(tmp_path / "noise.tif", rng.random((3000, 3000), dtype=np.float32))
    task = start(GdalTask(tmp_path / "noise.tif", tmp_path / "out.tif"))
    wait_until(lambda: task.fraction > 0.05, 20, "GDAL to report progress")
    cancel_and_time(task)  # answered (within its generous deadline) as a cancel, not a failure
    assert sorted(p.name for p in tmp_path.iterdir()) == ["noise.tif"]
