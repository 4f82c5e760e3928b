"""A tiles run that fails inside Processing names its cause (a refused connection as such), and
leaves nothing at the output.

Run by the Toolbox (on a task of Processing's own) the failure is one line in the log, as the CLI
says it. Called from Python (``processing.run``), it is raised as Offload's own error, with its
short traceback: QGIS's sip keeps a raised ``QgsProcessingException`` to the end, and with it the
caller's frames, so a layer the caller held was deleted after QGIS had exited, which crashed the
process (core/algorithm.py)."""
from __future__ import annotations

import socket
import subprocess
import sys

import pytest
from qgis.core import (
    QgsApplication,
    QgsProcessingAlgRunnerTask,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
)

from qgis_helpers import wait_until


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def refused_run(tmp_path) -> dict:
    template = f"http://127.0.0.1:{closed_port()}/{{z}}/{{x}}/{{y}}.png"
    return {"URL": template, "EXTENT": "6.96,7.02,45.96,46.0 [EPSG:4326]", "ZOOM": 12,
            "CACHE": str(tmp_path / "cache"), "OUTPUT": str(tmp_path / "mosaic.tif")}


def left_at_the_output(tmp_path) -> list:
    return [p.name for p in tmp_path.iterdir() if p.name != "cache"]


class Recorded(QgsProcessingFeedback):
    def __init__(self) -> None:
        super().__init__()
        self.errors = []

    def reportError(self, error: str, fatalError: bool = False) -> None:  # noqa: N802, N803
        self.errors.append(error)


def test_a_failed_tiles_run_is_one_line_in_the_toolbox(offload_provider, tmp_path):
    """As the Toolbox runs an algorithm: Processing's own task, its thread, no Python caller."""
    algorithm = QgsApplication.processingRegistry().createAlgorithmById("offload:tiles")
    context, feedback = QgsProcessingContext(), Recorded()
    ended = []
    task = QgsProcessingAlgRunnerTask(algorithm, refused_run(tmp_path), context, feedback)
    task.executed.connect(lambda ok, _results: ended.append(ok))
    QgsApplication.taskManager().addTask(task)
    wait_until(lambda: ended, 60, "the run to end")
    assert ended == [False] and len(feedback.errors) == 1
    message = feedback.errors[0]
    assert "\n" not in message.strip() and "Traceback" not in message
    assert message.startswith("1 of 1 tile(s) failed; connection refused") and "12/2127/1457" in message
    assert left_at_the_output(tmp_path) == []


def test_a_failed_tiles_run_called_from_python_raises_offload_s_error(offload_provider, tmp_path):
    import processing

    with pytest.raises(QgsProcessingException) as raised:
        processing.run("offload:tiles", refused_run(tmp_path))
    last_line = str(raised.value).strip().splitlines()[-1]
    assert last_line.startswith("offload.core.errors.TaskFailed: 1 of 1 tile(s) failed; connection refused")
    assert "12/2127/1457" in last_line
    assert left_at_the_output(tmp_path) == []


RUN_THEN_EXIT = """
import sys
sys.path.insert(0, "/usr/share/qgis/python/plugins")
from offload.core.runner import headless_app
headless_app(full=True)  # QGIS exits at the interpreter's exit, as a script's exitQgis() does
from processing.core.Processing import Processing
Processing.initialize()
import processing
from qgis.core import QgsApplication, QgsProcessingException, QgsVectorLayer
from offload.demo.tile_server import TileServer
from offload.provider import OffloadProvider

def run(area, output):
    registry = QgsApplication.processingRegistry()
    registry.addProvider(OffloadProvider())
    layer = QgsVectorLayer(area, "area", "ogr")  # the caller's, held while the run fails
    try:
        with TileServer("imagery", max_zoom=5) as server:  # every tile of zoom 12 is missing
            processing.run("offload:tiles", {"URL": server.template, "EXTENT": layer, "ZOOM": 12,
                                             "CACHE": output + ".cache", "OUTPUT": output})
        return "finished"
    except QgsProcessingException as exc:
        return str(exc).strip().splitlines()[-1]
    finally:
        registry.removeProvider("offload")  # as the plugin's unload does

print(run(sys.argv[1], sys.argv[2]), flush=True)
"""


def test_a_failed_run_called_from_python_lets_qgis_exit_cleanly(tmp_path, subprocess_env):
    from osgeo import ogr, osr

    area = str(tmp_path / "area.gpkg")
    source = ogr.GetDriverByName("GPKG").CreateDataSource(area)
    wgs84 = osr.SpatialReference()
    wgs84.ImportFromEPSG(4326)
    layer = source.CreateLayer("area", wgs84, ogr.wkbPolygon)
    feature = ogr.Feature(layer.GetLayerDefn())
    feature.SetGeometry(ogr.CreateGeometryFromWkt("POLYGON ((6.96 45.96, 7.02 45.96, 7.02 46, 6.96 46, 6.96 45.96))"))
    layer.CreateFeature(feature)
    source = None
    done = subprocess.run([sys.executable, "-c", RUN_THEN_EXIT, area, str(tmp_path / "out.tif")],
                          env=subprocess_env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]  # it was 139: the layer deleted after QGIS exited
    assert done.stdout.strip().startswith("offload.core.errors.TaskFailed: no tile was served")
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix != ".cache") == ["area.gpkg"]
