"""OffloadPlugin: what QGIS loads. Declarative: actions, menus and the notifier; no work here.

``initGui()`` imports nothing heavy (no GDAL, numpy or requests), so QGIS starts fast;
``unload()`` undoes everything ``initGui()`` did and cancels our running tasks.
"""
from __future__ import annotations

import sys
from pathlib import Path

from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QAction

from .core.i18n import tr
from .core.log import set_default_notifier

ICON_PATH = Path(__file__).resolve().parent / "resources" / "icon.svg"
MENU = "&Offload"


class OffloadPlugin:
    """The QGIS plugin object ``classFactory`` returns."""

    def __init__(self, iface) -> None:
        self.iface = iface
        self.actions = []
        self.history = None
        self.task_list = None
        self.provider = None

    def initProcessing(self) -> None:  # noqa: N802 (QGIS calls it, also for qgis_process)
        from qgis.core import QgsApplication

        from .provider import OffloadProvider

        self.provider = OffloadProvider()
        QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self) -> None:  # noqa: N802 (QGIS's name)
        from .ui.notify import MessageBarNotifier
        from .ui.task_list import TaskHistory

        self.initProcessing()
        self.history = TaskHistory()
        set_default_notifier(MessageBarNotifier(self.iface))
        action = QAction(QIcon(str(ICON_PATH)), tr("Offload tasks…"), self.iface.mainWindow())
        action.setObjectName("offload_show_tasks")
        action.setToolTip(tr("Show Offload's background tasks: progress, cancel, errors"))
        action.triggered.connect(self.show_task_list)
        self.iface.addToolBarIcon(action)
        self.iface.addPluginToMenu(MENU, action)
        self.actions.append(action)

    def unload(self) -> None:
        task_module = sys.modules.get(f"{__package__}.core.task")  # not imported: no task ever ran
        if task_module is not None:
            task_module.release_task_manager()
        for action in self.actions:
            self.iface.removePluginMenu(MENU, action)
            self.iface.removeToolBarIcon(action)
            action.triggered.disconnect(self.show_task_list)
            action.deleteLater()
        self.actions = []
        if self.task_list is not None:
            self.task_list.close()
            self.task_list.deleteLater()
            self.task_list = None
        if self.history is not None:
            self.history.close()
            self.history.deleteLater()
            self.history = None
        if self.provider is not None:
            from qgis.core import QgsApplication

            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
        set_default_notifier(None)

    def show_task_list(self) -> None:
        from .ui.task_list import TaskListDialog

        if self.task_list is None:
            self.task_list = TaskListDialog(self.history, self.iface.mainWindow())
        self.task_list.show()
        self.task_list.raise_()
        self.task_list.activateWindow()
