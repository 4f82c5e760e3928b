"""Run inside the real QGIS desktop (``qgis --code probe.py``): is Offload there and working?

It opens the Offload dialog from the Raster menu, runs a calculation through the form and
watches a slow tile download in the dialog (screenshot mid-task), checks the menus and the
Processing provider, then quits QGIS while an Offload task is still running (QGIS must be
able to). Findings go as JSON to $OFFLOAD_PROBE_OUT, screenshots beside it. Bounded: 60 s.
"""
import json
import os
import time
import traceback
from pathlib import Path

import qgis.utils
from qgis.core import QgsApplication, QgsProject, QgsRasterLayer
from qgis.PyQt.QtCore import QTimer

OUT = Path(os.environ["OFFLOAD_PROBE_OUT"])
DATA = Path(os.environ["OFFLOAD_PROBE_DATA"])
findings = {"python_errors": []}
started = time.monotonic()
servers = []


def offload_entries(menu):
    """Object names of the actions in ``menu``'s "&Offload" submenu."""
    submenu = next((a.menu() for a in menu.actions() if a.menu() and a.text() == "&Offload"), None)
    return [a.objectName() for a in submenu.actions()] if submenu else []


def step_1_check_plugin_and_run_from_the_dialog():
    findings["reached"] = "step 1"
    write()  # QGIS is up and ran this file: a crash from here on is not QGIS's start-up
    try:
        iface = qgis.utils.iface
        findings["plugin_loaded"] = "offload" in qgis.utils.plugins
        plugin = qgis.utils.plugins["offload"]
        findings["in_toolbar"] = any(a in iface.pluginToolBar().actions() for a, _ in plugin.actions)
        findings["menus"] = {name: offload_entries(menu) for name, menu in (
            ("plugins", iface.pluginMenu()), ("raster", iface.rasterMenu()), ("vector", iface.vectorMenu()),
            ("web", iface.webMenu()))}
        from offload import api

        findings["wait_refused_in_desktop"] = api._is_desktop()
        registry = QgsApplication.processingRegistry()
        findings["algorithms"] = [a.id() for a in registry.providerById("offload").algorithms()]
        QgsProject.instance().addMapLayer(QgsRasterLayer(str(DATA), "source"))
        next(a for a, _ in plugin.actions if a.objectName() == "offload_calc").trigger()  # Raster › Offload
        dialog = plugin.dialog
        findings["dialog_task"] = dialog.current_key
        form = dialog.current_form()
        form.expressions.setPlainText("A * 2")
        form.output.setFilePath(str(OUT.parent / "doubled.tif"))
        dialog.run_button.click()
        findings["calc_message"] = dialog.message.text()
        from offload.demo.tile_server import Faults, TileServer

        server = TileServer("terrain", Faults(latency_ms=250))
        server.__enter__()
        servers.append(server)
        dialog.show_task("tiles")
        tiles = dialog.current_form()
        tiles.url.setText(server.template)
        from qgis.core import QgsRectangle

        tiles.extent.setOutputExtentFromUser(QgsRectangle(6.9, 45.9, 7.3, 46.2), tiles.crs.crs())
        tiles.workers.setValue(1)
        tiles.output.setFilePath(str(OUT.parent / "slow-dem.tif"))
        dialog.run_button.click()
        findings["tiles_message"] = dialog.message.text()
        findings["tiles_clicked"] = time.monotonic()
        QTimer.singleShot(200, step_2_screenshot_mid_task)
    except Exception:
        fail()


