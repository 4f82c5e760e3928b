"""The dialog, driven as a user would (QtTest clicks): every entry shows its form, Run runs,
Cancel cancels, a bad value runs nothing, values are remembered, menus open the right form."""
from __future__ import annotations

import numpy as np
import pytest
from qgis.core import QgsRasterLayer, QgsRectangle, QgsSettings, QgsVectorLayer
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtTest import QTest

import offload
from offload.core.task import running_tasks
from offload.net_tasks.server import Faults, TileServer
from offload.ui.catalog import TASKS
from offload.ui.dialog import OffloadDialog
from offload.ui.forms.base import SETTINGS_ROOT
from offload.ui.task_list import TaskHistory
from qgis_helpers import leftovers, read_raster, wait_until, write_points, write_raster

from .test_plugin import MenusIface

FORM_CLASSES = {"calc": "CalcForm", "tiles": "TilesForm", "download": "DownloadForm", "buffer": "BufferForm"}


@pytest.fixture
def fresh_settings():
    """No remembered values from an earlier test (or an earlier run)."""
    QgsSettings().remove(SETTINGS_ROOT)
    yield
    QgsSettings().remove(SETTINGS_ROOT)


@pytest.fixture
def dialog(qgis_iface, project, fresh_settings):
    history = TaskHistory()
    dialog = OffloadDialog(qgis_iface, history)
    dialog.show()
    yield dialog
    dialog.close()
    dialog.deleteLater()
    history.close()


def click_run(dialog) -> None:
    QTest.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)


def test_every_entry_shows_its_form_under_its_group(dialog):
    texts = [dialog.chooser.itemText(i).strip() for i in range(dialog.chooser.count())]
    assert texts == ["Raster", "Raster calculator", "Network", "Download tiles (XYZ)", "Download a file",
                     "Vector", "Buffer"]
    headings = [i for i in range(dialog.chooser.count()) if dialog.chooser.itemData(i) is None]
    assert all(not dialog.chooser.model().item(i).isEnabled() for i in headings)
    for task in TASKS:
        dialog.show_task(task.key)
        form = dialog.stack.currentWidget()
        assert type(form).__name__ == FORM_CLASSES[task.key] and form.isVisible()
        assert dialog.summary.text() == task.summary


def test_calc_form_validates_as_you_type_and_runs(dialog, project, tmp_path):
    source = write_raster(tmp_path / "heights.tif", np.arange(600, dtype=np.float32).reshape(20, 30))
    project.addMapLayer(QgsRasterLayer(str(source), "heights"))
    form = dialog.forms["calc"]
    QTest.keyClicks(form.expressions, "A +* 2")
    assert not form.validity.ok and "syntax error at column 4" in form.validity.text()
    form.expressions.setPlainText("A * 2 + C")
    assert not form.validity.ok and "unknown name 'C'" in form.validity.text()
    form.expressions.setPlainText("A * 2")
    assert form.validity.ok and form.validity.text() == "✓ valid: 1 band from A"
    form.output.setFilePath(str(tmp_path / "double.tif"))
    click_run(dialog)
    assert dialog.message.text().startswith("Started: Calc A * 2")
    wait_until(lambda: project.mapLayersByName("double"), 30, "the result to load")
    assert read_raster(tmp_path / "double.tif")[0][19, 29] == 2 * 599
    row = dialog.tasks.topLevelItem(0)
    wait_until(lambda: row.text(2) == "Done", 5, "the row to say Done")


@pytest.mark.parametrize("key, fill, message", [
    ("calc", lambda f, p: f.expressions.setPlainText("A + sqrt("), "syntax error"),
    ("calc", lambda f, p: (f.expressions.setPlainText("A"), f.output.setFilePath("")), "choose a file for the output"),
    ("tiles", lambda f, p: f.url.setText("ftp://example.com/{z}/{x}/{y}.png"), "scheme 'ftp'"),
    ("tiles", lambda f, p: (f.url.setText("http://127.0.0.1:9/{z}/{x}/{y}.png"), f.zoom.setValue(20),
                            f.output.setFilePath(str(p / "big.tif"))), "choose an area"),
    ("tiles", lambda f, p: (f.url.setText("http://127.0.0.1:9/{z}/{x}/{y}.png"), f.zoom.setValue(20),
                            f.extent.setOutputExtentFromUser(QgsRectangle(6, 45, 8, 47), f.crs.crs()),
                            f.output.setFilePath(str(p / "big.tif"))), "more than --max-tiles"),
    ("download", lambda f, p: f.url.setText(""), "type the URL"),
    ("buffer", lambda f, p: f.where.setExpression('"n" >'), "filter"),
    ("buffer", lambda f, p: f.selected_only.setChecked(True), "has no selected features"),
])
def test_a_bad_value_shows_a_message_and_runs_nothing(dialog, project, tmp_path, key, fill, message):
    source = write_raster(tmp_path / "r.tif", np.zeros((8, 8), np.float32))
    project.addMapLayer(QgsRasterLayer(str(source), "r"))
    project.addMapLayer(QgsVectorLayer(str(write_points(tmp_path / "p.gpkg", 5)), "points", "ogr"))
    dialog.show_task(key)
    form = dialog.current_form()
    if key == "calc":
        form.output.setFilePath(str(tmp_path / "out.tif"))
    fill(form, tmp_path)
    click_run(dialog)
    assert message in dialog.message.text()
    assert running_tasks() == [] and dialog.tasks.topLevelItemCount() == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.gpkg", "r.tif"]


