"""The dialog, driven as a user would (QtTest clicks): every entry shows its form, Run runs,
Cancel cancels, a bad value runs nothing, values are remembered, menus open the right form."""
from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from qgis.core import QgsApplication, QgsProcessingUtils, QgsRasterLayer, QgsRectangle, QgsSettings, QgsVectorLayer
from qgis.PyQt.QtCore import Qt, QTimer
from qgis.PyQt.QtTest import QTest
from qgis.PyQt.QtWidgets import QApplication, QMessageBox

import offload
from offload.core.task import running_tasks
from offload.demo.tile_server import Faults, TileServer
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
    wait_until(lambda: row.text(2).startswith("Done in "), 5, "the row to say Done")
    assert dialog.message.text().startswith("Calc A * 2 → double.tif: done in ")  # the footer follows


@pytest.mark.parametrize("key, fill, message", [
    ("calc", lambda f, p: f.expressions.setPlainText("A + sqrt("), "syntax error"),
    ("tiles", lambda f, p: f.url.setText("ftp://example.com/{z}/{x}/{y}.png"), "scheme 'ftp'"),
    ("tiles", lambda f, p: (f.url.setText("http://127.0.0.1:9/{z}/{x}/{y}.png"), f.zoom.setValue(20),
                            f.extent.setOutputExtentFromUser(QgsRectangle(), f.crs.crs()),  # not the canvas extent, which earlier tests may set
                            f.output.setFilePath(str(p / "big.tif"))), "choose an area"),
    ("tiles", lambda f, p: (f.url.setText("http://127.0.0.1:9/{z}/{x}/{y}.png"), f.zoom.setValue(20),
                            f.extent.setOutputExtentFromUser(QgsRectangle(6, 45, 8, 47), f.crs.crs()),
                            f.output.setFilePath(str(p / "big.tif"))), "more than Max tiles (10,000)"),
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
        wait_until(lambda: "elapsed" in row.text(2), 10, "the task to run")
        QTest.mouseClick(dialog.tasks.itemWidget(row, 3), Qt.MouseButton.LeftButton)
        wait_until(lambda: task.result is not None, 5, "the canceled task to end")
    wait_until(lambda: row.text(2).startswith("Canceled after "), 10, "the row to say Canceled")
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
    form.end_cap.setCurrentIndex(form.end_cap.findData("flat"))
    form.output.setFilePath(str(tmp_path / "zones.gpkg"))
    project.addMapLayer(QgsVectorLayer(str(write_points(tmp_path / "p.gpkg", 3)), "sites", "ogr"))
    form.layer.setLayer(project.mapLayersByName("sites")[0])
    click_run(first)
    wait_until(lambda: (tmp_path / "zones.gpkg").exists(), 30, "the output")
    second = OffloadDialog(qgis_iface, history)
    second.show_task("buffer")
    again = second.current_form()
    assert (again.segments.value(), again.end_cap.currentData(), again.output.filePath()) == (
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
    wait_until(lambda: all(dialog.tasks.topLevelItem(i).text(2).startswith("Done in ") for i in range(2)), 5,
               "both rows to say Done")


# -- issue 11: feedback, help, defaults ----------------------------------------------

def answer_next_question(button) -> list:
    """Click ``button`` in the next QMessageBox that opens (as a user would); returns its texts."""
    seen = []

    def answer():
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            seen.append(box.text())
            box.button(button).click()
        else:
            QTimer.singleShot(10, answer)

    QTimer.singleShot(0, answer)
    return seen


PROGRESS_LINE = re.compile(r"^\d+ of \d+ tiles · [\d.,]+ tiles/s · about .+ left · \d+ s elapsed$")


def test_progress_text_shows_counts_rate_and_time_left_on_a_slow_download(dialog, project, tmp_path):
    dialog.show_task("tiles")
    form = dialog.current_form()
    with TileServer("terrain", Faults(latency_ms=150)) as server:
        form.url.setText(server.template)
        form.extent.setOutputExtentFromUser(QgsRectangle(6.9, 45.9, 7.3, 46.2), form.crs.crs())
        form.zoom.setValue(12)  # 36 tiles at 150 ms each: 5 s
        form.workers.setValue(1)
        form.output.setFilePath(str(tmp_path / "slow.tif"))
        click_run(dialog)
        (task,) = running_tasks()
        row = dialog.tasks.topLevelItem(0)
        wait_until(lambda: PROGRESS_LINE.match(row.text(2)), 15, "counts, a rate and a time left")
        shown = row.text(2)
        # QGIS's task manager shows the same text as the task's description.
        assert QgsApplication.taskManager().task(dialog.last_task_id).description() == f"{task.title} — {shown}"
        task.cancel()
        wait_until(lambda: task.result is not None, 5, "the task to end")


def test_canceled_and_failed_say_so_once_in_offloads_words(dialog, project, qgis_iface, tmp_path):
    from qgis.core import Qgis

    from offload.core.log import set_default_notifier
    from offload.ui.notify import MessageBarNotifier

    bar = qgis_iface.messageBar()
    bar.clear_messages()
    set_default_notifier(MessageBarNotifier(qgis_iface))
    try:
        dialog.show_task("download")
        form = dialog.current_form()
        with TileServer("imagery", Faults(latency_ms=10_000)) as slow, TileServer("imagery") as server:
            form.url.setText(slow.template.format(z=0, x=0, y=0))
            form.output.setFilePath(str(tmp_path / "slow.png"))
            click_run(dialog)
            canceled_row = dialog.tasks.topLevelItem(0)
            # The server answers after 10 s: the engine says nothing, yet the row is alive, its time moving.
            wait_until(lambda: re.fullmatch(r"Starting · [1-9]\d* s elapsed", canceled_row.text(2)), 10,
                       "the time elapsed to move while the engine says nothing")
            QTest.mouseClick(dialog.tasks.itemWidget(canceled_row, 3), Qt.MouseButton.LeftButton)
            wait_until(lambda: canceled_row.text(2).startswith("Canceled after "), 5, "the row to say Canceled")
            assert "canceled" in dialog.message.text() and "fail" not in dialog.message.text().lower()
            form.url.setText(server.template.replace("{z}/{x}/{y}", "99/0/0"))  # the server answers 404
            form.output.setFilePath(str(tmp_path / "missing.png"))
            click_run(dialog)
            failed_row = dialog.tasks.topLevelItem(1)
            wait_until(lambda: failed_row.text(2).startswith("Failed after "), 10, "the row to say Failed")
    finally:
        set_default_notifier(None)
    notices = {level: bar.get_messages(level) for level in (Qgis.Info, Qgis.Success, Qgis.Warning, Qgis.Critical)}
    assert len(notices[Qgis.Info]) == 1 and "canceled after" in notices[Qgis.Info][0]
    assert not any("fail" in text.lower() for text in notices[Qgis.Info])
    assert len(notices[Qgis.Critical]) == 1 and "404" in notices[Qgis.Critical][0]
    assert notices[Qgis.Success] == [] and notices[Qgis.Warning] == []
    # The full message is a hover away (tooltip) and a click away (the run's log).
    assert "404" in failed_row.toolTip(2) and "failed after" in failed_row.toolTip(2)
    dialog.tasks.itemClicked.emit(failed_row, 0)
    assert "404" in dialog.log.text.toPlainText() and "Result:" in dialog.log.text.toPlainText()
    assert "failed after" in dialog.message.text() and "404" in dialog.message.text()


def test_the_log_pane_holds_a_command_line_that_reruns_to_the_same_output(dialog, project, tmp_path,
                                                                          subprocess_env):
    source = write_raster(tmp_path / "heights.tif", np.arange(600, dtype=np.float32).reshape(20, 30))
    project.addMapLayer(QgsRasterLayer(str(source), "heights"))
    form = dialog.forms["calc"]
    form.expressions.setPlainText("sqrt(A) * 2")
    form.output.setFilePath(str(tmp_path / "first.tif"))
    click_run(dialog)
    wait_until(lambda: dialog.tasks.topLevelItem(0).text(2).startswith("Done in "), 30, "the run to end")
    log = dialog.log.text.toPlainText()
    assert "Input A: heights (band 1)" in log
    assert "Expressions: sqrt(A) * 2" in log and "processing.run('offload:calc'" in log and "Result:" in log
    command = log.split("Command line:\n", 1)[1].splitlines()[0]
    assert command.startswith("python3 -m offload calc --expr 'sqrt(A) * 2' --input A=")
    args = shlex.split(command.replace(str(tmp_path / "first.tif"), str(tmp_path / "again.tif")))
    rerun = subprocess.run([sys.executable] + args[1:], env=subprocess_env, capture_output=True, text=True,
                           timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert np.array_equal(read_raster(tmp_path / "first.tif")[0], read_raster(tmp_path / "again.tif")[0])
    QTest.mouseClick(dialog.log.copy_button, Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == log


def test_an_empty_output_is_a_temporary_file_loaded_into_the_project(dialog, project, tmp_path):
    source = write_raster(tmp_path / "heights.tif", np.ones((10, 10), np.float32))
    project.addMapLayer(QgsRasterLayer(str(source), "heights"))
    form = dialog.forms["calc"]
    assert form.output.lineEdit().placeholderText() == "[Save to temporary file]"
    form.expressions.setPlainText("A + 1")
    click_run(dialog)
    wait_until(lambda: project.mapLayersByName("calc"), 30, "the temporary output to load")
    (layer,) = project.mapLayersByName("calc")
    assert layer.source().startswith(QgsProcessingUtils.tempFolder())
    assert read_raster(Path(layer.source()))[0].max() == 2


def test_overwriting_asks_first(dialog, project, tmp_path):
    source = write_raster(tmp_path / "heights.tif", np.ones((10, 10), np.float32))
    project.addMapLayer(QgsRasterLayer(str(source), "heights"))
    existing = write_raster(tmp_path / "out.tif", np.zeros((10, 10), np.float32))
    form = dialog.forms["calc"]
    form.expressions.setPlainText("A * 5")
    form.output.setFilePath(str(existing))
    asked = answer_next_question(QMessageBox.StandardButton.No)
    click_run(dialog)
    assert asked and "out.tif already exists" in asked[0]
    assert running_tasks() == [] and read_raster(existing)[0].max() == 0
    assert "Not run" in dialog.message.text() and "overwrite" not in dialog.message.text()
    asked = answer_next_question(QMessageBox.StandardButton.Yes)
    click_run(dialog)
    assert asked
    wait_until(lambda: dialog.tasks.topLevelItem(0).text(2).startswith("Done in "), 30, "the run to end")
    assert read_raster(existing)[0].max() == 5


def test_input_a_is_the_active_raster_layer(qgis_iface, project, fresh_settings, tmp_path):
    first = QgsRasterLayer(str(write_raster(tmp_path / "a.tif", np.ones((4, 4), np.float32))), "aaa first")
    active = QgsRasterLayer(str(write_raster(tmp_path / "z.tif", np.ones((4, 4), np.float32))), "zzz active")
    project.addMapLayers([first, active])
    qgis_iface.setActiveLayer(active)
    history = TaskHistory()
    dialog = OffloadDialog(qgis_iface, history)
    try:
        assert dialog.forms["calc"].input_rows[0].layer.currentLayer() is active
    finally:
        dialog.deleteLater()
        history.close()


def test_the_buffer_distance_shows_its_unit_and_warns_in_degrees(dialog, project, tmp_path):
    geographic = QgsVectorLayer(str(write_points(tmp_path / "wgs.gpkg", 3, epsg=4326)), "wgs", "ogr")
    projected = QgsVectorLayer(str(write_points(tmp_path / "merc.gpkg", 3)), "merc", "ogr")
    project.addMapLayers([geographic, projected])
    dialog.show_task("buffer")
    form = dialog.current_form()
    form.layer.setLayer(geographic)
    assert form.distance.suffix() == " degrees"
    assert form.distance_warning.isVisible() and "degrees" in form.distance_warning.text()
    form.units.setCurrentIndex(form.units.findData("meters"))
    assert form.distance.suffix() == " meters" and form.distance_warning.text() == ""
    form.units.setCurrentIndex(form.units.findData("layer"))
    form.layer.setLayer(projected)
    assert form.distance.suffix() == " meters" and form.distance_warning.text() == ""


def test_every_choice_shows_a_label_not_a_keyword(dialog):
    from qgis.PyQt.QtWidgets import QComboBox

    keywords = {"round", "flat", "square", "miter", "bevel", "layer", "meters", "fix", "skip", "fail", "GTiff",
                "COG", "none", "terrarium", "terrain-rgb", "file", "raster", "vector", "intersect", "union",
                "Byte", "Float32"}
    checked = 0
    for task in TASKS:
        dialog.show_task(task.key)
        for combo in dialog.current_form().findChildren(QComboBox):
            if type(combo) is not QComboBox:  # QGIS's own pickers (layers, CRS, fields) show names already
                continue
            for index in range(combo.count()):
                assert combo.itemData(index) is not None, (task.key, combo.itemText(index))
                assert combo.itemText(index) not in keywords, (task.key, combo.itemText(index))
                checked += 1
    assert checked >= 30


def test_no_error_shows_before_anything_was_typed(dialog):
    calc = dialog.forms["calc"]
    assert calc.validity.text() == ""
    dialog.show_task("tiles")
    tiles = dialog.current_form()
    assert tiles.url_validity.text() == ""
    tiles.url.setText("ftp://x/{z}/{x}/{y}")
    assert not tiles.url_validity.ok and "ftp" in tiles.url_validity.text()


def test_help_shows_the_task_documentation(dialog):
    QTest.mouseClick(dialog.help_button, Qt.MouseButton.LeftButton)
    assert dialog.help_window.isVisible()
    text = dialog.help_window.browser.toPlainText()
    assert text.startswith("Raster math") and "slope" in text and "The dialog" in text
    dialog.show_task("buffer")  # the open help follows the chosen task
    assert dialog.help_window.browser.toPlainText().startswith("Buffering")


def test_the_calculator_lists_inputs_operators_and_functions_to_insert(dialog):
    from offload.raster_tasks.expression import ELEMENTWISE, NEIGHBOURHOOD

    form = dialog.forms["calc"]
    palette = form.palette_list
    groups = {palette.topLevelItem(i).text(0): palette.topLevelItem(i) for i in range(palette.topLevelItemCount())}
    assert list(groups) == ["Inputs", "Operators", "Functions", "Constants"]
    functions = {groups["Functions"].child(i).text(0): groups["Functions"].child(i)
                 for i in range(groups["Functions"].childCount())}
    assert set(functions) == set(ELEMENTWISE) | set(NEIGHBOURHOOD)
    assert all(item.text(1) for item in functions.values())  # one line of help each
    assert [groups["Inputs"].child(i).text(0) for i in range(groups["Inputs"].childCount())] == ["A"]
    form.expressions.setPlainText("A + ")
    cursor = form.expressions.textCursor()
    cursor.movePosition(cursor.MoveOperation.End)
    form.expressions.setTextCursor(cursor)
    palette.itemDoubleClicked.emit(functions["sqrt"], 0)
    palette.itemDoubleClicked.emit(groups["Inputs"].child(0), 0)
    assert form.expressions.toPlainText() == "A + sqrt(A)"
    assert form.validity.ok


def test_the_tiles_area_starts_at_the_canvas_extent(qgis_iface, project, fresh_settings):
    from qgis.core import QgsCoordinateReferenceSystem

    canvas = qgis_iface.mapCanvas()
    canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:4326"))
    canvas.setExtent(QgsRectangle(6.9, 45.9, 7.3, 46.2))
    shown = canvas.extent()
    history = TaskHistory()
    dialog = OffloadDialog(qgis_iface, history)
    try:
        dialog.show_task("tiles")
        assert dialog.current_form().bbox() == pytest.approx(
            (shown.xMinimum(), shown.yMinimum(), shown.xMaximum(), shown.yMaximum()), abs=1e-6)
    finally:
        dialog.deleteLater()
        history.close()