def step_2_screenshot_mid_task():
    """Once the running row shows counts, a rate and the time left (or after 10 s)."""
    try:
        dialog = qgis.utils.plugins["offload"].dialog
        rows = [dialog.tasks.topLevelItem(i) for i in range(dialog.tasks.topLevelItemCount())]
        if "elapsed" in rows[-1].text(2) and "first_progress_s" not in findings:
            findings["first_progress_s"] = time.monotonic() - findings["tiles_clicked"]
        if "left" not in rows[-1].text(2) and time.monotonic() - findings["tiles_clicked"] < 10:
            QTimer.singleShot(100, step_2_screenshot_mid_task)
            return
        findings["rows_mid_task"] = [(row.text(0), row.text(2)) for row in rows]
        task_id = dialog.last_task_id
        findings["task_manager_description"] = QgsApplication.taskManager().task(task_id).description()
        findings["notices_after_calc"] = [(item.title(), item.text()) for item in
                                          qgis.utils.iface.messageBar().items()]
        findings["dialog_screenshot"] = str(OUT.with_name("dialog-mid-task.png"))
        dialog.resize(900, dialog.height())  # the whole progress text, for the README
        dialog.grab().save(findings["dialog_screenshot"])
        running = rows[-1]
        dialog.tasks.itemWidget(running, 3).click()  # Cancel the slow download
        QTimer.singleShot(200, step_3_wait_for_layer)
    except Exception:
        fail()


def step_3_wait_for_layer():
    try:
        names = [layer.name() for layer in QgsProject.instance().mapLayers().values()]
        dialog = qgis.utils.plugins["offload"].dialog
        rows = [dialog.tasks.topLevelItem(i) for i in range(dialog.tasks.topLevelItemCount())]
        statuses = [row.text(2) for row in rows]
        if ("doubled" not in names or any("elapsed" in s for s in statuses)) and time.monotonic() - started < 60:
            QTimer.singleShot(100, step_3_wait_for_layer)
            return
        findings["layers"] = names
        findings["rows_at_end"] = statuses
        findings["notices_at_end"] = [(item.title(), item.text()) for item in qgis.utils.iface.messageBar().items()]
        qgis.utils.iface.mapCanvas().refresh()
        step_3b_a_task_longer_than_5_s()
    except Exception:
        fail()


def step_3b_a_task_longer_than_5_s():
    """QGIS 3.22 adds its own notice ("Task complete") for tasks of 5 s or more: record it."""
    try:
        from offload.core.task import start
        from offload.net_tasks.request import FileRequest
        from offload.demo.tile_server import Faults, TileServer
        from offload.net_tasks.download_task import FileDownloadTask

        slow = TileServer("imagery", Faults(latency_ms=5500))
        slow.__enter__()
        servers.append(slow)
        qgis.utils.iface.messageBar().clearWidgets()
        task = start(FileDownloadTask(FileRequest(slow.template.format(z=0, x=0, y=0), OUT.parent / "slow.png")))
        waited = time.monotonic()

        def wait_for_it():
            if task.result is None and time.monotonic() - waited < 20:
                QTimer.singleShot(100, wait_for_it)
                return
            QTimer.singleShot(300, record)

        def record():
            findings["notices_after_6_s_task"] = [(item.title(), item.text()) for item in
                                                  qgis.utils.iface.messageBar().items()]
            QTimer.singleShot(1200, step_4_screenshot_and_quit)

        wait_for_it()
    except Exception:
        fail()


def step_4_screenshot_and_quit():
    try:
        window = qgis.utils.iface.mainWindow()
        findings["screenshot"] = str(OUT.with_suffix(".png"))
        window.grab().save(findings["screenshot"])
        for server in servers:
            server.__exit__(None, None, None)
        from offload.core.task import start
        from offload.net_tasks.request import FileRequest
        from offload.net_tasks.download_task import FileDownloadTask

        # A download from a server that never answers: still running when QGIS quits.
        hanging = FileRequest(os.environ["OFFLOAD_PROBE_HANGING_URL"], OUT.parent / "never.bin", timeout_s=60)
        start(FileDownloadTask(hanging))
        findings["running_at_quit"] = QgsApplication.taskManager().countActiveTasks()
    except Exception:
        fail()
    write()
    # Layers under /tmp count as "temporary" and QGIS would ask before closing the project.
    QgsProject.instance().removeAllMapLayers()
    QgsProject.instance().setDirty(False)
    QTimer.singleShot(300, qgis.utils.iface.actionExit().trigger)


def fail():
    findings["python_errors"].append(traceback.format_exc())
    write()
    QgsApplication.exit(3)


def write():
    OUT.write_text(json.dumps(findings, indent=2))


QTimer.singleShot(500, step_1_check_plugin_and_run_from_the_dialog)
