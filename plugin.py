"""OffloadPlugin: what QGIS loads. Declarative: the translator, the Processing provider, actions,
menus and the notifier; no work here.

``initGui()`` imports nothing heavy (no GDAL, numpy, requests, forms or engines), so QGIS
starts fast; ``unload()`` undoes everything ``initGui()`` did and cancels our running tasks.
"""
from __future__ import annotations

import sys
from functools import partial
from pathlib import Path
from typing import List, Optional, Tuple

from qgis.PyQt.QtCore import QCoreApplication, QTranslator
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QAction

from .core.i18n import tr
from .core.log import set_default_notifier
from .ui.catalog import TASKS

ICON_PATH = Path(__file__).resolve().parent / "resources" / "icon.svg"
I18N = Path(__file__).resolve().parent / "i18n"  # offload_<lang>.qm, built by `make translations`
MENU = "&Offload"
# QGIS's menus for each kind of task: (add, remove) method names of iface.
MENUS = {
    "plugins": ("addPluginToMenu", "removePluginMenu"),
    "raster": ("addPluginToRasterMenu", "removePluginRasterMenu"),
    "vector": ("addPluginToVectorMenu", "removePluginVectorMenu"),
    "web": ("addPluginToWebMenu", "removePluginWebMenu"),
}


def install_translator(folder: Path, locale: Optional[str] = None) -> Optional[QTranslator]:
    """Install Offload's translation for QGIS's language (e.g. offload_de.qm), if there is one."""
    if locale is None:
        from qgis.core import QgsSettings

        locale = str(QgsSettings().value("locale/userLocale", "") or "")
    for name in (locale, locale[:2]):  # pt_BR, then pt
        path = folder / f"offload_{name}.qm"
        if name and path.is_file():
            translator = QTranslator()
            if translator.load(str(path)):
                QCoreApplication.installTranslator(translator)
                return translator
    return None


class OffloadPlugin:
    """The QGIS plugin object ``classFactory`` returns."""

    def __init__(self, iface) -> None:
        self.iface = iface
        self.actions: List[Tuple[QAction, str]] = []  # (action, menu it is in)
        self.history = None
        self.dialog = None
        self.provider = None
        self.translator = install_translator(I18N)

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
        icon = QIcon(str(ICON_PATH))
        main = self._add_action("offload_dialog", tr("Offload…"), "plugins", None, icon)
        main.setToolTip(tr("Offload: run heavy work in the background; progress, cancel and errors of its tasks"))
        self.iface.addToolBarIcon(main)
        for task in TASKS:
            self._add_action(f"offload_{task.key}", tr(task.title) + "…", task.menu, task.key, icon)

    def _add_action(self, name: str, text: str, menu: str, task_key: Optional[str], icon: QIcon) -> QAction:
        action = QAction(icon, text, self.iface.mainWindow())
        action.setObjectName(name)
        action.triggered.connect(partial(self.show_dialog, task_key))
        getattr(self.iface, MENUS[menu][0])(MENU, action)
        self.actions.append((action, menu))
        return action

    def unload(self) -> None:
        task_module = sys.modules.get(f"{__package__}.core.task")  # not imported: no task ever ran
        if task_module is not None:
            task_module.release_task_manager()
        for action, menu in self.actions:
            getattr(self.iface, MENUS[menu][1])(MENU, action)
            if menu == "plugins":
                self.iface.removeToolBarIcon(action)
            action.triggered.disconnect()
            action.deleteLater()
        self.actions = []
        if self.dialog is not None:
            self.dialog.close()
            self.dialog.deleteLater()
            self.dialog = None
        if self.history is not None:
            self.history.close()
            self.history.deleteLater()
            self.history = None
        if self.provider is not None:
            from qgis.core import QgsApplication

            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
        set_default_notifier(None)
        if self.translator is not None:
            QCoreApplication.removeTranslator(self.translator)
            self.translator = None

    def show_dialog(self, task_key: Optional[str] = None, *_checked) -> None:
        """Open the dialog (non-modal), on the task ``task_key`` when a menu entry names one."""
        from .ui.dialog import OffloadDialog

        if self.dialog is None:
            self.dialog = OffloadDialog(self.iface, self.history, self.iface.mainWindow())
        if task_key is not None:
            self.dialog.show_task(task_key)
        self.dialog.show()
        self.dialog.raise_()
        self.dialog.activateWindow()
