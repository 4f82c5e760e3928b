"""The plugin shell: initGui()/unload() symmetric on real Qt menus and toolbars, nothing heavy at load."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from qgis.core import QgsApplication
from qgis.PyQt.QtWidgets import QMenu, QToolBar

import offload
from offload.core import log as offload_log
from offload.core.task import running_tasks, start
from qgis_helpers import wait_until

from .test_base_task import LoopTask


class MenusIface:
    """pytest-qgis's iface, with the plugin menu and toolbar calls acting on real Qt objects
    the way QGIS's do (a plugin submenu disappears when its last action is removed)."""

    def __init__(self, iface):
        self._iface = iface
        self.plugin_menu = QMenu("Plugins")
        self.plugin_toolbar = QToolBar("Plugins")

    def __getattr__(self, name):
        return getattr(self._iface, name)

    def _submenu(self, name):
        return next((a.menu() for a in self.plugin_menu.actions() if a.menu() and a.text() == name), None)

    def addPluginToMenu(self, name, action):  # noqa: N802
        menu = self._submenu(name) or self.plugin_menu.addMenu(name)
        menu.addAction(action)

    def removePluginMenu(self, name, action):  # noqa: N802
        menu = self._submenu(name)
        menu.removeAction(action)
        if not menu.actions():
            self.plugin_menu.removeAction(menu.menuAction())

    def addToolBarIcon(self, action):  # noqa: N802
        self.plugin_toolbar.addAction(action)

    def removeToolBarIcon(self, action):  # noqa: N802
        self.plugin_toolbar.removeAction(action)


@pytest.fixture
def iface(qgis_iface):
    return MenusIface(qgis_iface)


def task_added_receivers() -> int:
    manager = QgsApplication.taskManager()
    return manager.receivers(manager.taskAdded)


def test_init_gui_adds_and_unload_removes_everything(iface, tmp_path):
    receivers_before = task_added_receivers()
    plugin = offload.classFactory(iface)
    plugin.initGui()
    assert [a.text() for a in iface.plugin_menu.actions()] == ["&Offload"]
    assert [a.objectName() for a in iface.plugin_toolbar.actions()] == ["offload_show_tasks"]
    assert offload_log.default_notifier() is not offload_log.log_notifier
    assert task_added_receivers() > receivers_before
    assert QgsApplication.processingRegistry().providerById("offload") is not None

    task = start(LoopTask(tmp_path / "x.bin"))
    wait_until(lambda: task.iterations > 0, 10, "the task to run")
    plugin.unload()
    assert iface.plugin_menu.actions() == [] and iface.plugin_toolbar.actions() == []
    assert offload_log.default_notifier() is offload_log.log_notifier
    assert task_added_receivers() == 0  # neither the task list nor core's lifetime hook
    assert QgsApplication.processingRegistry().providerById("offload") is None
    wait_until(lambda: not running_tasks(), 2, "the running task to be canceled by unload()")
    assert task.result is False and task.canceled
    assert list(tmp_path.iterdir()) == []


def test_task_list_shows_progress_and_cancels(iface, tmp_path):
    plugin = offload.classFactory(iface)
    plugin.initGui()
    try:
        task = start(LoopTask(tmp_path / "x.bin"))
        iface.plugin_toolbar.actions()[0].trigger()
        dialog = plugin.task_list
        assert dialog.isVisible()
        wait_until(lambda: dialog.tree.topLevelItemCount() == 1, 5, "the task row")
        item = dialog.tree.topLevelItem(0)
        wait_until(lambda: item.text(2) == "Running", 5, "the Running status")
        assert item.text(0) == "loop task"
        dialog.tree.itemWidget(item, 3).click()  # Cancel
        wait_until(lambda: task.result is not None, 2, "the canceled task to finish")
        wait_until(lambda: item.text(2) == "Canceled", 2, "the Canceled status")
        assert not dialog.tree.itemWidget(item, 3).isEnabled()
    finally:
        plugin.unload()


def test_failed_task_shows_its_error_in_the_list_and_the_message_bar(iface, qgis_iface, tmp_path):
    from .test_base_task import RaisingTask

    plugin = offload.classFactory(iface)
    plugin.initGui()
    qgis_iface.messageBar().clear_messages()
    try:
        plugin.show_task_list()
        task = start(RaisingTask(tmp_path / "out.tif"))
        wait_until(lambda: task.result is not None, 10, "the task to fail")
        item = plugin.task_list.tree.topLevelItem(0)
        wait_until(lambda: item.text(2).startswith("Failed"), 2, "the Failed status")
        assert item.text(2) == "Failed: ValueError: boom at block 42"
        critical = qgis_iface.messageBar().get_messages(2)
        assert critical == ["Offload:raising task: ValueError: boom at block 42"]
    finally:
        plugin.unload()


def test_init_gui_imports_nothing_heavy(subprocess_env):
    probe = Path(__file__).resolve().parents[2] / "bench" / "plugin_load.py"
    child = subprocess.run([sys.executable, str(probe), "--json"], env=subprocess_env,
                           capture_output=True, text=True, timeout=120)
    assert child.returncode == 0, child.stderr
    result = json.loads(child.stdout)
    assert result["heavy"] == [] and result["toolbar"] == 0, result
