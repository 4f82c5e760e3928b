"""The plugin shell: initGui()/unload() symmetric on real Qt menus and toolbars, nothing heavy at load."""
from __future__ import annotations

import json
import re
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
    """pytest-qgis's iface, with the plugin, raster, vector and web menu calls and the toolbar
    acting on real Qt objects the way QGIS's do (a plugin submenu disappears when its last
    action is removed)."""

    MENUS = {"Plugin": "plugin_menu", "Raster": "raster_menu", "Vector": "vector_menu", "Web": "web_menu"}

    def __init__(self, iface):
        self._iface = iface
        for title, attribute in self.MENUS.items():
            setattr(self, attribute, QMenu(title))
        self.plugin_toolbar = QToolBar("Plugins")

    def __getattr__(self, name):
        for title, attribute in MenusIface.MENUS.items():
            if name == f"addPluginTo{title}Menu" or (title == "Plugin" and name == "addPluginToMenu"):
                return lambda menu_name, action: self._add(getattr(self, attribute), menu_name, action)
            if name == f"removePlugin{title}Menu" or (title == "Plugin" and name == "removePluginMenu"):
                return lambda menu_name, action: self._remove(getattr(self, attribute), menu_name, action)
        return getattr(self._iface, name)

    @staticmethod
    def _submenu(parent, name):
        return next((a.menu() for a in parent.actions() if a.menu() and a.text() == name), None)

    def _add(self, parent, name, action):
        menu = self._submenu(parent, name) or parent.addMenu(name)
        menu.addAction(action)

    def _remove(self, parent, name, action):
        menu = self._submenu(parent, name)
        menu.removeAction(action)
        if not menu.actions():
            parent.removeAction(menu.menuAction())

    def entries(self, attribute):
        """{submenu title: [action object names]} of one of the menus."""
        return {a.text(): [b.objectName() for b in a.menu().actions()]
                for a in getattr(self, attribute).actions() if a.menu()}

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
    assert iface.entries("plugin_menu") == {"&Offload": ["offload_dialog"]}
    assert iface.entries("raster_menu") == {"&Offload": ["offload_calc"]}
    assert iface.entries("web_menu") == {"&Offload": ["offload_tiles", "offload_download"]}
    assert iface.entries("vector_menu") == {"&Offload": ["offload_buffer"]}
    assert [a.objectName() for a in iface.plugin_toolbar.actions()] == ["offload_dialog"]
    assert offload_log.default_notifier() is not offload_log.log_notifier
    assert task_added_receivers() > receivers_before
    assert QgsApplication.processingRegistry().providerById("offload") is not None

    task = start(LoopTask(tmp_path / "x.bin"))
    wait_until(lambda: task.iterations > 0, 10, "the task to run")
    plugin.unload()
    for menu in ("plugin_menu", "raster_menu", "vector_menu", "web_menu"):
        assert getattr(iface, menu).actions() == []
    assert iface.plugin_toolbar.actions() == []
    assert offload_log.default_notifier() is offload_log.log_notifier
    assert task_added_receivers() == 0  # neither the task list nor core's lifetime hook
    assert QgsApplication.processingRegistry().providerById("offload") is None
    wait_until(lambda: not running_tasks(), 10, "the running task to be canceled by unload()")
    assert task.result is False and task.canceled
    assert list(tmp_path.iterdir()) == []


def test_task_list_shows_progress_and_cancels(iface, tmp_path):
    plugin = offload.classFactory(iface)
    plugin.initGui()
    try:
        task = start(LoopTask(tmp_path / "x.bin"))
        iface.plugin_toolbar.actions()[0].trigger()
        assert plugin.dialog.isVisible()
        tree = plugin.dialog.tasks
        wait_until(lambda: tree.topLevelItemCount() == 1, 5, "the task row")
        item = tree.topLevelItem(0)
        wait_until(lambda: item.text(2).endswith(" s elapsed"), 5, "the running task's progress text")
        assert item.text(0) == "loop task"
        tree.itemWidget(item, 3).click()  # Cancel
        wait_until(lambda: task.result is not None, 10, "the canceled task to finish")
        wait_until(lambda: item.text(2).startswith("Canceled after "), 10, "the Canceled status")
        assert not tree.itemWidget(item, 3).isEnabled()
    finally:
        plugin.unload()


def test_failed_task_shows_its_error_in_the_list_and_the_message_bar(iface, qgis_iface, tmp_path):
    from .test_base_task import RaisingTask

    plugin = offload.classFactory(iface)
    plugin.initGui()
    qgis_iface.messageBar().clear_messages()
    try:
        plugin.show_dialog()
        task = start(RaisingTask(tmp_path / "out.tif"))
        wait_until(lambda: task.result is not None, 10, "the task to fail")
        item = plugin.dialog.tasks.topLevelItem(0)
        wait_until(lambda: item.text(2).startswith("Failed"), 10, "the Failed status")
        assert re.fullmatch(r"Failed after \d+ s: ValueError: boom at block 42", item.text(2))
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


def test_translations_collect_every_tr_string_and_a_translation_is_used(tmp_path):
    """`make translations` builds .ts/.qm files; a translated .qm is what the plugin shows."""
    import importlib.util
    import shutil

    from qgis.PyQt.QtCore import QCoreApplication

    from offload.core.i18n import tr
    from offload.plugin import install_translator
    from offload.ui.catalog import TASKS

    if shutil.which("lrelease") is None:
        pytest.skip("needs Qt's lrelease (make setup installs qttools5-dev-tools)")
    spec = importlib.util.spec_from_file_location("i18n_update", Path(offload.__file__).parent / "i18n" / "update.py")
    update = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(update)
    strings = update.source_strings()
    assert {"Run", "Help", "Canceled after {time}", "[Save to temporary file]", "{time} elapsed"} <= set(strings)
    assert {task.title for task in TASKS} | {task.summary for task in TASKS} <= set(strings)
    ts = tmp_path / "offload_xx.ts"
    update.write_ts(ts, {"Run": [("ui/dialog.py", 1)]}, "xx")
    ts.write_text(ts.read_text().replace('<translation type="unfinished" />', "<translation>Lancer</translation>"))
    update.write_ts(ts, strings, "xx")  # an update keeps what was translated
    subprocess.run(["lrelease", "-silent", str(ts), "-qm", str(tmp_path / "offload_xx.qm")], check=True)
    translator = install_translator(tmp_path, "xx_YY")
    try:
        assert translator is not None and tr("Run") == "Lancer" and tr("Help") == "Help"
    finally:
        QCoreApplication.removeTranslator(translator)
    assert tr("Run") == "Run"
