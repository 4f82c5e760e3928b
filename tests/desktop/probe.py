"""Run inside the real QGIS desktop (``qgis --code probe.py``): is Offload there and working?

Writes its findings as JSON to $OFFLOAD_PROBE_OUT, saves a screenshot beside it, then quits
QGIS while an Offload task is still running (QGIS must be able to). Bounded: gives up after 60 s.
"""
import json
import os
import time
import traceback
from pathlib import Path

import qgis.utils
from qgis.core import QgsApplication, QgsProject
from qgis.PyQt.QtCore import QTimer

OUT = Path(os.environ["OFFLOAD_PROBE_OUT"])
DATA = Path(os.environ["OFFLOAD_PROBE_DATA"])
findings = {"python_errors": []}
started = time.monotonic()


def step_1_check_plugin():
    try:
        findings["plugin_loaded"] = "offload" in qgis.utils.plugins
        plugin = qgis.utils.plugins["offload"]
        findings["actions"] = [action.objectName() for action in plugin.actions]
        findings["in_toolbar"] = any(a in qgis.utils.iface.pluginToolBar().actions() for a in plugin.actions)
        from offload import api

        findings["wait_refused_in_desktop"] = api._is_desktop()
        registry = QgsApplication.processingRegistry()
        findings["algorithms"] = [a.id() for a in registry.providerById("offload").algorithms()]
        from offload.core.task import start
        from offload.net_tasks.download import FileRequest
        from offload.net_tasks.tasks import FileDownloadTask

        request = FileRequest(DATA.as_uri(), OUT.parent / "downloaded.tif", allow_file_urls=True, overwrite=True)
        findings["task"] = start(FileDownloadTask(request, "raster")).description()
        plugin.show_task_list()
        QTimer.singleShot(200, step_2_wait_for_layer)
    except Exception:
        fail()


def step_2_wait_for_layer():
    try:
        names = [layer.name() for layer in QgsProject.instance().mapLayers().values()]
        if "downloaded" not in names and time.monotonic() - started < 60:
            QTimer.singleShot(100, step_2_wait_for_layer)
            return
        findings["layers"] = names
        findings["task_list_rows"] = qgis.utils.plugins["offload"].task_list.tree.topLevelItemCount()
        qgis.utils.iface.mapCanvas().refresh()
        QTimer.singleShot(1500, step_3_screenshot_and_quit)
    except Exception:
        fail()


def step_3_screenshot_and_quit():
    try:
        window = qgis.utils.iface.mainWindow()
        findings["screenshot"] = str(OUT.with_suffix(".png"))
        window.grab().save(findings["screenshot"])
        qgis.utils.plugins["offload"].task_list.grab().save(str(OUT.with_name("task-list.png")))
        from offload.core.task import start
        from offload.net_tasks.download import FileRequest
        from offload.net_tasks.tasks import FileDownloadTask

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


QTimer.singleShot(500, step_1_check_plugin)
