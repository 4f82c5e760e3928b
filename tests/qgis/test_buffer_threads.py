"""The buffering engine with several buffering threads of its own: input order kept, cancel and failure
leave nothing, the result says what was done."""
from __future__ import annotations

import pytest
from qgis.core import QgsVectorLayer

import offload.vector_tasks.buffer as buffer_module
from offload.core.control import Control
from offload.core.errors import TaskFailed
from offload.core.task import start
from offload.vector_tasks.buffer import BufferRequest, run_buffer, validate_buffer_request
from offload.vector_tasks.buffer_task import BufferTask
from qgis_helpers import run_to_end, wait_until
from vector_data import make_layer, make_squares_with_bow_ties


@pytest.fixture
def threads(monkeypatch):
    """The engine's own buffering threads (not native:buffer's slices): three from the first chunk,
    whatever the geometry, on small chunks: many chunks under way at once, finishing out of order."""
    monkeypatch.setattr(buffer_module, "slice_source", lambda layer: None)
    monkeypatch.setattr(buffer_module, "MAX_THREADS", 3)
    monkeypatch.setattr(buffer_module, "buffering_threads", lambda: 3)
    monkeypatch.setattr(buffer_module, "PARALLEL_FROM_S", 0.0)
    monkeypatch.setattr(buffer_module, "CHUNK", 37)


def test_output_features_come_in_input_order(tmp_path, threads):
    spec = make_layer(tmp_path / "in.gpkg", "polygons", count=3000)
    task = BufferTask(BufferRequest(spec, tmp_path / "out.gpkg", distance=2, segments=12))
    assert run_to_end(task, 120) is True
    written = [f["n"] for f in QgsVectorLayer(str(tmp_path / "out.gpkg"), "out", "ogr").getFeatures()]
    assert written == list(range(3000))
    assert task.details.written == 3000 and task.details.null == 1
    assert task.details.summary() == "3,000 features written (1 without geometry)"


def test_a_memory_layer_keeps_input_order_too(tmp_path, threads):
    spec = make_layer(tmp_path / "in.gpkg", "lines", count=500)
    plan = validate_buffer_request(BufferRequest(spec, None, distance=1))
    made = []
    result = run_buffer(plan, None, Control(), made=made.append)
    (layer,) = made
    assert [f["n"] for f in layer.getFeatures()] == list(range(500)) and result.written == 500


def test_cancel_with_several_threads_is_answered_and_leaves_nothing(tmp_path, threads):
    spec = make_layer(tmp_path / "in.gpkg", "polygons", count=40_000)
    task = start(BufferTask(BufferRequest(spec, tmp_path / "out.gpkg", distance=2, segments=24)))
    wait_until(lambda: task.fraction > 0.1, 60, "the buffer to get going")
    task.cancel()
    wait_until(lambda: task.result is not None, 20, "the canceled task to end")
    assert task.result is False and task.canceled and task.error is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.gpkg"]


def test_a_failing_chunk_fails_the_run_and_leaves_nothing(tmp_path, threads):
    """An invalid geometry deep in the layer (--invalid fail): its thread raises, the others stop."""
    spec = make_squares_with_bow_ties(tmp_path / "bad.gpkg", 2000, bow_ties=(1500,), per_row=50)
    task = BufferTask(BufferRequest(spec, tmp_path / "out.gpkg", distance=1, invalid="fail"))
    assert run_to_end(task, 120) is False
    assert isinstance(task.error, TaskFailed) and "feature 1501 has an invalid geometry" in task.error.one_line()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.gpkg"]