def test_tiles_form_takes_the_canvas_extent_and_cancel_cancels(dialog, project, qgis_iface, tmp_path):
    from qgis.core import QgsCoordinateReferenceSystem

    canvas = qgis_iface.mapCanvas()
    canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:4326"))
    canvas.setExtent(QgsRectangle(6.9, 45.9, 7.3, 46.2))
    dialog.show_task("tiles")
    form = dialog.current_form()
    with TileServer("terrain", Faults(latency_ms=400)) as server:
        form.url.setText(server.template)
        assert form.url_validity.ok
        form.extent.setOutputExtentFromCurrent()
        shown = canvas.extent()  # the canvas widens the extent to its shape
        assert form.bbox() == pytest.approx((shown.xMinimum(), 45.9, shown.xMaximum(), 46.2), abs=1e-6)
        form.workers.setValue(1)
        form.output.setFilePath(str(tmp_path / "dem.tif"))
        click_run(dialog)
        (task,) = running_tasks()
        row = dialog.tasks.topLevelItem(0)
        wait_until(lambda: row.text(2) == "Running", 10, "the task to run")
        QTest.mouseClick(dialog.tasks.itemWidget(row, 3), Qt.MouseButton.LeftButton)
        wait_until(lambda: task.result is not None, 5, "the canceled task to end")
    wait_until(lambda: row.text(2) == "Canceled", 2, "the row to say Canceled")
    assert task.canceled and not (tmp_path / "dem.tif").exists() and leftovers(tmp_path) == []


def test_buffer_form_runs_into_a_memory_layer_with_an_expression_distance(dialog, project, tmp_path):
    points = QgsVectorLayer(str(write_points(tmp_path / "p.gpkg", 6)), "sites", "ogr")
    project.addMapLayer(points)
    dialog.show_task("buffer")
    form = dialog.current_form()
    form.layer.setLayer(points)
    form.distance_expression.setExpression("fid *")
    assert not form.distance_validity.ok and "distance expression" in form.distance_validity.text()
    form.distance_expression.setExpression('"fid" * 3')
    assert form.distance_validity.ok
    form.segments.setValue(24)
    click_run(dialog)
    wait_until(lambda: project.mapLayersByName("sites buffered"), 30, "the memory layer")
    (buffered,) = project.mapLayersByName("sites buffered")
    assert buffered.providerType() == "memory"
    areas = [f.geometry().area() for f in buffered.getFeatures()]
    assert areas == pytest.approx([np.pi * (3 * fid) ** 2 for fid in range(1, 7)], rel=0.01)


def test_values_are_remembered_for_the_next_dialog(qgis_iface, project, fresh_settings, tmp_path):
    history = TaskHistory()
    first = OffloadDialog(qgis_iface, history)
    first.show_task("buffer")
    form = first.current_form()
    form.segments.setValue(17)
    form.end_cap.setCurrentText("flat")
    form.output.setFilePath(str(tmp_path / "zones.gpkg"))
    project.addMapLayer(QgsVectorLayer(str(write_points(tmp_path / "p.gpkg", 3)), "sites", "ogr"))
    form.layer.setLayer(project.mapLayersByName("sites")[0])
    click_run(first)
    wait_until(lambda: (tmp_path / "zones.gpkg").exists(), 30, "the output")
    second = OffloadDialog(qgis_iface, history)
    second.show_task("buffer")
    again = second.current_form()
    assert (again.segments.value(), again.end_cap.currentText(), again.output.filePath()) == (
        17, "flat", str(tmp_path / "zones.gpkg"))
    for dialog in (first, second):
        dialog.deleteLater()
    history.close()


def test_menu_entries_open_the_dialog_on_their_task(qgis_iface, fresh_settings):
    iface = MenusIface(qgis_iface)
    plugin = offload.classFactory(iface)
    plugin.initGui()
    try:
        (vector_entry,) = next(iter(iface.vector_menu.actions())).menu().actions()
        vector_entry.trigger()
        assert plugin.dialog.isVisible() and plugin.dialog.current_key == "buffer"
        web_entries = next(iter(iface.web_menu.actions())).menu().actions()
        web_entries[0].trigger()
        assert plugin.dialog.current_key == "tiles"
        next(iter(iface.raster_menu.actions())).menu().actions()[0].trigger()
        assert plugin.dialog.current_key == "calc"
    finally:
        plugin.unload()


def test_download_and_tiles_forms_run_to_their_results(dialog, project, tmp_path):
    with TileServer("imagery") as server:
        dialog.show_task("download")
        download = dialog.current_form()
        download.url.setText(server.template.format(z=0, x=0, y=0))
        download.output.setFilePath(str(tmp_path / "world.png"))
        download.kind.setCurrentIndex(download.kind.findData("raster"))
        click_run(dialog)
        dialog.show_task("tiles")
        tiles = dialog.current_form()
        tiles.url.setText(server.template)
        tiles.extent.setOutputExtentFromUser(QgsRectangle(6.95, 45.95, 7.0, 46.0), tiles.crs.crs())
        tiles.output.setFilePath(str(tmp_path / "area.tif"))
        click_run(dialog)
        wait_until(lambda: project.mapLayersByName("world") and project.mapLayersByName("area"), 30, "both layers")
    (area,) = project.mapLayersByName("area")
    assert area.bandCount() == 4 and area.crs().authid() == "EPSG:3857"
    assert [dialog.tasks.topLevelItem(i).text(2) for i in range(2)] == ["Done", "Done"]
