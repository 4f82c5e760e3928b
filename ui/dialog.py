"""The Offload dialog: a drop-down of every task (grouped Raster / Network / Vector), the chosen
task's form, Run, and the session's tasks with progress and Cancel. Non-modal: it stays usable
while tasks run, and Run submits to QGIS's task manager without waiting."""
from __future__ import annotations

import importlib
from typing import Dict

from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QStandardItem
from qgis.PyQt.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ..core.errors import InputError
from ..core.i18n import tr
from .catalog import GROUPS, TASKS, entry
from .forms.base import ERROR_STYLE, OK_STYLE, TaskForm
from .task_list import TaskHistory, TaskList


def make_form(key: str, iface) -> TaskForm:
    """The form of the catalog entry ``key`` (its module is imported only now)."""
    module_name, class_name = entry(key).form.split(":")
    module = importlib.import_module(f"{__package__}.forms.{module_name}")
    return getattr(module, class_name)(iface)


class OffloadDialog(QDialog):
    """Choose a task, fill its form, Run; watch, cancel and read the errors of the session's tasks."""

    def __init__(self, iface, history: TaskHistory, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Offload: background tasks"))
        self.setObjectName("offload_dialog")
        self.iface = iface
        self.chooser = QComboBox()
        self.chooser.setObjectName("offload_task_chooser")
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.stack = QStackedWidget()
        self.forms: Dict[str, TaskForm] = {}
        self._fill_chooser()
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.run_button = QPushButton(tr("Run"))
        self.run_button.setObjectName("offload_run")
        self.run_button.setDefault(True)
        self.close_button = QPushButton(tr("Close"))
        self.tasks = TaskList(history)
        self._lay_out()
        self.chooser.currentIndexChanged.connect(self._show_chosen)
        self.run_button.clicked.connect(self.run)
        self.close_button.clicked.connect(self.close)
        self._show_chosen()
        self.resize(720, 760)

    def _fill_chooser(self) -> None:
        model = self.chooser.model()
        for group in GROUPS:
            header = QStandardItem(tr(group))
            header.setFlags(Qt.ItemFlag.NoItemFlags)  # a heading, not a choice
            font = header.font()
            font.setBold(True)
            header.setFont(font)
            model.appendRow(header)
            for task in TASKS:
                if task.group == group:
                    self.chooser.addItem("    " + tr(task.title), task.key)
        self.chooser.setCurrentIndex(self.chooser.findData(TASKS[0].key))

    def _lay_out(self) -> None:
        top = QWidget()
        layout = QVBoxLayout(top)
        layout.addWidget(self.chooser)
        layout.addWidget(self.summary)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.stack)
        layout.addWidget(scroll, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.message, 1)
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(top)
        splitter.addWidget(self.tasks)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        QVBoxLayout(self).addWidget(splitter)

    @property
    def current_key(self) -> str:
        return self.chooser.currentData()

    def current_form(self) -> TaskForm:
        return self.forms[self.current_key]

    def show_task(self, key: str) -> None:
        """Choose the task ``key`` in the drop-down (the menus call this)."""
        self.chooser.setCurrentIndex(self.chooser.findData(key))

    def _show_chosen(self, *_args) -> None:
        key = self.current_key
        if key not in self.forms:  # built on first use: opening the dialog stays quick
            self.forms[key] = make_form(key, self.iface)
            self.stack.addWidget(self.forms[key])
        self.stack.setCurrentWidget(self.forms[key])
        self.summary.setText(tr(entry(key).summary))
        self.message.clear()

    def run(self) -> None:
        """Build the current form's task and start it; a bad value is shown and nothing runs."""
        from ..core.task import start

        form = self.current_form()
        try:
            task = form.build_task()
        except InputError as exc:
            self.show_message(exc.one_line(), ok=False)
            return
        form.save_values()
        start(task)
        self.show_message(tr("Started: {task}", task=task.description()), ok=True)

    def show_message(self, text: str, ok: bool) -> None:
        self.message.setStyleSheet(OK_STYLE if ok else ERROR_STYLE)
        self.message.setText(text)
