"""Chains: each step's output feeds the next; one cancel for all; only the last step is loaded."""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal

from offload.core.chain import Chain
from offload.core.task import OffloadTask, start
from qgis_helpers import leftovers, run_to_end, wait_until, write_raster


class AddOneTask(OffloadTask):
    """Reads a raster (possibly a previous step's output), writes it plus one."""

    def __init__(self, source: Path, output: Path, block: threading.Event = None):
        super().__init__(f"add one → {Path(output).name}")
        self.source = str(source)  # may not exist yet: the step before writes it
        self.output = self.declare_output(output, "raster")
        self.block = block
        self.started = False

    def work(self) -> None:
        self.started = True
        while self.block is not None and not self.block.wait(0.01):
            self.check_canceled()
        values = gdal.Open(self.source).ReadAsArray()
        write_raster(self.output.temp_path, values + 1)


def three_steps(folder: Path, block_second: threading.Event = None):
    write_raster(folder / "start.tif", np.zeros((5, 6), np.float32))
    return [
        AddOneTask(folder / "start.tif", folder / "one.tif"),
        AddOneTask(folder / "one.tif", folder / "two.tif", block=block_second),
        AddOneTask(folder / "two.tif", folder / "three.tif"),
    ]


def test_a_successful_chain_feeds_each_step_and_loads_only_the_last_output(tmp_path, project):
    steps = three_steps(tmp_path)
    chain = Chain(steps)
    assert run_to_end(chain) is True
    assert [step.result for step in steps] == [True, True, True]
    assert gdal.Open(str(tmp_path / "three.tif")).ReadAsArray().max() == 3
    assert [layer.name() for layer in project.mapLayers().values()] == ["three"]
    assert chain.title == "add one → one.tif → add one → two.tif → add one → three.tif"


def test_chain_progress_weighs_its_steps(tmp_path):
    gate = threading.Event()
    steps = three_steps(tmp_path, block_second=gate)
    chain = start(Chain(steps, weights=[1, 2, 1]))
    wait_until(lambda: steps[1].started, 10, "the second step to start")
    assert chain.overall_fraction() == 0.25  # step one done, two and three not begun
    gate.set()
    wait_until(lambda: chain.result is not None, 10, "the chain to finish")
    assert chain.overall_fraction() == 1.0


def test_canceling_the_second_step_stops_the_chain_and_loads_nothing(tmp_path, project):
    gate = threading.Event()  # never set: the second step waits until it is canceled
    steps = three_steps(tmp_path, block_second=gate)
    chain = start(Chain(steps))
    wait_until(lambda: steps[1].started, 10, "the second step to start")
    steps[1].cancel()
    wait_until(lambda: chain.result is not None, 10, "the chain to finish")
    wait_until(lambda: all(step.result is not None for step in steps), 10, "every step to finish")
    assert chain.result is False and chain.canceled
    assert steps[1].canceled and not steps[2].started
    assert project.mapLayers() == {}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.tif", "start.tif"]
    assert leftovers(tmp_path) == []


def test_a_failing_step_fails_the_chain_with_its_error(tmp_path, project):
    steps = three_steps(tmp_path)
    (tmp_path / "start.tif").unlink()
    chain = Chain(steps, keep_intermediates=False)
    assert run_to_end(chain) is False
    assert "start.tif" in chain.error.one_line()
    assert not steps[1].started and project.mapLayers() == {}
    assert list(tmp_path.iterdir()) == []


def test_a_calc_step_reads_what_the_step_before_it_writes(tmp_path, project):
    from offload.raster_tasks.calc_task import RasterCalcTask
    from offload.raster_tasks.request import CalcInput, CalcRequest

    first = AddOneTask(write_raster(tmp_path / "start.tif", np.full((30, 40), 5, np.float32)), tmp_path / "one.tif")
    second = RasterCalcTask(CalcRequest(("A * 10",), (CalcInput("A", str(tmp_path / "one.tif")),),
                                        tmp_path / "ten.tif"), after=[first])
    chain = Chain([first, second])
    assert run_to_end(chain) is True
    assert gdal.Open(str(tmp_path / "ten.tif")).ReadAsArray().max() == 60
    assert [layer.name() for layer in project.mapLayers().values()] == ["ten"]


def test_a_missing_input_no_earlier_step_declares_is_still_refused(tmp_path):
    from offload.core.errors import InputError
    from offload.raster_tasks.calc_task import RasterCalcTask
    from offload.raster_tasks.request import CalcInput, CalcRequest

    first = AddOneTask(write_raster(tmp_path / "start.tif", np.zeros((3, 3), np.float32)), tmp_path / "one.tif")
    with pytest.raises(InputError, match="input A='.*other.tif' does not exist"):
        RasterCalcTask(CalcRequest(("A",), (CalcInput("A", str(tmp_path / "other.tif")),), tmp_path / "o.tif"),
                       after=[first])
    with pytest.raises(InputError, match="unknown name 'B'"):
        RasterCalcTask(CalcRequest(("B",), (CalcInput("A", str(tmp_path / "one.tif")),), tmp_path / "o.tif"),
                       after=[first])


def test_a_buffer_step_reads_the_layer_the_step_before_it_writes(tmp_path, project):
    from offload import api
    from qgis.core import QgsVectorLayer
    from vector_data import make_layer

    spec = make_layer(tmp_path / "points.gpkg", "points", count=40)
    handle = api.chain(api.buffer(spec, tmp_path / "near.gpkg", distance=2, start=False),
                       api.buffer(str(tmp_path / "near.gpkg"), tmp_path / "far.gpkg", distance=3, start=False))
    wait_until(lambda: handle.done, 60, "the chain to end")
    assert handle.ok, handle.error
    near = QgsVectorLayer(str(tmp_path / "near.gpkg"), "near", "ogr")
    far = QgsVectorLayer(str(tmp_path / "far.gpkg"), "far", "ogr")
    assert far.featureCount() == near.featureCount() == 40
    areas = [f.geometry().area() for f in far.getFeatures() if f.hasGeometry() and not f.geometry().isEmpty()]
    assert len(areas) == 39  # one input point has no geometry
    assert areas == pytest.approx([np.pi * 5 ** 2] * 39, rel=0.02)  # each point buffered by 2, then by 3


def test_every_step_type_takes_earlier_steps_and_a_missing_undeclared_input_is_refused(tmp_path):
    from offload import api
    from offload.core.errors import InputError

    with pytest.raises(InputError, match=r"input '.*nowhere.gpkg' does not exist"):
        api.chain(api.buffer(str(tmp_path / "nowhere.gpkg"), tmp_path / "b.gpkg", distance=1, start=False))
    assert list(tmp_path.iterdir()) == []
